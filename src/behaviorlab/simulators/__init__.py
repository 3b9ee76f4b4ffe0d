"""Who answers a trial: LLM simulators and non-LLM baselines."""

from behaviorlab.simulators._base import Answer, Simulator, simulator, simulators
from behaviorlab.simulators._baselines import KnnPersonaSimulator, MajoritySimulator
from behaviorlab.simulators._llm import LLMSimulator

__all__ = [
    "Answer",
    "KnnPersonaSimulator",
    "LLMSimulator",
    "MajoritySimulator",
    "Simulator",
    "simulator",
    "simulators",
]
