"""The documentation names what the code has."""

from __future__ import annotations

from pathlib import Path

from behaviorlab.store import TrialResult

ROOT = Path(__file__).resolve().parents[1]


def test_results_schema_doc_lists_every_column() -> None:
    text = (ROOT / "docs" / "results-schema.md").read_text()
    for name in TrialResult.model_fields:
        assert f"| `{name}` |" in text, f"docs/results-schema.md misses column {name!r}"


def test_readme_first_screen_has_the_two_commands() -> None:
    head = "\n".join((ROOT / "README.md").read_text().splitlines()[:12])
    assert "make demo" in head and "make test" in head


def test_readme_model_examples_build_their_simulators() -> None:
    """The README's "Any model" spec builds every simulator it shows (no server is called)."""
    import yaml

    from behaviorlab.runs._build import make_simulator
    from behaviorlab.runs._spec import load_spec

    text = (ROOT / "README.md").read_text()
    block = text.split("## Any model, and more than one machine")[1].split("```yaml")[1]
    sims = yaml.safe_load(block.split("```")[0])["simulators"]
    spec = load_spec(
        {"name": "x", "data": {"source": "anes96", "target": "vote"}, "simulators": sims}
    )
    built = [make_simulator(s.name, s.options(), None) for s in spec.simulators]
    assert [b.label for b in built] == [
        "llm:smollm2",
        "llm:gpt-4o-mini",
        "llm:Qwen/Qwen2.5-7B-Instruct",
    ]
    priced = built[1].backend.pricing  # type: ignore[attr-defined]
    assert priced is not None and priced.cost(1_000_000, 1_000_000) == 0.75
