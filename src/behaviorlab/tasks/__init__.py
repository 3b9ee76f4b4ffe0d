"""Task families: records → trials, and how an answer is scored."""

from behaviorlab.tasks._base import Task, Trial, TrialInput, split_by_person, task, tasks
from behaviorlab.tasks._survey import SurveyTask

__all__ = ["SurveyTask", "Task", "Trial", "TrialInput", "split_by_person", "task", "tasks"]
