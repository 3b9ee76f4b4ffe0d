"""Who answers a trial: LLM simulators and non-LLM baselines."""

from behaviorlab.simulators._base import Answer, Simulator, simulator, simulators
from behaviorlab.simulators._baselines import KnnPersonaSimulator, MajoritySimulator
from behaviorlab.simulators._choice_baselines import LogitSimulator
from behaviorlab.simulators._game_players import BestResponder, FirstMove, RandomMove
from behaviorlab.simulators._llm import LLMSimulator
from behaviorlab.simulators._scenario_baselines import (
    FirstOptionSimulator,
    JudgeVerdict,
    RandomOptionSimulator,
    ScenarioJudge,
)
from behaviorlab.simulators._web_baselines import (
    FirstProductLinkSimulator,
    MajorityActionSimulator,
    MarkovSimulator,
    NearestStepSimulator,
)

# Simulators that register themselves on import.
from behaviorlab.simulators import _choice_baselines, _game_players, _scenario_baselines  # noqa: F401  isort: skip

__all__ = [
    "Answer",
    "BestResponder",
    "FirstMove",
    "FirstOptionSimulator",
    "FirstProductLinkSimulator",
    "JudgeVerdict",
    "KnnPersonaSimulator",
    "LLMSimulator",
    "LogitSimulator",
    "MajorityActionSimulator",
    "MajoritySimulator",
    "MarkovSimulator",
    "NearestStepSimulator",
    "RandomMove",
    "RandomOptionSimulator",
    "ScenarioJudge",
    "Simulator",
    "simulator",
    "simulators",
]
