"""next_action with the bundled SmolLM2 (marked slow; runs in CI): constrained JSON parses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import behaviorlab as bl
from behaviorlab.data import make_synthetic_opera

pytest.importorskip("llama_cpp", reason="needs the llm extra: pip install 'behaviorlab[llm]'")
pytestmark = pytest.mark.slow


def test_smollm2_answers_next_actions_that_parse(tmp_path: Path) -> None:
    data = make_synthetic_opera(tmp_path / "data", users=4, sessions_per_user=1)
    spec = {
        "name": "opera-smollm2",
        "task": "next_action",
        "task_options": {"budget": 1200},  # ~1,200 SmolLM2 tokens; n_ctx is 2,048
        "data": {"source": "opera", "options": {"path": str(data)}},
        "simulators": [{"name": "llm", "backend": "llamacpp", "answer": "generate"}],
        "conditions": ["full"],
        "cache": False,
    }
    run = bl.run(spec, out=tmp_path / "runs", progress=False, limit=3)
    frame = run.to_pandas()
    assert len(frame) == 3
    assert frame["error"].isna().all(), frame["error"].tolist()
    for raw, answer, meta in zip(
        frame["raw_output"], frame["answer_json"], frame["meta"], strict=True
    ):
        assert json.loads(raw) == answer
        assert answer["action_type"] in ("click", "input", "terminate")
        assert meta["cut"]["tokens_after"] <= 1200
    assert frame["correct"].isin([0.0, 1.0]).all()
    assert (frame["tokens_in"] < 2048 - 256).all()
    assert run.manifest["simulators"][0]["structured_template_hash"]
