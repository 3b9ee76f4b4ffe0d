"""Baselines for the transcript task, fit on the training participants of each experiment.

Letters are often shuffled per participant (one sees "O or Q", another "K or X"), so nothing
here pools by letter: an option is its **position** in the order the transcript states the
options (in the risky-choice task the first-named letter marks the seven cards; in the 2×2
games Row A is named first).

* ``position_frequency``: the training participants' shares of each option position, per
  experiment and number of options (Laplace-smoothed with ``alpha``).
* ``repeat_last``: the participant's own previous response, with the probability the training
  participants repeated their previous response (per experiment, smoothed): the same letter
  when it is an option again, else the same position (the risky-choice letters change from
  trial to trial); the first choice gets the uniform distribution.
* ``transcript_logit``: per experiment and number of options, a multinomial logit of the
  chosen option's position on the trial's relative position in the session and the previous
  response's position (the L2-penalised maximum likelihood by scipy's L-BFGS, so that a
  perfectly predictable experiment still fits; with two options, the logistic model); a
  number of options no training choice had falls back to ``position_frequency``.

Each reads what a simulator may see: the stated options, the earlier responses in the history
(the shown ones in the ``shuffled`` control) and ``meta["choice_index"]``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.tasks._base import Trial, TrialInput


def _position(value: str | None, codes: Sequence[str] | None) -> int | None:
    if value is None or not codes or value not in codes:
        return None
    return list(codes).index(value)


def _sessions(train: Sequence[Trial]) -> list[tuple[str, list[list[str] | None], list[str]]]:
    """(experiment, options per response, responses) of each training participant."""
    out = []
    for t in train:
        meta = t.input.meta
        if "segments" not in meta:
            continue
        out.append(
            (
                str(meta["experiment"]),
                list(meta["options"]),
                [str(r) for r in t.target.attributes.get("responses", [])],
            )
        )
    return out


def _previous(trial: TrialInput) -> tuple[int | None, str | None]:
    """The previous response's position among its options and the response itself."""
    if not trial.history:
        return None, None
    last = trial.history[-1]
    return _position(last.action.value, last.observation.option_codes() or None), last.action.value


def _distribution(codes: Sequence[str], weights: Sequence[float]) -> dict[str, float]:
    total = sum(weights)
    return {c: w / total for c, w in zip(codes, weights, strict=True)}


def _answer(probs: dict[str, float], raw: str) -> Answer:
    choice = max(probs, key=lambda c: probs[c])
    return Answer(choice=choice, value={"answer": choice}, probabilities=probs, raw=raw)


@simulator("position_frequency")
class PositionFrequency:
    """Training participants' shares of each option position, per experiment."""

    learns_from_people = True

    def __init__(self, alpha: float = 1.0, label: str | None = None) -> None:
        self.alpha = alpha
        self.label = label or "position_frequency"
        self.counts: dict[tuple[str, int], Counter[int]] = defaultdict(Counter)

    def fit(self, train: Sequence[Trial]) -> None:
        self.counts.clear()
        for experiment, options, responses in _sessions(train):
            for codes, r in zip(options, responses, strict=False):
                pos = _position(r, codes)
                if codes and pos is not None:
                    self.counts[(experiment, len(codes))][pos] += 1

    def identity(self) -> dict[str, Any]:
        return {"simulator": "position_frequency", "alpha": self.alpha}

    def probabilities(self, trial: TrialInput) -> dict[str, float]:
        codes = trial.observation.option_codes()
        counts = self.counts.get((str(trial.meta.get("experiment")), len(codes)), Counter())
        return _distribution(codes, [counts[i] + self.alpha for i in range(len(codes))])

    async def answer(self, trial: TrialInput) -> Answer:
        probs = self.probabilities(trial)
        key = (str(trial.meta.get("experiment")), len(probs))
        return _answer(probs, f"position shares of {sum(self.counts[key].values())} choices")


def _repeated(
    previous: str | None, before: Sequence[str] | None, codes: Sequence[str]
) -> str | None:
    """The option that repeats ``previous``: the same code, else the same position."""
    if previous is None:
        return None
    if previous in codes:
        return previous
    pos = _position(previous, before)
    return codes[pos] if pos is not None and pos < len(codes) else None


@simulator("repeat_last")
class RepeatLast:
    """The participant's previous response, as often as training participants repeated."""

    learns_from_people = True

    def __init__(self, alpha: float = 1.0, label: str | None = None) -> None:
        self.alpha = alpha
        self.label = label or "repeat_last"
        self.repeats: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    def fit(self, train: Sequence[Trial]) -> None:
        self.repeats.clear()
        for experiment, options, responses in _sessions(train):
            for i in range(1, len(responses)):
                codes, before = options[i], options[i - 1]
                if not codes or responses[i] not in codes:
                    continue
                again = _repeated(responses[i - 1], before, codes)
                if again is not None:
                    tally = self.repeats[experiment]
                    tally[0] += responses[i] == again
                    tally[1] += 1

    def identity(self) -> dict[str, Any]:
        return {"simulator": "repeat_last", "alpha": self.alpha}

    async def answer(self, trial: TrialInput) -> Answer:
        codes = trial.observation.option_codes()
        _, last = _previous(trial)
        if last is None or last not in codes:
            return _answer(
                {c: 1 / len(codes) for c in codes}, "no previous response among the options"
            )
        same, n = self.repeats.get(str(trial.meta.get("experiment")), [0, 0])
        rate = (same + self.alpha) / (n + 2 * self.alpha)
        rest = (1 - rate) / (len(codes) - 1)
        probs = {c: rate if c == last else rest for c in codes}
        return _answer(probs, f"repeat the last response (training repeat rate {rate:.3f})")


def _features(index: int, n: int, previous: int | None, k: int) -> list[float]:
    """Intercept, the trial's relative position in the session, the previous response's
    position (one indicator per option position)."""
    return [1.0, index / max(1, n - 1), *(float(previous == j) for j in range(k))]


def _fit_logit(x: np.ndarray, y: np.ndarray, k: int, penalty: float) -> np.ndarray:
    """Multinomial logit over ``k`` option positions (position 0 the reference, its
    coefficients 0): the ``(k, features)`` coefficients maximising the log-likelihood of the
    chosen positions ``y`` minus ``penalty/2 * |w|^2`` (intercepts, column 0, unpenalised).
    With two options it is the logistic model of choosing the second-named option."""
    from scipy.optimize import minimize
    from scipy.special import log_softmax

    d = x.shape[1]
    mask = np.ones((k - 1, d))
    mask[:, 0] = 0.0
    onehot = np.eye(k)[y]

    def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
        w = np.vstack([np.zeros(d), flat.reshape(k - 1, d)])
        logp = log_softmax(x @ w.T, axis=1)
        ll = float(np.sum(logp[np.arange(len(y)), y]))
        grad = ((onehot - np.exp(logp)).T @ x)[1:]
        reg = mask * flat.reshape(k - 1, d)
        return -ll + 0.5 * penalty * float(np.sum(reg * reg)), (-grad + penalty * reg).ravel()

    result = minimize(loss, np.zeros((k - 1) * d), jac=True, method="L-BFGS-B")
    return np.vstack([np.zeros(d), np.asarray(result.x, dtype=float).reshape(k - 1, d)])


@simulator("transcript_logit")
class TranscriptLogit:
    """Per experiment and number of options: P(option position) from the trial's position
    in the session and the previous response's position (multinomial logit, L2
    ``penalty``)."""

    learns_from_people = True

    def __init__(self, penalty: float = 1.0, label: str | None = None) -> None:
        self.penalty = penalty
        self.label = label or "transcript_logit"
        self.coef: dict[tuple[str, int], np.ndarray] = {}
        self.fallback = PositionFrequency()

    def fit(self, train: Sequence[Trial]) -> None:
        self.fallback.fit(train)
        self.coef.clear()
        rows: dict[tuple[str, int], tuple[list[list[float]], list[int]]] = defaultdict(
            lambda: ([], [])
        )
        for experiment, options, responses in _sessions(train):
            n = len(responses)
            for i, (codes, r) in enumerate(zip(options, responses, strict=False)):
                pos = _position(r, codes)
                if not codes or len(codes) < 2 or pos is None:
                    continue
                prev = _position(responses[i - 1], options[i - 1]) if i else None
                xs, ys = rows[(experiment, len(codes))]
                xs.append(_features(i, n, prev, len(codes)))
                ys.append(pos)
        for (experiment, k), (xs, ys) in rows.items():
            if len(set(ys)) < 2:
                continue
            self.coef[(experiment, k)] = _fit_logit(np.asarray(xs), np.asarray(ys), k, self.penalty)

    def identity(self) -> dict[str, Any]:
        return {"simulator": "transcript_logit", "penalty": self.penalty}

    async def answer(self, trial: TrialInput) -> Answer:
        codes = trial.observation.option_codes()
        coef = self.coef.get((str(trial.meta.get("experiment")), len(codes)))
        if coef is None:
            return _answer(self.fallback.probabilities(trial), "position shares (no logit fit)")
        prev, _ = _previous(trial)
        x = _features(
            int(trial.meta.get("choice_index", 0)),
            int(trial.meta.get("n_choices", 1)),
            prev,
            len(codes),
        )
        z = coef @ np.asarray(x)
        p = np.exp(z - z.max())
        p /= p.sum()
        probs = {c: float(v) for c, v in zip(codes, p, strict=True)}
        return _answer(probs, f"logit on position and previous: {float(p[0]):.3f}")
