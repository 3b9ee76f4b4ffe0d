"""Where results live: an embedded SQLite file (WAL), exported to pandas and Parquet."""

from behaviorlab.store._schema import COLUMNS, JSON_COLUMNS, RESULTS_SCHEMA_VERSION, TrialResult
from behaviorlab.store._sqlite import MIGRATIONS, ResultStore

__all__ = [
    "COLUMNS",
    "JSON_COLUMNS",
    "MIGRATIONS",
    "RESULTS_SCHEMA_VERSION",
    "ResultStore",
    "TrialResult",
]
