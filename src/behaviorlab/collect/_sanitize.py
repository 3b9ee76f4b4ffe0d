"""Neutralise and mask captured HTML and events on ingest.

HTML is sanitized by :func:`nh3.clean` (an allowlist sanitizer, html5ever's parser): only the
tags in :data:`ALLOWED_TAGS` stay (others are unwrapped, their text kept), ``<script>``,
``<style>``, ``<iframe>``, ``<object>``, ``<embed>``, ``<meta>``, ``<base>``, ``<link>``,
``<template>``, ``<noscript>``, ``<svg>`` and ``<math>`` go with their content, and only the
attributes in :data:`ALLOWED_ATTRIBUTES` plus ``data-*`` and ``aria-*`` stay: no event
handlers (``on*``), no ``style``, no attribute whose name is not a plain name
(``x"onmouseover``); URLs keep only the schemes in :data:`URL_SCHEMES` (``javascript:``,
``vbscript:``, ``data:`` go, however obfuscated: ``java&#09;script:``). Comments go.

PII: once nh3 has run, every kept attribute value is masked (:meth:`PiiMasker.text`, URL
attributes with :meth:`PiiMasker.url`: path, query, fragment, contact links), ``id``, ``for``,
``name`` and ``class`` included: a semantic id (``product_title``, ``cart.item``) has no PII
and stays as it is. The page's text is masked as one string with offsets mapped back to the
text nodes (:mod:`._sanitize_text`), so PII split across elements is caught. Text nodes are cut to
:data:`MAX_TEXT_NODE` characters and attribute values to :data:`MAX_ATTRIBUTE`
(:data:`MAX_URL_ATTRIBUTE` for URLs); element_meta, page_meta and products are capped by
:data:`META_LIMITS` (4,096-character strings, 256-character keys, 16 levels, 1,000 entries
per dict or list).
"""

from __future__ import annotations

import html
import re
from itertools import islice
from typing import Any

import nh3

from behaviorlab.collect._events import CapturedEvent, RationaleEvent
from behaviorlab.collect._pii import TRUNCATED, PiiMasker, ValueLimits
from behaviorlab.collect._sanitize_text import AttributeMask, mask_page


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DROP_WITH_CONTENT = _words(
    "script style iframe frame frameset object embed applet noscript noembed noframes "
    "template meta base link svg math xmp plaintext portal param"
)
"""Removed with everything inside them."""
ALLOWED_TAGS = _words(
    "a abbr address article aside b bdi bdo blockquote br button caption cite code col "
    "colgroup data dd del details dfn div dl dt em fieldset figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hgroup hr i img input ins kbd label legend li main mark menu "
    "meter nav ol optgroup option output p picture pre progress q rp rt ruby s samp search "
    "section select small span strong sub summary sup table tbody td textarea tfoot th "
    "thead time tr u ul var wbr"
)
"""Kept; any other tag is unwrapped (its text stays)."""
ALLOWED_ATTRIBUTES = _words(
    "name id class for type role tabindex lang dir title alt value placeholder label href "
    "src action method disabled checked selected readonly required multiple hidden colspan "
    "rowspan scope headers width height maxlength minlength min max step autocomplete "
    "datetime cite start reversed open"
)
"""Kept on every tag, with ``data-*`` and ``aria-*``."""
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel", "sms"})
_URL_ATTRIBUTES = frozenset({"href", "src", "action", "cite"})
_IDENTIFIERS = frozenset({"id", "for", "name", "class", "headers", "data-name"})
_BAD_URL = re.compile(r"^\s*(?:javascript|vbscript|data\s*:\s*text/html)", re.IGNORECASE)
MAX_TEXT_NODE = 20_000
"""The longest text node kept; longer ones are cut and end with ``TRUNCATED``."""
MAX_ATTRIBUTE = 4_096
"""The longest attribute value kept (URL attributes: 8,192, as the event's ``url``)."""
MAX_URL_ATTRIBUTE = 8_192
META_LIMITS = ValueLimits()
"""Caps for element_meta, page_meta and products (strings, keys, nesting depth, entries)."""


def _unsafe_url(value: str) -> bool:
    # browsers ignore control characters and whitespace inside the scheme: java\tscript:
    squeezed = re.sub(r"[\x00-\x20]", "", html.unescape(value))
    return bool(_BAD_URL.match(squeezed))


def _attribute_mask(masker: PiiMasker) -> AttributeMask:
    def mask(attribute: str, value: str) -> str:
        if attribute in _URL_ATTRIBUTES:
            masked = masker.url(value)
            cut = MAX_URL_ATTRIBUTE
            return masked if len(masked) <= cut else masked[:cut] + TRUNCATED
        if attribute in _IDENTIFIERS:
            return masker.identifier(value[:MAX_ATTRIBUTE])
        return masker.text(value, limit=MAX_ATTRIBUTE)

    return mask


_NH3_SETTINGS: dict[str, Any] = {
    "tags": set(ALLOWED_TAGS),
    "clean_content_tags": set(DROP_WITH_CONTENT),
    "attributes": {"*": set(ALLOWED_ATTRIBUTES)},
    "generic_attribute_prefixes": {"data-", "aria-"},
    "url_schemes": set(URL_SCHEMES),
    "strip_comments": True,
    "link_rel": None,
}


def clean_html(markup: str, masker: PiiMasker, *, remember: bool = True) -> str:
    """``markup`` without scripts, handlers and script URLs, its text and attributes
    PII-masked.

    nh3 does all the structural work (in Rust, with no Python call per attribute); the
    masking then reads its output once (:func:`._sanitize_text.mask_page`). The extension
    snapshots the page at every action, so consecutive events often carry the same page: with
    ``remember``, results are kept per masker (keyed by a hash of the markup, bounded in
    characters: :class:`._pii.LruCache`)."""
    cached = masker.cache.get(markup) if remember else None
    if cached is not None:
        return cached
    sanitized = nh3.clean(markup, **_NH3_SETTINGS)
    out = mask_page(sanitized, masker, MAX_TEXT_NODE, _attribute_mask(masker))
    if remember:
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
    for key, value in islice(meta.items(), META_LIMITS.items):
        if key.lower().startswith("on"):
            continue
        if isinstance(value, str) and _unsafe_url(value[: META_LIMITS.string + 256]):
            continue
        out[key] = _strip_meta(value, depth + 1) if isinstance(value, dict) else value
    return out


def clean_rationale(item: RationaleEvent, masker: PiiMasker) -> RationaleEvent:
    return item.model_copy(update={"rationale": masker.text(item.rationale)})
