"""Budget planning: expected prompt and output tokens, time at a configured endpoint speed and
cost at configured prices, before anything runs."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import behaviorlab as bl
from behaviorlab.cli import app
from behaviorlab.models._base import Pricing
from behaviorlab.runs._estimate import Cell, Estimate, Throughput, estimate_plan
from behaviorlab.runs._planning import plan
from behaviorlab.runs._spec import ThroughputSpec


def _estimate(**over: Any) -> Estimate:
    base: dict[str, Any] = dict(
        name="e",
        scope="this spec",
        cells=[
            Cell("llm:x", "full", 10, stored=2, calls=8, cached=3, prompt_tokens=4000,
                 max_output_tokens=120),
            Cell("llm:x", "no_persona", 10, calls=10, prompt_tokens=6000, max_output_tokens=240),
            Cell("majority", "full", 10),
        ],
        llm={"llm:x"},
        concurrency=4,
        pricing={"llm:x": Pricing(input_per_mtok=2.5, output_per_mtok=10.0)},
        configured={
            "llm:x": ThroughputSpec(latency_s=0.5, tokens_per_s=40, prompt_tokens_per_s=2000)
        },
    )  # fmt: skip
    base.update(over)
    return Estimate(**base)


def test_hand_computed_budget() -> None:
    est = _estimate()
    # 5 + 10 calls to make, 10,000 prompt tokens, at most 120 + 240 output tokens
    assert est.to_call == 15
    assert est.output_tokens_for("llm:x") == (360, "at most: max_tokens of each call")
    # (15 x 0.5 s + 10,000 / 2,000 + 360 / 40) / 4 calls at once = (7.5 + 5 + 9) / 4
    assert est.seconds() == pytest.approx(5.375)
    # (10,000 x 2.5 + 360 x 10) / 1e6
    assert est.cost() == (pytest.approx(0.0286), "USD")
    line = est.line()
    assert "~10,000 prompt tokens, ~360 output tokens" in line and "~0.0286 USD" in line
    assert "~5 s at the configured endpoint speed" in line
    text = "\n".join(est.lines())
    assert "llm:x: 10,000 prompt tokens, ~360 output tokens" in text
    assert "configured endpoint speed: 0.5 s per call, 40 output tokens/s" in text


def test_output_tokens_configured_then_measured() -> None:
    conf = ThroughputSpec(latency_s=0.5, tokens_per_s=40, prompt_tokens_per_s=2000,
                          output_tokens=20)  # fmt: skip
    est = _estimate(configured={"llm:x": conf})
    assert est.output_tokens() == 15 * 20  # configured per call
    assert est.seconds() == pytest.approx((7.5 + 5 + 300 / 40) / 4)
    assert est.cost() == (pytest.approx((10_000 * 2.5 + 300 * 10) / 1e6), "USD")
    measured = Throughput(seconds=2.0, n=3, source="measured", tokens_out=12.0)
    est = _estimate(configured={}, throughput={"llm:x": measured})
    assert est.output_tokens() == 15 * 12
    assert est.seconds() == pytest.approx(15 * 2.0)  # measured: one call at a time
    # unpriced: no cost, and the line says nothing about money
    est = _estimate(pricing={})
    assert est.cost() is None and "USD" not in est.line()
    assert "cost: no pricing configured" in "\n".join(est.lines())


def spec(name: str = "budget") -> dict[str, Any]:
    return {
        "name": name,
        "data": {"source": "synthetic-test", "split": {"test": 0.5, "seed": 0}},
        "simulators": [
            {
                "name": "llm",
                "backend": "mock",
                "answer": "generate",
                "max_tokens": 16,
                "pricing": {"input_per_mtok": 3.0, "output_per_mtok": 15.0},
                "throughput": {"latency_s": 0.2, "tokens_per_s": 50.0},
            },
            {"name": "majority"},
        ],
        "conditions": ["full", "no_persona"],
        "concurrency": 2,
        "cache": False,
    }


def test_plan_of_a_mock_spec_with_prices_and_speed(runs_dir: Path) -> None:
    p = plan(bl.load_spec(spec()), None)
    est = asyncio.run(estimate_plan(p))
    # 20 test people x 2 questions x 2 conditions, one generate call each, <= 16 tokens out
    assert est.to_call == 80
    assert est.output_tokens_for("llm:mock-1")[0] == 80 * 16
    prompt = sum(c.prompt_tokens for c in est.cells)
    assert prompt > 0
    assert est.cost() == (pytest.approx((prompt * 3.0 + 1280 * 15.0) / 1e6), "USD")
    # prompt processing is part of latency_s here; 2 calls at once
    assert est.seconds() == pytest.approx((80 * 0.2 + 1280 / 50.0) / 2)
    # the run is priced as planned (the spec's prices reach the backend)
    assert p.simulators[0].backend.pricing == Pricing(  # type: ignore[attr-defined]
        input_per_mtok=3.0, output_per_mtok=15.0
    )


def test_cli_plan_prints_tokens_time_and_cost(tmp_path: Path, runs_dir: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec()))
    res = CliRunner().invoke(app, ["plan", str(path), "--out", str(runs_dir)])
    assert res.exit_code == 0, res.output
    out = res.output
    assert "estimate (this spec): 160 trials (0 stored), 80 model calls" in out
    assert "~1,280 output tokens" in out
    assert "~21 s at the configured endpoint speed" in out  # (16 + 25.6) / 2 = 20.8 s
    assert "at 3 / 15 per million prompt / output tokens" in out
    assert not (runs_dir / "budget").exists()  # nothing ran


def test_a_game_is_estimated_by_playing_it_so_every_turn_counts() -> None:
    """An interactive task's trial makes one call per question per round: 3 rounds × (predict
    + move) = 6 calls per game, not 1 per trial."""
    import asyncio

    from behaviorlab.runs._estimate import estimate_plan
    from behaviorlab.runs._planning import plan as make_plan
    from behaviorlab.runs._spec import load_spec

    spec = load_spec(
        {
            "name": "game-estimate",
            "task": "game",
            "task_options": {"predict": True},
            "data": {
                "source": "games",
                "options": {"games": ["rps"], "partners": ["fixed", "cycle"], "rounds": 3},
                "split": {"test": 1.0},
            },
            "simulators": [{"name": "llm", "backend": "mock", "answer": "generate"}],
            "cache": False,
        }
    )
    p = make_plan(spec, None)
    est = asyncio.run(estimate_plan(p))
    (cell,) = est.cells
    assert cell.trials == 2 and cell.calls == 2 * 3 * 2


def test_http_option_scoring_is_planned_as_one_prompt_per_option() -> None:
    """An OpenAI-compatible scorer sends (and bills) prompt + option once per option, with one
    output token each; the embedded scorer reads the prompt once."""
    import asyncio

    from behaviorlab.runs._estimate import estimate_plan
    from behaviorlab.runs._planning import plan as make_plan
    from behaviorlab.runs._spec import load_spec

    def cell(backend: dict[str, object]) -> object:
        spec = load_spec(
            {
                "name": "scoring-estimate",
                "data": {"source": "synthetic-test"},
                "simulators": [{"name": "llm", "answer": "score", **backend}],
                "conditions": ["full"],
                "cache": False,
            }
        )
        (c,) = asyncio.run(estimate_plan(make_plan(spec, None))).cells
        return c

    once = cell({"backend": "mock"})
    http = cell(
        {
            "backend": "openai",
            "backend_options": {
                "base_url": "http://127.0.0.1:9",
                "scoring": "echo",
                "chat_template": "chatml",
            },
        }
    )
    assert once.trials == http.trials and once.calls == http.calls  # type: ignore[attr-defined]
    # every item has 2 or 3 options: each prompt is read at least twice, plus the options
    assert http.prompt_tokens > 2 * once.prompt_tokens  # type: ignore[attr-defined]
    assert 2 * http.trials <= http.max_output_tokens <= 3 * http.trials  # type: ignore[attr-defined]
