"""A survey mapping's answer key (issue 16 §2): ``answer:`` per question or an ``answer_key``
CSV file beside the mapping, read into the questions; a bad key file names the file, the line
and the column; the key travels with the person's answer, never in what a simulator sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from behaviorlab.data import SurveyMapping, SurveyMappingError


def _write(tmp_path: Path, key: str, **extra: Any) -> Path:
    mapping = {
        "name": "quiz",
        "answer_key": "key.csv",
        "questions": [
            {"column": "q1", "text": "2+2?", "options": {"a": "4", "b": "5"}},
            {"column": "q2", "text": "3+3?", "options": {1: "6", 2: "7"}} | extra,
        ],
    }
    (tmp_path / "key.csv").write_text(key)
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(mapping))
    return path


def test_a_key_file_fills_the_answers(tmp_path: Path) -> None:
    mapping = SurveyMapping.from_yaml(_write(tmp_path, "question,answer\nq1,a\nq2,1\n"))
    assert [q.answer for q in mapping.questions] == ["a", "1"]
    assert mapping.file == str(tmp_path / "mapping.yaml")


@pytest.mark.parametrize(
    ("key", "extra", "expected"),
    [
        ("q,a\nq1,a\n", {}, ":1: an answer key has the columns question and answer"),
        ("question,answer\nq9,a\n", {}, ":2: column 'question': 'q9' is not a question"),
        ("question,answer\nq1,a\nq2,3\n", {}, ":3: column 'answer': '3' is not one of"),
        ("question,answer\nq2,2\n", {"answer": 1}, ":2: question 'q2' has another answer"),
        # the file's own line numbers: a blank line and a quoted line break count
        ("question,answer\n\nq1,a\nq9,a\n", {}, ":4: column 'question': 'q9'"),
        ('question,answer\nq1,"a\n"\nq9,a\n', {}, ":4: column 'question': 'q9'"),
    ],
)
def test_a_bad_key_file_names_file_line_and_column(
    tmp_path: Path, key: str, extra: dict[str, Any], expected: str
) -> None:
    with pytest.raises(SurveyMappingError) as info:
        SurveyMapping.from_yaml(_write(tmp_path, key, **extra))
    assert f"{tmp_path / 'key.csv'}{expected}" in str(info.value), str(info.value)


def test_a_missing_key_file_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "question,answer\n")
    (tmp_path / "key.csv").unlink()
    with pytest.raises(SurveyMappingError, match=r"key\.csv' .*is not a file"):
        SurveyMapping.from_yaml(path)
