"""PII masking of a sanitized page's text as one string, mapped back onto its text nodes.

The page's text nodes are read in document order and joined into one string: nodes
separated only by inline tags (``<b>``, ``<span>``, ``<a>`` ...) are joined directly, nodes
separated by any other tag get a newline between them. PII found in that string
(:meth:`._pii.PiiMasker.spans`) may cover several nodes: ``jane<b></b>.doe@example.com``,
or a card number's digit groups in separate ``<span>``s; its token goes where it starts and
the rest of it is removed from the nodes it runs into. Text nodes are cut to ``max_node``
characters after masking.

The input is the output of :func:`nh3.clean`, which serialises every tag with its attribute
values quoted and ``<``, ``>`` and ``&`` escaped, so the tags are exactly the ``<...>`` runs.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right

from behaviorlab.collect._pii import TRUNCATED, PiiMasker

_TAG = re.compile(r"(<[^>]*+>)")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


INLINE_TAGS = _words(
    "a abbr b bdi bdo cite code data del dfn em i ins kbd mark q s samp small span strong "
    "sub sup time u var wbr"
)
"""Tags that do not separate words: text on both sides is read as one run."""
_INLINE_TAG = re.compile(rf"</?(?:{'|'.join(sorted(INLINE_TAGS))})[\s/>]", re.IGNORECASE)


def mask_page_text(markup: str, masker: PiiMasker, max_node: int) -> str:
    """``markup`` (nh3's output) with PII masked across its text nodes."""
    parts = _TAG.split(markup)  # text, tag, text, tag, ..., text
    where: list[int] = []  # index in parts of each non-empty text node
    starts: list[int] = []  # its offset in the joined text
    texts: list[str] = []  # its text, unescaped
    joined: list[str] = []
    length = 0
    block = False
    for i in range(0, len(parts), 2):
        raw = parts[i]
        if raw:
            if block and length:
                joined.append("\n")
                length += 1
            text = html.unescape(raw) if "&" in raw else raw
            where.append(i)
            starts.append(length)
            texts.append(text)
            joined.append(text)
            length += len(text)
            block = False
        if not block and i + 1 < len(parts):
            block = _INLINE_TAG.match(parts[i + 1]) is None
    edits: dict[int, list[tuple[int, int, str]]] = {}
    for start, end, kind in masker.spans("".join(joined)):
        k = max(bisect_right(starts, start) - 1, 0)
        token = masker.config.token(kind)
        while k < len(texts) and starts[k] < end:
            lo = max(start - starts[k], 0)
            hi = min(end - starts[k], len(texts[k]))
            if hi > lo or token:
                edits.setdefault(k, []).append((lo, max(hi, lo), token))
                token = ""
            k += 1
    for k, text in enumerate(texts):
        if k in edits or len(text) > max_node:
            parts[where[k]] = html.escape(_apply(text, edits.get(k, []), max_node), quote=False)
    return "".join(parts)


def _apply(text: str, edits: list[tuple[int, int, str]], max_node: int) -> str:
    out: list[str] = []
    at = 0
    for lo, hi, replacement in edits:
        out += [text[at:lo], replacement]
        at = hi
    out.append(text[at:])
    masked = "".join(out)
    return masked if len(masked) <= max_node else masked[:max_node] + TRUNCATED
