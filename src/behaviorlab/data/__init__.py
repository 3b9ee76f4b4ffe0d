"""Human behavior records and their loaders."""

from behaviorlab.data._choice import MODECHOICE_MAPPING
from behaviorlab.data._choice_loader import choice_from_frame, load_choice_file
from behaviorlab.data._choice_mapping import (
    ChoiceAttribute,
    ChoiceDataError,
    ChoiceMapping,
    ChoiceOption,
    PersonaAttribute,
)
from behaviorlab.data._mapping import (
    PersonaField,
    QuestionSpec,
    SurveyMapping,
    SurveyMappingError,
    normalise_code,
)
from behaviorlab.data._opera import OperaData, load_opera
from behaviorlab.data._opera_export import export_opera
from behaviorlab.data._opera_schema import OperaFormatError, OperaReport
from behaviorlab.data._opera_synth import make_synthetic_opera
from behaviorlab.data._records import (
    SCHEMA_VERSION,
    Action,
    Dataset,
    Episode,
    Observation,
    Option,
    Person,
    Rationale,
    Step,
    stable_hash,
)
from behaviorlab.data._scenario import (
    ScenarioDataError,
    ScenarioMapping,
    load_scenarios,
    scenarios_from_frame,
)
from behaviorlab.data._sources import dataset, datasets, load_dataset
from behaviorlab.data._survey import load_survey_file, survey_from_frame

# Adapters that register datasets on import.
from behaviorlab.data import _choice, _game_data, _scenario  # noqa: F401  isort: skip

__all__ = [
    "MODECHOICE_MAPPING",
    "SCHEMA_VERSION",
    "Action",
    "ChoiceAttribute",
    "ChoiceDataError",
    "ChoiceMapping",
    "ChoiceOption",
    "Dataset",
    "Episode",
    "Observation",
    "OperaData",
    "OperaFormatError",
    "OperaReport",
    "Option",
    "Person",
    "PersonaAttribute",
    "PersonaField",
    "QuestionSpec",
    "Rationale",
    "ScenarioDataError",
    "ScenarioMapping",
    "Step",
    "SurveyMapping",
    "SurveyMappingError",
    "choice_from_frame",
    "dataset",
    "datasets",
    "export_opera",
    "load_choice_file",
    "load_dataset",
    "load_opera",
    "load_scenarios",
    "load_survey_file",
    "make_synthetic_opera",
    "normalise_code",
    "scenarios_from_frame",
    "stable_hash",
    "survey_from_frame",
]
