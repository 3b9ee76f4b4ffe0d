"""The PII finders: a linear-time pattern per kind and a check of each candidate it finds.

:func:`find_spans` returns where the PII is in a text, as ``(start, end, kind)`` spans that do
not overlap; :class:`._pii.PiiMasker` replaces them with tokens, and :mod:`._sanitize_text`
maps them back onto an HTML page's text nodes. Kinds are found in the order emails, cards
(with security codes and expiry dates named by a keyword), addresses, phones: a span of an
earlier kind wins over a later kind's overlapping one (a card's digit groups look like a
phone number).

Every pattern runs in time linear in its input (tests/collect/test_pii_linear.py): runs are
bounded (``{0,63}``) or possessive (``*+``), and lookbehinds keep a match from starting
inside a run another start already scanned.

- **email**: a local part of letters in any script, digits and ``._%+'-`` (at most 64), an
  ``@``, up to 8 domain labels in any script and a top-level domain of letters; a file name
  such as ``logo@2x.png`` is not an email.
- **card**: 13-19 digits in groups of at least 3 (or Diners' 4-4-4-2), one kind of separator
  between them (space, no-break or thin space, dot, slash, hyphen, or two spaces), an
  issuer's prefix and a valid Luhn checksum; not after a ``+`` (a phone number).
- **address**: a house number, up to four street-name words and a street suffix, all in title
  case, all in capitals or all in lower case, ending the phrase (punctuation, the end, a lower
  case word, a city and state; after Street / Avenue / Road / Boulevard / Lane / Drive also
  one city word, or two when the first starts many cities (Los Angeles, San Jose), ending the
  clause); optionally a direction (``NW``, ``South``), a unit (``Apt 4B``, ``#12``) and a US
  city, state and ZIP code (with or without commas); not when a count or size word follows
  the number (``3 Pack``, ``500 GB``) or a storage word precedes Drive (``Hard Drive``); a
  street in any case after a cue (``ship to``, ``I live at``, ``address:``); a PO box; a
  French, Spanish, Portuguese or Italian street with its number first or last (``15 Rue de
  la Paix``, ``Calle Mayor 14``), a German one (``Hauptstraße 5``, ``Berliner Straße 12``).
- **phone**: digit groups joined by one separator (or a parenthesised group), checked as one
  of: ``+`` (or ``00``) and a country code with 8-15 digits in all; a North American number
  (optionally led by ``1``); a national number with its trunk ``0`` and 10-11 digits (UK,
  France, Germany, Australia ...), or 12 as an area code and a number (German landlines),
  a ``/`` allowed after the area code (``030/1234567``).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from itertools import pairwise

Span = tuple[int, int, str]
"""``(start, end, kind)`` of one piece of PII in a text."""

# --- email ------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+%-])[^\W_][\w.%+'-]{0,63}@"
    r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.){1,8}(?P<tld>[^\W\d_]{2,24})(?!\w)"
)
# fmt: off
_FILE_EXTENSIONS = frozenset((
    "png", "jpg", "jpeg", "gif", "webp", "svg", "avif", "bmp", "ico", "tif", "tiff", "heic",
    "css", "js", "mjs", "json", "html", "htm", "pdf",
))
# fmt: on


def _emails(text: str) -> Iterator[Span]:
    for m in _EMAIL.finditer(text):
        if m["tld"].lower() not in _FILE_EXTENSIONS:
            yield m.start(), m.end(), "email"


# --- card -------------------------------------------------------------------------------------

_CARD_SEPARATOR = "[ \u00a0\u2007\u2009\u202f./-]"
_CARD = re.compile(rf"(?<![\w.,/+-])\d(?:{_CARD_SEPARATOR}{{0,2}}\d){{12,18}}(?![\w-]|[.,/]\d)")
_CARD_GAP = re.compile(rf"{_CARD_SEPARATOR}+")
_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|6(?:011|5|4[4-9]|2)|3(?:0[0-5]|[68])|35)")
# A card's security code or expiry, named by a keyword: cvv 123, CVC: 1234, exp 12/27,
# expiry date 01/2029, valid thru 3-28. Only the value is masked.
_CARD_EXTRA = re.compile(
    r"\b(?:cvv2?|cvc2?|csc|cid|security\s++code|card\s++code|exp(?:iry|iration|ires|\.)?"
    r"(?:\s++date)?|valid\s++(?:thru|through|until))\b\s*+(?:[:#.=]\s*+)?"
    r"(?P<value>(?:0?[1-9]|1[0-2])\s*+[/-]\s*+(?:\d{4}|\d{2})(?!\d)|\d{3,4}(?![\d/-]))",
    re.IGNORECASE,
)


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a run of digits."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def is_card(text: str) -> bool:
    """Whether a run of digit groups is written as a payment card number is."""
    groups = _CARD_GAP.split(text)
    gaps = set(_CARD_GAP.findall(text))
    digits = "".join(groups)
    if not 13 <= len(digits) <= 19 or not _CARD_PREFIX.match(digits) or len(gaps) > 1:
        return False
    if len(groups) > 1:
        lengths = [len(g) for g in groups]
        # 4-4-4-4, 4-6-5, 4-6-4, 4-4-4-4-3; not 978-0-13-468599-1 (an ISBN)
        # and Diners' 14 digits as 4-4-4-2
        diners = lengths == [4, 4, 4, 2]
        if (min(lengths) < 3 and not diners) or len(groups) > 5 or len(set(lengths[:-1])) > 2:
            return False
    return luhn_ok(digits)


def _cards(text: str) -> Iterator[Span]:
    for m in _CARD.finditer(text) if len(text) >= 13 else ():
        if is_card(m[0]):
            yield m.start(), m.end(), "card"
    for m in _CARD_EXTRA.finditer(text):
        yield m.start("value"), m.end("value"), "card"


# --- address ----------------------------------------------------------------------------------

# fmt: off
_STREETS_STRONG = ("Street", "Avenue", "Road", "Boulevard", "Lane", "Drive")
_STRONG_ABBREVIATIONS = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr")
_STREETS = (
    "Court", "Way", "Place", "Terrace", "Parkway", "Circle", "Highway", "Square",
    "Close", "Crescent", "Loop", "Trail", "Mews", "Grove", "Plaza", "Alley", "Expressway",
    "Turnpike",
)
_ABBREVIATIONS = (
    "Ct", "Pl", "Ter", "Pkwy", "Cir", "Hwy", "Sq", "Cres", "Trl", "Expy", "Tpke",
)
_STATES = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN",
    "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV",
    "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN",
    "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC", "PR", "GU", "VI", "AS", "MP",
)
_UNITS = ("Apt", "Apartment", "Suite", "Ste", "Unit", "Flat")
_DIRECTIONS = (
    "North", "South", "East", "West", "Northeast", "Northwest", "Southeast", "Southwest",
)
_CITY_FIRST = (
    "Los", "Las", "San", "Santa", "New", "Fort", "Saint", "St", "El", "Palo", "Salt", "Long",
    "Grand", "Baton", "Beverly", "Little", "Ann", "Des", "Oklahoma", "Kansas", "Sioux",
    "Cedar", "Green", "Colorado", "Palm", "Menlo", "Daly", "Coral", "Costa", "Virginia",
    "Jersey", "Mexico", "Rio", "Corpus", "Cape", "Bowling", "Glen", "Mount",
)
# A number then one of these is a product (3 Pack Flash Drive, 500 GB Solid State Drive,
# 4 Port USB Hub Court); a street's first word is none of them
_PRODUCT_WORDS = (
    "Pack", "Packs", "Piece", "Pieces", "Pc", "Pcs", "Pk", "Port", "Ports", "Tier", "Foot",
    "Feet", "Inch", "Inches", "In", "Count", "Ct", "GB", "TB", "MB", "Slot", "Speed", "Gang",
    "Seat", "Seater", "Person", "Drawer", "Shelf", "Layer", "Ply", "Gallon", "Quart", "Oz",
    "Lb", "Lbs", "Watt", "Volt", "Channel", "Player", "Cup", "Set", "Sets", "Pair", "Pairs",
    "Days", "Year", "Years", "Hour", "Hours", "Week", "Weeks", "Wheel", "Wheeler", "Burner",
    "Button", "Blade", "Hole", "Pin", "Prong", "Outlet", "Socket", "String", "Strand",
    "Section", "Panel", "Cubic", "Things", "Ways", "Step", "Steps", "Color", "Colors",
    "Colour", "Colours", "Roll", "Rolls", "Sheet", "Sheets", "Box", "Boxes", "Bottle",
    "Bottles", "Can", "Cans", "Bag", "Bags", "Tablet", "Tablets", "Capsule", "Capsules",
)
_DRIVE_PRODUCTS = (
    "Hard", "Flash", "Disk", "Disc", "Thumb", "USB", "Pen", "State", "Optical", "Test",
    "Tape", "Floppy", "External", "Network", "Zip", "Jump", "Cloud",
)
# fmt: on


def _street(word: str, ordinal: str, case: str, *, strong: bool) -> str:
    """One case of the street pattern: words, suffixes and units in that case. ``strong``:
    the suffixes that name a street outright (Street, Avenue, Road, Boulevard, Lane), which
    may also end the address before a one-word city at the end of a clause
    (``15 Pine Street Boston``); a product title such as ``2 Way Street Sign Decor`` has two
    words after it and stays."""

    def cased(words: Iterable[str]) -> str:
        shown = [
            w.upper() if case == "upper" else w.lower() if case == "lower" else w for w in words
        ]
        return "|".join(shown)

    full, short = (_STREETS_STRONG, _STRONG_ABBREVIATIONS) if strong else (_STREETS, _ABBREVIATIONS)
    # a dot after an abbreviation is part of it (Rd.); after a full word it ends the sentence
    suffix = rf"(?:{cased(full)}|(?:{cased(short)})\.?)"
    sp = r"[ \t\u00a0]{1,3}"
    direction = r"[NSEW]{1,2}\.?" if case != "lower" else r"[nsew]{1,2}\.?"
    unit = rf"(?:,?{sp}(?:{cased(_UNITS)}|\#)\.?(?:{sp})?\#?[\w-]{{1,8}})?"
    state = cased(_STATES) if case != "title" else "|".join(_STATES)
    city_word = word.replace("{0,30}", "{1,30}")
    city = rf"{city_word}(?:{sp}{city_word}){{0,2}}"
    zip_code = r"\d{5}(?:-\d{4})?(?![\w-])"
    place = rf",?\s{{1,3}}{city},?{sp}(?:{state}){sp}{zip_code}"
    post = f"(?:{cased(_DIRECTIONS)}|NW|NE|SW|SE|N|S|E|W)"
    if case == "lower":
        post = post.lower()
    clause_end = r"(?:\s*$|\s*[,;:)\n]|\.(?:\s|$))"
    ends = [r"\s*[,;\n]", r"\s*$"] if case == "lower" else [clause_end, r"\s+[a-z]"]
    if case != "lower":
        ends.append(rf",?{sp}{city},?{sp}(?:{state})(?![\w-])")  # city and state, no ZIP
        if strong:
            ends.append(rf"{sp}{city_word}{clause_end}")
            # a city of two words, the first one that starts many (Los Angeles, San Jose)
            ends.append(rf"{sp}(?:{cased(_CITY_FIRST)}){sp}{city_word}{clause_end}")
    end = "(?=" + "|".join(ends) + ")"
    return (
        rf"\d{{1,6}}[A-Za-z]?(?:{sp}{direction})?(?:{sp}(?:{word}|{ordinal})){{1,4}}"
        rf"{sp}{suffix}(?:{sp}{post}\b)?{unit}(?:{place}|{end})"
    )


_ALL_ABBREVIATIONS = _STRONG_ABBREVIATIONS + _ABBREVIATIONS
_CASES = (
    (r"[A-Z][A-Za-z'.-]{0,30}", r"\d{1,4}(?:st|nd|rd|th)", "title"),
    (r"[A-Z][A-Z'.-]{0,30}", r"\d{1,4}(?:ST|ND|RD|TH)", "upper"),
    (r"[a-z][a-z'.-]{0,30}", r"\d{1,4}(?:st|nd|rd|th)", "lower"),
)
_ADDRESS = re.compile(
    # a house number and a word after it, checked once before the cases are tried
    r"(?<![\w.,/-])(?=\d{1,6}[A-Za-z]?[ \t\u00a0]{1,3}\w)(?:"
    + "|".join(_street(*c, strong=s) for c in _CASES for s in (True, False))
    + r")|\b(?i:P\.?[ ]?O\.?[ ]?Box|post[ ]office[ ]box)[ \t]{1,3}\d{1,6}\b"
)
# Where the text says an address follows (ship to, deliver to, I live at, address:), a
# street in any case counts even when more words follow it (deliver to 19 birch drive please)
_CUE = re.compile(
    r"(?i:\b(?:(?:ship|deliver|send|mail|post)(?:[ ]it)?[ ]to|live[ ]at|located[ ]at"
    r"|(?:shipping|billing|home|delivery)?[ ]?address)[ ]?:?[ ]{1,3})"
    r"(?P<street>\d{1,6}[A-Za-z]?(?:[ ][A-Za-z][A-Za-z'.-]{0,30}){1,4}[ ]"
    rf"(?i:{'|'.join(_STREETS_STRONG + _STREETS)}|(?:{'|'.join(_ALL_ABBREVIATIONS)})\.?))"
    r"(?![\w-])"
)


_PRODUCT = re.compile(
    rf"(?i:\d+[A-Za-z]?[ \t\u00a0]{{1,3}}(?:{'|'.join(_PRODUCT_WORDS)})\b"
    rf"|.*\b(?:{'|'.join(_DRIVE_PRODUCTS)})[ \t\u00a0]{{1,3}}(?:Drive|Dr)\b)"
)
# French, Spanish, Portuguese, Italian streets with the number first (15 Rue de la Paix,
# 14 Calle Mayor, 8 Place de la Concorde) or last (Calle Mayor 14, Via Roma 12), and German
# ones (Hauptstraße 5, Berliner Straße 12)
_PARTICLES = r"(?:[ ](?:de|del|de[ ]la|la|le|les|du|des|di|da|do|dos|das|della|dei|degli))?"
_NAME = r"[ ](?:d'|l')?[A-ZÀ-ÖØ-Þ][^\W\d_]{1,30}(?:-[A-ZÀ-ÖØ-Þ]?[^\W\d_]{1,30}){0,3}"
# fmt: off
_ROMANCE_WORDS = (
    "Rue", "Calle", "Avenida", "Avda.", "Rua", "Via", "Viale", "Corso", "Carrer", "Chemin",
    "Quai", "Allée", "Impasse", "Paseo",
)
_ROMANCE_WITH_PARTICLE_WORDS = (
    "Avenue", "Boulevard", "Place", "Plaza", "Piazza", "Largo", "Travessa", "Cours",
)
# fmt: on
_ROMANCE = "(?:" + "|".join(map(re.escape, _ROMANCE_WORDS)) + ")"
_ROMANCE_WITH_PARTICLE = "(?:" + "|".join(_ROMANCE_WITH_PARTICLE_WORDS) + ")"
_ROMANCE_STREET = re.compile(
    r"(?<![\w.,/-])\d{1,4}(?:[ ]?(?:bis|ter))?,?[ ]"
    rf"(?:{_ROMANCE}{_PARTICLES}|{_ROMANCE_WITH_PARTICLE}"
    r"(?:[ ](?:de|del|de[ ]la|du|des|di|da|do|della)|(?=[ ]d')))"
    rf"{_NAME}(?:{_NAME}){{0,2}}(?![\w-])"
    rf"|\b(?:{_ROMANCE}|Piazza){_PARTICLES}{_NAME}(?:{_NAME}){{0,2}},?[ ]\d{{1,3}}[a-z]?"
    r"(?![\w/-]|[.,]\d)"
)
_GERMAN_STREET = re.compile(
    r"\b(?:[A-ZÄÖÜ][a-zäöüß]{1,28}er[ ](?:Straße|Strasse|Str\.|Allee|Weg|Gasse)"
    r"|[A-ZÄÖÜ][a-zäöüß-]{1,30}(?:straße|strasse|str\.|allee|gasse|weg))"
    r"[ ]\d{1,3}[a-z]?(?![\w/-]|[.,]\d)"
)

_FOREIGN = (
    (
        re.compile(r"\b(?:" + "|".join(_ROMANCE_WORDS + _ROMANCE_WITH_PARTICLE_WORDS) + r")\b"),
        _ROMANCE_STREET,
    ),
    (re.compile(r"(?:[sS]tra(?:ße|sse)|[sS]tr\.|[aA]llee|[gG]asse|[wW]eg)[ ]\d"), _GERMAN_STREET),
)
"""Each European pattern, and a quick search for the words it needs."""


def _addresses(text: str) -> Iterator[Span]:
    for m in _ADDRESS.finditer(text):
        if not _PRODUCT.match(m[0]):
            yield m.start(), m.end(), "address"
    # the European forms are scanned for only when one of their words is there (most pages
    # have none: the scan of every capitalised word would cost more than all other patterns)
    for hint, pattern in _FOREIGN:
        if hint.search(text):
            for m in pattern.finditer(text):
                yield m.start(), m.end(), "address"
    for m in _CUE.finditer(text):
        yield m.start("street"), m.end("street"), "address"


# --- phone ------------------------------------------------------------------------------------

_PHONE = re.compile(
    r"(?:(?<![\w+])\+[ \u00a0]?|(?<![\w.+/)-])(?<!\d[\s.,-])(?=\d)|(?<![\d(])(?=\(\d))"
    r"(?:\(\d{1,5}\)|\d{1,15}+)"
    r"(?:(?:[ \u00a0\u2009\u202f./-]|(?<=\))[ \u00a0]?|[ \u00a0]?(?=\())"
    r"(?:\(\d{1,5}\)|\d{1,15}+)){0,7}+"
)
_PHONE_GROUP = re.compile(r"\(\d{1,5}\)|\d+")
_EXIT_CODE = re.compile(
    r"00(?:1|7|2[07]|3[0-469]|4[013-9]|5[1-8]|6[0-6]|8[1246]|9[0-58]"
    r"|(?:2[1-689]|3[578]|42|5[09]|6[789]|8[5789]|9[679])\d)"
)
"""``00`` and a country code (of the ITU's plan), the international prefix without ``+``."""


def phone_ok(groups: list[str], plus: bool, separators: tuple[str, ...] = ()) -> bool:
    """Whether digit groups (``(800)`` with its parentheses) and the separators between them
    are written as a phone number. A ``/`` may only follow a national area code with its
    trunk ``0`` (030/1234567); ``00`` and a country code is read as ``+`` (0049 30 1234567)."""
    digits = [g.strip("()") for g in groups]
    if "/" in separators[1:] or ("/" in separators[:1] and (plus or digits[0][:1] != "0")):
        return False
    if not plus and len(groups) > 1 and _EXIT_CODE.fullmatch(digits[0]):
        return phone_ok([f"+{digits[0][2:]}", *groups[1:]], True)
    if plus:
        rest = [d for g, d in zip(groups[1:], digits[1:], strict=True) if g != "(0)"]
        total = len(digits[0]) + sum(map(len, rest))
        return 8 <= total <= 15 and (len(groups) == 1 or len(digits[0]) <= 3)
    lengths = [len(d) for d in digits]
    parens = [i for i, g in enumerate(groups) if g.startswith("(")]
    if lengths == [3, 3, 4] or (lengths == [1, 3, 3, 4] and digits[0] == "1"):
        area = len(lengths) - 3
        return digits[area][0] in "23456789" and all(i == area for i in parens)
    total = sum(lengths)
    # 10-11 digits (UK, France, Australia ...); a German area code and its number, 12
    twelve = total == 12 and len(groups) == 2 and 3 <= lengths[0] <= 5
    return (
        digits[0].startswith("0")
        and (10 <= total <= 11 or twelve)
        and len(groups) >= 2
        and min(lengths) >= 2
        and lengths[0] <= 5
        and all(i == 0 for i in parens)
    )


def _phones(text: str) -> Iterator[Span]:
    for m in _PHONE.finditer(text):
        if m.end() - m.start() < 8:
            continue  # fewer than 8 digits: a price, a rating, a count
        plus = text[m.start()] == "+"
        tokens = list(_PHONE_GROUP.finditer(text, m.start(), m.end()))
        for k in range(len(tokens), 0, -1):
            end = tokens[k - 1].end()
            after = text[end : end + 2]
            trimmed = k < len(tokens)
            if after[:1].isalnum() or after[:1] == "_" or (trimmed and not after.startswith(" ")):
                continue
            if after[:1] in ("/", "-") or re.match(r"[.,]\d", after):
                continue
            separators = tuple(text[a.end() : b.start()] for a, b in pairwise(tokens[:k]))
            if phone_ok([t[0] for t in tokens[:k]], plus, separators):
                yield m.start(), end, "phone"
                break


# --- all kinds --------------------------------------------------------------------------------

_MAYBE_PII = re.compile(r"[\d@]")
_MIN_DIGITS = {"email": 0, "card": 3, "address": 1, "phone": 8}
"""The fewest digits a text needs to hold each kind (a card's security code has 3)."""
FINDERS = {"email": _emails, "card": _cards, "address": _addresses, "phone": _phones}
"""Each kind's finder, in the order their spans take precedence."""


def maybe_pii(text: str) -> bool:
    """False when ``text`` can hold no PII of any kind (it has no digit and no ``@``)."""
    return _MAYBE_PII.search(text) is not None


def find_spans(text: str, kinds: Iterable[str]) -> list[Span]:
    """The PII in ``text`` of the given kinds: non-overlapping spans sorted by start; where two
    overlap, the kind earlier in :data:`FINDERS` wins."""
    if not maybe_pii(text):
        return []  # every kind needs a digit or an @: most attribute values have neither
    wanted = set(kinds)
    # ASCII text with too few digits for a kind skips its finder (not other scripts: \d
    # matches their digits too)
    digits = sum(map(text.count, "0123456789")) if text.isascii() else 99
    taken: list[Span] = []
    for kind, finder in FINDERS.items():
        if (
            kind not in wanted
            or digits < _MIN_DIGITS[kind]
            or (kind == "email" and "@" not in text)
        ):
            continue
        new = [s for s in finder(text) if not _overlaps(s, taken)]
        taken = sorted(taken + _drop_overlaps(new))
    return taken


def _overlaps(span: Span, taken: list[Span]) -> bool:
    # taken is sorted and non-overlapping: only the neighbours of span's start can overlap it
    i = bisect_left(taken, (span[0],))
    for j in (i - 1, i):
        if 0 <= j < len(taken) and taken[j][0] < span[1] and span[0] < taken[j][1]:
            return True
    return False


def _drop_overlaps(spans: list[Span]) -> list[Span]:
    """The spans that start first, the longest of those starting together, and so on."""
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s[0], -s[1])):
        if not out or span[0] >= out[-1][1]:
            out.append(span)
    return out
