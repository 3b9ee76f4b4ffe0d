"""SurveyMapping: validation, YAML loading and code normalisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from behaviorlab.data import PersonaField, QuestionSpec, SurveyMapping, SurveyMappingError
from behaviorlab.data import normalise_code as code


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, "1"),
        (1.0, "1"),
        ("1", "1"),
        (" 1 ", "1"),
        (-1.0, "-1"),
        (np.float64(-1.0), "-1"),
        (np.int64(3), "3"),
        (2.5, "2.5"),
        ("Labour", "Labour"),
        (True, "True"),
        (None, None),
        (float("nan"), None),
        (np.nan, None),
        (pd.NA, None),
        ("", None),
        ("  ", None),
    ],
)
def test_normalise_code(value: object, expected: str | None) -> None:
    assert code(value) == expected


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_integral_numbers_and_their_text_are_one_code(n: int) -> None:
    assert code(n) == code(float(n)) == code(np.float64(n)) == code(str(n)) == str(n)


def test_option_codes_written_as_numbers_become_strings() -> None:
    q = QuestionSpec.model_validate(
        {"column": "q", "text": "?", "options": {1: "yes", 0.0: "no", -1: "maybe"}}
    )
    assert list(q.options) == ["1", "0", "-1"]
    assert q.question_id == "q"
    f = PersonaField.model_validate({"column": "s", "template": "{value}", "values": {1: "x"}})
    assert f.values == {"1": "x"}


def test_same_code_twice_is_an_error() -> None:
    with pytest.raises(ValueError, match="code '1' twice"):
        QuestionSpec.model_validate({"column": "q", "text": "?", "options": {1: "a", "1": "b"}})


@pytest.mark.parametrize("template", ["You are old.", "{value} and {other}", "{}", "{value"])
def test_template_needs_exactly_the_value_slot(template: str) -> None:
    with pytest.raises(ValueError, match="template"):
        PersonaField(column="age", template=template)


def test_template_renders_literal_braces() -> None:
    assert PersonaField(column="a", template="{{x}} {value}").render("1") == "{x} 1"


def test_question_ids_are_unique_and_needed() -> None:
    q = {"column": "a", "text": "?", "options": {"0": "no", "1": "yes"}}
    with pytest.raises(SurveyMappingError, match="'a' appears twice"):
        SurveyMapping.from_dict({"name": "s", "questions": [q, q]})
    with pytest.raises(SurveyMappingError, match="at least one question"):
        SurveyMapping.from_dict({"name": "s", "questions": []})
    with pytest.raises(SurveyMappingError, match="at least two options"):
        SurveyMapping.from_dict({"name": "s", "questions": [{**q, "options": {"1": "yes"}}]})


GOOD_YAML = """\
name: tiny
persona:
  - column: age
    template: "You are {value} years old."
questions:
  - column: vote
    text: "Who?"
    options: {0: A, 1: B}
"""


def test_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(GOOD_YAML)
    m = SurveyMapping.from_yaml(path)
    assert m.name == "tiny"
    assert m.questions[0].options == {"0": "A", "1": "B"}
    assert m.question_ids() == ["vote"]


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(GOOD_YAML.replace('    text: "Who?"', '    text: "Who?\n   - oops: ['))
    with pytest.raises(SurveyMappingError) as err:
        SurveyMapping.from_yaml(path)
    message = str(err.value)
    assert str(path) in message
    assert "line " in message
    assert "malformed YAML" in message


def test_malformed_yaml_line_number_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "tabs.yaml"
    path.write_text("name: tiny\nquestions:\n  - column: a\n\t text: x\n")
    with pytest.raises(SurveyMappingError, match=r"line 4, column 1"):
        SurveyMapping.from_yaml(path)


def test_invalid_field_names_file_field_and_column(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(GOOD_YAML.replace("template:", "temlate:"))
    with pytest.raises(SurveyMappingError) as err:
        SurveyMapping.from_yaml(path)
    message = str(err.value)
    assert str(path) in message
    assert "persona[0].temlate (column 'age')" in message
    assert "persona[0].template (column 'age')" in message  # the missing one


def test_wrong_type_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(GOOD_YAML.replace("options: {0: A, 1: B}", "options: [A, B]"))
    with pytest.raises(SurveyMappingError, match=r"questions\[0\]\.options \(column 'vote'\)"):
        SurveyMapping.from_yaml(path)


def test_yaml_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(SurveyMappingError, match="found list"):
        SurveyMapping.from_yaml(path)


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(SurveyMappingError, match=r"nope\.yaml"):
        SurveyMapping.from_yaml(tmp_path / "nope.yaml")
