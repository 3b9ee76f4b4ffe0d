"""OPeRA tables as a new user brings them: CSV and JSON next to Parquet, a file where a folder
is expected, a user table alone, and a mix of real and synthetic people (issue 15)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from behaviorlab.data import OperaFormatError, load_dataset, load_opera, make_synthetic_opera
from behaviorlab.data._records import Dataset

REAL_USER = "0042"  # digits: a CSV reader that guesses types would make it the number 42
REAL_SURVEY = {
    "Demographic Information": {"Age": "25-34", "City": "São Paulo – Zona Sul"},
    "Self Description": {"Two sentence description": 'I "compare" everything,\nthen wait. ' * 4},
    "Shopping Preference": {"Tags": ["books", "tea"], "Skipped": "", "Never": None},
}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("opera") / "pq"
    make_synthetic_opera(out, users=3, sessions_per_user=2)
    return out


def _convert(src: Path, dst: Path, fmt: str) -> None:
    """Every Parquet table under ``src`` written under ``dst`` as ``fmt`` (csv, json, jsonl)."""
    for path in sorted(src.rglob("*.parquet")):
        out = dst / path.relative_to(src).with_suffix(f".{fmt}")
        out.parent.mkdir(parents=True, exist_ok=True)
        table = pq.read_table(path)
        if fmt == "csv":
            pacsv.write_csv(table, out)
        else:
            rows = table.to_pylist()
            text = json.dumps(rows) if fmt == "json" else "\n".join(map(json.dumps, rows))
            out.write_text(text, encoding="utf-8")


def _essence(ds: Dataset) -> list[Any]:
    """What a task reads of the records (CSV cannot keep an empty string apart from null)."""
    return [
        ds.persons,
        [
            (e.episode_id, e.person_id, e.meta, [(s.step_id, s.action, s.observation.content)
                                                for s in e.steps])
            for e in ds.episodes
        ],
    ]  # fmt: skip


@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_csv_and_json_tables_load_like_parquet(synthetic: Path, tmp_path: Path, fmt: str) -> None:
    _convert(synthetic, tmp_path, fmt)
    got = load_opera(tmp_path).dataset
    want = load_opera(synthetic).dataset
    assert len(got.episodes) == 6 and sum(len(e.steps) for e in got.episodes) > 20
    assert _essence(got) == _essence(want)


def _user_row(uid: str, survey: Any, interview: str | None = None) -> dict[str, Any]:
    return {
        "user_id": uid,
        "survey": survey,
        "raw_survey": None,
        "interview_transcript": interview,
        "interview_transcript_processed": interview,
    }


def test_a_user_table_loads_alone_from_csv_with_text_ids_and_odd_characters(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = [_user_row(REAL_USER, json.dumps(REAL_SURVEY, ensure_ascii=False), "I: hi\r\nP: ¿qué?")]
    (tmp_path / "user.csv").write_bytes(
        b"\xef\xbb\xbf" + _csv_bytes(rows)  # a byte-order mark, as spreadsheet programs write
    )
    data = load_opera(tmp_path)
    assert data.dataset.episodes == []
    person = data.dataset.persons[REAL_USER]
    assert person.meta["splits"] == [] and person.meta["survey"] == REAL_SURVEY
    assert person.attributes["Demographic Information / City"] == "São Paulo – Zona Sul"
    assert "Skipped" not in (person.description or "") and "Never" not in person.attributes
    # a free-text answer's line breaks do not break the persona's one-line-per-answer layout
    assert '  - Two sentence description: I "compare" everything, then wait. I' in str(
        person.description
    )
    assert person.text == "I: hi\r\nP: ¿qué?"
    assert any("only user tables" in w for w in data.report.warnings)
    # through the registry too, as `data: {source: opera}` reads it
    assert list(load_dataset("opera", path=str(tmp_path)).persons) == [REAL_USER]


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    sink = pa.BufferOutputStream()
    pacsv.write_csv(pa.Table.from_pylist(rows), sink)
    return bytes(sink.getvalue().to_pybytes())


def test_a_nested_survey_object_in_json_reads_as_the_json_text_would(tmp_path: Path) -> None:
    (tmp_path / "users.json").write_text(
        json.dumps([_user_row("u1", REAL_SURVEY)], ensure_ascii=False), encoding="utf-8"
    )
    person = load_opera(tmp_path).dataset.persons["u1"]
    assert person.meta["survey"] == REAL_SURVEY
    assert person.attributes["Shopping Preference / Tags"] == "books, tea"


def test_a_file_where_a_folder_is_expected_says_so(synthetic: Path, tmp_path: Path) -> None:
    _convert(synthetic, tmp_path, "csv")
    user_csv = next(tmp_path.rglob("user/train/*.csv"))
    with pytest.raises(NotADirectoryError, match="is a file, not a folder") as err:
        load_opera(user_csv)
    assert str(user_csv.parent) in str(err.value)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_opera(tmp_path / "nowhere")


def test_no_table_found_lists_what_is_there(tmp_path: Path) -> None:
    (tmp_path / "people.xlsx").write_bytes(b"PK")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "session").mkdir()
    with pytest.raises(OperaFormatError, match=r"no OPeRA tables .*people\.xlsx"):
        load_opera(tmp_path)


def test_one_table_in_two_formats_is_read_once(synthetic: Path, tmp_path: Path) -> None:
    for path in synthetic.rglob("*.parquet"):
        (tmp_path / path.relative_to(synthetic)).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path.relative_to(synthetic)).write_bytes(path.read_bytes())
    _convert(synthetic, tmp_path, "csv")
    data = load_opera(tmp_path)
    assert _essence(data.dataset) == _essence(load_opera(synthetic).dataset)
    ignored = [w for w in data.report.warnings if "ignored, the" in w]
    assert len(ignored) == 6 and all(".csv" in w and "parquet" in w for w in ignored)


def test_a_bad_json_table_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "user.jsonl").write_text('{"user_id": "a"}\n{"user_id": \n', encoding="utf-8")
    with pytest.raises(OperaFormatError, match=r"user\.jsonl.*line 2"):
        load_opera(tmp_path)


def test_in_a_mix_each_person_keeps_its_own_provenance_and_license(
    synthetic: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _convert(synthetic, tmp_path, "csv")
    train = next(tmp_path.rglob("user/train/*.csv"))
    table = pacsv.read_csv(train, convert_options=pacsv.ConvertOptions(strings_can_be_null=True))
    rows = table.to_pylist()
    rows.append(_user_row(REAL_USER, json.dumps(REAL_SURVEY)))
    train.write_bytes(_csv_bytes(rows))
    ds = load_opera(tmp_path).dataset
    real = ds.persons[REAL_USER]
    assert real.meta["provenance"] == "opera" and real.meta["license"] == "CC-BY-4.0"
    others = [p for k, p in ds.persons.items() if k != REAL_USER]
    assert len(others) == 3
    assert all(p.meta["provenance"] == "synthetic" for p in others)
    assert all(p.meta["license"].startswith("CC0-1.0") for p in others)
    assert ds.name == "opera+synthetic" and ds.meta["synthetic"] is False
    assert ds.meta["people_by_provenance"] == {"opera": 1, "synthetic": 3}
    assert "CC-BY-4.0 (1 person from OPeRA)" in ds.license and "3 synthetic" in ds.license
    assert logging.WARNING not in [r.levelno for r in caplog.records]
