"""Patient sessions run from specs (issue 20): a therapist and a patient party for T turns,
judged from the transcript with the judges' prompts and models recorded; the baseline
patient; planted transcripts read by the judges; and a run killed with kill -9 resumes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import behaviorlab as bl
from behaviorlab.data import load_dataset

Spec = Callable[..., dict[str, Any]]
MOCK_JUDGE = {"label": "llm", "kind": "llm", "backend": "mock"}


def test_a_scripted_patient_is_read_back_and_the_baseline_is_not(
    make_spec: Spec, tmp_path: Path
) -> None:
    spec = make_spec(
        {"name": "scripted_patient", "level": "explicit"},
        planted=2,
        conditions=["full", "name_and_style", "shuffled_persona"],
    )
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    assert frame["error"].isna().all()
    sessions = frame.loc[frame["item_id"] == "session"]
    # planted transcripts: full and shuffled_persona (the baseline leaves them out)
    assert len(sessions) == 6 * 2 * 3 and len(frame) - len(sessions) == 6 * 2
    scores = pd.DataFrame(sessions["scores"].tolist(), index=sessions.index)
    full = scores[sessions["condition"] == "full"]
    base = scores[sessions["condition"] == "name_and_style"]
    assert (full["beliefs_keywords"] == 1.0).all() and (full["emotions_keywords"] == 1.0).all()
    assert (base["beliefs_keywords"] == 0.0).all() and (base["emotions_keywords"] == 0.0).all()
    # another model's persona (the core's shuffled_persona): its labels, not this model's
    shuffled = scores[sessions["condition"] == "shuffled_persona"]
    assert 0.0 < shuffled["beliefs_keywords"].mean() < 0.8
    first = sessions["answer_json"].iloc[0]
    roles = [t["role"] for t in first["transcript"]]
    assert roles == ["therapist", "patient"] * 3
    turns = bl.open_run("patient-test", out=tmp_path).to_pandas(per="turn")
    assert set(turns["role"]) == {"therapist", "patient"}
    assert turns.loc[turns["role"] == "patient", "words"].notna().all()


def test_the_llm_judge_is_recorded_and_never_sees_the_persona(
    make_spec: Spec, tmp_path: Path
) -> None:
    patient = {"name": "llm", "backend": "mock", "answer": "generate"}
    judges = [{"kind": "keywords"}, MOCK_JUDGE, {**MOCK_JUDGE, "label": "other", "model": "m2"}]
    done = bl.run(make_spec(patient, models=3, judges=judges), out=tmp_path, progress=False)
    frame = done.to_pandas()
    assert frame["error"].isna().all() and len(frame) == 6
    people = load_dataset("patient_models", models=3, sessions=2)
    for rec in frame.to_dict(orient="records"):
        value = rec["answer_json"]
        by = {j["judge"]: j for j in value["judgements"]}
        assert by["llm"]["same_model_as_patient"] is True
        assert by["other"]["same_model_as_patient"] is False
        assert by["other"]["model"]["model"] == "m2"
        prompt = by["llm"]["prompt"][1]["content"]
        for line in value["transcript"]:
            assert line["text"] in prompt
        person = people.persons[rec["person_id"]]
        hidden = str(person.description).splitlines()[1:]  # history, beliefs, situation...
        assert not [h for h in hidden if h and h in prompt], "the judge saw the persona"
    info = done.manifest["task_info"]["judges"]
    assert [j["label"] for j in info] == ["keywords", "llm", "other"]
    assert info[1]["model"]["backend"] == "mock" and "Transcript:" in info[1]["template"]


def test_a_bad_judge_or_turn_count_is_refused_before_anything_runs(
    make_spec: Spec, tmp_path: Path
) -> None:
    patient = {"name": "scripted_patient"}
    with pytest.raises(ValueError, match=r"judges\[0\] \('x'\) needs a backend"):
        bl.run(make_spec(patient, judges=[{"label": "x", "kind": "llm"}]), out=tmp_path)
    with pytest.raises(ValueError, match="turns \\(0\\) must be at least 1"):
        bl.run(make_spec(patient, turns=0), out=tmp_path)


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return int(con.execute("SELECT COUNT(*) FROM trials").fetchone()[0])
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def test_kill_9_then_resume_a_patient_run(make_spec: Spec, tmp_path: Path) -> None:
    """Mirrors tests/runs/test_resume_kill.py for a patient spec: only the missing sessions
    run again, none twice, and the table equals an uninterrupted run's."""
    patient = {
        "name": "llm",
        "backend": "mock",
        "answer": "generate",
        "backend_options": {"delay_s": 0.05},
    }
    spec = make_spec(
        patient,
        models=8,
        # uncached judges: a judgement records its cache hits, which differ between the
        # resumed run and the uninterrupted one (as the trials' cache_hits, left out below)
        judges=[{"kind": "keywords"}, {**MOCK_JUDGE, "cache": False}],
        conditions=["full", "name_and_style"],
        name="killpatient",
    )
    spec["concurrency"] = 2
    out = tmp_path / "runs"
    db = out / "killpatient" / "results.sqlite"
    code = (
        "import json, sys, behaviorlab as bl; "
        f"bl.run(json.loads(sys.argv[1]), out={str(out)!r}, progress=False)"
    )
    env = {**os.environ, "BEHAVIORLAB_CACHE_DIR": str(tmp_path / "cache1")}
    proc = subprocess.Popen([sys.executable, "-c", code, json.dumps(spec)], env=env)
    deadline = time.monotonic() + 90
    while _count(db) < 6 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stored = _count(db)
    planned = 8 * 2 * 2  # 8 models x 2 sessions x (full, name_and_style)
    assert 6 <= stored < planned

    resumed = bl.run(spec, out=out, progress=False)
    assert resumed.summary is not None
    assert resumed.summary.already_done == stored
    assert resumed.summary.completed == planned - stored
    frame = resumed.to_pandas()
    assert len(frame) == planned and frame["trial_id"].is_unique and frame["error"].isna().all()

    whole = bl.run(spec, out=tmp_path / "whole", progress=False).to_pandas()
    cols = [c for c in frame.columns if c not in ("latency_s", "created_at", "cache_hits")]
    pd.testing.assert_frame_equal(
        frame[cols].sort_values("trial_id").reset_index(drop=True),
        whole[cols].sort_values("trial_id").reset_index(drop=True),
    )


def test_a_judge_that_cannot_read_is_named_in_the_report(make_spec: Spec, tmp_path: Path) -> None:
    from behaviorlab.report import write_report

    broken = {"label": "broken", "kind": "llm", "backend": "mock", "fail_rate": 1.0}
    spec = make_spec({"name": "scripted_patient"}, models=3, judges=[{"kind": "keywords"}, broken])
    done = bl.run(spec, out=tmp_path, progress=False)
    assert done.to_pandas()["error"].isna().all()  # a judge's failure is not the session's
    md = Path(write_report(done, n_resamples=50).markdown).read_text(encoding="utf-8")
    assert "Judge broken could not read 6 of 6 transcripts (first: judge backend failed" in md
    row = [r for r in md.splitlines() if r.startswith("| p | full | broken |")]
    assert row and "| — | — |" in row[0]


def test_plan_counts_the_judges_calls_apart(make_spec: Spec, tmp_path: Path) -> None:
    import yaml
    from typer.testing import CliRunner

    from behaviorlab.cli import app

    judges = [{"kind": "keywords"}, MOCK_JUDGE, {**MOCK_JUDGE, "label": "other", "model": "m2"}]
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(make_spec({"name": "scripted_patient"}, judges=judges)))
    res = CliRunner().invoke(app, ["plan", str(path), "--out", str(tmp_path / "runs")])
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "judges: 2 LLM judge(s) (llm, other) read each of the 12 trials still to run" in text
    assert "up to 24 judge calls" in text


def test_the_judges_calls_tokens_and_cost_count_in_the_trials_totals(
    make_spec: Spec, tmp_path: Path
) -> None:
    priced = {**MOCK_JUDGE, "cache": False, "pricing": {"input_per_mtok": 1e6}}  # 1 per token
    judges = [{"kind": "keywords"}, priced, {**priced, "label": "other", "model": "m2"}]
    done = bl.run(make_spec({"name": "scripted_patient"}, models=2, judges=judges), out=tmp_path)
    frame = done.to_pandas()
    assert len(frame) == 4 and frame["error"].isna().all()
    for rec in frame.to_dict(orient="records"):
        read = rec["answer_json"]["judgements"]
        tokens = sum(j["tokens_in"] for j in read)
        assert tokens > 0 and [j["calls"] for j in read] == [0, 1, 1]
        assert rec["calls"] == 2 and rec["tokens_in"] == tokens  # the scripted parties: none
        assert rec["tokens_out"] == sum(j["tokens_out"] for j in read) > 0
        assert rec["cost"] == pytest.approx(tokens)
        meta = rec["meta"] if isinstance(rec["meta"], dict) else json.loads(rec["meta"])
        assert meta["judge_calls"] == 2 and meta["judge_cost"] == pytest.approx(tokens)


def test_plan_times_the_judges_calls_at_the_measured_speed(make_spec: Spec) -> None:
    from behaviorlab.families.patient._family import plan_notes
    from behaviorlab.runs import load_spec
    from behaviorlab.runs._estimate import Cell, Estimate
    from behaviorlab.runs._throughput import Throughput

    spec = load_spec(make_spec({"name": "scripted_patient"}, judges=[MOCK_JUDGE]))
    cells = [Cell("p", "full", trials=12, stored=2)]
    untimed = plan_notes(spec, Estimate("x", "plan", cells))
    assert len(untimed) == 1 and "up to 10 judge calls" in untimed[0]
    timed = Estimate("x", "plan", cells, throughput={"p": Throughput(seconds=1.5, n=4, source="")})
    assert "about 15 s more for those 10 calls at the measured 1.50 s per call" in " ".join(
        plan_notes(spec, timed)
    )


def test_plan_calls_no_judge_and_counts_the_parties_calls_only(make_spec: Spec) -> None:
    """The plan plays each trial against a stand-in of the parties' models; the judges are
    out of its reach, so they must not be called for real (nor counted as parties' calls)."""
    import asyncio

    from behaviorlab.models import GenerateRequest, MockBackend
    from behaviorlab.runs import load_spec
    from behaviorlab.runs._estimate import estimate_plan
    from behaviorlab.runs._planning import plan

    patient = {"name": "llm", "backend": "mock", "answer": "generate"}
    spec = load_spec(make_spec(patient, models=2, judges=[{**MOCK_JUDGE, "cache": False}]))
    p = plan(spec, None)
    asked: list[GenerateRequest] = []

    def reply(request: GenerateRequest) -> str:
        asked.append(request)
        return "{}"

    p.task.judges[0].backend = MockBackend(script=reply)  # type: ignore[attr-defined]
    try:
        est = asyncio.run(estimate_plan(p))
    finally:
        asyncio.run(p.aclose())
    assert asked == []
    assert [(c.trials, c.calls) for c in est.cells] == [(4, 4 * 3)]  # 3 patient turns each
