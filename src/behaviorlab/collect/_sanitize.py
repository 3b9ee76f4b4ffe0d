"""Neutralise and mask captured HTML and events on ingest (stdlib :mod:`html.parser`).

HTML: ``<script>`` and ``<style>`` elements (with their content), ``<iframe>``, ``<object>``,
``<embed>``, ``<meta>`` (a refresh can carry a script URL), ``<base>``, ``<link>``, ``<svg>``
and ``<math>`` (their animation elements can set ``href`` to a script URL), event-handler
attributes (``on*``), attributes whose names are not plain names (``x"onmouseover``) and
``javascript:`` / ``vbscript:`` / ``data:text/html`` URLs are dropped; text nodes and the
values of text-bearing attributes (``value``, ``placeholder``, ``title``, ``alt``,
``aria-label``, ``content``, ``data-*``) are PII-masked; URL attributes (``href``, ``src``,
``action``) are masked as URLs (:meth:`PiiMasker.url`: path, query, fragment, contact
links). Structural attributes (``name``, ``id``, ``class``: OPeRA's semantic ids live in
``name``) stay as they are. The output is re-serialised with every text and attribute escaped.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Any

from behaviorlab.collect._events import CapturedEvent, RationaleEvent
from behaviorlab.collect._pii import TRUNCATED, PiiMasker, ValueLimits

_DROP_WITH_CONTENT = frozenset(
    {
        "script",
        "iframe",
        "frame",
        "object",
        "embed",
        "noscript",
        "template",
        "style",
        "meta",
        "base",
        "link",
        "svg",
        "math",
    }
)
_VOID = frozenset(
    {"area", "base", "br", "col", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
_URL_ATTRS = frozenset({"href", "src", "action", "formaction", "xlink:href", "poster", "srcset"})
_KEEP_ATTRS = frozenset({"name", "id", "class", "type", "role", "for", "tabindex", "lang"})
_ATTR_NAME = re.compile(r"^[a-z_][a-z0-9_.:-]{0,63}$")
_BAD_URL = re.compile(r"^\s*(?:javascript|vbscript|data\s*:\s*text/html)", re.IGNORECASE)
MAX_TEXT_NODE = 20_000
"""The longest text node kept; longer ones are cut and end with ``TRUNCATED``."""
MAX_ATTRIBUTE = 4_096
"""The longest attribute value kept (URL attributes: 8,192, as the event's ``url``)."""
MAX_URL_ATTRIBUTE = 8_192
META_LIMITS = ValueLimits()
"""Caps for element_meta, page_meta and products (strings, keys, nesting depth)."""


def _unsafe_url(value: str) -> bool:
    # browsers ignore control characters and whitespace inside the scheme: java\tscript:
    squeezed = re.sub(r"[\x00-\x20]", "", html.unescape(value))
    return bool(_BAD_URL.match(squeezed))


class _Cleaner(HTMLParser):
    def __init__(self, masker: PiiMasker) -> None:
        super().__init__(convert_charrefs=True)
        self.masker = masker
        self.out: list[str] = []
        self.skip_depth = 0
        self.skip_tag: str | None = None
        self.removed = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, closed=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], *, closed: bool) -> None:
        if self.skip_tag is not None:
            if tag == self.skip_tag and not closed:
                self.skip_depth += 1
            return
        if tag in _DROP_WITH_CONTENT:
            self.removed += 1
            if not closed and tag not in _VOID:
                self.skip_tag, self.skip_depth = tag, 1
            return
        parts = [tag]
        for name, value in attrs:
            kept = self._attribute(name, value)
            if kept is not None:
                parts.append(kept)
        self.out.append("<" + " ".join(parts) + (" />" if closed else ">"))

    def _attribute(self, name: str, value: str | None) -> str | None:
        if (
            not _ATTR_NAME.match(name)
            or name.startswith("on")
            or name in ("style", "srcdoc", "formaction")
        ):
            self.removed += 1
            return None
        if value is None:
            return name
        if name in _URL_ATTRS:
            if _unsafe_url(value):
                self.removed += 1
                return None
            value = self.masker.url(value)
            if len(value) > MAX_URL_ATTRIBUTE:
                value = value[:MAX_URL_ATTRIBUTE] + TRUNCATED
        elif name not in _KEEP_ATTRS:
            value = self.masker.text(value, limit=MAX_ATTRIBUTE)
        elif len(value) > MAX_ATTRIBUTE:
            value = value[:MAX_ATTRIBUTE] + TRUNCATED
        return f'{name}="{html.escape(value, quote=True)}"'

    def handle_endtag(self, tag: str) -> None:
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skip_tag = None
            return
        if tag in _DROP_WITH_CONTENT:
            return
        self.out.append(f"</{tag}>")

    def handle_data(self, data: str) -> None:
        if self.skip_tag is None:
            masked = self.masker.text(data, limit=MAX_TEXT_NODE)
            self.out.append(html.escape(masked, quote=False))

    def handle_comment(self, data: str) -> None:
        self.removed += 1  # comments can hide conditional scripts; drop them


def clean_html(markup: str, masker: PiiMasker) -> str:
    """``markup`` without scripts, handlers and script URLs, its text PII-masked.

    The extension snapshots the page at every action, so consecutive events often carry the
    same page: the last few hundred results are kept per masker (keyed by the markup)."""
    cached = masker.cache.get(markup)
    if cached is not None:
        return cached
    cleaner = _Cleaner(masker)
    cleaner.feed(markup)
    cleaner.close()
    out = "".join(cleaner.out)
    masker.cache.put(markup, out)
    return out


def clean_event(event: CapturedEvent, masker: PiiMasker) -> CapturedEvent:
    """The event as stored: HTML neutralised, free text, metadata and URL query masked."""
    changes: dict[str, Any] = {"url": masker.url(event.url)}
    if event.simplified_html is not None:
        changes["simplified_html"] = clean_html(event.simplified_html, masker)
    if event.input_text is not None:
        changes["input_text"] = masker.text(event.input_text)
    changes["element_meta"] = masker.value(_strip_meta(event.element_meta), limits=META_LIMITS)
    changes["page_meta"] = masker.value(event.page_meta, limits=META_LIMITS)
    if event.products is not None:
        changes["products"] = masker.value(event.products, limits=META_LIMITS)
    if event.semantic_id is not None:
        changes["semantic_id"] = masker.text(event.semantic_id)
    return event.model_copy(update=changes)


def _strip_meta(meta: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """element_meta without inline handlers or script URLs (it may carry attributes); nesting
    deeper than ``META_LIMITS.depth`` goes (the masker would drop it anyway)."""
    out: dict[str, Any] = {}
    if depth >= META_LIMITS.depth:
        return out
    for key, value in meta.items():
        if key.lower().startswith("on"):
            continue
        if isinstance(value, str) and _unsafe_url(value):
            continue
        out[key] = _strip_meta(value, depth + 1) if isinstance(value, dict) else value
    return out


def clean_rationale(item: RationaleEvent, masker: PiiMasker) -> RationaleEvent:
    return item.model_copy(update={"rationale": masker.text(item.rationale)})
