"""Splitting trials into the people (or sessions) baselines learn from and those tested.

``by: person`` (default): every trial of a person on one side; ``by: data``: the split the data
record per trial (``meta["split"]``: OPeRA's own split by session, a synthetic split by time);
``by: time``: each person's latest episodes are tested. ``subset`` then slices the test side.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from behaviorlab.data._records import Dataset, stable_hash
from behaviorlab.runs._spec import SpecError, SplitSpec, SubsetSpec
from behaviorlab.tasks._base import Trial, split_by_person


def test_people(dataset: Dataset, test_share: float, seed: int) -> set[str]:
    ids = sorted(dataset.persons)
    random.Random(stable_hash("split", seed)).shuffle(ids)
    if test_share >= 1:
        return set(ids)  # everyone is tested; plan() refuses simulators that need training
    if len(ids) <= 1:
        raise SpecError(too_few_people(dataset))
    n_test = max(1, round(len(ids) * test_share))
    if n_test >= len(ids):
        raise SpecError(f"split leaves no training people ({len(ids)} people, test={test_share})")
    return set(ids[:n_test])


def too_few_people(dataset: Dataset) -> str:
    """Why a dataset of no or one person cannot be split, naming its file's rows."""
    n = len(dataset.persons)
    source = dataset.meta.get("source_file") or dataset.source
    where = f"{dataset.name!r}" + (f" ({source})" if source else "")
    rows = dataset.meta.get("source_rows")
    dropped = dataset.meta.get("dropped_people")
    if isinstance(rows, int) and rows <= 1:
        why = f"its file has {'no data row' if rows == 0 else 'one data row'}"
    elif isinstance(rows, int):
        why = f"of its {rows:,} data rows, {dropped or 0:,} answered no target question"
    else:
        why = "it holds no more"
    who = "no people" if n == 0 else "one person"
    return (
        f"the data {where} has {who} ({why}): splitting people into a training and a test "
        "side needs at least two; give a file with more respondents"
    )


def split_by_data(trials: Sequence[Trial]) -> tuple[list[Trial], list[Trial]]:
    """(train, test) by each trial's split in the data (``meta["split"]``); a person can be
    on both sides."""
    train = [t for t in trials if t.input.meta.get("split") == "train"]
    test = [t for t in trials if t.input.meta.get("split") == "test"]
    return train, test


NO_SPLIT_IN_DATA = "this dataset records no split; use split: {by: person}"


def test_episodes_by_time(dataset: Dataset, test_share: float) -> set[str]:
    """Within each person, the last ``test_share`` of their episodes by start time (ties: file
    order): at least one when they have two or more, never all; one-episode people stay in
    train."""
    by_person: dict[str, list[tuple[int, Any, str]]] = {}
    for order, ep in enumerate(dataset.episodes):
        start = ep.started_at or (ep.steps[0].timestamp if ep.steps else None)
        if start is None:
            raise SpecError(
                f"split by time: episode {ep.episode_id!r} has no start time (started_at or a "
                "first step with a timestamp); use split: {by: person} or {by: data}"
            )
        by_person.setdefault(ep.person_id, []).append((order, start, ep.episode_id))
    test: set[str] = set()
    for eps in by_person.values():
        if len(eps) < 2:
            continue
        eps.sort(key=lambda e: (e[1], e[0]))
        n_test = min(len(eps) - 1, max(1, round(len(eps) * test_share)))
        test.update(e[2] for e in eps[len(eps) - n_test :])
    return test


def split_trials(
    split: SplitSpec, dataset: Dataset, trials: list[Trial], test_people: set[str]
) -> tuple[list[Trial], list[Trial]]:
    """(train, test) trials by the spec's ``split.by`` (``test_people``: for ``by: person``)."""
    if split.by == "person":
        return split_by_person(trials, test_people)
    if split.by == "data":
        if not any(t.input.meta.get("split") in ("train", "test") for t in trials):
            raise SpecError(NO_SPLIT_IN_DATA)
        missing = sum(1 for t in trials if t.input.meta.get("split") not in ("train", "test"))
        if missing:
            raise SpecError(
                f"split by data: {missing} of {len(trials)} trials have no split "
                "(meta['split'] not 'train' or 'test'); use split: {by: person}"
            )
        return split_by_data(trials)
    test_eps = test_episodes_by_time(dataset, split.test)
    train = [t for t in trials if t.episode_id not in test_eps]
    test = [t for t in trials if t.episode_id in test_eps]
    return train, test


def apply_subset(
    trials: list[Trial], subset: SubsetSpec | None, condition: str, seed: int
) -> list[Trial]:
    """The slice of the test trials one simulator answers under one condition."""
    if subset is None:
        return trials
    people = sorted({t.person_id for t in trials})
    if subset.people is not None and subset.people < len(people):
        random.Random(stable_hash("subset", seed)).shuffle(people)
        chosen = set(people[: subset.people])
        trials = [t for t in trials if t.person_id in chosen]
    steps = subset.max_steps_by_condition.get(condition, subset.max_steps)
    if steps is None:
        return trials
    made: dict[str, int] = {}
    out: list[Trial] = []
    for t in sorted(trials, key=lambda t: (t.episode_id, t.step_index)):
        made[t.episode_id] = made.get(t.episode_id, 0) + 1
        if made[t.episode_id] <= steps:
            out.append(t)
    order = {id(t): i for i, t in enumerate(trials)}
    return sorted(out, key=lambda t: order[id(t)])
