"""Precision and recall of the default masker on the tuning corpus and on the held-out one
(issue 14 §2.2; bench/pii_corpus_scores.py prints the same lines with the misses)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from behaviorlab.collect._pii_score import score_corpus

HERE = Path(__file__).parent


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((HERE / name).read_text(encoding="utf-8"))
    return loaded


def test_tuning_corpus_scores(capsys: pytest.CaptureFixture[str]) -> None:
    score = score_corpus(_load("pii_corpus.yaml"))
    with capsys.disabled():
        print("\n" + score.line("pii_corpus.yaml"))
    assert (score.recall, score.look_alike_precision) == (1.0, 1.0), (score.missed, score.changed)


def test_held_out_corpus_scores(capsys: pytest.CaptureFixture[str]) -> None:
    corpus = _load("pii_corpus_heldout.yaml")
    assert len(corpus["positives"]) >= 100 and len(corpus["look_alikes"]) >= 100
    score = score_corpus(corpus)
    with capsys.disabled():
        print("\n" + score.line("pii_corpus_heldout.yaml"))
    # issue 14's target: precision >= 98% on the look-alikes (met) and recall >= 99% (not
    # met: streets followed by a bare city name are missed, see docs/collect.md); this floor
    # is the measured recall, so a change that loses any held-out case fails here
    assert score.look_alike_precision >= 0.98, score.changed
    assert score.recall >= 0.96, score.missed
