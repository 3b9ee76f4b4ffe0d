"""The conditional logit: the classic econometric baseline for choices between options.

``logit`` fits McFadden's conditional logit with statsmodels' ``ConditionalLogit`` on the
training people's choices (one group per choice situation, the chosen option's row = 1). The
utility of option ``j`` for chooser ``i`` is::

    V_ij = asc_j + sum_k beta_k * x_ijk + sum_c gamma_cj * z_ic

with alternative-specific constants ``asc_j`` (one option, the first code in sort order, is
the reference at 0), generic coefficients ``beta`` on the options' numeric attributes
(``observation.meta["option_attributes"]``, as the choice loader stores them) and
option-specific coefficients ``gamma`` on the chooser's numeric attributes (the persona's
``attributes``; with only these, the model is the multinomial logit). For a test person the
probabilities are ``softmax(V)`` over the options shown, from their own options' attributes.

Missing values are replaced by the training mean: an option attribute left empty, and every
chooser attribute when the trial shows no persona (condition ``no_persona``). Columns are
divided by their standard deviation before fitting (a reparametrisation, for the optimiser);
:attr:`LogitSimulator.coefficients` reports them on the data's scale.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.tasks._base import Trial, TrialInput


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    return float(value)


def option_attributes(trial: TrialInput) -> dict[str, dict[str, Any]]:
    """The numeric attributes of each shown option (empty when the data recorded none)."""
    raw = trial.observation.meta.get("option_attributes")
    return raw if isinstance(raw, dict) else {}


@simulator("logit")
class LogitSimulator:
    """Conditional logit (statsmodels) on the training people's choices: option attributes,
    alternative-specific constants, chooser attributes per option."""

    learns_from_people = True
    """Fit on training people: refused by a split that leaves none."""

    def __init__(
        self,
        attributes: list[str] | None = None,
        chooser: list[str] | None = None,
        constants: bool = True,
        maxiter: int = 1000,
        label: str | None = None,
    ) -> None:
        self.attributes = attributes
        self.chooser = chooser
        self.constants = constants
        self.maxiter = maxiter
        self.label = label or "logit"
        self.codes: list[str] = []
        self.columns: list[str] = []
        self._used_attributes: list[str] = []
        self._used_chooser: list[str] = []
        self._means: dict[str, float] = {}
        self._scale = np.ones(0)
        self._beta = np.zeros(0)
        self._n_train = (0, 0)
        self.log_likelihood = math.nan
        self.notes: list[str] = []

    # -- design -----------------------------------------------------------------------------

    def _pick(self, train: Sequence[Trial]) -> None:
        per_option = [a for t in train for a in option_attributes(t.input).values()]
        numeric_keys = [k for a in per_option for k, v in a.items() if math.isfinite(_number(v))]
        found = list(dict.fromkeys(numeric_keys))
        self._used_attributes = list(self.attributes) if self.attributes is not None else found
        people = {t.person.person_id: t.person.attributes for t in train}
        numeric = [
            k
            for k in dict.fromkeys(k for p in people.values() for k in p)
            if all(math.isfinite(_number(p.get(k))) for p in people.values())
        ]
        self._used_chooser = list(self.chooser) if self.chooser is not None else numeric
        for name in self._used_attributes:
            if name not in found:
                raise ValueError(
                    f"logit: attribute {name!r} is not a numeric option attribute of the "
                    f"training trials; they have: {found or 'none'}"
                )
        for name in self._used_chooser:
            if not any(math.isfinite(_number(p.get(name))) for p in people.values()):
                raise ValueError(
                    f"logit: chooser attribute {name!r} is not numeric in the training "
                    f"people's attributes; numeric ones: {numeric or 'none'}"
                )
        values: dict[str, list[float]] = {k: [] for k in self._used_attributes}
        for a in per_option:
            for k in self._used_attributes:
                values[k].append(_number(a.get(k)))
        for k in self._used_chooser:
            values[k] = [_number(p.get(k)) for p in people.values()]
        self._means = {k: float(np.nanmean(v)) if v else 0.0 for k, v in values.items()}

    def _rows(
        self, codes: Sequence[str], attrs: dict[str, dict[str, Any]], person: dict[str, Any] | None
    ) -> np.ndarray:
        """One design row per option code (columns: see :attr:`columns`, before scaling)."""
        z = {
            c: _number((person or {}).get(c)) if person is not None else math.nan
            for c in self._used_chooser
        }
        z = {c: (v if math.isfinite(v) else self._means[c]) for c, v in z.items()}
        rows = []
        for code in codes:
            row: list[float] = []
            if self.constants:
                row += [float(code == other) for other in self.codes[1:]]
            for k in self._used_attributes:
                v = _number(attrs.get(code, {}).get(k))
                row.append(v if math.isfinite(v) else self._means[k])
            for c in self._used_chooser:
                row += [z[c] * float(code == other) for other in self.codes[1:]]
            rows.append(row)
        return np.asarray(rows, dtype=float).reshape(len(codes), len(self.columns))

    # -- fit / answer -----------------------------------------------------------------------

    def fit(self, train: Sequence[Trial]) -> None:
        from statsmodels.discrete.conditional_models import ConditionalLogit

        usable = [t for t in train if t.target.value and t.input.observation.options]
        if not usable:
            raise ValueError("logit: no training choices to fit on (the split left none)")
        self.codes = sorted({c for t in usable for c in t.input.observation.option_codes()})
        self._pick(usable)
        others = self.codes[1:]
        self.columns = (
            ([f"asc_{c}" for c in others] if self.constants else [])
            + list(self._used_attributes)
            + [f"{z}:{c}" for z in self._used_chooser for c in others]
        )
        if not self.columns:
            raise ValueError("logit: nothing to fit (no constants, attributes or chooser ones)")
        blocks, endog, groups = [], [], []
        for g, t in enumerate(usable):
            codes = t.input.observation.option_codes()
            blocks.append(self._rows(codes, option_attributes(t.input), t.person.attributes))
            endog += [float(c == t.target.value) for c in codes]
            groups += [g] * len(codes)
        self._n_train = (len(usable), len({t.person_id for t in usable}))
        exog, group_ids = np.vstack(blocks), np.asarray(groups)
        scale = exog.std(axis=0)
        self._scale = np.where(scale > 0, scale, 1.0)
        # a column equal for every option of every situation cannot be estimated: leave it out
        within = exog - pd.DataFrame(exog).groupby(group_ids).transform("mean").to_numpy()
        varies = np.abs(within).max(axis=0) > 1e-12
        self.notes = [
            f"{name} left out: it does not vary between the options of any training situation"
            for name, ok in zip(self.columns, varies, strict=True)
            if not ok
        ]
        self._beta = np.zeros(len(self.columns))
        if not varies.any():
            return
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = ConditionalLogit(
                np.asarray(endog), exog[:, varies] / self._scale[varies], groups=group_ids
            )
            result = model.fit(method="bfgs", maxiter=self.maxiter, disp=False)
        self.notes += [f"{type(w.message).__name__}: {w.message}" for w in caught]
        if not getattr(result, "mle_retvals", {}).get("converged", True):
            self.notes.append(f"the optimiser did not converge in {self.maxiter} iterations")
        self._beta[varies] = np.asarray(result.params, dtype=float) / self._scale[varies]
        self.log_likelihood = float(result.llf)

    @property
    def coefficients(self) -> pd.Series:
        """The fitted coefficients on the data's scale (per unit of each attribute)."""
        return pd.Series(self._beta, index=self.columns, name="coefficient")

    def identity(self) -> dict[str, Any]:
        return {
            "simulator": "logit",
            "model": "statsmodels ConditionalLogit",
            "attributes": self.attributes,
            "chooser": self.chooser,
            "constants": self.constants,
            "maxiter": self.maxiter,
        }

    def probabilities(self, trial: TrialInput) -> dict[str, float]:
        """The fitted choice probabilities of the trial's shown options."""
        codes = trial.observation.option_codes()
        unknown = [c for c in codes if c not in self.codes]
        if unknown:
            raise KeyError(f"option(s) {unknown} were never offered to a training person")
        person = trial.persona.attributes if trial.persona is not None else None
        utility = self._rows(codes, option_attributes(trial), person) @ self._beta
        p = np.exp(utility - utility.max())
        p /= p.sum()
        return {c: float(v) for c, v in zip(codes, p, strict=True)}

    async def answer(self, trial: TrialInput) -> Answer:
        if not self.codes:
            return Answer(error="logit: not fitted (no training trials)", error_kind="invalid")
        try:
            probs = self.probabilities(trial)
        except KeyError as exc:
            return Answer(error=f"logit: {exc.args[0]}", error_kind="invalid")
        choice = max(probs, key=lambda c: probs[c])
        n, people = self._n_train
        raw = f"conditional logit on {n} training choices of {people} people"
        if trial.persona is None and self._used_chooser:
            raw += "; no persona: chooser attributes at their training means"
        if self.notes:
            raw += "; fit notes: " + "; ".join(self.notes)
        return Answer(choice=choice, value={"answer": choice}, probabilities=probs, raw=raw)
