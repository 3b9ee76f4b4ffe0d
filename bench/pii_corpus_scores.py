"""Precision and recall of PII masking on the tuning corpus and the held-out parts.

    .venv/bin/python bench/pii_corpus_scores.py

Prints one line per corpus (exact-span recall, share whose PII is no longer visible,
look-alikes left unchanged, precision over everything masked), then the held-out positives
missed and look-alikes changed, as they are masked. Each held-out file's header records
its first (clean) score and the round of tuning that saw it: parts 1-4 were tuned on, part 5
is the held-out estimate.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from behaviorlab.collect._pii import PiiMasker
from behaviorlab.collect._pii_score import score_corpus

CORPORA = Path(__file__).resolve().parent.parent / "tests" / "collect"


def main() -> None:
    masker = PiiMasker()
    names = ["pii_corpus.yaml"] + [f"pii_corpus_heldout{p}.yaml" for p in ("", "2", "3", "4", "5")]
    for name in names:
        corpus = yaml.safe_load((CORPORA / name).read_text(encoding="utf-8"))
        score = score_corpus(corpus, masker)
        print(score.line(name))
        for text in score.missed:
            print(f"  missed:  {text!r} -> {masker.text(text)!r}")
        for text in score.changed:
            print(f"  changed: {text!r} -> {masker.text(text)!r}")


if __name__ == "__main__":
    main()
