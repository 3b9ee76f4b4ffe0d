"""Token and cost accounting: each trial's cost is stored, summed in the run summary, the
manifest (in all and by simulator) and the CLI's summary line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

import behaviorlab as bl
from behaviorlab.cli import app
from behaviorlab.models import Backend, MockBackend
from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.tasks._base import TrialInput


@simulator("priced-echo-test", replace=True)
class PricedEcho:
    """Answers the first option; every trial 'uses' 10 prompt and 2 output tokens, charged at
    its backend's prices (as the llm simulator does for calls not served from the cache)."""

    def __init__(self, label: str | None = None) -> None:
        self.label = label or "priced"
        self.backend: Backend = MockBackend("unpriced", script=[])  # never called

    def fit(self, train: Any) -> None:
        pass

    async def answer(self, trial: TrialInput) -> Answer:
        price = self.backend.pricing
        cost = price.cost(10, 2) if price is not None else 0.0
        codes = trial.observation.option_codes() or []
        return Answer(choice=codes[0], tokens_in=10, tokens_out=2, calls=1, cost=cost)

    def identity(self) -> dict[str, Any]:
        return {}


PRICE = {"input_per_mtok": 1000.0, "output_per_mtok": 5000.0, "currency": "EUR"}
# per trial: (10 x 1000 + 2 x 5000) / 1e6 = 0.02 EUR; 20 test people x 2 questions = 40 trials


def spec(name: str = "costs") -> dict[str, Any]:
    return {
        "name": name,
        "data": {"source": "synthetic-test", "split": {"test": 0.5, "seed": 0}},
        "simulators": [{"name": "priced-echo-test", "pricing": PRICE}, {"name": "majority"}],
        "cache": False,
    }


def test_cost_is_stored_summed_and_in_the_manifest(runs_dir: Path) -> None:
    part = bl.run(spec(), out=runs_dir, progress=False, limit=10)
    assert part.summary is not None
    assert (part.summary.tokens_in, part.summary.tokens_out) == (100, 20)
    assert abs(part.summary.cost - 0.2) < 1e-12 and part.summary.currency == "EUR"
    run = bl.run(spec(), out=runs_dir, progress=False)
    assert run.summary is not None and run.summary.completed == 70
    assert abs(run.summary.cost - 0.6) < 1e-12  # only the 30 priced trials answered now
    frame = run.to_pandas()
    priced = frame[frame["simulator"] == "priced"]
    assert len(priced) == 40 and (priced["cost"] - 0.02).abs().max() < 1e-12
    assert (frame.loc[frame["simulator"] == "majority", "cost"] == 0.0).all()
    totals = run.manifest["totals"]
    assert (totals["tokens_in"], totals["tokens_out"], totals["currency"]) == (400, 80, "EUR")
    assert abs(totals["cost"] - 0.8) < 1e-9 and totals["trials"] == 80
    assert totals["by_simulator"]["majority"] == {
        "trials": 40,
        "tokens_in": 0,
        "tokens_out": 0,
        "cost": 0.0,
        "currency": "USD",
    }
    assert totals["by_simulator"]["priced"]["currency"] == "EUR"
    on_disk = json.loads((runs_dir / "costs" / "manifest.json").read_text())
    assert on_disk["totals"] == totals


def test_pricing_does_not_change_the_run_id() -> None:
    priced = bl.load_spec(spec())
    free = bl.load_spec(
        {**spec(), "simulators": [{"name": "priced-echo-test"}, {"name": "majority"}]}
    )
    assert priced.run_id() == free.run_id()


def test_cli_summary_line_prints_tokens_and_cost(runs_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec("cli-costs")))
    res = CliRunner().invoke(app, ["run", str(path), "--out", str(runs_dir)])
    assert res.exit_code == 0, res.output
    assert "tokens: 400 in / 80 out; cost: 0.8000 EUR" in res.output
    bad = CliRunner().invoke(app, ["run", str(path), "--out", str(runs_dir), "--executor", "x"])
    assert bad.exit_code == 2 and "unknown --executor 'x'; use local or ray" in bad.output
    mixed = ["run", str(path), "--executor", "local", "--address", "auto"]
    res = CliRunner().invoke(app, mixed)
    assert res.exit_code == 2 and "use it with --executor ray" in res.output


def test_a_specs_pricing_prices_the_llm_simulators_real_calls(runs_dir: Path) -> None:
    # the llm simulator read its backend's prices once, when built, before the spec's
    # pricing: was set: every call cost 0 while the estimate charged for it
    priced = {"name": "llm", "backend": "mock", "answer": "generate", "pricing": PRICE}
    run = bl.run({**spec("llm-costs"), "simulators": [priced]}, out=runs_dir, progress=False)
    frame = run.to_pandas()
    expected = (frame["tokens_in"] * 1000.0 + frame["tokens_out"] * 5000.0) / 1e6
    assert (frame["tokens_in"] > 0).all()
    assert frame["cost"].tolist() == expected.tolist()
    assert run.summary is not None and run.summary.currency == "EUR"
    assert abs(run.summary.cost - float(expected.sum())) < 1e-9
