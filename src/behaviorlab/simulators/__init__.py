"""Who answers a trial: the LLM simulator and the baselines every task with options shares.

Baselines of one task family (next-action chains, game players, the conditional logit) live
in that family's folder under :mod:`behaviorlab.families`. A task changes how the ``llm``
simulator asks and reads its trials by setting a class attribute ``prompting`` to a
:class:`Prompting` subclass (see docs/plugins.md).
"""

from behaviorlab.simulators._base import Answer, Simulator, simulator, simulators
from behaviorlab.simulators._baselines import (
    FirstOptionSimulator,
    KnnPersonaSimulator,
    MajoritySimulator,
    RandomOptionSimulator,
)
from behaviorlab.simulators._human import HumanChannel, HumanParty
from behaviorlab.simulators._llm import LLMSimulator
from behaviorlab.simulators._parties import PartySet, Script, TurnLog
from behaviorlab.simulators._prompts import (
    DEFAULT_PROMPTING,
    Prompting,
    StructuredPrompt,
    prompting_of,
)

__all__ = [
    "DEFAULT_PROMPTING",
    "Answer",
    "FirstOptionSimulator",
    "HumanChannel",
    "HumanParty",
    "KnnPersonaSimulator",
    "LLMSimulator",
    "MajoritySimulator",
    "PartySet",
    "Prompting",
    "RandomOptionSimulator",
    "Script",
    "Simulator",
    "StructuredPrompt",
    "TurnLog",
    "prompting_of",
    "simulator",
    "simulators",
]
