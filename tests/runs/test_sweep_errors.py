"""A bad sweep names the exact line and field of the spec (the factor, the level's index, the
option), also for what is checked against the registries (conditions, simulator options)."""

from __future__ import annotations

import re

import pytest

from behaviorlab.runs import SpecError, parse_spec

BASE = """\
name: sw
data: {source: synthetic-test}
sweep:
  simulator:
    name: llm
    backend: mock
    answer: sample
    n: 2
  factors:
    model:
      - a
      - {level: b, model: other-b}
    prompt:
      - default
      - paraphrase
    seed:
      - 0
      - 4
"""


def _error(text: str) -> str:
    with pytest.raises(SpecError) as err:
        parse_spec(text, origin="s.yaml")
    return str(err.value)


@pytest.mark.parametrize(
    ("old", "new", "where", "needle"),
    [
        # a level given twice: the second one, by index
        ("      - 4\n", "      - 0\n", "s.yaml:18: sweep.factors.seed.1:", "level '0' twice"),
        # a level that cannot name a cell
        ("      - a\n", "      - 'a b'\n", "s.yaml:11: sweep.factors.model.0:", "holds a space"),
        # seeds closer than n: the seed factor, not the whole sweep
        ("      - 4\n", "      - 1\n", "s.yaml:17: sweep.factors.seed:", "closer than n"),
        # an option the entry sets and a factor sweeps: the option's line
        ("    n: 2\n", "    n: 2\n    seed: 3\n", "s.yaml:9: sweep.simulator.seed:", "sweeps it"),
        # a temperature sweep of an answer mode that does not sample: the factor
        (
            "    answer: sample\n    n: 2\n",
            "    answer: score\n",
            "s.yaml:16: sweep.factors.seed:",
            "does not sample",
        ),
        # an unknown prompt condition: refused when the spec is read, at its level
        (
            "      - paraphrase\n",
            "      - parafrase\n",
            "s.yaml:15: sweep.factors.prompt.1:",
            "parafrase",
        ),
        # a misspelt option in a model mapping: the option's line
        (
            "      - {level: b, model: other-b}\n",
            "      - level: b\n        modle: other-b\n",
            "s.yaml:13: sweep.factors.model.1.modle:",
            "does not take option",
        ),
    ],
)
def test_a_sweep_error_names_the_exact_line_and_field(
    old: str, new: str, where: str, needle: str
) -> None:
    assert old in BASE
    msg = _error(BASE.replace(old, new))
    assert where in msg, msg
    assert needle in msg


def test_a_plain_entry_with_a_cell_label_names_its_own_line() -> None:
    text = BASE + (
        "simulators:\n  - name: majority\n  - name: majority\n"
        "    label: 'sweep[model=a,prompt=default,seed=0]'\n"
    )
    msg = _error(text)
    assert "s.yaml:22: simulators.1.label:" in msg and "the label of a sweep cell" in msg


@pytest.mark.parametrize(
    ("mapping", "where", "needle"),
    [
        # a level's answer mode that does not sample: the seed factor would change nothing
        (
            "{level: b, model: other-b, answer: score}",
            "sweep.factors.model.1.answer:",
            "does not sample",
        ),
        # a level's n: seeds 0 and 4 are closer than 5, so its cells would share samples
        ("{level: b, model: other-b, n: 5}", "sweep.factors.model.1.n:", "closer than n: 5"),
        # a level setting what a factor sweeps (the factor would silently win)
        ("{level: b, model: other-b, seed: 7}", "sweep.factors.model.1.seed:", "sweeps it"),
    ],
)
def test_a_model_level_cannot_escape_the_entry_checks(
    mapping: str, where: str, needle: str
) -> None:
    msg = _error(BASE.replace("{level: b, model: other-b}", mapping))
    assert f"s.yaml:12: {where}" in msg, msg
    assert needle in msg


def test_levels_that_all_sample_are_read_as_their_cells() -> None:
    # the entry alone does not sample, but every cell's entry (its level's mapping) does
    text = BASE.replace("    answer: sample\n    n: 2\n", "").replace(
        "      - a\n      - {level: b, model: other-b}\n",
        "      - {level: a, model: a, answer: sample, n: 2}\n"
        "      - {level: b, model: other-b, answer: sample, n: 4}\n",
    )
    spec = parse_spec(text, origin="s.yaml")
    assert {s.options()["n"] for s in spec.simulators} == {2, 4}
    with pytest.raises(SpecError, match=re.escape("s.yaml:10: sweep.factors.model.1.n:")):
        parse_spec(text.replace("n: 4", "n: 5"), origin="s.yaml")


def test_default_and_full_are_one_prompt_level() -> None:
    msg = _error(BASE.replace("      - paraphrase\n", "      - full\n"))
    assert "s.yaml:15: sweep.factors.prompt.1:" in msg
    assert "default and full both answer under condition full" in msg
    # a plain duplicate still says so
    msg = _error(BASE.replace("      - default\n", "      - paraphrase\n"))
    assert "s.yaml:15: sweep.factors.prompt.1:" in msg and "'paraphrase' twice" in msg
