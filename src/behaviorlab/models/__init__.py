"""LLM backends behind one async interface, with a call cache."""

from behaviorlab.models._base import (
    Backend,
    BackendError,
    ContextWindowError,
    GenerateRequest,
    Generation,
    Message,
    MissingExtraError,
    ModelIdentity,
    PositionsRequest,
    PositionsResult,
    Pricing,
    ScorePoint,
    ScoreRequest,
    ScoreResult,
    UnsupportedError,
    backend,
    backends,
    score_per_point,
)
from behaviorlab.models._cache import CachedBackend, CallCache, default_cache_path
from behaviorlab.models._mock import MockBackend, MockScriptError

# The llamacpp backend registers itself; its module imports llama_cpp only when used.
from behaviorlab.models import _llamacpp  # noqa: F401  isort: skip
from behaviorlab.models import _openai  # noqa: F401  isort: skip
from behaviorlab.models import _vllm  # noqa: F401  isort: skip
from behaviorlab.models._openai import OpenAIBackend
from behaviorlab.models._ratelimit import RateLimiter, TokenBucket
from behaviorlab.models._vllm import VLLMBackend

__all__ = [
    "Backend",
    "BackendError",
    "CachedBackend",
    "CallCache",
    "ContextWindowError",
    "GenerateRequest",
    "Generation",
    "Message",
    "MissingExtraError",
    "MockBackend",
    "MockScriptError",
    "ModelIdentity",
    "OpenAIBackend",
    "PositionsRequest",
    "PositionsResult",
    "Pricing",
    "RateLimiter",
    "ScorePoint",
    "ScoreRequest",
    "ScoreResult",
    "TokenBucket",
    "UnsupportedError",
    "VLLMBackend",
    "backend",
    "backends",
    "default_cache_path",
    "score_per_point",
]
