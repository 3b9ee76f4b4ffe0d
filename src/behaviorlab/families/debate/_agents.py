"""Scripted debate agents: reference dynamics with a known truth.

Each reads the question from ``trial.meta["debate"]`` (its round, identity, the scale, the
others' latest reports when attitudes are public, how many speeches it heard) and answers
``{attitude, reason}`` (a speech is a fixed sentence stating its attitude). Its starting
attitude is ``start[identity]`` when given, else a point of the scale drawn from the
identity's hash; ``sd`` adds seeded Gaussian noise to every report (clipped to the scale).

- ``drift_agent``: moves a fixed ``share`` of its gap to ``default`` per round it debated:
  after round r its attitude is ``default + (1 - share)**r * (start - default)``; without
  debate (retest) it stays at its start; with no identity it answers ``default``.
- ``degroot_agent``: moves to the mean of the others' latest reports (DeGroot averaging), so a
  debate of N such agents follows ``m + (-1/(N-1))**r * (a0 - m)`` with ``m`` the mean start.
- ``stubborn_agent``: never moves.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from behaviorlab.data._records import stable_hash
from behaviorlab.simulators._base import Answer, simulator
from behaviorlab.tasks._base import Trial, TrialInput

NOT_A_DEBATE = "{who} plays the debate task only: this turn has no meta['debate']"


class _Agent:
    kind = "agent"

    def __init__(
        self,
        start: Mapping[str, float] | None = None,
        sd: float = 0.0,
        seed: int = 0,
        label: str | None = None,
    ) -> None:
        if sd < 0:
            raise ValueError(f"{self.kind}: sd must be at least 0, not {sd}")
        self.start = {str(k): float(v) for k, v in (start or {}).items()}
        self.sd = float(sd)
        self.seed = seed
        self.label = label or self.kind

    def fit(self, train: Sequence[Trial]) -> None:
        """Nothing to learn."""

    def identity(self) -> dict[str, Any]:
        return {"simulator": self.kind, "start": self.start, "sd": self.sd, "seed": self.seed}

    def initial(self, identity: str, low: float, high: float) -> float:
        if identity in self.start:
            return self.start[identity]
        u = int(stable_hash("debate-start", identity, length=8), 16) / 16**8
        return low + u * (high - low)

    def target(self, state: Mapping[str, Any], low: float, high: float) -> float | str:
        """Where the agent stands now (a text: why it cannot say)."""
        raise NotImplementedError

    async def answer(self, trial: TrialInput) -> Answer:
        state = trial.meta.get("debate")
        if not isinstance(state, Mapping):
            return Answer(error=NOT_A_DEBATE.format(who=self.label), error_kind="invalid")
        low, high = float(state["scale"]["min"]), float(state["scale"]["max"])
        x = self.target(state, low, high)
        if isinstance(x, str) and state.get("question") == "speech":
            return Answer(value={"speech": "I keep my view."}, raw="I keep my view.")
        if isinstance(x, str):
            return Answer(error=f"{self.label}: {x}", error_kind="invalid")
        if self.sd and state.get("question") == "attitude":
            key = stable_hash(
                "debate-noise",
                self.seed,
                trial.meta.get("draw_key"),
                trial.meta.get("arm"),
                trial.meta.get("role"),
                state.get("round"),
                state.get("ask"),
            )
            x = min(high, max(low, x + random.Random(key).gauss(0.0, self.sd)))
        if state.get("question") == "speech":
            text = f"I stand at {x:.2f} on this scale."
            return Answer(value={"speech": text}, raw=text)
        reason = f"{self.kind} after round {state.get('round')}"
        return Answer(value={"attitude": x, "reason": reason}, raw=f"{x:.4f}")


@simulator("drift_agent")
class DriftAgent(_Agent):
    """Moves ``share`` of its gap to ``default`` per round debated (module docstring)."""

    kind = "drift_agent"

    def __init__(
        self,
        default: float = 4.0,
        share: float = 0.2,
        start: Mapping[str, float] | None = None,
        sd: float = 0.0,
        seed: int = 0,
        label: str | None = None,
    ) -> None:
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"drift_agent: share must be in [0, 1], not {share}")
        super().__init__(start, sd, seed, label)
        self.default = float(default)
        self.share = float(share)

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "default": self.default, "share": self.share}

    def target(self, state: Mapping[str, Any], low: float, high: float) -> float | str:
        identity = state.get("identity")
        if identity is None:
            return self.default
        a0 = self.initial(str(identity), low, high)
        debated = int(state.get("round", 0)) if int(state.get("heard", 0)) > 0 else 0
        return self.default + (1.0 - self.share) ** debated * (a0 - self.default)


@simulator("degroot_agent")
class DeGrootAgent(_Agent):
    """Moves to the mean of the others' latest reports (module docstring)."""

    kind = "degroot_agent"

    def target(self, state: Mapping[str, Any], low: float, high: float) -> float | str:
        identity = state.get("identity")
        if identity is None:
            return (low + high) / 2
        if int(state.get("round", 0)) == 0 or int(state.get("heard", 0)) == 0:
            return self.initial(str(identity), low, high)
        if not state.get("public_attitudes"):
            return "needs the others' attitudes: set task_options.public_attitudes: true"
        others = [float(v) for v in dict(state.get("others") or {}).values() if v is not None]
        if not others:
            return "none of the others has a valid attitude yet"
        return statistics.fmean(others)


@simulator("stubborn_agent")
class StubbornAgent(_Agent):
    """Never moves from its starting attitude."""

    kind = "stubborn_agent"

    def target(self, state: Mapping[str, Any], low: float, high: float) -> float | str:
        identity = state.get("identity")
        return (low + high) / 2 if identity is None else self.initial(str(identity), low, high)
