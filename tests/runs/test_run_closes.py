"""A run closes what it opened (the call cache, the plan's models, the store) also when it
fails before answering anything: planning raises, ``on_plan`` raises (issue 11 review)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import behaviorlab as bl
from behaviorlab.models._cache import CallCache
from behaviorlab.runs import SpecError, _lifecycle


class SpyCache(CallCache):
    closed = 0

    def close(self) -> None:
        SpyCache.closed += 1
        super().close()


def spec(tmp_path: Path, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "closes",
        "data": {"source": "anes96", "target": "vote", "people": 6},
        "simulators": [{"name": "llm", "backend": "mock", "answer": "generate"}],
        "cache": str(tmp_path / "cache"),
    }
    base.update(over)
    return base


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> type[SpyCache]:
    SpyCache.closed = 0
    monkeypatch.setattr(_lifecycle, "open_cache", lambda s: SpyCache(Path(str(s.cache))))
    return SpyCache


def test_a_failing_plan_closes_the_cache(tmp_path: Path, spy: type[SpyCache]) -> None:
    mock = {"name": "llm", "backend": "mock", "answer": "generate"}
    bad = spec(tmp_path, simulators=[mock, mock])  # two simulators share a label
    with pytest.raises(SpecError, match="share the label"):
        asyncio.run(_lifecycle.run_async(bad, out=tmp_path / "runs"))
    assert spy.closed == 1


def test_a_failing_on_plan_closes_the_models_and_the_cache(
    tmp_path: Path, spy: type[SpyCache]
) -> None:
    closed: list[str] = []

    def boom(p: Any) -> None:
        backend = p.simulators[0].backend

        async def aclose() -> None:
            closed.append("backend")

        backend.aclose = aclose
        raise RuntimeError("on_plan failed")

    with pytest.raises(RuntimeError, match="on_plan failed"):
        asyncio.run(_lifecycle.run_async(spec(tmp_path), out=tmp_path / "runs", on_plan=boom))
    assert closed == ["backend"] and spy.closed == 1
    # nothing was stored, and a later run works
    run = bl.run(spec(tmp_path), out=tmp_path / "runs", progress=False)
    assert len(run.to_pandas()) > 0
