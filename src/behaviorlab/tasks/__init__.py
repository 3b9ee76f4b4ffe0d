"""Trials and the Task contract: records → trials, and how an answer is scored.

The task families themselves live in :mod:`behaviorlab.families` (one folder each); this
package holds only what every family shares.
"""

from behaviorlab.tasks._base import (
    InteractiveTask,
    Task,
    Trial,
    TrialInput,
    split_by_person,
    task,
    tasks,
    trial_key,
)
from behaviorlab.tasks._parties import MultiPartyTask, Turn
from behaviorlab.tasks._tokens import TokenCounter, approx_tokens, char_counter

__all__ = [
    "InteractiveTask",
    "MultiPartyTask",
    "Task",
    "TokenCounter",
    "Trial",
    "TrialInput",
    "Turn",
    "approx_tokens",
    "char_counter",
    "split_by_person",
    "task",
    "tasks",
    "trial_key",
]
