"""The shares loader: counts or shares with n, wording from the file or the mapping, groups
nested in their item, and errors that name the file, the row and the column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from behaviorlab.data import load_dataset
from behaviorlab.families.shares import SharesDataError, load_shares_file, shares_from_frame

ROWS = [
    ("q1", "A", 30, 100, "Pick one", "Yes"),
    ("q1", "B", 70, 100, "Pick one", "No"),
    ("q2", "A", 5, 10, "Another", "Yes"),
    ("q2", "B", 5, 10, "Another", "No"),
]


def _csv(tmp_path: Path, rows: list[tuple[object, ...]], columns: list[str]) -> Path:
    path = tmp_path / "toplines.csv"
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def test_counts_become_one_person_per_item(tmp_path: Path) -> None:
    path = _csv(tmp_path, ROWS, ["item", "option", "count", "n", "question", "option_label"])
    data = load_shares_file(path)
    assert sorted(data.persons) == ["q1", "q2"]
    step = next(e for e in data.episodes if e.person_id == "q1").steps[0]
    assert step.observation.content == "Pick one"
    assert [(o.code, o.label) for o in step.observation.options or []] == [
        ("A", "Yes"),
        ("B", "No"),
    ]
    assert step.action.value == "B"
    assert step.action.attributes["shares"] == pytest.approx({"A": 0.3, "B": 0.7})
    assert step.action.attributes["n"] == 100


def test_shares_with_n_groups_and_a_mapping() -> None:
    frame = pd.DataFrame(
        {
            "qid": ["q1"] * 4,
            "ans": ["1", "2", "1", "2"],
            "pct": [0.2, 0.79, 0.6, 0.4],  # 0.99: rounded, rescaled
            "size": [50, 50, 80, 80],
            "party": ["left", "left", "right", "right"],
        }
    )
    mapping = {
        "item": "qid",
        "option": "ans",
        "share": "pct",
        "n": "size",
        "group": ["party"],
        "questions": {"q1": "Spending is"},
        "option_labels": {"1": "too low", "2": "too high"},
    }
    data = shares_from_frame(frame, mapping)
    assert list(data.persons) == ["q1"]  # groups are nested in their item
    assert len(data.episodes) == 2
    left = next(e for e in data.episodes if e.meta["group"] == {"party": "left"})
    attrs = left.steps[0].action.attributes
    assert attrs["shares"]["1"] == pytest.approx(0.2 / 0.99)
    assert attrs["n"] == 50
    assert left.meta["unit"] == "q1 | left"
    assert [o.label for o in left.steps[0].observation.options or []] == ["too low", "too high"]


def test_registered_source_reads_a_file(tmp_path: Path) -> None:
    path = _csv(tmp_path, ROWS, ["item", "option", "count", "n", "question", "option_label"])
    data = load_dataset("shares_file", path=str(path), people=1, seed=3)
    assert len(data.persons) == 1


@pytest.mark.parametrize(
    ("rows", "columns", "message"),
    [
        (
            [("q1", "A", "x", 10, "Q")],
            ["item", "option", "count", "n", "question"],
            "toplines.csv, line 2, column 'count': count 'x' is not a number",
        ),
        (
            [("q1", "A", 0.5, 10, "Q"), ("q1", "B", 0.41, 10, "Q")],
            ["item", "option", "share", "n", "question"],
            "toplines.csv, line 2, column 'share': the shares of item 'q1' (line 2 to line 3) "
            "sum to 0.910",
        ),
        (
            [("q1", "A", 5, 10, "Q"), ("q1", "B", 5, 12, "Q")],
            ["item", "option", "count", "n", "question"],
            "toplines.csv, line 3, column 'n': n 12 differs from n 10 on line 2",
        ),
        (
            [("q1", "A", 5, 10), ("q1", "B", 5, 10)],
            ["item", "option", "count", "n"],
            "toplines.csv, line 2, column 'question': no wording for item 'q1'",
        ),
        (
            [("q1", "A", 5, 10, "Q"), ("q1", "A", 5, 10, "Q")],
            ["item", "option", "count", "n", "question"],
            "toplines.csv, line 3, column 'option': option 'A' of item 'q1' is also on line 2",
        ),
        (
            [("q1", "A", 5, 11, "Q"), ("q1", "B", 5, 11, "Q")],
            ["item", "option", "count", "n", "question"],
            "toplines.csv, line 2, column 'n': n 11 of item 'q1' is not the sum of its counts",
        ),
        (
            [("q1", "A", 1.5, 11, "Q")],
            ["item", "option", "share", "n", "question"],
            "toplines.csv, line 2, column 'share': share 1.5 is above 1",
        ),
        (
            [("q1", "A", 10, "Q")],
            ["item", "option", "count", "question"],
            "toplines.csv, line 2, column 'option': item 'q1' has one option",
        ),
        (
            [("q1", "A", 0.5, "Q")],
            ["item", "option", "share", "question"],
            "no column 'n (shares need the number of people asked)'",
        ),
    ],
)
def test_errors_name_file_row_and_column(
    tmp_path: Path, rows: list[tuple[object, ...]], columns: list[str], message: str
) -> None:
    path = _csv(tmp_path, rows, columns)
    with pytest.raises(SharesDataError) as err:
        load_shares_file(path)
    assert message in str(err.value)


def test_frame_rows_are_counted_from_one() -> None:
    frame = pd.DataFrame({"item": ["q1", ""], "option": ["A", "B"], "count": [1, 2]})
    with pytest.raises(SharesDataError, match=r"my table, row 2, column 'item': empty item id"):
        shares_from_frame(frame, {"questions": {"q1": "Q"}}, origin="my table")


def test_parquet_with_numbers_and_an_unknown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "toplines.parquet"
    frame = pd.DataFrame(ROWS, columns=["item", "option", "count", "n", "question", "label"])
    frame.to_parquet(path)
    data = load_shares_file(path, {"option_label": "label"})
    step = next(e for e in data.episodes if e.person_id == "q2").steps[0]
    assert step.action.attributes["shares"] == {"A": 0.5, "B": 0.5}
    bad = tmp_path / "toplines.xlsx"
    bad.write_text("x")
    with pytest.raises(SharesDataError, match=r"use a \.csv or \.parquet file, not '\.xlsx'"):
        load_shares_file(bad)
    with pytest.raises(SharesDataError, match="the shares mapping is not valid"):
        load_shares_file(path, {"itme": "item"})


def test_options_from_the_mapping_fill_in_zeros_in_their_order(tmp_path: Path) -> None:
    rows = [("q1", "no", 30, "Pick"), ("q1", "yes", 70, "Pick")]
    path = _csv(tmp_path, rows, ["item", "option", "count", "question"])
    mapping = {"options": {"*": ["yes", "no", "dk"]}, "option_labels": {"dk": "Don't know"}}
    step = load_shares_file(path, mapping).episodes[0].steps[0]
    assert [(o.code, o.label) for o in step.observation.options or []] == [
        ("yes", "yes"),
        ("no", "no"),
        ("dk", "Don't know"),
    ]
    assert step.action.attributes["shares"] == pytest.approx({"yes": 0.7, "no": 0.3, "dk": 0.0})
    with pytest.raises(SharesDataError, match=r"line 3, column 'option': option 'yes' of item"):
        load_shares_file(path, {"options": {"q1": ["no", "dk"]}})


def test_groups_of_an_item_get_the_same_options(tmp_path: Path) -> None:
    """A group without a row for an option the item's other group has: 0 with counts (the
    unit keeps the item's options, in the item's order), an error naming the row with
    shares."""
    rows = [
        ("q1", "A", 30, "Q", "left"),
        ("q1", "B", 60, "Q", "left"),
        ("q1", "C", 10, "Q", "left"),
        ("q1", "A", 50, "Q", "right"),
        ("q1", "C", 50, "Q", "right"),
    ]
    path = _csv(tmp_path, rows, ["item", "option", "count", "question", "party"])
    data = load_shares_file(path, {"group": ["party"]})
    right = next(e for e in data.episodes if e.meta["group"] == {"party": "right"}).steps[0]
    assert [o.code for o in right.observation.options or []] == ["A", "B", "C"]
    assert right.action.attributes["shares"] == pytest.approx({"A": 0.5, "B": 0.0, "C": 0.5})
    shares = [(i, o, c / 100, 100, q, g) for i, o, c, q, g in rows]
    path = _csv(tmp_path, shares, ["item", "option", "share", "n", "question", "party"])
    with pytest.raises(SharesDataError) as err:
        load_shares_file(path, {"group": ["party"]})
    assert (
        "toplines.csv, line 5, column 'option': 'q1 | right' has no row for option 'B', "
        "which 'q1 | left' has on line 3"
    ) in str(err.value)


def test_pandas_missing_values_are_empty_cells() -> None:
    """pd.NA (nullable dtypes) is an empty cell like NaN, not the text '<NA>'."""
    frame = pd.DataFrame(
        {
            "item": pd.array(["q1", "q1"], dtype="string"),
            "option": pd.array(["A", "B"], dtype="string"),
            "count": pd.array([3, 7], dtype="Int64"),
            "question": pd.array([pd.NA, pd.NA], dtype="string"),
        }
    )
    data = shares_from_frame(frame, {"questions": {"q1": "From the mapping"}})
    assert data.episodes[0].steps[0].observation.content == "From the mapping"
    frame.loc[1, "item"] = pd.NA
    with pytest.raises(SharesDataError, match=r"row 2, column 'item': empty item id"):
        shares_from_frame(frame, {"questions": {"q1": "Q"}})
    frame.loc[1, "item"] = "q1"
    frame.loc[1, "count"] = pd.NA
    with pytest.raises(SharesDataError, match=r"row 2, column 'count': empty count"):
        shares_from_frame(frame, {"questions": {"q1": "Q"}})


def test_a_csv_that_is_not_utf8_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    text = "item,option,count,question\nq1,A,3,Caf\u00e9?\nq1,B,7,Caf\u00e9?\n"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(SharesDataError) as err:
        load_shares_file(path)
    message = str(err.value)
    assert "latin1.csv', line 2 (byte 37)" in message and "save the file as UTF-8" in message
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))  # a byte-order mark is fine
    step = load_shares_file(path).episodes[0].steps[0]
    assert step.observation.content == "Caf\u00e9?"


def test_a_row_with_a_count_and_a_share_must_agree(tmp_path: Path) -> None:
    columns = ["item", "option", "count", "share", "question"]
    ok = [("q1", "A", 30, 0.3, "Q"), ("q1", "B", 70, 0.704, "Q")]  # rounding is fine
    data = load_shares_file(_csv(tmp_path, ok, columns))
    assert data.episodes[0].steps[0].action.attributes["shares"] == pytest.approx(
        {"A": 0.3, "B": 0.7}
    )
    bad = [("q1", "A", 30, 0.3, "Q"), ("q1", "B", 70, 0.6, "Q")]
    with pytest.raises(SharesDataError) as err:
        load_shares_file(_csv(tmp_path, bad, columns))
    assert "toplines.csv, line 3, column 'share': share 0.6 is not count 70 / n 100 = 0.700" in (
        str(err.value)
    )


def test_unit_ids_that_collide_name_both_rows() -> None:
    frame = pd.DataFrame(
        {
            "item": ["q1"] * 4,
            "option": ["A", "B"] * 2,
            "count": [1, 2, 3, 4],
            "question": ["Q"] * 4,
            "region": ["north, east", "north, east", "north", "north"],
            "town": ["x", "x", "east, x", "east, x"],
        }
    )
    with pytest.raises(SharesDataError) as err:
        shares_from_frame(frame, {"group": ["region", "town"]}, origin="t")
    assert (
        "t, row 3, column 'item': item 'q1' in group region='north', town='east, x' gets the "
        "id 'q1 | north, east, x', as item 'q1' in group region='north, east', town='x' on "
        "row 1 does"
    ) in str(err.value)
