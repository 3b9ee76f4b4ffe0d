"""Precision and recall of the default masker on the tuning corpus and the held-out parts
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


@pytest.mark.parametrize(
    ("name", "recall"),
    [
        ("pii_corpus_heldout.yaml", 0.99),  # seen by round 2: no longer held out
        ("pii_corpus_heldout2.yaml", 0.99),  # seen by round 2: no longer held out
        ("pii_corpus_heldout3.yaml", 0.99),  # seen by round 3: no longer held out
        ("pii_corpus_heldout4.yaml", 0.99),  # seen by round 3: no longer held out
        ("pii_corpus_heldout5.yaml", 0.92),  # held out from round 3: the clean estimate
    ],
)
def test_held_out_corpus_scores(
    name: str, recall: float, capsys: pytest.CaptureFixture[str]
) -> None:
    # issue 14's targets: recall >= 99% with precision >= 98% on the look-alikes. Each file's
    # header records its first, clean score and which round of tuning saw it: part 1 96.1%
    # and part 2 93.1% (round 1), part 3 94.1% (round 2), part 4 95.3% (round 3's first
    # changes), part 5 86.3% on round 2 and 92.6% on round 3 (never tuned on). The floors are
    # the measured recall and look-alike precision, so a change that loses a case fails here;
    # the 99% / 98% targets are not met on part 5 (docs/collect.md).
    corpus = _load(name)
    assert len(corpus["positives"]) >= 100 and len(corpus["look_alikes"]) >= 99
    score = score_corpus(corpus)
    with capsys.disabled():
        print("\n" + score.line(name))
    assert score.look_alike_precision >= (0.974 if name.endswith("5.yaml") else 0.98), score.changed
    assert score.recall >= recall, score.missed
