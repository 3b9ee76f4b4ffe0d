"""A person as a judge (issue 20 §2): a stored patient session rated in ``behaviorlab view``
(/rate), the ratings kept in the run's own ratings.sqlite, and read by the fidelity metrics as
the judge ``human:<rater>`` beside the LLM and keyword judges."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import behaviorlab as bl
from behaviorlab.families.patient._metrics import fidelity, judgements
from behaviorlab.families.patient._rating import human_judgements, rating_form
from behaviorlab.report._viewer import create_app

Spec = Callable[..., dict[str, Any]]
LOCAL = "http://127.0.0.1"
EVIL = "<script>alert('x')</script> How are you?"


@pytest.fixture(scope="module")
def rated_run(
    make_spec: Spec, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[dict[str, Any]]]:
    judges = [{"kind": "keywords"}, {"label": "llm", "kind": "llm", "backend": "mock"}]
    spec = make_spec(
        {"name": "scripted_patient", "level": "explicit"}, models=2, sessions=1, judges=judges
    )
    therapist = {"name": "script", "cycle": True, "lines": [EVIL, "And then?"]}
    spec["parties"][0]["roles"]["therapist"] = therapist
    root = tmp_path_factory.mktemp("runs")
    run = bl.run(spec, out=root, progress=False)
    rows = [{str(k): v for k, v in r.items()} for r in run.to_pandas().to_dict(orient="records")]
    return root, rows


def digest(folder: Path) -> dict[str, str]:
    """The results store's data: the database and a non-empty WAL (a read-only open of a WAL
    database may leave an empty -wal and a -shm index, which hold no data)."""
    paths = [folder / "results.sqlite", folder / "results.sqlite-wal"]
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in paths
        if p.exists() and p.stat().st_size
    }


def test_two_ratings_count_as_a_human_judge(
    rated_run: tuple[Path, list[dict[str, Any]]],
) -> None:
    root, rows = rated_run
    folder = root / "patient-test"
    sessions = sorted(rows, key=lambda r: str(r["person_id"]))
    assert len(sessions) == 2
    truth = [r["answer_json"]["truth"] for r in sessions]
    before = digest(folder)
    with TestClient(create_app(root), base_url=LOCAL) as client:
        index = client.get("/rate")
        assert index.status_code == 200
        for r in sessions:
            assert str(r["trial_id"]) in index.text
        first = f"/rate/patient-test/{sessions[0]['trial_id']}"
        page = client.get(first)
        assert page.status_code == 200
        assert "<script>alert" not in page.text  # the therapist's line, escaped
        assert "&lt;script&gt;alert(" in page.text
        for hidden in truth[0]["core_beliefs"]:  # the truth is not on the page as such
            assert f"true_{hidden}" not in page.text
        unrated = client.get("/runs/patient-test/report.md")
        assert unrated.status_code == 200 and "human:alice" not in unrated.text
        # session 0 rated exactly; session 1: every category, the first emotion only
        answers = [
            dict(truth[0]),
            {
                "core_beliefs": ["helpless", "unlovable", "worthless"],
                "emotions": truth[1]["emotions"][:1],
                "style": truth[1]["style"],
            },
        ]
        for r, a in zip(sessions, answers, strict=True):
            res = client.post(
                f"/api/rate/patient-test/{r['trial_id']}", json={"rater": "alice", "answers": a}
            )
            assert res.status_code == 201, res.text
        # refusals: not JSON, an unknown trial, an option the form does not have
        bad = client.post(
            f"/api/rate/patient-test/{sessions[0]['trial_id']}",
            content=b'{"rater": "eve", "answers": {}}',
            headers={"content-type": "text/plain"},
        )
        assert bad.status_code == 415
        missing = client.post(
            "/api/rate/patient-test/no-such-trial", json={"rater": "eve", "answers": answers[0]}
        )
        assert missing.status_code == 404
        wrong = client.post(
            f"/api/rate/patient-test/{sessions[0]['trial_id']}",
            json={"rater": "eve", "answers": {**answers[0], "style": "sarcastic"}},
        )
        assert wrong.status_code == 422 and "sarcastic" in wrong.text
        foreign = client.post(
            f"/api/rate/patient-test/{sessions[0]['trial_id']}",
            json={"rater": "eve", "answers": answers[0]},
            headers={"origin": "http://evil.example"},
        )
        assert foreign.status_code == 403
        assert digest(folder) == before  # the results store is never written
        with sqlite3.connect(folder / "ratings.sqlite") as db:
            assert db.execute("SELECT COUNT(*) FROM ratings").fetchone()[0] == 2
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        md = client.get("/runs/patient-test/report.md")
        assert md.status_code == 200, md.text
        html = client.get("/runs/patient-test")
        assert html.status_code == 200 and "human:alice" in html.text
    beliefs = (1.0 + len(truth[1]["core_beliefs"]) / 3) / 2
    emotions = (1.0 + 1 / len(truth[1]["emotions"])) / 2
    table = judgements(bl.open_run(folder).to_pandas(), human_judgements(folder))
    human = table.loc[table["judge"] == "human:alice"]
    assert len(human) == 2 and set(human["judge_model"]) == {"human"}
    assert fidelity(human, "core_beliefs")["jaccard"].value == pytest.approx(beliefs)
    assert fidelity(human, "emotions")["jaccard"].value == pytest.approx(emotions)
    assert fidelity(human, "style")["jaccard"].value == pytest.approx(1.0)
    # the report's main table: the human judge's row beside the keyword judge's
    lines = [line for line in md.text.splitlines() if "human:alice" in line]
    row = next(line for line in lines if "| full |" in line)
    assert f"| {beliefs:.2f} \\[" in row and f"| {emotions:.2f} \\[" in row
    for judge in ("keywords", "llm"):  # beside the other judges
        assert any(f"| full | {judge} |" in line for line in md.text.splitlines())


def test_the_form_shows_the_transcript_and_never_the_truth(
    rated_run: tuple[Path, list[dict[str, Any]]],
) -> None:
    _, rows = rated_run
    form = rating_form(rows[0])
    assert form is not None
    assert form.text.startswith("Therapist: " + EVIL)
    assert [q.name for q in form.questions] == ["core_beliefs", "emotions", "style"]
    assert [q.multiple for q in form.questions] == [True, True, False]
    assert "model_id" not in form.text and str(rows[0]["answer_json"]["model_id"]) not in form.text
    for hidden in ("full", "scripted", str(rows[0]["person_id"]), "planted"):  # blind
        assert hidden not in form.title
    assert rating_form({**rows[0], "task": "survey"}) is None
    assert rating_form({**rows[0], "error": "party failed"}) is None
    assert human_judgements(Path("/nonexistent-folder")) == {}


def test_a_refused_ratings_file_is_named_in_the_report_and_left_out(
    rated_run: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    import shutil

    root, _ = rated_run
    copy = tmp_path / "runs" / "patient-test"
    shutil.copytree(
        root / "patient-test", copy, ignore=shutil.ignore_patterns("ratings*", "report*")
    )
    with sqlite3.connect(copy / "ratings.sqlite") as db:  # another schema
        db.execute("CREATE TABLE other (x)")
    with TestClient(create_app(tmp_path / "runs"), base_url=LOCAL) as client:
        md = client.get("/runs/patient-test/report.md")
    assert md.status_code == 200, md.text
    assert "People's ratings left out" in md.text and "is not a ratings file" in md.text
    assert "human:" not in md.text.split("## Ablations")[0].replace("A human:NAME judge", "")
