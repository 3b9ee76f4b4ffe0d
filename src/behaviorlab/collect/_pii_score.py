"""Precision and recall of a :class:`._pii.PiiMasker` on a labelled corpus.

A corpus (YAML, as ``tests/collect/pii_corpus.yaml``) has ``positives`` (``text`` holding
``pii``, the exact span to mask, of ``kind``) and look-alikes (``negatives`` or
``look_alikes``: text that must come back unchanged). A positive is *found* when the masked
text is the text with exactly that span replaced by its kind's token, *hidden* when the PII no
longer appears in it (a wider or narrower span, or another kind's token); a look-alike is
*kept* when it comes back unchanged.

A corpus may also hold PII *in context*, scored as hidden or not: ``html`` (``pii`` must not
appear in the cleaned page, :func:`._sanitize.clean_html`), ``keys`` (a dict key holding
``pii``: found when the key masks exactly, hidden when the PII is gone) and ``urls`` (``pii``
must not appear in the masked URL, percent-decoded); and their look-alikes:
``html_look_alikes`` (``keep`` must still appear in the cleaned page), ``key_look_alikes``
and ``url_look_alikes`` (unchanged).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from behaviorlab.collect._pii import PiiMasker
from behaviorlab.collect._sanitize import clean_html


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
    in_context: int = 0
    """PII in markup, dict keys and URLs."""
    in_context_hidden: int = 0
    context_look_alikes: int = 0
    context_kept: int = 0
    context_missed: list[str] = field(default_factory=list)
    context_changed: list[str] = field(default_factory=list)

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

    @property
    def context_recall(self) -> float:
        """Share of the PII in markup, keys and URLs that no longer appears."""
        return self.in_context_hidden / self.in_context if self.in_context else 1.0

    @property
    def context_look_alike_precision(self) -> float:
        """Share of the look-alikes in markup, keys and URLs left as they were."""
        return self.context_kept / self.context_look_alikes if self.context_look_alikes else 1.0

    def line(self, name: str) -> str:
        text = (
            f"{name}: recall {self.recall:.1%} ({self.found}/{self.positives} exact, "
            f"{self.hidden} hidden), look-alikes kept {self.look_alike_precision:.1%} "
            f"({self.kept}/{self.look_alikes}), precision {self.precision:.1%}"
        )
        if self.in_context or self.context_look_alikes:
            text += (
                f"; in html/keys/urls: hidden {self.context_recall:.1%} "
                f"({self.in_context_hidden}/{self.in_context}), look-alikes kept "
                f"{self.context_look_alike_precision:.1%} "
                f"({self.context_kept}/{self.context_look_alikes})"
            )
        return text


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
    context_missed, context_changed, in_context, context_look_alikes = _score_context(
        corpus, masker
    )
    return CorpusScore(
        positives=len(corpus.get("positives") or []),
        found=found,
        hidden=hidden,
        look_alikes=len(look_alikes),
        kept=len(look_alikes) - len(changed),
        missed=missed,
        changed=changed,
        in_context=in_context,
        in_context_hidden=in_context - len(context_missed),
        context_look_alikes=context_look_alikes,
        context_kept=context_look_alikes - len(context_changed),
        context_missed=context_missed,
        context_changed=context_changed,
    )


def _masked_key(key: str, masker: PiiMasker) -> str:
    masked = masker.value({key: 1})
    assert isinstance(masked, dict)
    return str(next(iter(masked)))


def _score_context(
    corpus: Mapping[str, Any], masker: PiiMasker
) -> tuple[list[str], list[str], int, int]:
    """The context cases missed and look-alikes changed, and how many of each there are."""
    missed: list[str] = []
    changed: list[str] = []
    html = list(corpus.get("html") or [])
    keys = list(corpus.get("keys") or [])
    urls = list(corpus.get("urls") or [])
    missed += [c["html"] for c in html if c["pii"] in clean_html(c["html"], masker)]
    missed += [c["key"] for c in keys if c["pii"] in _masked_key(c["key"], masker)]
    missed += [c["url"] for c in urls if c["pii"] in unquote_plus(masker.url(c["url"]))]
    html_like = list(corpus.get("html_look_alikes") or [])
    key_like = list(corpus.get("key_look_alikes") or [])
    url_like = list(corpus.get("url_look_alikes") or [])
    changed += [c["html"] for c in html_like if c["keep"] not in clean_html(c["html"], masker)]
    changed += [k for k in key_like if _masked_key(k, masker) != k]
    changed += [u for u in url_like if masker.url(u) != u]
    return (
        missed,
        changed,
        len(html) + len(keys) + len(urls),
        len(html_like) + len(key_like) + len(url_like),
    )
