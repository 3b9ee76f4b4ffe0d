"""PII masking on ingest: emails, phone numbers, payment card numbers, street addresses.

Each kind is a regular expression (cards also pass an issuer-prefix and a Luhn check) and a
replacement token (``[EMAIL]``, ``[PHONE]``, ``[CARD]``, ``[ADDRESS]``); a study chooses the
kinds and may rename the tokens (:class:`PiiConfig`). The patterns are tuned against the
corpus in ``tests/collect/pii_corpus.yaml``: positives to mask and look-alikes that must
stay (prices, order numbers, dates, ISBNs, product codes); docs/collect.md has the counts.

Cards also cover their security code and expiry when a keyword names them (``cvv 123``,
``exp 12/27``). URLs: the query values, the fragment and every path segment are masked, and
user:password is dropped; ``mailto:``, ``tel:``, ``sms:`` ... links become ``mailto:[EMAIL]``,
``tel:[PHONE]`` (other non-http schemes have all their text masked).

Known limits: phone numbers without separators are masked only with a leading ``+``; street
addresses are US/UK-style (a house number, capitalised street name words and a street
suffix) or a PO box; names of people are not masked.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field

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


# Every pattern runs in time linear in its input (tests/collect/test_pii_linear.py): runs are
# bounded ({0,63}: a local part or a domain label is at most 64 / 63 characters) or
# possessive (``\s*+``), so no start position rescans the text after it.
_EMAIL = re.compile(
    r"(?<![\w.+%'-])[A-Za-z0-9][A-Za-z0-9._%+'-]{0,63}@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,8}[A-Za-z]{2,24}(?![\w-])"
)
# +country, then (area) or area + separator, then two groups of 3-4 digits; or a + and 8-14
# digits in one run. Groups joined by one space, dot or hyphen.
_PHONE = re.compile(
    r"(?<![\w.+/-])(?<!\d[\s.-])(?:"
    r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)\s?|\d{2,4}[\s.-])\d{3,4}[\s.-]\d{3,4}"
    r"|\+\d{8,14}"
    r")(?![\w/-]|[.,]\d|[\s.-]\d)"
)
_CARD = re.compile(r"(?<![\w.-])\d(?:[ -]?\d){12,18}(?![\w-]|[.,]\d)")
_SUFFIXES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl"
    "|Terrace|Ter|Parkway|Pkwy|Circle|Cir|Highway|Hwy|Square|Sq|Close|Crescent|Cres"
)
_UNIT = r"(?:,?\s+(?:Apt|Apartment|Suite|Ste|Unit|Flat|#)\.?\s*#?[\w-]+)?"
_ADDRESS = re.compile(
    # 12 Main Street / 1600 N. Pennsylvania Ave NW, Apt 4B: capitalised name words; the
    # suffix must end the phrase (punctuation, end, a lowercase word, a unit or a direction),
    # so a title such as "6 Dining Place Mats" stays.
    rf"(?<![\w.-])\d{{1,6}}[A-Za-z]?(?:\s+[NSEW]\.?)?(?:\s+(?:[A-Z][A-Za-z'.-]*|\d+(?:st|nd|rd|th)))"
    rf"{{1,4}}\s+(?:{_SUFFIXES})\.?(?:\s+(?:NW|NE|SW|SE|N|S|E|W)\b)?{_UNIT}"
    r"(?=\s*$|\s*[,;:)\n]|\.(?:\s|$)|\s+[a-z])"
    # 12 main st (lowercase, typed): only where it ends the text or a clause
    rf"|(?<![\w.-])\d{{1,6}}(?:\s+[a-z]+){{1,3}}\s+(?:{_SUFFIXES.lower()})\.?{_UNIT}(?=\s*$|\s*[,;\n])"
    r"|\b(?:P\.?\s?O\.?\s?Box|PO Box)\s+\d{1,6}\b",
)
# A card's security code or expiry, named by a keyword: cvv 123, CVC: 1234, exp 12/27,
# expiry date 01/2029, valid thru 3-28. Only the value is replaced.
_CARD_EXTRA = re.compile(
    r"\b(?:cvv2?|cvc2?|csc|cid|security\s++code|card\s++code|exp(?:iry|iration|ires|\.)?"
    r"(?:\s++date)?|valid\s++(?:thru|through|until))\b\s*+(?:[:#.=]\s*+)?"
    r"(?P<value>(?:0?[1-9]|1[0-2])\s*+[/-]\s*+(?:\d{4}|\d{2})(?!\d)|\d{3,4}(?![\d/-]))",
    re.IGNORECASE,
)
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
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|6(?:011|5|4[4-9])|3(?:0[0-5]|[68])|35)")


TRUNCATED = "\u2026"
"""Ends a value that was cut to its length limit."""
_CUT_MARGIN = 256


@dataclass(frozen=True)
class ValueLimits:
    """Caps for nested metadata (element_meta, page_meta, products): the longest string and
    dict key kept (longer ones are cut and end with :data:`TRUNCATED`) and the deepest
    nesting kept (deeper dicts and lists become ``None``)."""

    string: int = 4_096
    key: int = 256
    depth: int = 16


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + TRUNCATED


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a run of digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _keep_key(token: str) -> Callable[[re.Match[str]], str]:
    """A replacement that keeps the keyword before the value (``cvv [CARD]``)."""

    def replace(m: re.Match[str]) -> str:
        return m[0][: m.start("value") - m.start()] + token

    return replace


def _is_card(text: str) -> bool:
    digits = re.sub(r"[ -]", "", text)
    if not 13 <= len(digits) <= 19 or not _CARD_PREFIX.match(digits):
        return False
    groups = re.split(r"[ -]", text)
    if len(groups) > 1 and len({len(g) for g in groups[:-1]}) > 2:
        return False  # e.g. 978-0-13-468599-1: not how cards are written
    return luhn_ok(digits)


class LruCache:
    """A small thread-safe least-recently-used map of text to text."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: str) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class PiiMasker:
    """Masks the configured kinds in text, URLs (query values) and JSON-like values."""

    def __init__(self, config: PiiConfig | None = None) -> None:
        self.config = config or PiiConfig()
        self.cache = LruCache()
        """Cleaned HTML by its markup (see :func:`._sanitize.clean_html`)."""
        steps: list[tuple[str, Callable[[str], str]]] = []
        kinds = set(self.config.kinds)
        # cards before phones (a card's digit groups look like a phone number)
        if "email" in kinds:
            steps.append(("email", self._sub(_EMAIL, "email")))
        if "card" in kinds:
            token = self.config.token("card")
            steps.append(
                ("card", lambda s: _CARD.sub(lambda m: token if _is_card(m[0]) else m[0], s))
            )
            steps.append(("card_extra", lambda s: _CARD_EXTRA.sub(_keep_key(token), s)))
        if "address" in kinds:
            steps.append(("address", self._sub(_ADDRESS, "address")))
        if "phone" in kinds:
            steps.append(("phone", self._sub(_PHONE, "phone")))
        self._steps = steps

    def _sub(self, pattern: re.Pattern[str], kind: str) -> Callable[[str], str]:
        token = self.config.token(kind)
        return lambda s: pattern.sub(token, s)

    def text(self, value: str, *, limit: int | None = None) -> str:
        """``value`` with every configured kind replaced by its token.

        With ``limit``, a longer value is cut to ``limit`` characters and ends with
        :data:`TRUNCATED`; the cut is made after masking a little more than ``limit``, so PII
        that straddles the cut is masked, not left half-visible."""
        if limit is not None and len(value) > limit:
            return self.text(value[: limit + _CUT_MARGIN])[:limit] + TRUNCATED
        for _, step in self._steps:
            value = step(value)
        return value

    def url(self, value: str) -> str:
        """A URL with its path segments, query-string values and fragment masked and any
        user:password dropped; contact links (``mailto:``, ``tel:`` ...) reduced to the
        scheme and a token; other non-http schemes masked as text."""
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
            masked = [(k, self.text(v)) for k, v in pairs]
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
        """Strings masked inside nested dicts and lists (element_meta, page_meta, products).

        ``limits`` caps each string and key (cut as :meth:`text` does) and the nesting depth
        (anything deeper becomes ``None``)."""
        return self._value(value, limits or ValueLimits(), 0)

    def _value(self, value: object, limits: ValueLimits, depth: int) -> object:
        if isinstance(value, str):
            return self.text(value, limit=limits.string)
        if depth >= limits.depth and isinstance(value, dict | list):
            return None
        if isinstance(value, dict):
            return {
                _cut(str(k), limits.key): self._value(v, limits, depth + 1)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self._value(v, limits, depth + 1) for v in value]
        return value
