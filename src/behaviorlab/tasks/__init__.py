"""Task families: records → trials, and how an answer is scored."""

from behaviorlab.tasks._base import Task, Trial, TrialInput, split_by_person, task, tasks

__all__ = ["Task", "Trial", "TrialInput", "split_by_person", "task", "tasks"]
