"""A spec's sweep: block: factorial cells as simulator entries, labels carrying the levels."""

from __future__ import annotations

from pathlib import Path

import pytest

import behaviorlab as bl
from behaviorlab.runs import ExperimentSpec, SpecError, parse_spec

SWEEP = """\
name: sw
data: {source: synthetic-test, people: 20, split: {test: 1.0}}
sweep:
  simulator: {name: llm, backend: mock, answer: sample, n: 3}
  factors:
    temperature: [0, 0.7]
    model: [a, {level: b, model: other-b}]
    prompt: [default, paraphrase]
    seed: [0, 3]
"""


def test_cells_cross_every_level_and_labels_name_them() -> None:
    spec = parse_spec(SWEEP)
    assert len(spec.simulators) == 2 * 2 * 2 * 2
    labels = [s.label for s in spec.simulators]
    assert len(set(labels)) == 16
    first = spec.simulators[0]
    assert first.label == "sweep[model=a,prompt=default,temperature=0,seed=0]"
    assert first.conditions == ["full"]
    assert first.options()["temperature"] == 0.0 and first.options()["seed"] == 0
    b_para = next(s for s in spec.simulators if "model=b,prompt=paraphrase" in str(s.label))
    assert b_para.options()["model"] == "other-b"
    assert b_para.conditions == ["paraphrase"]
    assert spec.sweep is not None
    assert spec.sweep.describe(40) == (
        "2 model × 2 prompt × 2 temperature × 2 seed = 16 cells × 40 trials = 640 trials"
    )


def test_a_saved_expanded_spec_reads_back_with_the_same_run_id() -> None:
    spec = parse_spec(SWEEP)
    again = ExperimentSpec.model_validate(spec.model_dump(mode="json"))
    assert len(again.simulators) == 16
    assert again.run_id() == spec.run_id()


def test_no_sweep_leaves_the_spec_hash_as_it_was() -> None:
    plain = {
        "name": "x",
        "data": {"source": "synthetic-test"},
        "simulators": [
            {"name": "llm", "backend": "mock", "answer": "sample", "temperature": 0.7, "seed": 3}
        ],
    }
    spec = ExperimentSpec.model_validate(plain)
    # the run id this spec had before the sweep field existed (computed at ab55454^)
    assert spec.run_id() == "x-4a60fccd"
    assert ExperimentSpec.model_validate({**plain, "sweep": None}).run_id() == spec.run_id()
    with_sweep = ExperimentSpec.model_validate(
        {**plain, "sweep": {"simulator": {"name": "majority"}, "factors": {"prompt": ["default"]}}}
    )
    assert with_sweep.run_id() != spec.run_id()


@pytest.mark.parametrize(
    ("factors", "needle"),
    [
        ("{temperature: [0, 1]}", "does not sample"),
        ("{seed: [0, 10]}", "factor seed has 2 levels but the llm simulator answers with "),
        ("{seed: [0, 0]}", "level '0' twice"),
        ("{model: ['a b']}", "holds a space"),
        ("{}", "no factor to sweep"),
        ("{colour: [red]}", "sweep.factors.colour"),
    ],
)
def test_a_bad_sweep_names_the_line_and_what_to_do(factors: str, needle: str) -> None:
    text = (
        "name: sw\ndata: {source: synthetic-test}\nsweep:\n"
        "  simulator: {name: llm, backend: mock}\n"
        f"  factors: {factors}\n"
    )
    with pytest.raises(SpecError) as err:
        parse_spec(text, origin="s.yaml")
    msg = str(err.value)
    assert needle in msg
    assert "s.yaml:" in msg and "s.yaml:?" not in msg


def test_seeds_closer_than_the_samples_are_refused() -> None:
    # the llm simulator samples with seeds seed .. seed+n-1: seeds 0 and 1 would share samples
    text = SWEEP.replace("seed: [0, 3]", "seed: [0, 1]")
    with pytest.raises(SpecError, match=r"space the seeds by n, e.g. seed: \[0, 3\]"):
        parse_spec(text)


def test_an_entry_option_a_factor_sets_is_refused() -> None:
    text = SWEEP.replace("answer: sample, n: 3", "answer: sample, n: 3, seed: 5")
    with pytest.raises(SpecError, match="sets seed: and factor seed sweeps it"):
        parse_spec(text)


def test_a_plain_entry_with_a_cell_label_is_refused() -> None:
    text = SWEEP + (
        "simulators:\n  - {name: majority, label: 'sweep[model=a,prompt=default,"
        "temperature=0,seed=0]'}\n"
    )
    with pytest.raises(SpecError, match="the label of a sweep cell"):
        parse_spec(text)


def test_a_sweep_runs_and_its_rows_record_each_cell(tmp_path: Path) -> None:
    text = SWEEP.replace("    temperature: [0, 0.7]\n", "")
    spec = parse_spec(text)
    run = bl.run(spec, out=tmp_path, progress=False)
    frame = run.to_pandas()
    assert frame["simulator"].nunique() == 8
    per_cell = frame.groupby("simulator").size()
    assert set(per_cell) == {40}  # every cell answers the same 40 test trials
    para = frame.loc[frame["simulator"].str.contains("prompt=paraphrase")]
    assert set(para["condition"]) == {"paraphrase"}
    assert {m.get("wording") for m in para["meta"]} <= {1, 2}
    # seeds change the sampled answers of the mock model, so the noise floor is not zero
    a0 = frame.loc[frame["simulator"] == "sweep[model=a,prompt=default,seed=0]"]
    a1 = frame.loc[frame["simulator"] == "sweep[model=a,prompt=default,seed=3]"]
    pair = a0.merge(a1, on=["person_id", "item_id"])
    assert (pair["samples_x"].astype(str) != pair["samples_y"].astype(str)).any()


def test_the_docs_spec_is_a_valid_sweep() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "sensitivity.md"
    block = doc.read_text(encoding="utf-8").split("```yaml")[1].split("```")[0]
    spec = parse_spec(block, origin="docs/sensitivity.md")
    assert spec.sweep is not None
    assert spec.sweep.describe() == "2 model × 2 prompt × 2 temperature × 3 seed = 24 cells"
    assert "sweep[model=gemma3-270m,prompt=paraphrase,temperature=1,seed=20]" in {
        s.label for s in spec.simulators
    }


def test_temperature_labels_keep_every_digit() -> None:
    text = SWEEP.replace("temperature: [0, 0.7]", "temperature: [0.1234567, 0.1234568, 1.0, 0]")
    spec = parse_spec(text)
    assert spec.sweep is not None
    # labels as before where format(g) was exact (trial ids of existing sweeps stay)
    assert spec.sweep.levels()["temperature"] == ["0.1234567", "0.1234568", "1", "0"]
    for sim in spec.simulators:
        temp = str(sim.label).split("temperature=")[1].split(",")[0]
        assert float(temp) == sim.options()["temperature"]
