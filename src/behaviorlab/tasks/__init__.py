"""Task families: records → trials, and how an answer is scored."""

from behaviorlab.tasks._base import Task, Trial, TrialInput, split_by_person, task, tasks
from behaviorlab.tasks._budget import CutReport, TokenCounter, approx_tokens, fit_budget
from behaviorlab.tasks._choice import ChoiceTask
from behaviorlab.tasks._game import GameTask
from behaviorlab.tasks._next_action import (
    NextActionTask,
    Survival,
    split_by_session,
    target_survival,
)
from behaviorlab.tasks._page import PageElement, RenderedPage, render_page
from behaviorlab.tasks._scenario import REFUSAL_PATTERNS, ScenarioTask, detect_refusal
from behaviorlab.tasks._survey import SurveyTask
from behaviorlab.tasks._web_actions import action_schema, normalize_text

# Task families that register themselves on import.
from behaviorlab.tasks import _choice, _game, _scenario  # noqa: F401  isort: skip

__all__ = [
    "REFUSAL_PATTERNS",
    "ChoiceTask",
    "CutReport",
    "GameTask",
    "NextActionTask",
    "PageElement",
    "RenderedPage",
    "ScenarioTask",
    "SurveyTask",
    "Survival",
    "Task",
    "TokenCounter",
    "Trial",
    "TrialInput",
    "action_schema",
    "approx_tokens",
    "detect_refusal",
    "fit_budget",
    "normalize_text",
    "render_page",
    "split_by_person",
    "split_by_session",
    "target_survival",
    "task",
    "tasks",
]
