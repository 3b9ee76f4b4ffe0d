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

__all__ = [
    "Backend",
    "BackendError",
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
