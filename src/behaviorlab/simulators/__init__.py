"""Who answers a trial: LLM simulators and non-LLM baselines."""

from behaviorlab.simulators._base import Answer, Simulator, simulator, simulators

__all__ = ["Answer", "Simulator", "simulator", "simulators"]
