"""A file given as survey data or mapping that cannot be one is an error naming the file and
what is wrong (never a pandas or codec message without it, never accepted silently); a file
with no or one data row says so instead of "split leaves no training people"."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

import behaviorlab as bl
from behaviorlab.data import SurveyMapping, load_survey_file
from behaviorlab.data._mapping import SurveyMappingError
from behaviorlab.runs import SpecError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "my_survey"
MAPPING = EXAMPLE / "mapping.yaml"
GOOD = (EXAMPLE / "survey.csv").read_text()


def _csv(tmp_path: Path, content: str | bytes, name: str = "survey.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


BROKEN_CSV: dict[str, tuple[str | bytes, str]] = {
    "png": (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + b"\0" * 40, "is a PNG image, not a CSV"),
    "xlsx": (b"PK\x03\x04" + b"\0" * 40, "ZIP archive (an Excel .xlsx"),
    "nul": (GOOD.replace("r02,51", "r02,5\0" + "1").encode(), ":3: a NUL byte"),
    "latin1": (GOOD.replace("north", "nörth", 1).encode("latin-1"), ":2: not UTF-8 text"),
    "empty": ("", "is empty: a survey CSV has a header line"),
    "blank": ("\n\n  \n", "is empty"),
    "yaml": (MAPPING.read_text(), "looks like YAML saved as .csv"),
    "duplicate header": (
        GOOD.replace("region,remote_days", "age,remote_days", 1),
        ":1: column 'age' appears twice in the header (columns 2 and 4)",
    ),
    "header only": (GOOD.splitlines()[0] + "\n", "has no data rows"),
    "ragged": (GOOD + 'r99,"40,f\n', "is not a CSV table pandas can read"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_CSV))
def test_a_broken_csv_names_the_file_and_the_problem(tmp_path: Path, case: str) -> None:
    content, expected = BROKEN_CSV[case]
    path = _csv(tmp_path, content)
    with pytest.raises(ValueError) as info:
        load_survey_file(path, MAPPING)
    message = str(info.value)
    assert str(path) in message and expected in message, message


def test_a_folder_named_like_a_csv(tmp_path: Path) -> None:
    (tmp_path / "survey.csv").mkdir()
    with pytest.raises(ValueError, match="is a folder; give the CSV or Parquet file"):
        load_survey_file(tmp_path / "survey.csv", MAPPING)


def test_a_good_csv_still_loads_with_its_ids_as_text(tmp_path: Path) -> None:
    path = _csv(tmp_path, "\ufeff" + GOOD.replace("r01,", "007,"))  # with a BOM, as Excel saves
    ds = load_survey_file(path, MAPPING)
    assert "007" in ds.persons and len(ds.persons) == len(GOOD.splitlines()) - 1
    assert ds.meta["source_rows"] == len(GOOD.splitlines()) - 1
    two_blank_names = GOOD.replace("remote_days,", "remote_days,,", 1)  # unnamed columns pass
    rows = [r + "," if i else r for i, r in enumerate(two_blank_names.splitlines())]
    assert load_survey_file(_csv(tmp_path, "\n".join(rows) + "\n"), MAPPING).persons


def test_a_broken_parquet_file_names_the_file(tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    pd.read_csv(io.StringIO(GOOD), dtype={"respondent": str}).to_parquet(good)
    assert len(load_survey_file(good, MAPPING).persons) == len(GOOD.splitlines()) - 1
    for name, content in {
        "text.parquet": GOOD.encode(),
        "empty.parquet": b"",
        "cut.parquet": good.read_bytes()[: good.stat().st_size // 2],
    }.items():
        path = _csv(tmp_path, content, name)
        with pytest.raises(ValueError) as info:
            load_survey_file(path, MAPPING)
        assert str(path) in str(info.value) and "cannot be read as Parquet" in str(info.value)


def test_a_mapping_key_given_twice_names_both_lines(tmp_path: Path) -> None:
    text = MAPPING.read_text().replace(
        "id_column: respondent\n", "id_column: respondent\nname: other\n"
    )
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    with pytest.raises(SurveyMappingError) as info:
        SurveyMapping.from_yaml(path)
    message = str(info.value)
    assert str(path) in message and "'name' is given twice (lines 2 and 4)" in message
    # a repeated option code inside a question is caught the same way
    path.write_text(
        MAPPING.read_text().replace("      4: On foot\n", "      4: On foot\n      3: Walk\n")
    )
    with pytest.raises(SurveyMappingError, match=r"key 3 is given twice"):
        SurveyMapping.from_yaml(path)


def test_a_mapping_that_is_a_folder_or_binary(tmp_path: Path) -> None:
    with pytest.raises(SurveyMappingError, match="is a folder"):
        SurveyMapping.from_yaml(tmp_path)
    png = tmp_path / "mapping.yaml"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(SurveyMappingError, match="not a UTF-8 text YAML file"):
        SurveyMapping.from_yaml(png)


@pytest.mark.parametrize(("rows", "words"), [(1, "one data row"), (0, "no data rows")])
def test_a_file_of_no_or_one_row_says_so_when_run(tmp_path: Path, rows: int, words: str) -> None:
    lines = GOOD.splitlines()
    path = _csv(tmp_path, "\n".join(lines[: 1 + rows]) + "\n")
    shutil.copy(MAPPING, tmp_path / "mapping.yaml")
    spec = {
        "name": "tiny",
        "data": {"source": str(path), "mapping": str(tmp_path / "mapping.yaml")},
        "simulators": [{"name": "majority"}],
    }
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(spec))
    with pytest.raises((SpecError, ValueError)) as info:
        bl.run(tmp_path / "exp.yaml", out=tmp_path / "runs", progress=False)
    message = str(info.value)
    assert words in message and str(path) in message, message
    assert "split leaves no training people" not in message
