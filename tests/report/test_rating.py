"""The viewer's rating pages (/rate) and API, family-neutral: a toy ``rating_form`` stands in
for a family's; ratings land in the run's own ratings.sqlite, never its results store."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from behaviorlab.plugins import Family, RatingForm, RatingQuestion
from behaviorlab.report import _rating
from behaviorlab.report._rating import RATINGS_NAME, latest_by_rater, read_ratings
from behaviorlab.report._viewer import create_app
from behaviorlab.runs import Run

LOCAL = "http://127.0.0.1"
QUESTIONS = (
    RatingQuestion("tone", "Which tones?", ("warm", "cold", "<i>odd</i>"), multiple=True),
    RatingQuestion("good", "Good?", ("yes", "no")),
)


def toy_form(row: dict[str, Any]) -> RatingForm | None:
    if str(row.get("step_index")) != "0":
        return None
    return RatingForm(f"person {row['person_id']}", f"<b>{row['person_id']}</b> said", QUESTIONS)


TOY = Family(name="toy", summary="toy", tasks=(), rating_form=toy_form)


@pytest.fixture
def runs_dir(main_run: Run, tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    shutil.copytree(main_run.results_path.parent, root / "syn")
    return root


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_rating, "family_of", lambda task: TOY)


def results_digest(folder: Path) -> dict[str, str]:
    """The results store's data (the database and a non-empty WAL; a read-only open of a WAL
    database may leave an empty -wal and its -shm index, which hold no data)."""
    paths = [folder / "results.sqlite", folder / "results.sqlite-wal"]
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in paths
        if p.exists() and p.stat().st_size
    }


def first_trial(client: TestClient) -> str:
    page = client.get("/rate")
    assert page.status_code == 200
    marker = 'href="/rate/syn/'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


@pytest.mark.usefixtures("toy")
def test_ratings_are_stored_apart_and_a_rater_s_last_one_counts(runs_dir: Path) -> None:
    folder = runs_dir / "syn"
    before = results_digest(folder)
    with TestClient(create_app(runs_dir), base_url=LOCAL) as client:
        trial = first_trial(client)
        listed = re.findall(r'href="/rate/syn/([^"]+)"', client.get("/rate").text)
        assert len(listed) > 1 and listed == sorted(listed)  # by trial id, not by arm
        page = client.get(f"/rate/syn/{trial}")
        assert page.status_code == 200
        assert "&lt;b&gt;" in page.text and "<b>" not in page.text
        assert "&lt;i&gt;odd&lt;/i&gt;" in page.text and "<i>odd" not in page.text
        url = f"/api/rate/syn/{trial}"
        for tones, good in ((["cold"], "no"), (["warm", "cold"], "yes")):
            res = client.post(url, json={"rater": "bo", "answers": {"tone": tones, "good": good}})
            assert res.status_code == 201, res.text
        stored = client.get("/api/rate/syn").json()
        assert [r["answers"] for r in stored] == [
            {"tone": ["cold"], "good": "no"},
            {"tone": ["warm", "cold"], "good": "yes"},
        ]
        unanswered = client.post(url, json={"rater": "bo", "answers": {"tone": []}})
        assert unanswered.status_code == 422 and "'good'" in unanswered.text
        two = client.post(url, json={"rater": "bo", "answers": {"tone": [], "good": ["yes", "no"]}})
        assert two.status_code == 422
        rebound = client.post(
            url,
            json={"rater": "bo", "answers": {"tone": [], "good": "yes"}},
            headers={"host": "attacker.example"},
        )
        assert rebound.status_code == 400
        assert client.get("/rate/nope/x").status_code == 404
    latest = latest_by_rater(read_ratings(folder))
    assert list(latest) == [(trial, "bo")]
    assert latest[(trial, "bo")].answers == {"tone": ["warm", "cold"], "good": "yes"}
    assert results_digest(folder) == before


@pytest.mark.usefixtures("toy")
def test_a_ratings_file_that_links_elsewhere_is_refused(runs_dir: Path) -> None:
    folder = runs_dir / "syn"
    before = results_digest(folder)
    with TestClient(create_app(runs_dir), base_url=LOCAL) as client:
        trial = first_trial(client)
        os.symlink(folder / "results.sqlite", folder / RATINGS_NAME)
        listed = client.get("/rate")
        assert listed.status_code == 200 and "symbolic link" in listed.text
        res = client.post(
            f"/api/rate/syn/{trial}", json={"rater": "bo", "answers": {"tone": [], "good": "no"}}
        )
    assert res.status_code == 409 and "symbolic link" in res.text
    assert results_digest(folder) == before


def test_runs_of_a_family_without_a_form_are_not_listed(runs_dir: Path) -> None:
    with TestClient(create_app(runs_dir), base_url=LOCAL) as client:
        page = client.get("/rate")
        assert page.status_code == 200 and "No run here has trials to rate." in page.text
        assert 'href="/rate/syn/' not in page.text
    assert not (runs_dir / "syn" / RATINGS_NAME).exists()


@pytest.mark.usefixtures("toy")
def test_a_relative_runs_folder_takes_every_rating(
    runs_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``behaviorlab view`` serves ``--out runs`` (relative) by default: the second rating and
    every read used to fail (sqlite's read-only URI needs an absolute path)."""
    monkeypatch.chdir(runs_dir.parent)
    with TestClient(create_app(Path("runs")), base_url=LOCAL) as client:
        trial = first_trial(client)
        url = f"/api/rate/syn/{trial}"
        for rater in ("ann", "bo", "cy"):
            res = client.post(url, json={"rater": rater, "answers": {"tone": [], "good": "yes"}})
            assert res.status_code == 201, res.text
        assert len(client.get("/api/rate/syn").json()) == 3
        assert "error" not in client.get("/rate").text.lower()


def test_first_ratings_at_once_set_the_file_up_once(tmp_path: Path) -> None:
    """Four raters' first ratings of a run at the same moment: each is stored (no wrong "not
    a ratings file", no "database is locked")."""
    import threading

    from behaviorlab.report._rating import Rating, RatingStore

    for attempt in range(10):
        folder = tmp_path / f"run{attempt}"
        folder.mkdir()
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []

        def rate(
            i: int,
            folder: Path = folder,
            barrier: threading.Barrier = barrier,
            errors: list[BaseException] = errors,
        ) -> None:
            barrier.wait()
            try:
                RatingStore(folder).add(
                    Rating(run_id="r", trial_id="t", rater=f"p{i}", answers={"good": "yes"})
                )
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=rate, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert len(read_ratings(folder)) == 4


def test_ratings_of_an_earlier_run_of_the_same_name_are_not_this_runs(tmp_path: Path) -> None:
    from behaviorlab.report._rating import Rating, RatingStore

    store = RatingStore(tmp_path)
    store.add(Rating(run_id="old-1", trial_id="t", rater="a", answers={"good": "no"}))
    store.add(Rating(run_id="new-2", trial_id="t", rater="a", answers={"good": "yes"}))
    assert [r.answers for r in read_ratings(tmp_path, "new-2")] == [{"good": "yes"}]
    assert len(read_ratings(tmp_path)) == 2
