"""OPeRA-style capture from real people: persona questionnaire, browser extension (Manifest V3,
in ``collect/extension/``), ingest server with consent, withdrawal and retention, PII masking,
export to OPeRA's parquet layout, and a demo shop to try it on.

``behaviorlab collect serve`` runs the server, ``behaviorlab collect shop`` the demo shop and
``behaviorlab collect export --study S --format opera OUT/`` writes a dataset that
``behaviorlab run`` can benchmark (docs/collect.md).
"""

from behaviorlab.collect._export import capture_dataset, export_study
from behaviorlab.collect._pii import PiiConfig, PiiMasker
from behaviorlab.collect._questionnaire import Questionnaire, check_answers, load_questionnaire
from behaviorlab.collect._sanitize import clean_html
from behaviorlab.collect._server import RateLimit, create_app
from behaviorlab.collect._shop import create_shop_app, serve_shop
from behaviorlab.collect._store import CaptureStore, open_store
from behaviorlab.collect._study import Participant, Study

__all__ = [
    "CaptureStore",
    "Participant",
    "PiiConfig",
    "PiiMasker",
    "Questionnaire",
    "RateLimit",
    "Study",
    "capture_dataset",
    "check_answers",
    "clean_html",
    "create_app",
    "create_shop_app",
    "export_study",
    "load_questionnaire",
    "open_store",
    "serve_shop",
]
