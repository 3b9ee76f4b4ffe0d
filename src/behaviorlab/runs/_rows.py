"""A stored result row from a job and its answer."""

from __future__ import annotations

from typing import Any

from behaviorlab.runs._types import Job
from behaviorlab.simulators._base import Answer
from behaviorlab.store._schema import TrialResult
from behaviorlab.tasks._base import Task


def task_meta(task: Task, trial: Any) -> dict[str, Any]:
    """What the task adds to a result row's meta (its optional ``result_meta(trial)``)."""
    hook = getattr(task, "result_meta", None)
    return dict(hook(trial)) if callable(hook) else {}


def result_row(job: Job, task: Task, answer: Answer, run_id: str, latency: float) -> TrialResult:
    trial = job.trial
    options = trial.input.observation.option_codes() or None
    scores: dict[str, float] = {}
    if answer.ok:
        scores = task.score(trial, answer)
    position = options.index(answer.choice) if options and answer.choice in options else None
    return TrialResult(
        run_id=run_id,
        trial_id=job.trial_id,
        task=task.name,
        simulator=job.simulator.label,
        condition=job.condition,
        seed=job.seed,
        person_id=trial.person_id,
        item_id=trial.item_id,
        episode_id=trial.episode_id,
        step_index=trial.step_index,
        prompt_hash=answer.prompt_hash,
        raw_output=answer.raw,
        answer=answer.choice,
        answer_json=answer.value,
        probabilities=answer.probabilities,
        samples=answer.samples,
        human_answer=task.human_answer(trial),
        options=options,
        answer_position=position,
        correct=scores.get("correct"),
        scores=scores,
        error=answer.error,
        error_kind=answer.error_kind,
        latency_s=latency,
        tokens_in=answer.tokens_in,
        tokens_out=answer.tokens_out,
        calls=answer.calls,
        cache_hits=answer.cache_hits,
        cost=answer.cost,
        meta={
            **trial.input.meta,
            **answer.meta,
            **(
                {"human_rationale": trial.target_rationale.text}
                if trial.target_rationale is not None
                else {}
            ),
            **task_meta(task, trial),
        },
    )
