"""Precision and recall of a :class:`._pii.PiiMasker` on a labelled corpus.

A corpus (YAML, as ``tests/collect/pii_corpus.yaml``) has ``positives`` (``text`` holding
``pii``, the exact span to mask, of ``kind``) and look-alikes (``negatives`` or
``look_alikes``: text that must come back unchanged). A positive is *found* when the masked
text is the text with exactly that span replaced by its kind's token, *hidden* when the PII no
longer appears in it (a wider or narrower span, or another kind's token); a look-alike is
*kept* when it comes back unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from behaviorlab.collect._pii import PiiMasker


@dataclass(frozen=True)
class CorpusScore:
    """Counts on one corpus, and the cases that went wrong."""

    positives: int
    found: int
    hidden: int
    look_alikes: int
    kept: int
    missed: list[str] = field(default_factory=list)
    """Texts of the positives not found exactly."""
    changed: list[str] = field(default_factory=list)
    """Look-alikes that were masked."""

    @property
    def recall(self) -> float:
        """Share of positives masked exactly."""
        return self.found / self.positives if self.positives else 1.0

    @property
    def hidden_recall(self) -> float:
        """Share of positives whose PII no longer appears."""
        return self.hidden / self.positives if self.positives else 1.0

    @property
    def look_alike_precision(self) -> float:
        """Share of look-alikes left unchanged."""
        return self.kept / self.look_alikes if self.look_alikes else 1.0

    @property
    def precision(self) -> float:
        """Positives masked over everything masked (positives and look-alikes)."""
        masked = self.hidden + (self.look_alikes - self.kept)
        return self.hidden / masked if masked else 1.0

    def line(self, name: str) -> str:
        return (
            f"{name}: recall {self.recall:.1%} ({self.found}/{self.positives} exact, "
            f"{self.hidden} hidden), look-alikes kept {self.look_alike_precision:.1%} "
            f"({self.kept}/{self.look_alikes}), precision {self.precision:.1%}"
        )


def score_corpus(corpus: Mapping[str, Any], masker: PiiMasker | None = None) -> CorpusScore:
    """Score ``masker`` (default settings if None) on a corpus read from YAML."""
    masker = masker or PiiMasker()
    found = hidden = 0
    missed: list[str] = []
    for case in corpus.get("positives") or []:
        text, pii = case["text"], case["pii"]
        out = masker.text(text)
        if out == text.replace(pii, masker.config.token(case["kind"])):
            found += 1
        else:
            missed.append(text)
        hidden += pii not in out
    look_alikes = list(corpus.get("negatives") or []) + list(corpus.get("look_alikes") or [])
    changed = [t for t in look_alikes if masker.text(t) != t]
    return CorpusScore(
        positives=len(corpus.get("positives") or []),
        found=found,
        hidden=hidden,
        look_alikes=len(look_alikes),
        kept=len(look_alikes) - len(changed),
        missed=missed,
        changed=changed,
    )
