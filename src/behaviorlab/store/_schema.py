"""The results schema: one :class:`TrialResult` row per trial, versioned.

This is the contract between the runner (which writes rows), the analysis (which reads them
as a DataFrame with exactly these columns) and users' notebooks. Field descriptions are the
documentation of the columns (``docs/results-schema.md`` is generated from them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

RESULTS_SCHEMA_VERSION = 3


class TrialResult(BaseModel):
    """One answered (or failed) trial."""

    model_config = ConfigDict(extra="forbid")

    run_id: str = Field(description="Run this row belongs to (experiment name + spec hash).")
    trial_id: str = Field(
        description="Unique within a run: hash of task, simulator, condition, seed, trial key."
    )
    task: str
    simulator: str = Field(description="Simulator label, e.g. 'llm:smollm2', 'majority'.")
    condition: str = Field(description="Intervention: 'full', 'no_persona', ...")
    seed: int
    person_id: str = Field(description="The real person simulated (the bootstrap cluster).")
    item_id: str = Field(description="Question / situation id, shared across people.")
    episode_id: str
    step_index: int
    prompt_hash: str | None = Field(default=None, description="SHA-256 prefix of the prompt.")
    raw_output: str = Field(default="", description="Raw model text (kept even when invalid).")
    answer: str | None = Field(default=None, description="Parsed answer (option code, action).")
    answer_json: dict[str, Any] | None = Field(default=None, description="Structured answer.")
    probabilities: dict[str, float] | None = Field(
        default=None, description="Probability per option code, when the simulator gives them."
    )
    samples: list[str] | None = Field(default=None, description="Sampled option codes.")
    human_answer: str | None = Field(default=None, description="What the real person answered.")
    options: list[str] | None = Field(
        default=None, description="Option codes in the order shown to the subject."
    )
    answer_position: int | None = Field(
        default=None, description="0-based position of the chosen option in the shown order."
    )
    correct: float | None = Field(default=None, description="1.0 / 0.0; None when failed.")
    scores: dict[str, float] = Field(default_factory=dict, description="All task scores.")
    error: str | None = Field(default=None, description="Why the trial failed, if it did.")
    error_kind: str | None = Field(default=None, description="'backend', 'invalid', 'timeout'.")
    latency_s: float = 0.0
    tokens_in: int = 0
    tokens_out: int = 0
    calls: int = Field(default=0, description="Model calls made (cache hits included).")
    cache_hits: int = 0
    cost: float = Field(
        default=0.0,
        description="Cost of the model calls not served from the cache, in the backend's "
        "pricing currency (0 when unpriced or cached).",
    )
    meta: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=datetime.now)


JSON_COLUMNS = ("answer_json", "probabilities", "samples", "options", "scores", "meta")
"""Columns stored as JSON text in SQLite and decoded when read."""

COLUMNS = tuple(TrialResult.model_fields)

ADDED_COLUMNS: dict[str, tuple[int, str]] = {"cost": (3, "REAL NOT NULL DEFAULT 0")}
"""Columns added after version 1: the schema version that added them and their SQL
definition (a file opened read-only before its migration reads them as their default)."""
