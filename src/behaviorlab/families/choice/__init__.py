"""The choice family: predict which option a person chose in their own choice situation.

Builds on the survey family (its task is the survey task with a choice situation's checks).
It brings the choice loader (``choice_file``, ``modechoice``), the ``choice`` task, the
``logit`` baseline (statsmodels conditional logit), choice shares and rho², its report block
and ``behaviorlab demo choice`` (docs/choice.md).
"""

from behaviorlab.families.choice import _baselines, _metrics  # noqa: F401  (register)
from behaviorlab.families.choice._baselines import LogitSimulator
from behaviorlab.families.choice._data import MODECHOICE_MAPPING
from behaviorlab.families.choice._family import FAMILY
from behaviorlab.families.choice._loader import choice_from_frame, load_choice_file
from behaviorlab.families.choice._mapping import (
    ChoiceAttribute,
    ChoiceDataError,
    ChoiceMapping,
    ChoiceOption,
    PersonaAttribute,
)
from behaviorlab.families.choice._metrics import RhoSquared, choice_shares
from behaviorlab.families.choice._task import CHOICE, ChoiceTask

__all__ = [
    "CHOICE",
    "FAMILY",
    "MODECHOICE_MAPPING",
    "ChoiceAttribute",
    "ChoiceDataError",
    "ChoiceMapping",
    "ChoiceOption",
    "ChoiceTask",
    "LogitSimulator",
    "PersonaAttribute",
    "RhoSquared",
    "choice_from_frame",
    "choice_shares",
    "load_choice_file",
]
