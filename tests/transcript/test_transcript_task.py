"""The transcript task on the mock backend: prompts hold the transcript so far, the NLL is the
hand computation, the controls change the history shown, the baselines fit by position, the
metrics pool choices and cluster by participant."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import pytest

from behaviorlab.data import Dataset
from behaviorlab.families.transcript import (
    PositionFrequency,
    RepeatLast,
    TranscriptLogit,
    TranscriptTask,
    load_transcripts,
    prompt_for,
)
from behaviorlab.models import MockBackend, ScoreRequest
from behaviorlab.simulators import LLMSimulator

THREE = (
    "Choose: press A or B. You press <<A>>. You got 1 point.\n"
    "Again: press A or B. You press <<B>>. You got 0 points.\n"
    "Last: press A or B. You press <<B>>. Bye."
)


def _three(tmp_path: Path, make: Any) -> Dataset:
    lines = [
        {"text": THREE, "experiment": "three", "participant": 1},
        {"text": THREE.replace("<<A>>", "<<B>>"), "experiment": "three", "participant": 2},
    ]
    return load_transcripts(make.write(tmp_path / "three.jsonl", lines))


def test_nll_equals_the_hand_computation(tmp_path: Path, make: Any) -> None:
    seen: list[ScoreRequest] = []
    logprobs = [[-0.5, -1.5], [-2.0, -0.1], [-1.0, -1.0]]

    def scores(request: ScoreRequest) -> list[float]:
        seen.append(request)
        return logprobs[len(seen) - 1]

    task = TranscriptTask()
    trial = task.trials(_three(tmp_path, make), seed=0)[0]
    sim = LLMSimulator(backend=MockBackend(scores=scores), answer="score")
    answer = asyncio.run(task.play(trial, sim))
    # the prompts: the transcript up to each opening marker, the person's own answers in place
    assert [r.prompt for r in seen] == [
        "Choose: press A or B. You press <<",
        "Choose: press A or B. You press <<A>>. You got 1 point.\n"
        "Again: press A or B. You press <<",
        THREE[: THREE.rindex("<<") + 2],
    ]
    assert all(r.continuations == ["A", "B"] for r in seen)
    hand = [
        math.log(1 + math.exp(-1.0)),  # A: -log(e^-.5 / (e^-.5 + e^-1.5))
        math.log(1 + math.exp(-1.9)),  # B: -log(e^-.1 / (e^-2 + e^-.1))
        math.log(2.0),
    ]
    choices = answer.value["choices"]  # type: ignore[index]
    assert [c["nll"] for c in choices] == pytest.approx(hand, abs=1e-12)
    assert [c["top"] for c in choices] == ["A", "B", "A"]  # a tie goes to the first stated
    scores_ = task.score(trial, answer)
    assert scores_["nll"] == pytest.approx(sum(hand) / 3, abs=1e-12)
    assert scores_["chance_nll"] == pytest.approx(math.log(2))
    assert scores_["accuracy"] == pytest.approx(2 / 3)  # A right, B right, A wrong
    assert answer.meta["mode"] == "per_choice" and answer.calls == 3


def test_controls_change_only_the_history(tmp_path: Path, make: Any) -> None:
    ds = _three(tmp_path, make)
    own = TranscriptTask().session(TranscriptTask().trials(ds, seed=0)[0])
    shuffled_task = TranscriptTask(history="shuffled")
    t = shuffled_task.trials(ds, seed=0)[0]
    shuffled = shuffled_task.session(t)
    none = TranscriptTask(history="none").session(
        TranscriptTask(history="none").trials(ds, seed=0)[0]
    )
    assert t.target.attributes["donor"] == "three/2"  # the other participant
    assert shuffled.responses == own.responses == ("A", "B", "B")
    assert shuffled.shown == ("B", "B", "B")
    assert "<<B>>. You got 1 point" in prompt_for(shuffled, 1)
    assert "<<A>>. You got 1 point" in prompt_for(own, 1)
    assert (
        prompt_for(none, 2)
        == "Choose: press A or B. You press . You got 0 points.\nLast: press A or B. You press <<"
    )
    assert "<<" not in prompt_for(none, 1)[:-2]
    # the trial input never holds a response of the person
    assert "A>>" not in str(t.input.model_dump())


def test_first_scored_predicts_the_second_half(tmp_path: Path, make: Any) -> None:
    ds = load_transcripts(make.write(tmp_path / "b.jsonl", make.lines(people=2, rounds=9)))
    task = TranscriptTask(first_scored=0.5)
    trial = task.trials(ds, seed=0)[0]
    answer = asyncio.run(task.play(trial, LLMSimulator(backend=MockBackend(), answer="score")))
    ks = [c["k"] for c in answer.value["choices"]]  # type: ignore[index]
    assert ks == [5, 6, 7, 8, 9]  # 10 responses: the last 5 scored
    free = answer.value["choices"][-1]  # type: ignore[index]
    assert free["options"] is None and free["free_text_nll"] > 0 and free["nll"] is None
    s = task.score(trial, answer)
    assert s["n_choices"] == 4 and s["n_free_text"] == 1


def test_baselines_by_position(tmp_path: Path, make: Any) -> None:
    ds = load_transcripts(make.write(tmp_path / "b.jsonl", make.lines(people=12, rounds=6)))
    task = TranscriptTask()
    trials = task.trials(ds, seed=0)
    train, test = trials[2:], trials[:2]
    freq = PositionFrequency(alpha=1.0)
    freq.fit(train)
    first = second = 0
    for t in train:
        opts, resp = t.input.meta["options"], t.target.attributes["responses"]
        for codes, r in zip(opts, resp, strict=True):
            if codes:
                first += r == codes[0]
                second += r == codes[1]
    # letters differ between people, so the counts are by position, not by letter
    answer = asyncio.run(task.play(test[0], freq))
    c0 = answer.value["choices"][0]  # type: ignore[index]
    assert c0["probabilities"][c0["options"][0]] == pytest.approx(
        (first + 1) / (first + second + 2)
    )
    rep = RepeatLast()
    rep.fit(train)
    ra = asyncio.run(task.play(test[0], rep))
    cs = ra.value["choices"]  # type: ignore[index]
    assert cs[0]["probabilities"] == {o: 0.5 for o in cs[0]["options"]}  # nothing to repeat
    same = n = 0
    for t in train:
        opts, resp = t.input.meta["options"], t.target.attributes["responses"]
        for i in range(1, len(resp)):
            if opts[i] and resp[i - 1] in opts[i]:
                same += resp[i] == resp[i - 1]
                n += 1
    prev = test[0].target.attributes["responses"][0]
    assert cs[1]["probabilities"][prev] == pytest.approx((same + 1) / (n + 2))
    logit = TranscriptLogit()
    logit.fit(train)
    la = asyncio.run(task.play(test[0], logit))
    probs = [c["probabilities"] for c in la.value["choices"] if c["probabilities"]]  # type: ignore[index]
    assert len(probs) == 6 and all(sum(p.values()) == pytest.approx(1.0) for p in probs)
    assert task.score(test[0], la)["n_choices"] == 6  # the free-text answer is not predicted


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="history must be one of"):
        TranscriptTask(history="other")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="first_scored"):
        TranscriptTask(first_scored=1.0)
