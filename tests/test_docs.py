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
