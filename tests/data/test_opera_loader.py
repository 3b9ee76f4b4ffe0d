"""OPeRA loader and exporter on hand-made tables shaped like the real ones: the mapping to
records, exact round trips of awkward values, and validation errors that name table, column,
row and file."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from behaviorlab.data import (
    Dataset,
    OperaFormatError,
    export_opera,
    load_opera,
)
from behaviorlab.data._opera_schema import FILTERED_ACTION_COLUMNS, SESSION_COLUMNS, USER_COLUMNS

U1, U2 = "3f2a9c1e-user-one", "77b0d2aa-user-two"
S1 = f"{U1}_2025-04-14T21:52:46.756000Z_2025-04-14T21:55:50.785000Z"
S2 = f"{U2}_2025-04-20T10:00:00.000000Z_2025-04-20T10:05:00.000000Z"
SURVEY = {
    "Demographic Information": {"Age": "25-34", "Gender": "Female", "City": "Boston"},
    "Self Description": {"Two sentence description": "I like deals. " * 10},
    "Shopping Preference": {"Monthly online shopping spend $": "100-250", "Tags": ["a", "b"]},
    "Personality": {"Big Five Scores": {"Openness": 4.5}},
}
HTML = (
    '<html><body><div name="nav_bar"><input name="nav_bar.search_input"/></div>'
    '<a name="search_results.tiger_rice_cooker.product_title">Tiger</a></body></html>'
)


def _users() -> list[dict[str, Any]]:
    return [
        {
            "user_id": U1,
            "survey": json.dumps(SURVEY),
            "raw_survey": json.dumps([{"q": "Age?", "a": "25-34"}]),
            "interview_transcript": None,
            "interview_transcript_processed": "Likes deals; buys kitchen things.",
        },
        {
            "user_id": U2,
            "survey": None,
            "raw_survey": "",
            "interview_transcript": "I: hi\nP: hello",
            "interview_transcript_processed": "",
        },
    ]


def _action(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(FILTERED_ACTION_COLUMNS)
    row.update(
        session_id=S1,
        url="https://www.amazon.com/dp/B00WO6EK54?URL_MASKED",
        window_size='{"width": 1920, "height": 934}',
        page_meta=json.dumps({"search_term": [{"term": ""}], "cart_items": []}),
        simplified_html=HTML,
        rationale="",
        products="[]",
        image="",
    )
    row.update(values)
    return row


def _actions() -> list[dict[str, Any]]:
    """Out of timestamp order on purpose; awkward but valid values."""
    data = json.dumps({"title": "Tiger 電飯煲 (White)", "asin": "B01L9SD3K0", "price": "$139.99"})
    return [
        _action(
            action_id="a2",
            timestamp="2025-04-14T21:52:57.792Z",
            action_type="click",
            click_type="product_link",
            semantic_id="search_results.tiger_rice_cooker.product_title",
            mouse_position='{"clientX": 1493, "clientY": 716, "pageX": 1493, "pageY": 1421}',
            element_meta=json.dumps({"name": "promotion_items", "data": data}),
            rationale="  looks cheapest  ",
            products=json.dumps(
                [
                    {
                        "asin": "B01",
                        "title": "Tiger",
                        "price": "$1",
                        "quantity": 1,
                        "options": ["Color: White"],
                    }
                ]
            ),
        ),
        _action(
            action_id="a1",
            timestamp="2025-04-14T21:52:50.100Z",
            action_type="input",
            semantic_id="nav_bar.search_input",
            input_text="rice cooker",
            mouse_position="{}",
            element_meta='{"name": "nav_bar", "data": ""}',
            rationale="I want a rice cooker",
        ),
        _action(
            action_id="a3",
            timestamp="2025-04-14T21:53:10+00:00",
            action_type="terminate",
            click_type="",
            rationale=None,
            products="",
            image=None,
            simplified_html=None,
            window_size="null",
        ),
        _action(
            action_id="b1",
            session_id=S2,
            timestamp="2025-04-20T10:01:00.000Z",
            action_type="terminate",
        ),
    ]


def _write(path: Path, rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    types = {"action_count": pa.int64()}
    schema = pa.schema([(c, types.get(c, pa.string())) for c in columns])
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({c: [r[c] for r in rows] for c in columns}, schema=schema), path)


Tables = dict[str, list[dict[str, Any]]]


def make_opera(root: Path, change: Callable[[Tables], None] | None = None) -> Path:
    """A two-user filtered OPeRA in the Hub's layout: U1 in train (and test), U2 in test."""
    users = _users()
    actions = _actions()
    tables: Tables = {
        "user/train": [users[0]],
        "user/test": [dict(users[0]), users[1]],
        "session/train": [{"session_id": S1, "user_id": U1, "action_count": 3}],
        "session/test": [{"session_id": S2, "user_id": U2, "action_count": 1}],
        "action/train": actions[:3],
        "action/test": actions[3:],
    }
    if change:
        change(tables)
    base = root / "OPeRA_filtered"
    for key, rows in tables.items():
        table, split = key.split("/")
        columns = {"user": USER_COLUMNS, "session": SESSION_COLUMNS}.get(
            table, FILTERED_ACTION_COLUMNS
        )
        columns = tuple(c for c in columns if not rows or c in rows[0])
        path = (
            base / "action" / f"{split}-00000-of-00001.parquet"
            if table == "action"
            else base / table / split / f"{split}.parquet"
        )
        _write(path, rows, columns)
    return root


@pytest.fixture
def opera_dir(tmp_path: Path) -> Path:
    return make_opera(tmp_path / "opera")


# --- mapping -------------------------------------------------------------------------------


def test_records_follow_the_documented_mapping(opera_dir: Path) -> None:
    data = load_opera(opera_dir)
    ds = data.dataset
    assert ds.name == "opera" and ds.license == "CC-BY-4.0" and ds.version == "filtered"
    assert data.session_splits == {S1: "train", S2: "test"}
    assert data.user_splits == {U1: ("train", "test"), U2: ("test",)}
    p1, p2 = ds.persons[U1], ds.persons[U2]
    assert p1.attributes["Demographic Information / Age"] == "25-34"
    assert p1.attributes["Shopping Preference / Tags"] == "a, b"
    assert p1.attributes["Personality / Big Five Scores / Openness"] == 4.5
    assert not any("Two sentence" in k for k in p1.attributes)  # long free text stays out
    assert p1.description and "- Age: 25-34" in p1.description
    assert p1.text == "Likes deals; buys kitchen things."
    assert p1.meta["survey"] == SURVEY and "interview_transcript" not in p1.meta
    assert p2.attributes == {} and p2.description is None and p2.text == ""
    assert p2.meta == {
        "raw_survey": "",
        "interview_transcript": "I: hi\nP: hello",
        "splits": ["test"],
        "provenance": "opera",
        "license": "CC-BY-4.0",
    }

    ep = next(e for e in ds.episodes if e.episode_id == S1)
    assert ep.person_id == U1 and ep.kind == "shopping_session"
    assert ep.started_at == datetime(2025, 4, 14, 21, 52, 46, 756000, tzinfo=UTC)
    assert ep.meta == {"action_count": 3, "split": "train"}
    assert [s.step_id for s in ep.steps] == ["a1", "a2", "a3"]  # timestamp order
    s1, s2, s3 = ep.steps
    assert s1.action.action_type == "input" and s1.action.value == "rice cooker"
    assert s1.action.target == "nav_bar.search_input" and s1.rationale is not None
    assert s2.action.attributes["click_type"] == "product_link"
    assert s2.action.attributes["element_meta"]["name"] == "promotion_items"
    assert s2.action.attributes["products"][0]["options"] == ["Color: White"]
    assert s2.observation.kind == "page" and s2.observation.content == HTML
    assert s2.observation.meta["window_size"] == {"width": 1920, "height": 934}
    assert s2.rationale is not None and s2.rationale.text == "looks cheapest"
    assert s2.meta == {"raw_rationale": "  looks cheapest  "}
    assert s2.timestamp == datetime(2025, 4, 14, 21, 52, 57, 792000, tzinfo=UTC)
    assert s3.rationale is None and s3.action.target is None
    assert s3.meta == {"raw_timestamp": "2025-04-14T21:53:10+00:00", "raw_rationale": None}
    assert s3.observation.content == "" and s3.observation.meta["html_missing"] is True
    assert s3.observation.meta["window_size"] is None and "image" not in s3.observation.meta
    assert s3.action.attributes == {"click_type": "", "products": ""}
    assert data.report.total_skipped == 0 and data.report.warnings == ()


def test_round_trip_keeps_every_awkward_value(opera_dir: Path, tmp_path: Path) -> None:
    first = load_opera(opera_dir)
    export_opera(first, tmp_path / "out")
    again = load_opera(tmp_path / "out")
    assert again.dataset.persons == first.dataset.persons
    assert again.dataset.episodes == first.dataset.episodes
    assert again.dataset.meta == first.dataset.meta
    assert (again.session_splits, again.user_splits) == (first.session_splits, first.user_splits)
    # the raw cells come back too: same timestamps, rationales, nulls and empties
    for split in ("train", "test"):
        name = f"OPeRA_filtered/action/{split}-00000-of-00001.parquet"
        old = pd.read_parquet(opera_dir / name).sort_values("action_id", ignore_index=True)
        new = pd.read_parquet(tmp_path / "out" / name).sort_values("action_id", ignore_index=True)
        for column in ("timestamp", "rationale", "click_type", "simplified_html", "image"):
            assert old[column].tolist() == new[column].tolist(), column


def test_leakage_history_never_holds_the_step_or_later(opera_dir: Path) -> None:
    for ep in load_opera(opera_dir).dataset.episodes:
        for i, step in enumerate(ep.steps):
            history = ep.history(i)
            assert [h.index for h in history] == list(range(i))
            assert step.step_id not in {h.step_id for h in history}
            assert all(
                h.timestamp and step.timestamp and h.timestamp <= step.timestamp for h in history
            )


def test_loading_one_split_keeps_users_listed_elsewhere(opera_dir: Path) -> None:
    train = load_opera(opera_dir, splits=("train",))
    assert [e.episode_id for e in train.dataset.episodes] == [S1]
    assert set(train.dataset.persons) == {U1}
    test = load_opera(opera_dir, splits="test")
    assert set(test.dataset.persons) == {U1, U2} and test.episodes("test")[0].episode_id == S2


# --- validation ----------------------------------------------------------------------------


def _set(key: str, index: int, **values: Any) -> Callable[[Tables], None]:
    def change(tables: Tables) -> None:
        tables[key][index].update(values)

    return change


ROW_ERRORS = [
    ("action/train", 0, {"action_type": "hover"}, "action", "action_type", "unknown action_type"),
    ("action/train", 0, {"click_type": "banana"}, "action", "click_type", "unknown click_type"),
    ("action/train", 0, {"click_type": None}, "action", "click_type", "unknown click_type None"),
    (
        "action/train",
        1,
        {"mouse_position": '{"clientX": 1,'},
        "action",
        "mouse_position",
        "malformed JSON",
    ),
    (
        "action/train",
        0,
        {"products": '{"asin": "x"}'},
        "action",
        "products",
        "JSON object where a JSON list is expected",
    ),
    ("action/train", 2, {"timestamp": "yesterday"}, "action", "timestamp", "not an ISO-8601"),
    ("action/train", 1, {"session_id": "nope"}, "action", "session_id", "is in no session table"),
    ("action/train", 1, {"action_id": "a2"}, "action", "action_id", "listed twice"),
    ("action/test", 0, {"session_id": S1}, "action", "session_id", "is in split 'test'"),
    ("session/test", 0, {"user_id": "ghost"}, "session", "user_id", "in no user table"),
    (
        "session/test",
        0,
        {"session_id": f"{U1}_x_y"},
        "session",
        "session_id",
        "does not start with its user_id",
    ),
    ("session/test", 0, {"action_count": None}, "session", "action_count", "empty"),
    ("user/test", 1, {"survey": "{not json"}, "user", "survey", "malformed JSON"),
    ("user/test", 1, {"survey": "[1, 2]"}, "user", "survey", "JSON list where a JSON object"),
    (
        "user/test",
        0,
        {"interview_transcript_processed": "changed"},
        "user",
        "user_id",
        "differs from its row 0",
    ),
    ("user/test", 1, {"user_id": None}, "user", "user_id", "user_id is empty"),
]


@pytest.mark.parametrize(("key", "index", "values", "table", "column", "text"), ROW_ERRORS)
def test_bad_rows_are_errors_naming_table_column_row_and_file(
    tmp_path: Path,
    key: str,
    index: int,
    values: dict[str, Any],
    table: str,
    column: str,
    text: str,
) -> None:
    root = make_opera(tmp_path, _set(key, index, **values))
    with pytest.raises(OperaFormatError) as caught:
        load_opera(root)
    err = caught.value
    message = str(err)
    split = key.split("/")[1]
    assert (err.table, err.column, err.row) == (table, column, index), message
    assert err.path is not None and split in Path(err.path).name + str(Path(err.path).parent)
    assert f"OPeRA {table} table, column {column!r}, row {index} (0-based) of " in message
    assert err.path in message and text in message


@pytest.mark.parametrize(("key", "index", "values", "table", "column", "text"), ROW_ERRORS)
def test_skip_mode_counts_the_bad_row_and_what_depends_on_it(
    tmp_path: Path,
    key: str,
    index: int,
    values: dict[str, Any],
    table: str,
    column: str,
    text: str,
) -> None:
    root = make_opera(tmp_path, _set(key, index, **values))
    report = load_opera(root, on_invalid="skip").report
    assert sum(report.skipped[table].values()) >= 1
    assert report.kept[table] < report.rows[table] or table == "user"
    assert any(text in p for p in report.problems)


def test_skip_cascades_from_a_user_to_its_sessions_and_actions(tmp_path: Path) -> None:
    root = make_opera(tmp_path, _set("user/test", 1, survey="{oops"))
    data = load_opera(root, on_invalid="skip")
    assert data.report.skipped == {
        "user": {"malformed_json": 1},
        "session": {"unknown_user": 1},
        "action": {"unknown_session": 1},
    }
    assert set(data.dataset.persons) == {U1} and data.dataset.meta["skipped_rows"] == 3
    assert "session: 2 rows read, 1 kept (skipped: unknown_user 1)" in data.report.summary()


def test_skip_mode_counts_each_reason(tmp_path: Path) -> None:
    def change(t: Tables) -> None:
        t["action/train"][0]["click_type"] = "banana"
        t["action/train"][1]["mouse_position"] = "{"
        t["action/train"][2]["action_type"] = "scroll"  # full version only

    data = load_opera(make_opera(tmp_path, change), on_invalid="skip")
    assert data.report.skipped == {
        "action": {"unknown_click_type": 1, "malformed_json": 1, "unknown_action_type": 1}
    }
    assert data.dataset.episodes[0].steps == [] and data.report.kept["action"] == 1
    assert "action_count 3, 0 actions loaded" in data.report.warnings[0]


def test_missing_table_column_and_wrong_type_are_always_errors(tmp_path: Path) -> None:
    root = make_opera(tmp_path / "a")
    (root / "OPeRA_filtered/action/test-00000-of-00001.parquet").unlink()
    with pytest.raises(OperaFormatError, match="OPeRA action table for split 'test' not found"):
        load_opera(root, on_invalid="skip")
    assert load_opera(root, splits=["train"]).dataset.episodes  # the other split still loads

    def drop(t: Tables) -> None:
        for row in t["action/train"]:
            del row["click_type"]

    with pytest.raises(OperaFormatError, match=r"missing column\(s\) 'click_type'") as caught:
        load_opera(make_opera(tmp_path / "b", drop), on_invalid="skip")
    assert caught.value.table == "action" and caught.value.column == "click_type"

    root = make_opera(tmp_path / "c")
    path = root / "OPeRA_filtered/session/train/train.parquet"
    frame = pd.read_parquet(path).astype({"action_count": str})
    frame.to_parquet(path)
    with pytest.raises(
        OperaFormatError,
        match=r"column 'action_count' has type (large_)?string, expected an integer",
    ) as caught:
        load_opera(root)
    assert caught.value.reason == "wrong_type" and caught.value.path == str(path)


def test_full_version_needs_its_columns(opera_dir: Path) -> None:
    with pytest.raises(OperaFormatError, match="not found"):
        load_opera(opera_dir, version="full")  # no OPeRA_full tables here


def test_arguments_are_checked(opera_dir: Path) -> None:
    with pytest.raises(ValueError, match="'filtered' or 'full'"):
        load_opera(opera_dir, version="raw")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="on_invalid"):
        load_opera(opera_dir, on_invalid="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="splits is empty"):
        load_opera(opera_dir, splits=())
    with pytest.raises(FileNotFoundError):
        load_opera(opera_dir / "nowhere")


# --- export --------------------------------------------------------------------------------


def test_export_refuses_what_opera_cannot_hold(opera_dir: Path, tmp_path: Path) -> None:
    ds = load_opera(opera_dir).dataset
    ep = ds.episodes[0]
    scroll = ep.steps[0].model_copy(
        update={"action": ep.steps[0].action.model_copy(update={"action_type": "scroll"})}
    )
    bad = ds.model_copy(update={"episodes": [ep.model_copy(update={"steps": [scroll]})]})
    with pytest.raises(OperaFormatError, match="action_type 'scroll' is not one of"):
        export_opera(bad, tmp_path / "x")
    export_opera(bad, tmp_path / "y", version="full")  # the full version holds scrolls
    renamed = ds.model_copy(update={"episodes": [ep.model_copy(update={"episode_id": "s1"})]})
    with pytest.raises(OperaFormatError, match="does not start with"):
        export_opera(renamed, tmp_path / "z")
    assert not (tmp_path / "x").exists() and not (tmp_path / "z").exists()


def test_export_does_not_overwrite_by_accident(opera_dir: Path, tmp_path: Path) -> None:
    data = load_opera(opera_dir)
    out = tmp_path / "out"
    export_opera(data, out)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_opera(data, out)
    export_opera(data, out, overwrite=True)
    assert load_opera(out).dataset.episodes == data.dataset.episodes


def test_export_of_a_dataset_built_by_hand(tmp_path: Path) -> None:
    from behaviorlab.data import Action, Episode, Observation, Person, Step

    step = Step(
        index=0,
        step_id="x1",
        timestamp=datetime(2025, 1, 1, tzinfo=UTC),
        observation=Observation(kind="page", content="<html></html>"),
        action=Action(action_type="terminate"),
    )
    ds = Dataset(
        name="mine",
        persons={"u": Person(person_id="u")},
        episodes=[
            Episode(episode_id="u_a_b", person_id="u", kind="shopping_session", steps=[step])
        ],
    )
    export_opera(ds, tmp_path)
    back = load_opera(tmp_path)
    assert back.user_splits == {"u": ("train",)} and back.session_splits == {"u_a_b": "train"}
    loaded = back.dataset.episodes[0].steps[0]
    assert loaded.timestamp == step.timestamp and loaded.action.action_type == "terminate"
    assert loaded.meta == {} and loaded.observation.content == "<html></html>"
