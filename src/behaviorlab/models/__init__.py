"""LLM backends behind one async interface, with a call cache."""

from behaviorlab.models._base import (
    Backend,
    BackendError,
    Generation,
    GenerateRequest,
    Message,
    MissingExtraError,
    ModelIdentity,
    ScoreRequest,
    ScoreResult,
    UnsupportedError,
    backend,
    backends,
)
from behaviorlab.models._cache import CachedBackend, CallCache, default_cache_path
from behaviorlab.models._mock import MockBackend

# The llamacpp backend registers itself; its module imports llama_cpp only when used.
from behaviorlab.models import _llamacpp  # noqa: E402,F401  isort: skip

__all__ = [
    "Backend",
    "BackendError",
    "CachedBackend",
    "CallCache",
    "MockBackend",
    "default_cache_path",
    "GenerateRequest",
    "Generation",
    "Message",
    "MissingExtraError",
    "ModelIdentity",
    "ScoreRequest",
    "ScoreResult",
    "UnsupportedError",
    "backend",
    "backends",
]
