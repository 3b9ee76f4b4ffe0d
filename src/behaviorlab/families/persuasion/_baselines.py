"""Persuasion baselines: what a twin must beat.

- ``no_change``: the person stays where they were (the prior stance and strength). Most
  people do not move, so its change accuracy is the base rate of not changing.
- ``toward_majority``: one step toward the side most of the shown arguments took (one more
  point of strength when already at that end of the scale); no change on a tie.
- ``persuasion_logit``: a logistic regression (statsmodels ``Logit``), fit on the training
  people, of whether the stance changed on the number of shown arguments against the
  person's prior side, the number with it, and the prior strength. A test trial gets
  ``P(change)`` on the option one step toward the arguments' majority side (away from the
  prior's side on a tie; the other way when that end of the scale is reached) and
  ``1 - P(change)`` on the prior answer; it answers the more likely of the two. It is fit on
  the training trials with arguments only; on a retest trial (nothing shown) it gives the
  fitted model at zero arguments.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from behaviorlab.families.persuasion._scale import AttitudeScale
from behaviorlab.families.persuasion._task import scale_of
from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.tasks._base import Trial, TrialInput


def _prior(trial: TrialInput) -> tuple[AttitudeScale, str, int | None]:
    meta = trial.meta
    strength = meta.get("prior_strength")
    return scale_of(meta), str(meta["prior_stance"]), None if strength is None else int(strength)


def features(trial: TrialInput) -> list[float]:
    """(1, arguments against the prior's side, arguments with it, prior strength)."""
    scale, stance, strength = _prior(trial)
    side = scale.side_of(stance)
    supports, attacks = int(trial.meta["n_supports"]), int(trial.meta["n_attacks"])
    if side > 0:
        against, along = attacks, supports
    elif side < 0:
        against, along = supports, attacks
    else:
        against, along = supports + attacks, 0
    return [1.0, float(against), float(along), float(strength or 0)]


class _Baseline:
    label = ""

    def fit(self, train: Sequence[Trial]) -> None:
        return None

    def identity(self) -> dict[str, Any]:
        return {"simulator": self.label}


@simulator("no_change")
class NoChange(_Baseline):
    """The person stays where they were."""

    def __init__(self, label: str | None = None) -> None:
        self.label = label or "no_change"

    async def answer(self, trial: TrialInput) -> Answer:
        scale, stance, strength = _prior(trial)
        code = scale.code(stance, strength)
        return Answer(choice=code, value={"answer": code}, raw="the prior answer, unchanged")


@simulator("toward_majority")
class TowardMajority(_Baseline):
    """One step toward the shown arguments' majority side (no change on a tie)."""

    def __init__(self, label: str | None = None) -> None:
        self.label = label or "toward_majority"

    async def answer(self, trial: TrialInput) -> Answer:
        scale, stance, strength = _prior(trial)
        side = int(trial.meta.get("majority_side", 0))
        moved = scale.moved(stance, strength, side) if side else (stance, strength)
        code = scale.code(*moved)
        why = "no majority side: unchanged" if not side else f"one step toward side {side:+d}"
        return Answer(choice=code, value={"answer": code}, raw=why)


@simulator("persuasion_logit")
class PersuasionLogit(_Baseline):
    """Logistic regression of a stance change on argument counts and prior strength."""

    learns_from_people = True
    """Fit on training people: refused by a split that leaves none."""

    COLUMNS = ("const", "against", "along", "prior_strength")

    def __init__(self, maxiter: int = 200, label: str | None = None) -> None:
        self.maxiter = maxiter
        self.label = label or "persuasion_logit"
        self.params = np.zeros(len(self.COLUMNS))
        self.conf_int = np.full((len(self.COLUMNS), 2), math.nan)
        self.notes: list[str] = []
        self.n_train = (0, 0)
        self.fitted = False

    def identity(self) -> dict[str, Any]:
        return {
            "simulator": "persuasion_logit",
            "model": "statsmodels Logit",
            "maxiter": self.maxiter,
        }

    def fit(self, train: Sequence[Trial]) -> None:
        import statsmodels.api as sm

        rows, ys = [], []
        for t in train:
            if t.input.meta.get("retest"):  # fit on the trials with arguments shown
                continue
            human = scale_of(t.input.meta).parse(t.target.value)
            if human is None:
                continue
            rows.append(features(t.input))
            ys.append(float(human[0] != t.input.meta["prior_stance"]))
        if not rows:
            raise ValueError("persuasion_logit: no training trials to fit on (the split left none)")
        x, y = np.asarray(rows), np.asarray(ys)
        self.n_train = (len(y), len({t.person_id for t in train}))
        rate = min(max(float(y.mean()), 0.5 / len(y)), 1 - 0.5 / len(y))
        self.params = np.zeros(x.shape[1])
        self.params[0] = math.log(rate / (1 - rate))
        self.conf_int = np.full((x.shape[1], 2), math.nan)
        self.fitted = True
        varies = np.r_[True, x[:, 1:].std(axis=0) > 0]
        if y.min() == y.max():
            self.notes = ["every training person changed alike: the training rate only"]
            return
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = sm.Logit(y, x[:, varies]).fit(disp=0, maxiter=self.maxiter)
            except (np.linalg.LinAlgError, ValueError) as exc:
                self.notes = [f"fit failed ({exc}): the training rate only"]
                return
        self.notes = [f"{type(w.message).__name__}: {w.message}" for w in caught]
        self.params[varies] = np.asarray(result.params, dtype=float)
        self.conf_int[varies] = np.asarray(result.conf_int(0.05), dtype=float)

    @property
    def coefficients(self) -> dict[str, float]:
        """The fitted log-odds coefficients by feature."""
        return dict(zip(self.COLUMNS, map(float, self.params), strict=True))

    @property
    def intervals(self) -> dict[str, tuple[float, float]]:
        """The 95% Wald intervals of the coefficients (NaN where not fitted: a feature that
        did not vary, or a fit that fell back to the training rate)."""
        return {
            c: (float(lo), float(hi))
            for c, (lo, hi) in zip(self.COLUMNS, self.conf_int, strict=True)
        }

    def p_change(self, trial: TrialInput) -> float:
        z = float(np.dot(self.params, features(trial)))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    async def answer(self, trial: TrialInput) -> Answer:
        if not self.fitted:
            return Answer(error="persuasion_logit: not fitted", error_kind="invalid")
        scale, stance, strength = _prior(trial)
        toward = int(trial.meta.get("majority_side", 0)) or -scale.side_of(stance) or 1
        moved = scale.moved(stance, strength, toward)
        if moved[0] == stance:
            moved = scale.moved(stance, strength, -toward)
        p = self.p_change(trial)
        stay, move = scale.code(stance, strength), scale.code(*moved)
        probs = {stay: 1.0 - p, move: p} if move != stay else {stay: 1.0}
        choice = max(probs, key=lambda c: probs[c])
        n, people = self.n_train
        raw = f"logit on {n} training trials of {people} people: P(change) = {p:.3f}"
        if self.notes:
            raw += "; fit notes: " + "; ".join(self.notes)
        return Answer(choice=choice, value={"answer": choice}, probabilities=probs, raw=raw)
