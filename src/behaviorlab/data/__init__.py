"""Human behavior records and their loaders."""

from behaviorlab.data._mapping import (
    PersonaField,
    QuestionSpec,
    SurveyMapping,
    SurveyMappingError,
    normalise_code,
)
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
from behaviorlab.data._sources import dataset, datasets, load_dataset
from behaviorlab.data._survey import load_survey_file, survey_from_frame

__all__ = [
    "SCHEMA_VERSION",
    "Action",
    "Dataset",
    "Episode",
    "Observation",
    "Option",
    "Person",
    "PersonaField",
    "QuestionSpec",
    "Rationale",
    "Step",
    "SurveyMapping",
    "SurveyMappingError",
    "dataset",
    "datasets",
    "load_dataset",
    "load_survey_file",
    "normalise_code",
    "stable_hash",
    "survey_from_frame",
]
