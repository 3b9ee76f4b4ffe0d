"""docs/scenario.md and the example specs name what the code has."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from behaviorlab.analysis._metrics import metric_names
from behaviorlab.runs import load_spec
from behaviorlab.tasks._scenario import REFUSAL_PATTERNS

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "scenario.md"


def test_copyable_spec_in_docs_is_valid() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    spec = load_spec(yaml.safe_load(blocks[0]))
    assert spec.task == "scenario" and spec.data.source == "scenario_file"
    assert set(spec.data.options["mapping"]) >= {"prompt", "options", "desired", "cluster"}


def test_docs_name_every_metric_and_refusal_pattern() -> None:
    text = DOC.read_text()
    for name in ("p_score", "always_first", "judge_score", "diff_aware", "ctxt_aware"):
        assert name in metric_names() and f"`{name}`" in text
    for name in REFUSAL_PATTERNS:
        assert f"`{name}`" in text
    assert "non-commercial" in text.lower()


def test_example_specs_load() -> None:
    for name in ("pacifaist", "diffaware"):
        spec = load_spec(yaml.safe_load((ROOT / "experiments" / f"{name}.yaml").read_text()))
        assert spec.task == "scenario" and spec.data.source == name
        assert "first_option" in [s.name for s in spec.simulators]
