"""Trials played by several parties: roles, and the turns each party takes.

A multi-party task (debaters and a moderator, a therapist and a patient, two players) names
its ``roles``; a spec's ``parties:`` entry assigns a simulator to every role, and the runner
calls :meth:`MultiPartyTask.play_parties` with the mapping role → simulator. The task asks
the parties in whatever order the situation needs through a ``behaviorlab.simulators.TurnLog``,
which records every turn (who spoke, what it saw, what it answered, its tokens and cost) and
sums them into the trial's one :class:`~behaviorlab.simulators.Answer`; the turns are stored in
``answer.meta["turns"]`` and read back per turn with ``Run.to_pandas(per="turn")``.

Each party keeps its own identity and history: the task builds the input a role sees (its own
persona, its own view of the exchange so far). A turn's input carries ``meta["role"]``,
``meta["turn"]`` (the turn's index in the trial) and ``meta["role_turn"]`` (how many turns
this role took before), so scripted parties (``script``) can answer in order. A party that
fails answers with an error: the turn is recorded, and the task decides what the exchange does
next (never raise for a model failure).

Resume: a trial is stored when it is played to the end. One killed half-way is played again
on the rerun; its earlier calls are answered by the call cache (the same inputs give the same
requests), so none is paid twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from behaviorlab.tasks._base import Task, Trial

if TYPE_CHECKING:
    from behaviorlab.simulators._base import Answer, Simulator

SEEN_CHARS = 2000
"""How much of what a speaker saw a turn record keeps: the end of its observation text (the
newest part; the whole length is in ``seen_chars``)."""
TEXT_CHARS = 4000
"""How much of a turn's raw output its record keeps (the whole length in ``text_chars``)."""


class Turn(BaseModel):
    """One turn of a multi-party trial, as stored in ``answer.meta["turns"]``."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(description="The turn's position in the trial (0-based).")
    role: str = Field(description="Who spoke: the role in the task.")
    simulator: str = Field(description="The label of the simulator playing the role.")
    role_turn: int = Field(description="How many turns this role took before this one.")
    seen: str = Field(description="The end of the observation text the speaker saw.")
    seen_chars: int = Field(description="The whole length of that text.")
    prompt_hash: str | None = Field(default=None, description="The model prompt's hash.")
    answer: str | None = Field(default=None, description="The chosen option, if any.")
    value: dict[str, Any] | None = Field(default=None, description="The structured answer.")
    text: str = Field(default="", description="The raw output (its head).")
    text_chars: int = 0
    error: str | None = None
    error_kind: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    calls: int = 0
    cache_hits: int = 0
    cost: float = 0.0
    scores: dict[str, float] = Field(
        default_factory=dict, description="What the task scored this turn (per-role metrics)."
    )


TRIAL_KEYS = (
    "run_id",
    "trial_id",
    "task",
    "simulator",
    "condition",
    "seed",
    "person_id",
    "item_id",
    "episode_id",
)
"""The trial columns every turn row repeats (those present in the results)."""
TRIAL_ERROR = "trial_error"
"""The column of a turn row holding its trial's error (None: the trial succeeded)."""
TURN_FIELDS = (
    "turn",
    "role",
    "role_simulator",
    "role_turn",
    "prompt_hash",
    "answer",
    "text",
    "seen",
    "seen_chars",
    "error",
    "error_kind",
    "tokens_in",
    "tokens_out",
    "calls",
    "cache_hits",
    "cost",
)


def _meta(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def turn_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per turn of every multi-party trial of a results frame (one row per trial,
    its ``meta`` decoded): the trial's keys (:data:`TRIAL_KEYS`), the turn's fields
    (:data:`TURN_FIELDS`), the trial's error (``trial_error``) and one column per score the
    task gave turns (NaN where a turn has none; ``score_<name>`` for a score named like one of
    the other columns). Trials of one party have no rows."""
    keys = [k for k in TRIAL_KEYS if k in frame.columns]
    reserved = {*keys, *TURN_FIELDS, TRIAL_ERROR, "valid_turn"}  # valid_turn: the core's
    rows: list[dict[str, Any]] = []
    score_names: dict[str, None] = {}
    trials: list[dict[str, Any]] = [
        {str(k): v for k, v in rec.items()} for rec in frame[keys].to_dict(orient="records")
    ]
    errors = frame["error"].tolist() if "error" in frame.columns else [None] * len(frame)
    for trial, meta, error in zip(trials, frame["meta"].tolist(), errors, strict=True):
        for t in _meta(meta).get("turns") or []:
            scores = _meta(t.get("scores"))
            score_names.update(dict.fromkeys(scores))
            rows.append(
                {
                    **trial,
                    TRIAL_ERROR: None if error is None or error != error else str(error),
                    "turn": t.get("index"),
                    "role": t.get("role"),
                    "role_simulator": t.get("simulator"),
                    **{f: t.get(f) for f in TURN_FIELDS[3:]},
                    **{f"score_{k}": float(v) for k, v in scores.items()},
                }
            )
    score_cols = [f"score_{k}" for k in score_names]
    out = pd.DataFrame(rows, columns=[*keys, TRIAL_ERROR, *TURN_FIELDS, *score_cols])
    # a score named like a turn field or trial key (``cost``, ``seed``) keeps its prefix
    return out.rename(columns={f"score_{k}": k for k in score_names if k not in reserved})


@runtime_checkable
class MultiPartyTask(Task, Protocol):
    """A task whose trial is played by several parties, one simulator per role.

    ``roles`` names every role a trial needs; a spec must assign each of them (the plan
    refuses one that leaves a role out, naming it). :meth:`play_parties` plays one trial to the
    end and returns one :class:`Answer` (built with ``behaviorlab.simulators.TurnLog``);
    :meth:`Task.score` scores it.
    A task may also be an :class:`InteractiveTask` (``play(trial, simulator)``) for specs
    whose ``simulators:`` play it alone against scripted partners."""

    roles: tuple[str, ...]

    async def play_parties(self, trial: Trial, parties: Mapping[str, Simulator]) -> Answer:
        """Play one trial with these parties. Must not raise for a model failure."""
        ...
