"""`behaviorlab demo choice`: modechoice with the LLM (mock or the bundled SmolLM2), majority
and the conditional logit."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import behaviorlab as bl
from behaviorlab.cli import app
from behaviorlab.families.choice._metrics import choice_shares
from behaviorlab.runs import open_run

runner = CliRunner()


def demo_spec() -> dict[str, object]:
    text = resources.files("behaviorlab.families.choice").joinpath("demo.yaml").read_text()
    spec: dict[str, object] = yaml.safe_load(text)
    return spec


def test_demo_choice_on_mock_backend(runs_dir: Path) -> None:
    res = runner.invoke(app, ["demo", "choice", "--backend", "mock", "--out", str(runs_dir)])
    assert res.exit_code == 0, res.output
    assert "behaviorlab demo choice" in res.output and "modechoice" in res.output
    assert "rho_squared" in res.output  # the choice metric is in the gap table
    frame = open_run("choice-demo-mock", out=runs_dir).to_pandas()
    counts = frame.groupby(["simulator", "condition"]).size().to_dict()
    # 210 travellers split in half: the baselines answer all 105 test people, the LLM 30
    assert counts == {
        ("llm:mock-1", "full"): 30,
        ("llm:mock-1", "no_persona"): 30,
        ("majority", "full"): 105,
        ("logit", "full"): 105,
        ("logit", "no_persona"): 105,
    }
    assert frame["error"].isna().all()
    assert set(frame["task"]) == {"choice"}
    assert set(frame["human_answer"]) == {"air", "train", "bus", "car"}
    # shown order is shuffled per trial and recorded
    orders = {tuple(m["shown_order"]) for m in frame["meta"]}
    assert len(orders) > 10
    assert all(
        list(m["shown_order"]) == list(o)
        for m, o in zip(frame["meta"], frame["options"], strict=True)
    )
    logit = frame[(frame["simulator"] == "logit") & (frame["condition"] == "full")]
    assert all(abs(sum(p.values()) - 1) < 1e-9 for p in logit["probabilities"])
    shares = choice_shares(frame, n_resamples=200)
    human = shares[shares["simulator"] == "logit"].groupby("option")["human"].first()
    assert human.sum() == pytest.approx(1.0)
    # the HTML report carries the choice-share table, with the human shares as computed here
    html = (runs_dir / "choice-demo-mock" / "report.html").read_text()
    assert "Choices: shares per option, people against simulated" in html
    air = human["air"]
    assert f"{air:.2f} [" in html


@pytest.mark.slow
def test_demo_choice_slice_with_bundled_model(tmp_path: Path) -> None:
    pytest.importorskip("llama_cpp", reason="needs the llm extra: pip install 'behaviorlab[llm]'")
    spec = demo_spec()
    spec["name"] = "choice-slice"
    sims = spec["simulators"]
    assert isinstance(sims, list)
    sims[0]["subset"] = {"people": 4}
    spec["simulators"] = [sims[0], {"name": "majority", "conditions": ["full"]}]
    spec["conditions"] = ["full"]
    run = bl.run(spec, out=tmp_path, progress=False)
    frame = run.to_pandas()
    llm = frame[frame["simulator"] == "llm:smollm2"]
    assert len(llm) == 4 and llm["error"].isna().all()
    for probs, options in zip(llm["probabilities"], llm["options"], strict=True):
        assert set(probs) == set(options) == {"air", "train", "bus", "car"}
        assert sum(probs.values()) == pytest.approx(1.0)
    assert set(llm["answer"]) <= {"air", "train", "bus", "car"}
