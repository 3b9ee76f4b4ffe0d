"""Who answers a trial: the LLM simulator and the baselines every task with options shares.

Baselines of one task family (next-action chains, game players, the conditional logit) live
in that family's folder under :mod:`behaviorlab.families`.
"""

from behaviorlab.simulators._base import Answer, Simulator, simulator, simulators
from behaviorlab.simulators._baselines import (
    FirstOptionSimulator,
    KnnPersonaSimulator,
    MajoritySimulator,
    RandomOptionSimulator,
)
from behaviorlab.simulators._llm import LLMSimulator

__all__ = [
    "Answer",
    "FirstOptionSimulator",
    "KnnPersonaSimulator",
    "LLMSimulator",
    "MajoritySimulator",
    "RandomOptionSimulator",
    "Simulator",
    "simulator",
    "simulators",
]
