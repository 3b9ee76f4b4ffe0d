"""Human behavior records, the formats they come in, and the dataset registry.

Formats several parts share live here: survey tables with a mapping (:func:`load_survey_file`),
correctness-only tables with an item table (:func:`correctness_file`, the dataset
``correctness_file``), and OPeRA's file layout (:func:`load_opera`, :func:`export_opera`, used
by the next-action family and by :mod:`behaviorlab.collect`). A task family's own sources
(the ANES / GSS / BEPS surveys, scenario benchmarks, choice data, generated games) live in its
folder under :mod:`behaviorlab.families` and register with ``@dataset`` like a user's.
"""

from behaviorlab.data._correctness import CorrectnessFileError, correctness_file
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
from behaviorlab.data._sources import dataset, datasets, load_dataset
from behaviorlab.data._survey import load_survey_file, survey_from_frame

__all__ = [
    "SCHEMA_VERSION",
    "Action",
    "CorrectnessFileError",
    "Dataset",
    "Episode",
    "Observation",
    "OperaData",
    "OperaFormatError",
    "OperaReport",
    "Option",
    "Person",
    "PersonaField",
    "QuestionSpec",
    "Rationale",
    "Step",
    "SurveyMapping",
    "SurveyMappingError",
    "correctness_file",
    "dataset",
    "datasets",
    "export_opera",
    "load_dataset",
    "load_opera",
    "load_survey_file",
    "make_synthetic_opera",
    "normalise_code",
    "stable_hash",
    "survey_from_frame",
]
