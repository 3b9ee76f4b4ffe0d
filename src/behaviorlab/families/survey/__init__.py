"""The survey family: questions with options, each person's own answer held out.

Its data are survey tables (the format lives in :mod:`behaviorlab.data`); it brings the
built-in surveys ``anes96``, ``gss_spending`` and ``beps``, the ``survey`` task (questions
with options, ordered options, numeric questions, answer keys), the ``train_mean`` baseline
for numeric questions and the ``behaviorlab demo`` default (ANES 1996 vote).
"""

from behaviorlab.families.survey import (
    _baselines,  # noqa: F401  (registers train_mean, train_correctness)
    _sources,  # noqa: F401  (registers anes96, gss, beps)
)
from behaviorlab.families.survey._family import FAMILY
from behaviorlab.families.survey._task import SURVEY, SurveyTask

__all__ = ["FAMILY", "SURVEY", "SurveyTask"]
