"""docs/scenario.md and the example specs name what the code has."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from behaviorlab.analysis._metrics import metric_names
from behaviorlab.families.scenario._task import DEFERRAL_PATTERNS, REFUSAL_PATTERNS
from behaviorlab.runs import load_spec

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
    for name in (*REFUSAL_PATTERNS, *DEFERRAL_PATTERNS):
        assert f"`{name}`" in text
    assert "non-commercial" in text.lower()


def test_example_specs_load() -> None:
    for name in ("pacifaist", "diffaware"):
        spec = load_spec(yaml.safe_load((ROOT / "experiments" / f"{name}.yaml").read_text()))
        assert spec.task == "scenario" and spec.data.source == name
        assert "first_option" in [s.name for s in spec.simulators]


def test_paired_effect_example_uses_the_label_the_spec_gives(tmp_path: Path) -> None:
    """The doc's paired_effect call, run as written on a mock run of the doc's spec (the llm
    simulator's backend swapped for the mock, model name kept: the label comes from it)."""
    import behaviorlab as bl
    from behaviorlab.analysis import paired_effect

    text = DOC.read_text()
    spec = yaml.safe_load(re.findall(r"```yaml\n(.*?)```", text, re.S)[0])
    llm = next(s for s in spec["simulators"] if s["name"] == "llm")
    call = re.search(r"paired_effect\(frame, (.*)\)\n", text)
    assert call is not None
    args = [a.strip().strip('"') for a in call.group(1).split(",")]
    assert args[0] == f"llm:{llm['model']}"  # the label the doc's spec gives its simulator
    spec["data"] = {"source": "scenario_examples", "split": {"test": 0.9}}
    spec["simulators"] = [{**llm, "backend": "mock"}]
    spec["n_resamples"] = 100
    frame = bl.run(spec, out=tmp_path, progress=False).to_pandas()
    effect = paired_effect(frame, *args, n_resamples=100)
    assert effect.low <= effect.value <= effect.high
