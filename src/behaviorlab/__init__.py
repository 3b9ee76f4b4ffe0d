"""behaviorlab: a lab for the behavioral science of AI agents.

>>> import behaviorlab as bl
>>> run = bl.run("experiments/anes96-vote.yaml")      # doctest: +SKIP
>>> trials = run.to_pandas()                          # doctest: +SKIP
>>> table = bl.gap(run).to_pandas()                   # doctest: +SKIP
"""

from __future__ import annotations

import typing as _typing

from behaviorlab.runs import ExperimentSpec, Run, SpecError, load_spec, open_run, run, run_async

if _typing.TYPE_CHECKING:
    import pandas as pd

    from behaviorlab.analysis import GapReport

__version__ = "0.1.0"


def gap(results: Run | pd.DataFrame, **options: _typing.Any) -> GapReport:
    """The gap report of a run (or of a trials DataFrame): every metric per simulator and
    condition with a 95% CI clustered by person, the human noise floor, persona effects,
    paired comparisons, subgroup gaps (from the run's stored persona attributes), item-level
    agreement and yardsticks. Options go to :func:`behaviorlab.analysis.gap`."""
    from behaviorlab.analysis import gap as _gap

    if isinstance(results, Run):
        options.setdefault("persons", results.persons())
        return _gap(results.to_pandas(), **options)
    return _gap(results, **options)


__all__ = [
    "ExperimentSpec",
    "Run",
    "SpecError",
    "__version__",
    "gap",
    "load_spec",
    "open_run",
    "run",
    "run_async",
]
