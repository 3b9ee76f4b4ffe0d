"""``with_backend`` moves a packaged demo's LLM to another backend, for single-simulator
specs and for specs whose trials are played by several parties."""

from __future__ import annotations

from typing import Any

from behaviorlab.plugins._family import with_backend


def _llm(**extra: Any) -> dict[str, Any]:
    return {"name": "llm", "backend": "llamacpp", "model": "smollm2", **extra}


def test_the_llm_simulators_and_every_llm_party_move_and_scripted_ones_stay() -> None:
    spec: dict[str, Any] = {
        "name": "demo",
        "simulators": [_llm(), {"name": "majority"}],
        "parties": [
            {
                "label": "smollm2",
                "roles": {"a": _llm(backend_options={"kv_slots": 3}), "b": {"name": "stubborn"}},
            },
            {"label": "scripted", "roles": {"a": {"name": "stubborn"}, "b": {"name": "stubborn"}}},
        ],
    }
    out = with_backend(spec, "mock")
    assert out["name"] == "demo-mock"
    assert out["simulators"][0] == {"name": "llm", "backend": "mock"}
    assert out["simulators"][1] == {"name": "majority"}
    moved, scripted = out["parties"]
    assert moved["label"] == "mock" and moved["roles"]["a"] == {"name": "llm", "backend": "mock"}
    assert moved["roles"]["b"] == {"name": "stubborn"}
    assert scripted["label"] == "scripted"


def test_the_bundled_backend_leaves_the_spec_as_it_is() -> None:
    spec: dict[str, Any] = {"name": "demo", "parties": [{"label": "x", "roles": {"a": _llm()}}]}
    assert with_backend(spec, "llamacpp") == {
        "name": "demo",
        "parties": [{"label": "x", "roles": {"a": _llm()}}],
    }
