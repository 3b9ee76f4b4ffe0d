"""How many of the people's targets survived the page cut, measured on every run.

The cut never looks at the target (:mod:`._budget`, :mod:`._persona`); the target is read
only here, after the trials are made, to *measure* the cut, and nothing of it goes into a
trial's input. :meth:`NextActionTask.trials` measures every set of trials it makes and logs a
warning (logger ``behaviorlab.families.next_action``) when more than :data:`CUT_WARN_SHARE`
of the targets were cut, so every run on data whose pages do not fit says so; the report's
Next-action section flags each arm above that share (``_report``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from behaviorlab.tasks._base import Trial

CUT_WARN_SHARE = 0.05
"""More than this share of targets cut: the run warns and the report flags the arm."""

log = logging.getLogger("behaviorlab.families.next_action")


def in_view(trial: Trial) -> bool | None:
    """Whether the human's target is among the elements shown (None: no target)."""
    target = trial.target.target
    if trial.target.action_type == "terminate" or not target:
        return None
    ids = {e["id"] for e in trial.input.observation.meta.get("elements", [])}
    return target in ids


@dataclass(frozen=True)
class Survival:
    """Share of the human targets that survive the page cut at one budget."""

    budget: int | None
    steps: int
    targeted: int
    """Steps with a target (clicks and inputs)."""
    in_view: int
    by_click_type: dict[str, float] = field(default_factory=dict)
    mean_tokens_before: float = 0.0
    mean_tokens_after: float = 0.0
    mean_elements_dropped: float = 0.0
    people_condensed: int = 0
    """People whose persona was condensed to its share of the budget."""
    people: int = 0

    @property
    def share(self) -> float:
        """Targets in view / steps with a target."""
        return self.in_view / self.targeted if self.targeted else float("nan")

    @property
    def cut(self) -> int:
        """Targets cut from the page."""
        return self.targeted - self.in_view

    @property
    def reachable(self) -> float:
        """The exact-match ceiling: steps whose answer can still be named / all steps."""
        return (self.in_view + self.steps - self.targeted) / self.steps if self.steps else 0.0


def measure_survival(trials: Sequence[Trial], budget: int | None) -> Survival:
    """The survival of the targets of ``trials`` (made at ``budget``)."""
    seen = [(t, in_view(t)) for t in trials]
    targeted = [(t, v) for t, v in seen if v is not None]
    kinds: Counter[str] = Counter()
    hits: Counter[str] = Counter()
    for t, v in targeted:
        kind = str(t.target.attributes.get("click_type") or t.target.action_type)
        kinds[kind] += 1
        hits[kind] += int(bool(v))
    cuts = [t.input.meta["cut"] for t in trials]
    n = max(1, len(trials))
    condensed = {t.person_id for t, c in zip(trials, cuts, strict=True) if c["persona_condensed"]}
    return Survival(
        budget=budget,
        steps=len(trials),
        targeted=len(targeted),
        in_view=sum(1 for _, v in targeted if v),
        by_click_type={k: hits[k] / kinds[k] for k in sorted(kinds)},
        mean_tokens_before=sum(c["tokens_before"] for c in cuts) / n,
        mean_tokens_after=sum(c["tokens_after"] for c in cuts) / n,
        mean_elements_dropped=sum(c["elements_dropped"] for c in cuts) / n,
        people_condensed=len(condensed),
        people=len({t.person_id for t in trials}),
    )


def cut_message(s: Survival) -> str | None:
    """The warning for a survival above :data:`CUT_WARN_SHARE` cut (None: no warning)."""
    if not s.targeted or s.cut <= CUT_WARN_SHARE * s.targeted:
        return None
    persona = (
        f"; the persona of {s.people_condensed} of {s.people} people was condensed to its "
        "share of the budget (persona_share)"
        if s.people_condensed
        else ""
    )
    return (
        f"next_action: {s.cut} of {s.targeted} people's targets ({s.cut / s.targeted:.1%}) "
        f"were cut from the page at budget {s.budget} (more than {CUT_WARN_SHARE:.0%}); those "
        f"steps cannot be matched (exact-match ceiling {s.reachable:.3f}){persona}. Raise "
        "task_options.budget, or measure it first with target_survival(dataset, budget) "
        "(docs/next-action.md)"
    )


def warn_if_cut(s: Survival) -> str | None:
    """Log :func:`cut_message` as a warning when there is one; return it."""
    message = cut_message(s)
    if message is not None:
        log.warning(message)
    return message
