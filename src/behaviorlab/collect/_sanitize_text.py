"""PII masking of a sanitized page (nh3's output): its attribute values, and its text as one
string mapped back onto its text nodes.

The input is the output of :func:`nh3.clean`, which serialises every tag with its attribute
values double-quoted and ``&``, ``<``, ``>`` (and ``"`` in attributes) escaped, so the tags are
exactly the ``<...>`` runs and each attribute is ``name="value"`` inside one. Both passes read
that output once, with regular expressions in C, and do Python work only where there is
something to mask:

- **attributes**: each distinct ``(name, value)`` pair of the page is masked once by the
  caller's function (:func:`._sanitize.clean_html` masks URLs, identifiers and other values
  differently and cuts them to length); tags are rewritten only when a value changed.
- **text**: the page's text nodes are read in document order and joined into one string:
  nodes separated only by inline tags (``<b>``, ``<span>``, ``<a>`` ...) are joined directly,
  nodes separated by any other tag get a newline between them. PII found in that string
  (:meth:`._pii.PiiMasker.spans`) may cover several nodes: ``jane<b></b>.doe@example.com``, or
  a card number's digit groups in separate ``<span>``s; its token goes where it starts and the
  rest of it is removed from the nodes it runs into. Text nodes are cut to ``max_node``
  characters after masking. A page whose joined text has no PII and no long node comes back
  as it is, without the per-node mapping.
"""

from __future__ import annotations

import html
import re
from bisect import bisect_right
from collections.abc import Callable

from behaviorlab.collect._pii import TRUNCATED, PiiMasker
from behaviorlab.collect._pii_patterns import Span

_TAG = re.compile(r"(<[^>]*+>)")
_ATTRIBUTE = re.compile(r' ([^\s"=>]++)="([^"]*+)"')
AttributeMask = Callable[[str, str], str]
"""``(attribute name, unescaped value) -> masked value``."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


INLINE_TAGS = _words(
    "a abbr b bdi bdo cite code data del dfn em i ins kbd mark q s samp small span strong "
    "sub sup time u var wbr"
)
"""Tags that do not separate words: text on both sides is read as one run."""
_INLINE_NAMES = "|".join(sorted(INLINE_TAGS))
_INLINE_TAG = re.compile(rf"</?(?:{_INLINE_NAMES})[\s/>]", re.IGNORECASE)
_INLINE_TAG_WHOLE = re.compile(rf"</?(?:{_INLINE_NAMES})(?=[\s/>])[^>]*+>", re.IGNORECASE)
_TAG_RUN = re.compile(r"(?:<[^>]*+>)++")


def mask_page(markup: str, masker: PiiMasker, max_node: int, attribute: AttributeMask) -> str:
    """``markup`` (nh3's output) with its attribute values masked by ``attribute`` and PII
    masked across its text nodes (cut to ``max_node`` characters)."""
    return mask_page_text(mask_attributes(markup, attribute), masker, max_node)


def mask_attributes(markup: str, attribute: AttributeMask) -> str:
    """``markup`` with each attribute value replaced by ``attribute(name, value)``."""
    parts = _TAG.split(markup)  # text, tag, text, tag, ..., text
    changed: dict[tuple[str, str], str] = {}
    for name, raw in set(_ATTRIBUTE.findall("".join(parts[1::2]))):
        value = html.unescape(raw) if "&" in raw else raw
        masked = attribute(name, value)
        if masked != value:
            changed[(name, raw)] = html.escape(masked, quote=True)
    if not changed:
        return markup

    def put(m: re.Match[str]) -> str:
        new = changed.get((m[1], m[2]))
        return m[0] if new is None else f' {m[1]}="{new}"'

    for i in range(1, len(parts), 2):
        if '="' in parts[i]:
            parts[i] = _ATTRIBUTE.sub(put, parts[i])
    return "".join(parts)


def joined_text(markup: str) -> str:
    """The page's text as :func:`mask_page_text` reads it (inline tags join, others put a
    newline between text nodes), built without a loop over the nodes."""
    blocks = _INLINE_TAG_WHOLE.sub("", markup)
    text = _TAG_RUN.sub("\n", blocks)
    if blocks.startswith("<"):
        text = text[1:]
    if blocks.endswith(">"):
        text = text[:-1]
    return html.unescape(text) if "&" in text else text


def mask_page_text(markup: str, masker: PiiMasker, max_node: int) -> str:
    """``markup`` (nh3's output) with PII masked across its text nodes."""
    text = joined_text(markup)
    spans = masker.spans(text)
    if not spans and len(text) <= max_node:
        return markup  # no PII and no node to cut (no node is longer than the whole text)
    return _mask_nodes(markup, masker, max_node, spans)


def text_nodes(markup: str) -> tuple[list[str], list[int], list[int], list[str]]:
    """nh3's output split at its tags (text, tag, ..., text), and for each non-empty text
    node: its index in that list, its offset in the joined text and its unescaped text."""
    parts = _TAG.split(markup)  # text, tag, text, tag, ..., text
    where: list[int] = []  # index in parts of each non-empty text node
    starts: list[int] = []  # its offset in the joined text
    texts: list[str] = []  # its text, unescaped
    length = 0
    block = False
    for i in range(0, len(parts), 2):
        raw = parts[i]
        if raw:
            if block and length:
                length += 1  # the newline between blocks
            text = html.unescape(raw) if "&" in raw else raw
            where.append(i)
            starts.append(length)
            texts.append(text)
            length += len(text)
            block = False
        if not block and i + 1 < len(parts):
            block = _INLINE_TAG.match(parts[i + 1]) is None
    return parts, where, starts, texts


def _mask_nodes(markup: str, masker: PiiMasker, max_node: int, spans: list[Span]) -> str:
    parts, where, starts, texts = text_nodes(markup)
    edits: dict[int, list[tuple[int, int, str]]] = {}
    for start, end, kind in spans:
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
