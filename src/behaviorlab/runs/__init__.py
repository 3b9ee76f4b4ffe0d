"""Experiments: specs, conditions, the resumable runner and the Python API."""

from behaviorlab.runs._api import Run, open_run, run
from behaviorlab.runs._conditions import Condition, condition, conditions, derangement
from behaviorlab.runs._runner import Job, Plan, RunSummary, plan, run_async
from behaviorlab.runs._spec import (
    DataSpec,
    ExecutorSpec,
    ExperimentSpec,
    SimulatorSpec,
    SpecError,
    SplitSpec,
    SubsetSpec,
    ThroughputSpec,
    load_spec,
    parse_spec,
)
from behaviorlab.runs._web_conditions import history_k  # registers no_history, history_k3, ...

__all__ = [
    "Condition",
    "DataSpec",
    "ExecutorSpec",
    "ExperimentSpec",
    "Job",
    "Plan",
    "Run",
    "RunSummary",
    "SimulatorSpec",
    "SpecError",
    "SplitSpec",
    "SubsetSpec",
    "ThroughputSpec",
    "condition",
    "conditions",
    "derangement",
    "history_k",
    "load_spec",
    "open_run",
    "parse_spec",
    "plan",
    "run",
    "run_async",
]
