"""End-to-end runs on the mock backend: one row per trial, resume, failures as rows."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import behaviorlab as bl
from behaviorlab.runs import SpecError
from behaviorlab.store import ResultStore

VOLATILE = ["latency_s", "created_at", "cache_hits"]


def spec(name: str = "syn", **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "task": "survey",
        "data": {"source": "synthetic-test", "split": {"test": 0.5, "seed": 0}},
        "simulators": [
            {"name": "llm", "backend": "mock", "answer": "score"},
            {"name": "majority", "conditions": ["full"]},
            {"name": "knn_persona", "k": 5},
        ],
        "conditions": ["full", "no_persona", "shuffled_persona"],
        "seeds": [0],
    }
    base.update(over)
    return base


def stable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=VOLATILE).sort_values("trial_id").reset_index(drop=True)


def test_run_stores_one_row_per_trial_and_manifest(runs_dir: Path) -> None:
    run = bl.run(spec(), out=runs_dir, progress=False)
    frame = run.to_pandas()
    # 20 test people x 2 questions x (3 llm + 1 majority + 3 knn) condition cells
    assert len(frame) == 20 * 2 * 7 == run.summary.planned  # type: ignore[union-attr]
    assert frame["trial_id"].is_unique
    assert set(frame["simulator"]) == {"llm:mock-1", "majority", "knn_persona"}
    assert frame.groupby(["simulator", "condition"]).size().to_dict()[("majority", "full")] == 40
    assert frame["error"].isna().all()
    assert frame["correct"].isin([0.0, 1.0]).all()
    # the human answer is the person's own, the answer position matches the shown options
    row = frame.iloc[0]
    assert row["options"].index(row["answer"]) == row["answer_position"]
    manifest = run.manifest
    assert manifest["data"]["sha256"] and manifest["data"]["test_people"] == 20
    assert manifest["simulators"][0]["prompt_template_hash"]
    assert manifest["simulators"][0]["model"]["backend"] == "mock"
    assert manifest["packages"]["behaviorlab"]
    persons = run.persons()
    assert sorted(persons["person_id"]) == sorted(frame["person_id"].unique())
    assert {"age", "party"} <= set(persons.columns)
    on_disk = json.loads((runs_dir / "syn" / "manifest.json").read_text())
    assert on_disk["run_id"] == run.run_id and on_disk["status"] == "finished"


def test_rerun_adds_nothing(runs_dir: Path) -> None:
    first = bl.run(spec(), out=runs_dir, progress=False)
    again = bl.run(spec(), out=runs_dir, progress=False)
    assert again.summary is not None and again.summary.completed == 0
    assert again.summary.already_done == first.summary.planned  # type: ignore[union-attr]
    assert len(again.to_pandas()) == len(first.to_pandas())


def test_interrupted_then_resumed_equals_uninterrupted(runs_dir: Path, tmp_path: Path) -> None:
    whole = bl.run(spec(), out=tmp_path / "whole", progress=False).to_pandas()
    part = bl.run(spec(), out=runs_dir, progress=False, limit=37)
    assert len(part.to_pandas()) == 37
    store = ResultStore(part.results_path, readonly=True)
    assert store.runs()["status"].tolist() == ["partial"]
    store.close()
    resumed = bl.run(spec(), out=runs_dir, progress=False)
    assert resumed.summary is not None and resumed.summary.completed == len(whole) - 37
    pd.testing.assert_frame_equal(stable(resumed.to_pandas()), stable(whole))


def test_failures_are_rows_and_the_run_goes_on(runs_dir: Path) -> None:
    s = spec(
        simulators=[
            {
                "name": "llm",
                "backend": "mock",
                "answer": "generate",
                "backend_options": {"fail_rate": 0.3, "invalid_rate": 0.3},
            },
        ],
        conditions=["full"],
    )
    run = bl.run(s, out=runs_dir, progress=False)
    frame = run.to_pandas()
    assert len(frame) == 40
    failed = frame[frame["error_kind"] == "backend"]
    invalid = frame[frame["error_kind"] == "invalid"]
    assert len(failed) > 0 and len(invalid) > 0
    assert invalid["raw_output"].eq("I'd rather not say.").all()
    assert frame.loc[frame["error"].notna(), "correct"].isna().all()
    assert run.summary is not None
    assert (run.summary.failed, run.summary.invalid) == (len(failed), len(invalid))


def test_gap_from_python(runs_dir: Path) -> None:
    run = bl.run(spec(), out=runs_dir, progress=False)
    table = bl.gap(run, n_resamples=300).to_pandas()
    assert {"simulator", "condition", "accuracy"} <= set(table.columns)
    assert len(table) == 7


def test_unknown_components_fail_before_running(runs_dir: Path) -> None:
    with pytest.raises(Exception, match=r"unknown condition 'no_persna'.*no_persona"):
        bl.run(spec(conditions=["no_persna"]), out=runs_dir, progress=False)
    with pytest.raises(Exception, match="unknown simulator 'majorty'"):
        bl.run(spec(simulators=[{"name": "majorty"}]), out=runs_dir, progress=False)
    with pytest.raises(ValueError, match="does not take option"):
        bl.run(spec(simulators=[{"name": "majority", "kk": 1}]), out=runs_dir, progress=False)
    with pytest.raises(SpecError, match="share the label"):
        bl.run(
            spec(simulators=[{"name": "majority"}, {"name": "majority"}]),
            out=runs_dir,
            progress=False,
        )
    assert not (runs_dir / "syn" / "results.sqlite").exists()


def test_majority_accuracy_matches_independent_count(runs_dir: Path) -> None:
    """Majority's accuracy equals the share of the training majority answer among test people,
    computed straight from statsmodels' ANES 1996 table."""
    import statsmodels.api as sm

    raw = sm.datasets.anes96.load_pandas().data
    s = spec(
        name="anes-maj",
        data={"source": "anes96", "target": "vote", "split": {"test": 0.5, "seed": 3}},
        simulators=[{"name": "majority"}],
        conditions=["full"],
    )
    frame = bl.run(s, out=runs_dir, progress=False).to_pandas()
    test_rows = frame["person_id"].astype(int)
    train = raw.drop(index=test_rows)
    majority_vote = train["vote"].mode().iloc[0]
    expected = (raw.loc[test_rows, "vote"] == majority_vote).mean()
    assert len(frame) == len(raw) - len(train)
    assert frame["correct"].mean() == pytest.approx(expected)


def test_paraphrase_and_multi_question_survey(runs_dir: Path) -> None:
    s = spec(
        name="gss",
        data={"source": "gss_spending", "target": ["natenvir", "natarms"], "people": 40},
        simulators=[{"name": "llm", "backend": "mock", "answer": "sample", "n": 3}],
        conditions=["full", "paraphrase"],
    )
    frame = bl.run(s, out=runs_dir, progress=False).to_pandas()
    assert set(frame["item_id"]) == {"natenvir", "natarms"}
    para = frame[frame["condition"] == "paraphrase"]
    assert len(para) == len(frame) // 2
    assert para["meta"].map(lambda m: m["wording"]).isin([1, 2]).all()
    assert frame["samples"].map(len).eq(3).all()
    report = bl.gap(frame, n_resamples=200)
    row = report.to_pandas().set_index("condition").loc["full"]
    assert 0 <= row["js_distance"] <= 1  # a distribution from samples, never from argmax


def test_run_inside_a_running_event_loop(runs_dir: Path) -> None:
    """In Jupyter an event loop already runs; bl.run must still work."""
    import asyncio

    async def notebook_cell() -> int:
        return len(bl.run(spec(), out=runs_dir, progress=False).to_pandas())

    assert asyncio.run(notebook_cell()) == 280


@pytest.mark.parametrize("concurrency", [1, 4])
def test_missing_extra_stops_the_run_with_the_pip_line(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch, concurrency: int
) -> None:
    """With several workers the others are cancelled too: the error itself reaches the
    caller (not an exception group), and no worker writes after the store is closed."""
    from behaviorlab.models import MissingExtraError, MockBackend
    from behaviorlab.store._sqlite import ResultStore

    real_score = MockBackend.score
    calls: list[int] = []

    async def missing(self: MockBackend, request: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:  # the first call fails; calls already in flight would succeed
            await asyncio.sleep(0.01)
            raise MissingExtraError("the llamacpp backend", "llm", "llama-cpp-python")
        await asyncio.sleep(0.05)
        return await real_score(self, request)

    closed: list[bool] = []
    writes_after_close: list[str] = []
    real_write, real_close = ResultStore.write, ResultStore.close

    def write(self: ResultStore, result: Any) -> None:
        if closed:
            writes_after_close.append(result.trial_id)
        real_write(self, result)

    def close(self: ResultStore) -> None:
        closed.append(True)
        real_close(self)

    monkeypatch.setattr(ResultStore, "write", write)
    monkeypatch.setattr(ResultStore, "close", close)

    async def slow_close(self: MockBackend) -> None:  # an HTTP client takes a while to close
        await asyncio.sleep(0.3)

    monkeypatch.setattr(MockBackend, "score", missing)
    monkeypatch.setattr(MockBackend, "aclose", slow_close)
    with pytest.raises(MissingExtraError, match=r"pip install 'behaviorlab\[llm\]'"):
        bl.run(spec(concurrency=concurrency), out=runs_dir, progress=False)
    assert closed and writes_after_close == []


def test_base_model_cannot_generate() -> None:
    from typing import ClassVar

    from behaviorlab.models import MockBackend
    from behaviorlab.simulators import LLMSimulator

    class BaseModel(MockBackend):
        capabilities: ClassVar = frozenset({"generate", "score"})  # type: ignore[misc]

    with pytest.raises(ValueError, match=r"base model without a chat template.*answer: score"):
        LLMSimulator(BaseModel(), answer="generate")
    assert LLMSimulator(BaseModel(), answer="score").answer_mode == "score"
