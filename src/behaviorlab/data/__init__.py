"""Human behavior records and their loaders."""

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

__all__ = [
    "SCHEMA_VERSION",
    "Action",
    "Dataset",
    "Episode",
    "Observation",
    "Option",
    "Person",
    "Rationale",
    "Step",
    "stable_hash",
]
