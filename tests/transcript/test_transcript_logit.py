"""transcript_logit with more than two options: a multinomial logit over option positions,
equal to statsmodels' MNLogit without a penalty, and it learns a previous-position effect that
position frequencies cannot see."""

from __future__ import annotations

import asyncio
import math
import random

import numpy as np
import pytest

from behaviorlab.families.transcript import PositionFrequency, TranscriptLogit, TranscriptTask
from behaviorlab.families.transcript._baselines import _fit_logit
from behaviorlab.families.transcript._loader import transcripts_from_records

LETTERS = "ABCDEFGH"


def _records(people: int, rounds: int) -> list[dict[str, object]]:
    """Three doors, letters drawn per participant; the participant mostly moves on to the
    next-named door after the one it chose (position p -> p + 1 mod 3)."""
    out = []
    for i in range(people):
        rng = random.Random(i)
        codes = rng.sample(LETTERS, 3)
        pos = rng.randrange(3)
        parts = ["Three doors study.\n"]
        for t in range(rounds):
            parts.append(
                f"Round {t + 1}: choose {codes[0]}, {codes[1]} or {codes[2]}. You choose "
                f"<<{codes[pos]}>>.\n"
            )
            pos = (pos + 1) % 3 if rng.random() < 0.85 else rng.randrange(3)
        out.append({"text": "".join(parts), "experiment": "doors", "participant": i})
    return out


def test_more_than_two_options_learns_the_previous_position() -> None:
    data = transcripts_from_records(
        _records(40, 12),
        label="doors",
        license="synthetic",
        option_rules={"*": [r"choose (\w), (\w) or (\w)\."]},
    )
    task = TranscriptTask()
    trials = task.trials(data, seed=0)
    train, test = trials[:20], trials[20:]
    logit, freq = TranscriptLogit(), PositionFrequency()
    logit.fit(train)
    freq.fit(train)
    assert set(logit.coef) == {("doors", 3)}

    def nll(sim: object) -> float:
        total = n = 0.0
        for t in test:
            scores = task.score(t, asyncio.run(task.play(t, sim)))  # type: ignore[arg-type]
            total, n = total + scores["nll_sum"], n + scores["n_choices"]
        return total / n

    answer = asyncio.run(task.play(test[0], logit))
    probs = answer.value["choices"][3]["probabilities"]  # type: ignore[index]
    assert len(probs) == 3 and sum(probs.values()) == pytest.approx(1.0)
    assert nll(freq) > 1.0  # about log 3: positions are used alike
    assert nll(logit) < 0.8 * math.log(3)


def test_equals_statsmodels_mnlogit_without_penalty() -> None:
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(0)
    n, k = 400, 3
    x = np.column_stack([np.ones(n), rng.uniform(size=n), rng.normal(size=n)])
    w = np.array([[0.0, 0.0, 0.0], [0.5, -1.0, 1.0], [-0.3, 1.5, -0.5]])
    z = x @ w.T
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(k, p=row) for row in p])
    ours = _fit_logit(x, y, k, penalty=0.0)
    theirs = sm.MNLogit(y, x).fit(disp=0).params  # columns: positions 1..k-1 against 0
    np.testing.assert_allclose(ours[1:].T, np.asarray(theirs), atol=1e-4)
    assert ours[0] == pytest.approx(np.zeros(3))
