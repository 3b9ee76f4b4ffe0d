"""The synthetic OPeRA demo data: labelled, deterministic, OPeRA-shaped, and round-trippable."""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from behaviorlab.data import OperaData, export_opera, load_opera
from behaviorlab.data import make_synthetic_opera as make
from behaviorlab.data._opera_schema import CLICK_TYPES, FULL_ACTION_COLUMNS

# the columns ../shared/DESIGN.md lists, in the dataset card's order
DESIGN_USER = [
    "user_id",
    "survey",
    "raw_survey",
    "interview_transcript",
    "interview_transcript_processed",
]
DESIGN_SESSION = ["session_id", "user_id", "action_count"]
DESIGN_FILTERED_ACTION = [
    "session_id",
    "action_id",
    "timestamp",
    "action_type",
    "click_type",
    "semantic_id",
    "mouse_position",
    "element_meta",
    "url",
    "window_size",
    "page_meta",
    "simplified_html",
    "rationale",
    "products",
    "input_text",
    "image",
]
DESIGN_FULL_EXTRA = {
    "navigation_type",
    "simplified_html_new_page",
    "scroll_detail",
    "target",
    "image_new_page",
}
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic")
    make(out)
    make(out, version="full")
    return out


@pytest.fixture(scope="module")
def filtered(root: Path) -> OperaData:
    return load_opera(root)


def test_default_output_is_small_fast_and_deterministic(root: Path, tmp_path: Path) -> None:
    start = time.perf_counter()
    make(tmp_path / "again")
    assert time.perf_counter() - start < 2.0
    files = sorted(p.relative_to(root) for p in (root / "OPeRA_filtered").rglob("*.parquet"))
    assert len(files) == 6
    size = sum((root / f).stat().st_size for f in files)
    assert 30_000 < size < 500_000
    for f in files:
        assert (root / f).read_bytes() == (tmp_path / "again" / f).read_bytes(), f
    other = load_opera(make(tmp_path / "seed1", seed=1)).dataset
    assert other.episodes != load_opera(root).dataset.episodes


def test_clearly_labelled_synthetic(root: Path, filtered: OperaData) -> None:
    assert (root / "README.txt").read_text().startswith("SYNTHETIC DATA: NOT REAL PEOPLE")
    ds = filtered.dataset
    assert ds.name == "opera-synthetic" and ds.meta["synthetic"] is True
    assert "synthetic" in ds.license
    assert all(p.meta["survey"]["synthetic"] is True for p in ds.persons.values())
    assert all(p.person_id.startswith("synth-") for p in ds.persons.values())
    assert all("synthetic" not in p.attributes for p in ds.persons.values())


def test_personas_differ_and_read_as_text(filtered: OperaData) -> None:
    persons = list(filtered.dataset.persons.values())
    assert len(persons) == 8
    factors = {
        p.attributes["Shopping Preference / Most important factor when buying"] for p in persons
    }
    assert len(factors) == 5
    for p in persons:
        assert p.description and "Demographic Information:" in p.description
        assert "Personality / Big Five Scores / Openness" in p.attributes
    assert sum(p.text is not None for p in persons) == 4  # every other shopper has an interview


def test_sessions_are_shaped_like_opera(filtered: OperaData) -> None:
    episodes = filtered.dataset.episodes
    assert len(episodes) == 24
    kinds: Counter[str] = Counter()
    pages: set[str] = set()
    steps = [s for e in episodes for s in e.steps]
    for ep in episodes:
        assert re.fullmatch(rf"{re.escape(ep.person_id)}_{ISO}_{ISO}", ep.episode_id)
        assert ep.started_at and ep.ended_at and ep.steps[0].timestamp and ep.steps[-1].timestamp
        assert ep.started_at < ep.steps[0].timestamp <= ep.steps[-1].timestamp < ep.ended_at
        times = [s.timestamp for s in ep.steps]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert ep.steps[-1].action.action_type == "terminate"
        assert ep.meta["action_count"] == len(ep.steps)
    for step in steps:
        a, html = step.action, step.observation.content
        kinds[a.action_type] += 1
        pages.add(step.observation.url.split("/")[3].split("?")[0] if step.observation.url else "")
        if a.action_type in ("click", "input"):
            assert f'name="{a.target}"' in html, a.target  # the target is on the page
            assert set(a.attributes["mouse_position"]) >= {"clientX", "clientY"}
            assert set(a.attributes["element_meta"]) == {"name", "data"}
        if a.action_type == "click":
            assert a.attributes["click_type"] in CLICK_TYPES
        if a.action_type == "input":
            assert a.value and a.target == "nav_bar.search_input"
        assert html.startswith("<html>") and 'name="nav_bar.search_input"' in html
        assert isinstance(a.attributes["products"], list)
        assert set(step.observation.meta["page_meta"]) == {"search_term", "cart_items"}
    assert set(kinds) == {"click", "input", "terminate"}
    assert {"", "s", "dp", "cart", "checkout"} <= pages
    click_types = Counter(s.action.attributes.get("click_type") for s in steps)
    assert len(set(click_types) - {None}) >= 10
    share = sum(s.rationale is not None for s in steps) / len(steps)
    assert 0.04 < share < 0.18


def test_choices_follow_the_persona(filtered: OperaData) -> None:
    ds = filtered.dataset
    for ep in ds.episodes:
        factor = ds.persons[ep.person_id].attributes[
            "Shopping Preference / Most important factor when buying"
        ]
        targets = [s.action.target or "" for s in ep.steps]
        if factor == "Low price":
            assert "search_results.sort_by.price_low_to_high" in targets
        if factor == "Customer reviews":
            assert "refinements.avg_customer_review.4_stars_and_above" in targets
            assert "reviews" in targets
        if factor == "Brand":
            typed = next(s.action.value for s in ep.steps if s.action.action_type == "input")
            assert typed and typed.split()[0] in ep.steps[-1].observation.content.lower()


def test_split_by_time_or_by_user(filtered: OperaData, tmp_path: Path) -> None:
    by_user: dict[str, list[str]] = {}
    for ep in filtered.dataset.episodes:
        by_user.setdefault(ep.person_id, []).append(filtered.session_splits[ep.episode_id])
    assert all(splits == ["train", "train", "test"] for splits in by_user.values())
    assert all(s == ("train", "test") for s in filtered.user_splits.values())
    users = load_opera(make(tmp_path, split_by="user"))
    test_users = {u for u, s in users.user_splits.items() if s == ("test",)}
    assert len(test_users) == 2 and all(
        s in (("train",), ("test",)) for s in users.user_splits.values()
    )
    assert {e.person_id for e in users.episodes("test")} == test_users


def test_full_version_adds_scrolls_and_navigations(root: Path, filtered: OperaData) -> None:
    full = load_opera(root, version="full")
    kinds = Counter(s.action.action_type for e in full.dataset.episodes for s in e.steps)
    assert {"click", "input", "scroll", "navigation", "tab_activate"} <= set(kinds)
    assert "terminate" not in kinds
    shared = {s.step_id: s for e in filtered.dataset.episodes for s in e.steps}
    for step in (s for e in full.dataset.episodes for s in e.steps):
        if step.action.action_type == "navigation":
            assert step.action.attributes["navigation_type"] in ("new page", "back")
            assert step.action.attributes["simplified_html_new_page"].startswith("<html>")
        if step.action.action_type == "scroll":
            assert set(step.action.attributes["scroll_detail"]) == {
                "scroll_current_top",
                "scroll_current_left",
                "scroll_distance_x",
                "scroll_distance_y",
            }
        if step.step_id in shared:  # the same action in both versions
            assert step.timestamp == shared[step.step_id].timestamp
            assert step.action.target == shared[step.step_id].action.target


@pytest.mark.parametrize("version", ["filtered", "full"])
def test_round_trip_gives_identical_records(root: Path, tmp_path: Path, version: str) -> None:
    first = load_opera(root, version=version)  # type: ignore[arg-type]
    out = export_opera(first, tmp_path, version=version)  # type: ignore[arg-type]
    again = load_opera(tmp_path, version=version)  # type: ignore[arg-type]
    assert again.dataset.persons == first.dataset.persons
    assert again.dataset.episodes == first.dataset.episodes
    assert again.dataset.meta == first.dataset.meta
    assert again.session_splits == first.session_splits
    assert again.user_splits == first.user_splits
    for path in sorted(out.rglob("*.parquet")):  # the same bytes as the generator wrote
        assert path.read_bytes() == (root / path.relative_to(tmp_path)).read_bytes()


def test_exported_columns_are_designs_for_plain_pandas(root: Path) -> None:
    for split in ("train", "test"):
        user = pd.read_parquet(root / f"OPeRA_filtered/user/{split}/{split}.parquet")
        session = pd.read_parquet(root / f"OPeRA_filtered/session/{split}/{split}.parquet")
        action = pd.read_parquet(root / f"OPeRA_filtered/action/{split}-00000-of-00001.parquet")
        full = pd.read_parquet(root / f"OPeRA_full/action/{split}-00000-of-00001.parquet")
        assert list(user.columns) == DESIGN_USER
        assert list(session.columns) == DESIGN_SESSION
        assert list(action.columns) == DESIGN_FILTERED_ACTION
        assert set(full.columns) == set(DESIGN_FILTERED_ACTION) | DESIGN_FULL_EXTRA
        assert list(full.columns) == list(FULL_ACTION_COLUMNS)
        assert pd.api.types.is_integer_dtype(session["action_count"])
        assert all(pd.api.types.is_string_dtype(action[c]) for c in action.columns)


def test_does_not_overwrite_other_data(tmp_path: Path) -> None:
    (tmp_path / "OPeRA_filtered").mkdir()
    with pytest.raises(FileExistsError, match="not synthetic data"):
        make(tmp_path)
    make(tmp_path, version="full")  # another version's folder is fine
    make(tmp_path, version="full", users=2)  # and its own output is replaced
    assert len(load_opera(tmp_path, version="full").dataset.persons) == 2
    with pytest.raises(FileExistsError, match="not synthetic data"):
        make(tmp_path)  # the README beside it does not make the foreign folder ours
    with pytest.raises(ValueError, match="at least 1"):
        make(tmp_path / "x", users=0)
