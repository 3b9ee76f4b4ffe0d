"""Toplines from per-person records: any survey dataset as a shares table.

Published shares are how most opinion data reaches people; a per-person survey can be turned
into the same shape (the toplines its authors would publish) to evaluate a simulator on the
distribution rather than on each respondent. :func:`survey_shares_table` counts, per question
(and per group of persona attributes), how many respondents gave each option; ``n`` is the
number who answered. The ``survey_shares`` dataset (option ``survey``) loads any registered
survey source (e.g. ``gss_spending``) and returns those shares as records.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import pandas as pd

from behaviorlab.data._records import Dataset, iter_steps
from behaviorlab.data._sources import dataset, load_dataset
from behaviorlab.families.shares._data import SharesDataError, shares_from_frame


def survey_shares_table(
    data: Dataset, group: Sequence[str] = (), *, min_n: int = 1
) -> pd.DataFrame:
    """A shares table (item, option, count, n, question, option_label and the ``group``
    columns) of a survey dataset's answers; units with fewer than ``min_n`` answers are left
    out. Options nobody chose are rows with count 0."""
    counts: dict[tuple[str, tuple[str, ...]], Counter[str]] = defaultdict(Counter)
    shown: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for ep, step in iter_steps(data.episodes):
        obs = step.observation
        if not obs.options or step.action.value is None:
            continue
        item = str(obs.meta.get("question_id", step.step_id))
        attrs = data.persons[ep.person_id].attributes
        missing = [g for g in group if attrs.get(g) is None]
        if missing:
            if all(g in attrs for g in missing):
                continue  # a respondent without that attribute joins no group
            raise SharesDataError(
                f"dataset {data.name!r}: person {ep.person_id!r} has no attribute "
                f"{missing[0]!r}; group by one of {', '.join(sorted(attrs))}"
            )
        key = tuple(str(attrs[g]) for g in group)
        counts[(item, key)][str(step.action.value)] += 1
        shown.setdefault(item, (obs.content, [(o.code, o.label) for o in obs.options]))
    rows: list[dict[str, Any]] = []
    for (item, key), tally in sorted(counts.items()):
        n = sum(tally.values())
        if n < min_n:
            continue
        wording, options = shown[item]
        for code, label in options:
            row: dict[str, Any] = {
                "item": item,
                "option": code,
                "count": tally.get(code, 0),
                "n": n,
                "question": wording,
                "option_label": label,
            }
            row.update(dict(zip(group, key, strict=True)))
            rows.append(row)
    return pd.DataFrame(rows)


@dataset("survey_shares")
def survey_shares(
    survey: str = "gss_spending",
    group: list[str] | None = None,
    min_n: int = 1,
    target: str | list[str] | None = None,
    people: int | None = None,
    seed: int = 0,
) -> Dataset:
    """The toplines of a registered survey source as shares (per ``group`` of persona
    attributes when given); ``people`` samples that many items."""
    opts: dict[str, Any] = {"seed": seed}
    if target is not None:
        opts["target"] = target
    data = load_dataset(survey, **opts)
    frame = survey_shares_table(data, group or (), min_n=min_n)
    if frame.empty:
        raise SharesDataError(f"survey_shares: {survey!r} has no answered question with options")
    return shares_from_frame(
        frame,
        {"group": list(group or ())},
        origin=f"survey_shares({survey})",
        items=people,
        seed=seed,
        name=f"{survey}_shares",
    )
