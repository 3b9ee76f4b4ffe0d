"""The persuasion family: people stated a stance, read arguments, and stated it again; does
each person's twin move as that person moved?

It brings the attitude-change loader (``persuasion_file``: long tables with a
:class:`PersuasionMapping`; the persona from the table or a survey table), the generator
``persuasion_synthetic`` (planted change rates), the ``persuasion`` task (the twin starts
from the person's own prior stance and reads the same arguments in the same order), the
``no_arguments`` control, the baselines ``no_change``, ``toward_majority`` and
``persuasion_logit`` (statsmodels), the change metrics with person-clustered intervals, the
test–retest yardstick, its report block and ``behaviorlab demo persuasion``
(docs/persuasion.md).
"""

from behaviorlab.families.persuasion import _conditions, _data, _metrics  # noqa: F401
from behaviorlab.families.persuasion._baselines import NoChange, PersuasionLogit, TowardMajority
from behaviorlab.families.persuasion._data import SYNTHETIC_MAPPING, synthetic_frame
from behaviorlab.families.persuasion._family import FAMILY
from behaviorlab.families.persuasion._loader import load_persuasion_file, persuasion_from_frame
from behaviorlab.families.persuasion._mapping import (
    PersonaColumn,
    PersuasionDataError,
    PersuasionMapping,
)
from behaviorlab.families.persuasion._metrics import (
    PERSUASION_METRICS,
    calibration_table,
    persuasion_table,
)
from behaviorlab.families.persuasion._scale import AttitudeScale, Stance
from behaviorlab.families.persuasion._task import PERSUASION, PersuasionTask, retest_yardstick

__all__ = [
    "FAMILY",
    "PERSUASION",
    "PERSUASION_METRICS",
    "SYNTHETIC_MAPPING",
    "AttitudeScale",
    "NoChange",
    "PersonaColumn",
    "PersuasionDataError",
    "PersuasionLogit",
    "PersuasionMapping",
    "PersuasionTask",
    "Stance",
    "TowardMajority",
    "calibration_table",
    "load_persuasion_file",
    "persuasion_from_frame",
    "persuasion_table",
    "retest_yardstick",
    "synthetic_frame",
]
