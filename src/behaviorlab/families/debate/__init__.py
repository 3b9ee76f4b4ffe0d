"""The debate family: N agents with identities debate a topic for R rounds, reporting their
attitude on a fixed scale before the first round and after every round.

It brings the ``debate_topics`` dataset (topics with their scales, line-ups of identities),
the multi-party ``debate`` task (roles ``agent_1..agent_N``), the conditions
``same_identity``, ``retest`` and ``model_default`` (the model's own default, measured in
the same run) and the controls ``shuffled_identities``, ``reversed_order`` and
``paraphrased_topic``, the scripted agents ``drift_agent``, ``degroot_agent`` and
``stubborn_agent``, drift toward the default with intervals clustered by debate, reference
trajectories, its report block and ``behaviorlab demo debate`` (docs/debate.md).
"""

from behaviorlab.families.debate import _conditions  # noqa: F401  (register)
from behaviorlab.families.debate._agents import DeGrootAgent, DriftAgent, StubbornAgent
from behaviorlab.families.debate._dynamics import (
    degroot_closed_form,
    identity_fidelity,
    reference_reports,
    spread,
    spread_change,
    trajectories,
)
from behaviorlab.families.debate._family import FAMILY
from behaviorlab.families.debate._metrics import (
    debate_reports,
    default_attitudes,
    drift_differences,
    drift_table,
)
from behaviorlab.families.debate._task import DEBATE, DebateConfigError, DebateTask
from behaviorlab.families.debate._topics import Scale, Topic, debate_topics

__all__ = [
    "DEBATE",
    "FAMILY",
    "DeGrootAgent",
    "DebateConfigError",
    "DebateTask",
    "DriftAgent",
    "Scale",
    "StubbornAgent",
    "Topic",
    "debate_reports",
    "debate_topics",
    "default_attitudes",
    "degroot_closed_form",
    "drift_differences",
    "drift_table",
    "identity_fidelity",
    "reference_reports",
    "spread",
    "spread_change",
    "trajectories",
]
