"""The Psych-101 loader: segments and responses, options parsed per experiment, persona
attributes, zips and folders, and errors that name the file, line, participant and offset."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from behaviorlab.data import load_dataset
from behaviorlab.families.transcript import (
    OptionRule,
    TranscriptFormatError,
    load_transcripts,
    parse_options,
    split_transcript,
)
from behaviorlab.families.transcript._format import DEFAULT_RULES, Where

W = Where("f.jsonl", 3, "p7")


def test_split_keeps_every_character_and_offset() -> None:
    text = "Intro <<a>> then ✓ <<bb>> tail"
    t = split_transcript(text, W)
    assert [(r.segment, r.text, r.offset) for r in t.responses] == [
        ("Intro ", "a", 6),
        (" then ✓ ", "bb", 19),
    ]
    assert t.tail == " tail"
    assert text[19:21] == "<<"
    # the prefix of response k is the text up to its opening marker
    assert t.prefix(1) == text[: 19 + 2]


@pytest.mark.parametrize(
    ("text", "offset", "what"),
    [
        ("a <<x>> b <<y", 10, "never closed"),
        ("a x>> b", 3, "no opening"),
        ("a <<x <<y>>", 6, "inside the response opened at character 2"),
        ("no marks at all", None, "no response marked"),
    ],
)
def test_unbalanced_markers_name_the_offset(text: str, offset: int | None, what: str) -> None:
    with pytest.raises(TranscriptFormatError) as e:
        split_transcript(text, W)
    msg = str(e.value)
    assert "f.jsonl, line 3 (participant 'p7')" in msg and what in msg
    if offset is not None:
        assert f"character {offset}" in msg


def test_options_from_the_stated_text() -> None:
    real = "Is the randomly drawn card marked 'O' or marked 'Q'? You predict "
    assert parse_options(real, DEFAULT_RULES).codes == ("O", "Q")  # type: ignore[union-attr]
    game = (
        "You can choose between two options: Row A and Row B. Your opponent: Column C and Column D."
    )
    found = parse_options(game, DEFAULT_RULES)
    assert found is not None and found.codes == ("A", "B") and found.labels == ("Row A", "Row B")
    assert parse_options("Press V or A to go on", DEFAULT_RULES).codes == ("V", "A")  # type: ignore[union-attr]
    assert parse_options("How old are you?", DEFAULT_RULES) is None
    custom = [OptionRule(r"left \((\w+)\) or right \((\w+)\)", "key {code}")]
    got = parse_options("press left (f) or right (j)", custom)
    assert got is not None and got.codes == ("f", "j") and got.labels == ("key f", "key j")


def test_bandit_file_as_records(bandit_file: Path) -> None:
    ds = load_transcripts(bandit_file)
    assert len(ds.episodes) == 6
    counts = ds.meta["experiments"]["fixture_bandit"]
    # 5 rounds with options + 1 free-text answer per participant
    assert counts["participants"] == 6 and counts["steps"] == 36
    assert counts["with_options"] == 30 and counts["free_text"] == 6
    ep = ds.episodes[0]
    first, last = ep.steps[0], ep.steps[-1]
    codes = first.observation.option_codes()
    assert len(codes) == 2 and first.action.value in codes
    assert first.observation.options[0].label.startswith("machine ")  # type: ignore[index]
    assert (
        "“Bandit” study ✓" in first.observation.content and "C:\\temp" in first.observation.content
    )
    assert last.observation.options is None and last.action.value == "by feel—mostly"
    assert ep.meta["tail"] == ".\nThank you!"
    # the letters differ between participants (shuffled per person)
    assert len({tuple(e.steps[0].observation.option_codes()) for e in ds.episodes}) > 1


def test_persona_from_optional_fields(bandit_file: Path) -> None:
    ds = load_transcripts(bandit_file)
    p0 = ds.persons["fixture_bandit/0"]  # participant "0" (a str in the file)
    assert p0.attributes == {"age": 20, "gender": "male"}  # '20.0' read as a number
    p1 = ds.persons["fixture_bandit/1"]  # participant 1 (an int), no optional fields
    assert p1.attributes == {}
    # RTs are behaviour: per step, never a persona attribute
    ep0 = next(e for e in ds.episodes if e.person_id == "fixture_bandit/0")
    assert "RTs" not in p0.attributes and ep0.steps[2].observation.meta["rt"] == 1002.0


def test_zip_folder_and_registry(make_zip: Callable[..., Path], tmp_path: Path, make: Any) -> None:
    zipped = make_zip("bandit", make.lines(people=3))
    other = [dict(make.line(i, 2, seed=i), experiment="other") for i in range(2)]
    make_zip("other", other)
    ds = load_transcripts(tmp_path)  # a folder: both zips
    assert set(ds.meta["experiments"]) == {"fixture_bandit", "other"}
    assert ds.meta["experiments"]["fixture_bandit"]["files"] == [f"{zipped}:prompts.jsonl"]
    only = load_dataset("psych101", path=str(zipped), participants=2)
    assert len(only.episodes) == 2
    held = load_transcripts(tmp_path, test_experiments=["other"])
    assert {e.meta["split"] for e in held.episodes if e.meta["experiment"] == "other"} == {"test"}
    assert {e.meta["split"] for e in held.episodes if e.meta["experiment"] != "other"} == {"train"}


def test_rules_per_experiment(bandit_file: Path) -> None:
    none = load_transcripts(bandit_file, option_rules={"fixture_bandit": []})
    assert none.meta["experiments"]["fixture_bandit"]["with_options"] == 0
    wrong = load_transcripts(bandit_file, option_rules={"*": [r"machine (Q) or machine (Z)"]})
    assert wrong.meta["experiments"]["fixture_bandit"]["with_options"] == 0
    with pytest.raises(TranscriptFormatError, match=r"option rule 0 .* has no group"):
        load_transcripts(bandit_file, option_rules={"*": ["machine"]})


def _one_bad(tmp_path: Path, make: Any, bad: dict[str, Any] | str) -> str:
    path = make.write(tmp_path / "bad.jsonl", [*make.lines(people=2), bad])
    with pytest.raises(TranscriptFormatError) as e:
        load_transcripts(path)
    return str(e.value)


def test_malformed_lines_name_file_line_participant(tmp_path: Path, make: Any) -> None:
    unclosed = make.line("p9", 3, seed=1)
    unclosed["text"] = unclosed["text"].replace(">>. You win", ". You win", 1)
    msg = _one_bad(tmp_path, make, unclosed)
    # the next response's opening marker shows where the first one should have closed
    assert "bad.jsonl, line 3 (participant 'p9')" in msg and "opens inside the response" in msg
    second = int(msg.split("at character ")[1].split()[0])
    first = int(msg.split("opened at character ")[1].split(";")[0])
    assert unclosed["text"][first : first + 2] == unclosed["text"][second : second + 2] == "<<"
    assert first < second
    assert "line 3: not valid JSON" in _one_bad(tmp_path, make, '{"text": "a <<b>>",')
    missing = _one_bad(tmp_path, make, {"text": "a <<b>>", "experiment": "e"})
    assert "line 3: field 'participant' is missing" in missing
    dup = _one_bad(tmp_path, make, make.line(1, 2, seed=0))  # int 1 again (line 2 holds 1)
    assert "line 3 (participant '1')" in dup and "already read at" in dup and "line 2" in dup
    assert "not a string" in _one_bad(
        tmp_path, make, {"text": 3, "experiment": "e", "participant": 1}
    )
    with pytest.raises(TranscriptFormatError, match="no such file or folder"):
        load_transcripts(tmp_path / "nope.jsonl")


def test_long_transcript(tmp_path: Path, make: Any) -> None:
    path = make.write(tmp_path / "long.jsonl", [make.line("long", 300, seed=3)])
    ds = load_transcripts(path)
    assert len(ds.episodes[0].steps) == 301
    assert json.dumps(ds.model_dump(mode="json"))  # serialisable


def test_shared_data_in_full(shared_data: Path) -> None:
    """Both shared experiments: every response gets its options (letters stated per trial)."""
    ds = load_transcripts(shared_data)
    counts = ds.meta["experiments"]
    assert counts["zhu2024games"]["participants"] == 300
    assert counts["zhu2024games"]["steps"] == counts["zhu2024games"]["with_options"] == 6000
    risky = counts["Thoma_et_al_2025_risky_choice"]
    assert risky["participants"] == 301 and risky["steps"] == risky["with_options"] == 2709
    p = ds.persons["Thoma_et_al_2025_risky_choice/1"]
    assert p.attributes["age"] == 31 and p.attributes["condition"] == "repeated"
    game = next(e for e in ds.episodes if e.meta["experiment"] == "zhu2024games")
    assert [o.label for o in game.steps[0].observation.options or []] == ["Row A", "Row B"]
