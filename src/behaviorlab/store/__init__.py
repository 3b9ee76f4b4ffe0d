"""Where results live: an embedded SQLite file (WAL), exported to pandas and Parquet."""

from behaviorlab.store._schema import COLUMNS, JSON_COLUMNS, RESULTS_SCHEMA_VERSION, TrialResult

__all__ = ["COLUMNS", "JSON_COLUMNS", "RESULTS_SCHEMA_VERSION", "TrialResult"]
