"""Ingest a scripted session → export → load_opera reads the same actions; run next_action."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from behaviorlab.cli import app as cli
from behaviorlab.collect._export import capture_dataset
from behaviorlab.collect._server import create_app
from behaviorlab.collect._store import open_store
from behaviorlab.collect._study import Study
from behaviorlab.data import load_opera
from behaviorlab.runs import run_async

HOST = "shop.test"
PAGE = (
    '<html><body><input name="search_bar.input" value=""/>'
    '<a name="results.product_1.title">Trail shoe</a>'
    '<a name="results.product_2.title">Road shoe</a>'
    '<button name="product.option.size_9">9</button>'
    '<button name="product.add_to_cart">Add</button></body></html>'
)
# (action_type, click_type, semantic_id, input_text, rationale)
SCRIPT: list[tuple[str, str | None, str | None, str | None, str | None]] = [
    ("input", None, "search_bar.input", "trail running shoes", None),
    ("click", "search", "search_bar.submit", None, None),
    ("scroll", None, None, None, None),
    ("click", "product_link", "results.product_1.title", None, "it was the cheapest trail shoe"),
    ("navigation", None, None, None, None),
    ("click", "product_option", "product.option.size_9", None, None),
    ("click", "purchase", "product.add_to_cart", None, "size 9 fits me"),
]


def session_events(session: str, minute: int) -> list[dict[str, Any]]:
    out = []
    for i, (kind, click, sid, text, _) in enumerate(SCRIPT):
        out.append(
            {
                "event_id": f"{session}-event-{i:02d}",
                "session_id": session,
                "seq": i,
                "timestamp": f"2026-02-01T10:{minute:02d}:{i:02d}.250Z",
                "action_type": kind,
                "click_type": click,
                "semantic_id": sid,
                "input_text": text,
                "url": f"https://{HOST}/page{i}",
                "window_size": {"width": 1280, "height": 800},
                "mouse_position": {"x": 10.0, "y": 20.0 + i},
                "simplified_html": PAGE,
                "products": [{"asin": "B0TRAIL", "title": "Trail shoe", "price": "$59.99"}]
                if kind == "click"
                else None,
            }
        )
    return out


def ingest(tmp_path: Path, people: int = 3) -> Path:
    db = tmp_path / "capture.sqlite"
    store = open_store(db)
    store.create_study(
        Study(study_id="st", name="t", token="st-token-000000001", allowed_hosts=[HOST])
    )
    with TestClient(create_app(store), follow_redirects=False) as client:
        for _ in range(people):
            r = client.get("/join/st", params={"t": "st-token-000000001"})
            token = r.headers["location"].split("/")[2]
            client.post(
                f"/p/{token}/consent",
                content="agree=yes",
                headers={"content-type": "application/x-www-form-urlencoded"},
            )
            client.post(
                "/api/v1/questionnaire",
                headers={"authorization": f"Bearer {token}"},
                json={
                    "answers": {
                        "age": "25-34",
                        "gender": "Man",
                        "education": "Some college",
                        "income": "Under $25k",
                        "self_description": "runner",
                        "online_frequency": "About once a week",
                        "categories": ["Sports and outdoors"],
                        "priorities": ["Price"],
                        "research": "I look at a few options",
                        **{
                            f"bfi_{k}": 3
                            for k in (
                                "extraverted",
                                "reserved",
                                "critical",
                                "sympathetic",
                                "dependable",
                                "careless",
                                "anxious",
                                "calm",
                                "open",
                                "conventional",
                            )
                        },
                    }
                },
            )
            for k, minute in ((0, 5), (1, 30)):
                events = session_events(f"{token[-6:]}-s{k}", minute)
                whys = [
                    {
                        "event_id": e["event_id"],
                        "rationale": SCRIPT[i][4],
                        "timestamp": e["timestamp"],
                    }
                    for i, e in enumerate(events)
                    if SCRIPT[i][4]
                ]
                # the rationale arrives in a later batch than its action
                for body in ({"events": events[:4]}, {"events": events[4:], "rationales": whys}):
                    ok = client.post(
                        "/api/v1/events", json=body, headers={"authorization": f"Bearer {token}"}
                    )
                    assert ok.status_code == 200, ok.text
    store.close()
    return db


def test_export_round_trips_through_load_opera(tmp_path: Path) -> None:
    db = ingest(tmp_path)
    out = tmp_path / "export"
    result = CliRunner().invoke(
        cli, ["collect", "export", "--study", "st", "--format", "opera", str(out), "--db", str(db)]
    )
    assert result.exit_code == 0, result.output
    filtered = load_opera(out, version="filtered")
    data = filtered.dataset
    assert len(data.persons) == 3 and len(data.episodes) == 6
    person = next(iter(data.persons.values()))
    assert person.meta["survey"]["Personality"]["Openness"] == 3.0
    assert person.meta["raw_survey"]["categories"] == ["Sports and outdoors"]
    kept = [s for s in SCRIPT if s[0] in ("click", "input")]
    for episode in data.episodes:
        assert episode.episode_id.startswith(f"{episode.person_id}_2026-02-01T10:")
        steps = episode.steps
        got = [
            (
                s.action.action_type,
                s.action.attributes.get("click_type"),
                s.action.target,
                s.action.value,
                s.rationale.text if s.rationale else None,
            )
            for s in steps
        ]
        assert got == [*kept, ("terminate", None, None, None, None)]
        assert steps[-1].step_id.endswith("-event-06-end")
        assert steps[2].action.attributes["products"][0]["asin"] == "B0TRAIL"
        assert steps[0].observation.meta["window_size"] == {"width": 1280, "height": 800}
    # each person's later session is the test split
    assert sorted(filtered.session_splits.values()) == ["test"] * 3 + ["train"] * 3

    full = load_opera(out, version="full").dataset
    kinds = [s.action.action_type for s in full.episodes[0].steps]
    assert kinds == [s[0] for s in SCRIPT] + ["terminate"]


def test_an_export_runs_the_next_action_benchmark(tmp_path: Path) -> None:
    db = ingest(tmp_path, people=2)
    store = open_store(db)
    assert len(capture_dataset(store, "st").episodes) == 4
    from behaviorlab.collect._export import export_study

    export_study(store, "st", tmp_path / "export", versions=("filtered",))
    store.close()
    spec = {
        "name": "capture-next",
        "task": "next_action",
        "task_options": {"budget": None},
        "data": {
            "source": "opera",
            "options": {"path": str(tmp_path / "export")},
            "split": {"by": "data"},
        },
        "simulators": [{"name": "majority_action"}, {"name": "first_product_link"}],
        "conditions": ["full"],
    }
    summary = asyncio.run(run_async(spec, out=tmp_path / "runs"))
    assert summary.failed == 0
    # the test split: each person's latest session, 5 actions + terminate → 2 people × 6
    assert summary.planned == 2 * 6 * 2
    rows = open_run_rows(summary.results_path)
    first_link = [r for r in rows if r["simulator"] == "first_product_link"]
    # first_product_link clicks results.product_1.title: right exactly on the product click
    assert sum(r["correct"] for r in first_link) == 2


def open_run_rows(path: Path) -> list[dict[str, Any]]:
    from behaviorlab.runs import open_run

    frame = open_run(path).to_pandas()
    return json.loads(frame[["simulator", "correct"]].to_json(orient="records"))


def test_export_names_an_unknown_study(tmp_path: Path) -> None:
    db = ingest(tmp_path, people=1)
    result = CliRunner().invoke(
        cli, ["collect", "export", "--study", "nope", str(tmp_path / "o"), "--db", str(db)]
    )
    assert result.exit_code == 2 and "no study 'nope'" in result.output and "st" in result.output
    with pytest.raises(LookupError):
        capture_dataset(open_store(db), "nope")
