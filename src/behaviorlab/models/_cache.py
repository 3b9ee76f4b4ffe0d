"""A persistent LLM-call cache keyed on everything that changes an answer.

The key is the SHA-256 of: the backend's full identity (backend, model, weights hash or
endpoint, load-time parameters), the call kind (generate / score / score_positions) and the
whole request (messages or prompt, schema, temperature, top_p, max_tokens, seed, stop,
continuations; for score_positions the text's pieces and every point). A cache that ignored
any of these would silently return another model's answers.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from behaviorlab.models._base import (
    Backend,
    Capability,
    GenerateRequest,
    Generation,
    ModelIdentity,
    PositionsRequest,
    PositionsResult,
    ScoreRequest,
    ScoreResult,
    score_per_point,
)


def default_cache_path() -> Path:
    """``$BEHAVIORLAB_CACHE_DIR/calls.sqlite``, else ``~/.cache/behaviorlab/calls.sqlite``."""
    root = os.environ.get("BEHAVIORLAB_CACHE_DIR")
    base = Path(root) if root else Path.home() / ".cache" / "behaviorlab"
    return base / "calls.sqlite"


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0


class CallCache:
    """SQLite-backed key → response store (WAL, so several runs can share it)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, kind TEXT NOT NULL, "
            "model TEXT NOT NULL, response TEXT NOT NULL, created_at TEXT DEFAULT "
            "CURRENT_TIMESTAMP)"
        )
        self.stats = CacheStats()

    @staticmethod
    def key(
        identity: ModelIdentity,
        kind: str,
        request: GenerateRequest | ScoreRequest | PositionsRequest,
    ) -> str:
        payload = json.dumps(
            {
                "identity": identity.model_dump(mode="json"),
                "kind": kind,
                "request": request.model_dump(mode="json"),
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT response FROM calls WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.stats.misses += 1
            return None
        self.stats.hits += 1
        result: dict[str, Any] = json.loads(row[0])
        return result

    def put(self, key: str, kind: str, model: str, response: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO calls (key, kind, model, response) VALUES (?, ?, ?, ?)",
            (key, kind, model, json.dumps(response)),
        )

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM calls").fetchone()[0])

    def close(self) -> None:
        self._db.close()


class CachedBackend(Backend):
    """Wraps a backend: answers from the cache when the exact call was made before."""

    name: ClassVar[str] = "cached"

    def __init__(self, inner: Backend, cache: CallCache) -> None:
        self.inner = inner
        self.cache = cache
        self.pricing = inner.pricing
        self._identity: ModelIdentity | None = None

    @property
    def capabilities(self) -> frozenset[Capability]:  # type: ignore[override]
        return self.inner.capabilities

    def identity(self) -> ModelIdentity:
        if self._identity is None:
            self._identity = self.inner.identity()
        return self._identity

    async def generate(self, request: GenerateRequest) -> Generation:
        key = self.cache.key(self.identity(), "generate", request)
        hit = self.cache.get(key)
        if hit is not None:
            return Generation.model_validate({**hit, "cached": True})
        result = await self.inner.generate(request)
        self.cache.put(key, "generate", self.identity().model, result.model_dump(mode="json"))
        return result

    async def score(self, request: ScoreRequest) -> ScoreResult:
        key = self.cache.key(self.identity(), "score", request)
        hit = self.cache.get(key)
        if hit is not None:
            return ScoreResult.model_validate({**hit, "cached": True})
        result = await self.inner.score(request)
        self.cache.put(key, "score", self.identity().model, result.model_dump(mode="json"))
        return result

    async def score_positions(self, request: PositionsRequest) -> PositionsResult:
        """A backend that reads a text once: the whole request is one cached call (kind
        ``score_positions``); any other: one cached :meth:`score` call per point."""
        if not reads_once(self.inner):
            return await score_per_point(self, request)
        key = self.cache.key(self.identity(), "score_positions", request)
        hit = self.cache.get(key)
        if hit is not None:
            stored = PositionsResult.model_validate(hit)
            scores = [s.model_copy(update={"cached": True}) for s in stored.scores]
            return stored.model_copy(update={"cached": True, "scores": scores})
        result = await self.inner.score_positions(request)
        self.cache.put(
            key, "score_positions", self.identity().model, result.model_dump(mode="json")
        )
        return result

    async def aclose(self) -> None:
        await self.inner.aclose()


def reads_once(backend: Backend) -> bool:
    """Whether ``backend`` (or, through call caches, the backend it wraps) reads a text once
    for :meth:`Backend.score_positions` instead of one score call per point."""
    inner = backend
    while isinstance(inner, CachedBackend):
        inner = inner.inner
    return type(inner).score_positions is not Backend.score_positions
