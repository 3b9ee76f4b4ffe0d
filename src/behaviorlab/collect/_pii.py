"""PII masking on ingest: emails, phone numbers, payment card numbers, street addresses.

Each kind has a linear-time finder (:mod:`._pii_patterns`: a pattern and a check of each
candidate: cards pass an issuer prefix and a Luhn check, phones a numbering-plan check) and a
replacement token (``[EMAIL]``, ``[PHONE]``, ``[CARD]``, ``[ADDRESS]``); a study chooses the
kinds and may rename the tokens (:class:`PiiConfig`). The finders are tuned against the
corpus in ``tests/collect/pii_corpus.yaml`` (positives to mask and look-alikes that must
stay: prices, order numbers, dates, ISBNs, product codes) and scored on a held-out corpus,
``pii_corpus_heldout.yaml``; docs/collect.md has the counts.

Cards also cover their security code and expiry when a keyword names them (``cvv 123``,
``exp 12/27``). URLs: the query keys and values, the fragment and every path segment are
masked, and user:password is dropped; ``mailto:``, ``tel:``, ``sms:`` ... links become
``mailto:[EMAIL]``, ``tel:[PHONE]`` (other non-http schemes have all their text masked).
Nested values (:meth:`PiiMasker.value`, :func:`mask_value`) have their dict keys masked too.

Known limits: phone numbers without separators are masked only with a leading ``+``; a phone
number must fit a North American, international (``+``) or trunk-``0`` national plan; street
addresses are US/UK-style (a house number, street name words and a street suffix in one
case, ending the phrase) or a PO box, so "1200 Getty Center Drive Los Angeles" is missed and
"4 Abbey Road Posters" is masked; a city is masked only with its state and ZIP code; names
of people are not masked.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field

from behaviorlab.collect._pii_patterns import Span, find_spans, maybe_pii
from behaviorlab.collect._pii_patterns import luhn_ok as luhn_ok

PiiKind = Literal["email", "phone", "card", "address"]
PII_KINDS: tuple[PiiKind, ...] = ("email", "phone", "card", "address")
DEFAULT_TOKENS: dict[str, str] = {
    "email": "[EMAIL]",
    "phone": "[PHONE]",
    "card": "[CARD]",
    "address": "[ADDRESS]",
}


class PiiConfig(BaseModel):
    """Which kinds of PII a study masks, and the token each is replaced with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kinds: tuple[PiiKind, ...] = Field(default=PII_KINDS, description="Kinds to mask.")
    tokens: dict[str, str] = Field(
        default_factory=dict, description="Kind → replacement token (default [EMAIL] ...)."
    )

    def token(self, kind: str) -> str:
        return self.tokens.get(kind, DEFAULT_TOKENS[kind])


# Link schemes that carry one kind of contact data: the whole address is replaced.
_CONTACT_SCHEMES: dict[str, str] = {
    "mailto": "email",
    "tel": "phone",
    "sms": "phone",
    "callto": "phone",
    "facetime": "phone",
    "facetime-audio": "phone",
}
_SEGMENT_SAFE = "[]@:+,;=!$&'()*~"


TRUNCATED = "\u2026"
"""Ends a value that was cut to its length limit."""
_CUT_MARGIN = 256
_SHORT = 256
_JOINERS = re.compile(r"[-_]")
_SHORT_ENTRIES = 8_192


@dataclass(frozen=True)
class ValueLimits:
    """Caps for nested metadata (element_meta, page_meta, products): the longest string and
    dict key kept (longer ones are cut and end with :data:`TRUNCATED`), the deepest nesting
    kept (deeper dicts and lists become ``None``) and the most entries of a dict or list."""

    string: int = 4_096
    key: int = 256
    depth: int = 16
    items: int = 1_000
    """The most entries kept of one dict or list (the first ones)."""


CACHE_CHARS = 32 * 1024 * 1024
"""The most characters of cleaned pages one :class:`LruCache` holds (about 32-128 MB)."""


class LruCache:
    """A thread-safe least-recently-used map of text to text, bounded both in entries
    (``size``) and in the characters of the values it holds (``max_chars``). Keys are kept as
    their BLAKE2b digest, so a long key (a 2 M-character page) costs 16 bytes; a value longer
    than ``max_chars`` is not kept."""

    def __init__(self, size: int = 256, max_chars: int = CACHE_CHARS) -> None:
        self.size, self.max_chars = size, max_chars
        self.chars = 0
        self._items: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(key: str) -> bytes:
        return hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def get(self, key: str) -> str | None:
        digest = self._key(key)
        with self._lock:
            value = self._items.get(digest)
            if value is not None:
                self._items.move_to_end(digest)
            return value

    def put(self, key: str, value: str) -> None:
        if len(value) > self.max_chars:
            return
        digest = self._key(key)
        with self._lock:
            old = self._items.pop(digest, None)
            if old is not None:
                self.chars -= len(old)
            self._items[digest] = value
            self.chars += len(value)
            while len(self._items) > self.size or self.chars > self.max_chars:
                self.chars -= len(self._items.popitem(last=False)[1])

    def __len__(self) -> int:
        return len(self._items)


class PiiMasker:
    """Masks the configured kinds in text, URLs (query values) and JSON-like values."""

    def __init__(self, config: PiiConfig | None = None) -> None:
        self.config = config or PiiConfig()
        self.cache = LruCache()
        """Cleaned HTML by (a hash of) its markup, bounded in characters (see
        :func:`._sanitize.clean_html`)."""
        self._kinds = tuple(k for k in PII_KINDS if k in self.config.kinds)
        # masked short strings (attribute values, URLs: a page repeats its class names, ids
        # and links), emptied when full; a lost entry under threads only costs a recompute
        self._short: dict[tuple[str, str], str] = {}

    def spans(self, value: str) -> list[Span]:
        """Where the configured kinds of PII are in ``value``: sorted, non-overlapping
        ``(start, end, kind)`` spans."""
        return find_spans(value, self._kinds)

    def text(self, value: str, *, limit: int | None = None) -> str:
        """``value`` with every configured kind replaced by its token.

        With ``limit``, a longer value is cut to ``limit`` characters and ends with
        :data:`TRUNCATED`; the cut is made after masking a little more than ``limit``, so PII
        that straddles the cut is masked, not left half-visible."""
        if limit is not None and len(value) > limit:
            return self.text(value[: limit + _CUT_MARGIN])[:limit] + TRUNCATED
        if len(value) <= _SHORT:
            return self._remember("text", value, self._text)
        return self._text(value)

    def _remember(self, how: str, value: str, mask: Callable[[str], str]) -> str:
        key = (how, value)
        masked = self._short.get(key)
        if masked is None:
            masked = mask(value)
            if len(self._short) >= _SHORT_ENTRIES:
                self._short.clear()
            self._short[key] = masked
        return masked

    def identifier(self, value: str) -> str:
        """An id, name or class value masked as text, and also with ``-`` and ``_`` read as
        spaces (``contact-604-555-0148``, ``card_4111111111111111``): an identifier's words
        are joined that way, and no finder starts a match right after them."""
        if len(value) <= _SHORT:
            return self._remember("identifier", value, self._identifier)
        return self._identifier(value)

    def _identifier(self, value: str) -> str:
        if not maybe_pii(value):
            return value
        spans = self.spans(value)
        spaced = _JOINERS.sub(" ", value)  # the same length: offsets hold
        if spaced != value:
            for span in self.spans(spaced):
                if all(span[1] <= s[0] or s[1] <= span[0] for s in spans):
                    spans.append(span)
            spans.sort()
        return self._apply(value, spans)

    def _text(self, value: str) -> str:
        return self._apply(value, self.spans(value))

    def _apply(self, value: str, spans: list[Span]) -> str:
        if not spans:
            return value
        parts: list[str] = []
        at = 0
        for start, end, kind in spans:
            parts += [value[at:start], self.config.token(kind)]
            at = end
        parts.append(value[at:])
        return "".join(parts)

    def url(self, value: str) -> str:
        """A URL with its path segments, query-string keys and values and fragment masked, any
        user:password dropped; contact links (``mailto:``, ``tel:`` ...) reduced to the
        scheme and a token; other non-http schemes masked as text."""
        if len(value) <= _SHORT:
            return self._remember("url", value, self._url)
        return self._url(value)

    def _url(self, value: str) -> str:
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:
            return self.text(value)
        scheme = parts.scheme.lower()
        if scheme not in ("", "http", "https"):
            kind = _CONTACT_SCHEMES.get(scheme)
            if kind is not None and kind in self.config.kinds:
                return f"{parts.scheme}:{self.config.token(kind)}"
            return self.text(unquote(value))
        netloc = parts.netloc.rpartition("@")[2] if host is not None else parts.netloc
        path = "/".join(self._segment(seg) for seg in parts.path.split("/"))
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            masked = [(self.text(k), self.text(v)) for k, v in pairs]
            if masked != pairs:
                query = urlencode(masked)
        fragment = self.text(parts.fragment) if parts.fragment else parts.fragment
        if (netloc, path, query, fragment) == (
            parts.netloc,
            parts.path,
            parts.query,
            parts.fragment,
        ):
            return value
        return urlunsplit(parts._replace(netloc=netloc, path=path, query=query, fragment=fragment))

    def _segment(self, segment: str) -> str:
        if not segment:
            return segment
        raw = unquote(segment)
        masked = self.text(raw)
        return segment if masked == raw else quote(masked, safe=_SEGMENT_SAFE)

    def value(self, value: object, *, limits: ValueLimits | None = None) -> object:
        """Strings and dict keys masked inside nested dicts and lists (element_meta,
        page_meta, products, questionnaire answers); keys that mask to the same text are
        told apart by ``#2``, ``#3`` ...

        ``limits`` caps each string and key (cut as :meth:`text` does), the nesting depth
        (anything deeper becomes ``None``) and the entries of each dict and list."""
        return self._value(value, limits or ValueLimits(), 0)

    def _value(self, value: object, limits: ValueLimits, depth: int) -> object:
        if isinstance(value, str):
            return self.text(value, limit=limits.string)
        if depth >= limits.depth and isinstance(value, dict | list):
            return None
        if isinstance(value, dict):
            out: dict[str, object] = {}
            for k, v in islice(value.items(), limits.items):
                key = self.text(str(k), limit=limits.key)
                if key in out:  # two keys masked to the same token: keep both values
                    key = next(
                        f"{key}#{i}" for i in range(2, len(out) + 3) if f"{key}#{i}" not in out
                    )
                out[key] = self._value(v, limits, depth + 1)
            return out
        if isinstance(value, list):
            return [self._value(v, limits, depth + 1) for v in value[: limits.items]]
        return value


def mask_value(value: object, masker: PiiMasker | None = None) -> object:
    """``value`` (a str, or dicts and lists nesting them) with PII masked in every string and
    dict key, cut to :class:`ValueLimits`' defaults (for questionnaire answers of any kind)."""
    return (masker or PiiMasker()).value(value)
