"""A web page as the agent sees it: OPeRA's simplified HTML → compact text lines.

OPeRA marks every element a shopper can act on with its semantic id in a ``name`` attribute
(dotted paths: ``nav_bar.search_input``, ``search_results.<product>.product_title``). The
rendering keeps, for each of them, the id, a role and the visible text, renders product cards
as one readable line (title, price, rating, details) above their elements, keeps the other
visible text as plain lines, and drops what no shopper acts on. The rules (docs/next-action.md):

* **Dropped with everything inside**: ``script``, ``style``, ``noscript``, ``template``,
  ``svg``, ``iframe``, ``canvas``, ``object``, ``embed``, the ``head`` (its ``title`` is
  kept as the page title); hidden elements (``hidden``, ``aria-hidden="true"``, an inline
  style with ``display:none`` / ``visibility:hidden``, ``<input type="hidden">``); footers
  (``<footer>``, ``role="contentinfo"``, a ``name``/``id``/``class`` saying ``footer``) that
  hold no actionable element. A footer that holds some keeps only them, not its text.
* **Actionable** = carries a ``name``. A named element with named elements inside is a
  container (role from ``role=``, else ``select``, ``form``, ``list`` or ``group``); one
  without is a leaf whose role comes from the tag (``a`` → link, ``button`` → button,
  ``input`` → input / checkbox / radio / button by type, ``textarea`` → input, ``select`` →
  select, ``option`` → option, anything else → ``clickable``), a ``role=`` attribute winning.
  Its text is its visible text (a button-like ``input``'s ``value``), else ``aria-label``,
  ``alt``, ``title``, ``placeholder``;
  state (checked, selected, pressed, current page, disabled, value) follows in brackets.
* **Product cards**: a container whose id has a direct ``.product_title`` / ``.product_image``
  / ``.product_link`` child, or any element with ``data-asin``. Its text becomes one line
  ``product "<title>" | <price> | <rating> | <other text>``; inside the card, an element
  whose text is the title shows ``(title)``. The line also carries its *head*,
  ``product "<title, at most CARD_HEAD characters>" | <price>``, which the budget shows
  instead when it needs the room (:mod:`._budget`).
* **Text**: other visible text, one line per block (``div``, ``p``, ``li``, ...; headings
  start with ``# ``), whitespace collapsed, at most ``max_text`` characters (element texts:
  ``max_element_text``). Lines are indented two spaces per enclosing named container.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from behaviorlab.families.next_action._html import (
    BLOCK_TAGS,
    DROP_TAGS,
    HEADINGS,
    SPACE,
    Node,
    clip,
    element_name,
    hidden,
    is_footer,
    mark_named,
    parse_html,
    role_of,
    state_of,
    text_of,
    visible_text,
)

LineKind = Literal["element", "container", "product", "heading", "text"]

PRODUCT_LINK_PARTS = ("product_title", "product_image", "product_link")
CARD_HEAD = 40
"""A product card's head keeps this many characters of its title (the budget's ``short``)."""
_PRICE = re.compile(r"[$€£]\s?\d[\d,]*(?:\.\d+)?")
_RATING = re.compile(r"out of 5|stars?\b", re.IGNORECASE)


@dataclass(frozen=True)
class PageElement:
    """One actionable element: its semantic id, role, visible text and state."""

    semantic_id: str
    role: str
    text: str
    state: tuple[str, ...] = ()
    product: bool = False
    """Inside a product card, or a product link (id ending in ``product_title`` ...)."""
    container: bool = False


@dataclass(frozen=True)
class PageLine:
    """One line of the rendered page. ``element`` is set on element and container lines."""

    kind: LineKind
    text: str
    depth: int = 0
    element: PageElement | None = None
    group: int | None = None
    """Index of the line of the container or product card this line belongs to."""
    card_title: str = ""
    """A product card's title (card lines)."""
    card_price: str = ""
    """A product card's first price (card lines)."""

    @property
    def head(self) -> str | None:
        """A product card's summary shortened to its title's head and its price (card lines:
        ``product "<title, at most CARD_HEAD characters>" | <price>``)."""
        if self.kind != "product":
            return None
        parts = [_quote(clip(self.card_title, CARD_HEAD)), self.card_price]
        return "product " + " | ".join(p for p in parts if p)

    def render(self, short: int | None = None) -> str:
        pad = "  " * self.depth
        el = self.element
        if el is None or self.kind == "product":
            prefix = f"[{el.semantic_id}] " if el is not None else ""
            mark = "# " if self.kind == "heading" else ""
            return f"{pad}{prefix}{mark}{self.text}"
        text = el.text
        if short is not None and len(text) > short:
            text = text[: short - 1].rstrip() + "…"
        shown = text if text.startswith("(") and text.endswith(")") else _quote(text)
        state = f" [{', '.join(el.state)}]" if el.state else ""
        extra = f" | {self.text}" if self.text else ""  # a card's price, when merged (_budget)
        return f"{pad}[{el.semantic_id}] {el.role}{' ' + shown if shown else ''}{state}{extra}"


@dataclass(frozen=True)
class RenderedPage:
    """A page as compact text: title, URL and lines, in document order."""

    title: str
    url: str | None
    lines: tuple[PageLine, ...]

    @property
    def elements(self) -> list[PageElement]:
        return [ln.element for ln in self.lines if ln.element is not None]

    def semantic_ids(self) -> list[str]:
        return [e.semantic_id for e in self.elements]

    def header(self) -> str:
        parts = [f"Page: {self.title}" if self.title else "Page:"]
        if self.url:
            parts.append(f"URL: {self.url}")
        return "\n".join(parts)

    def text(self) -> str:
        return "\n".join([self.header(), *(ln.render() for ln in self.lines)])


def _quote(text: str) -> str:
    return f'"{text}"' if text else ""


def _product_card(node: Node, name: str) -> bool:
    if "data-asin" in node.attrs:
        return True
    if not name:
        return False
    wanted = {f"{name}.{part}" for part in PRODUCT_LINK_PARTS}
    stack = list(node.children)
    while stack:
        c = stack.pop()
        if isinstance(c, Node):
            if element_name(c) in wanted:
                return True
            stack.extend(c.children)
    return False


def _is_product_link(semantic_id: str) -> bool:
    return semantic_id.rsplit(".", 1)[-1] in PRODUCT_LINK_PARTS


class _Renderer:
    def __init__(self, root: Node, max_text: int, max_element_text: int) -> None:
        self.named_inside: set[int] = set()
        mark_named(root, self.named_inside)
        self.max_text, self.max_element_text = max_text, max_element_text
        self.lines: list[PageLine] = []
        self.pending: list[str] = []
        self.pending_heading = False
        self.depth = 0
        self.group: int | None = None

    def flush(self) -> None:
        text = clip(" ".join(self.pending), self.max_text)
        self.pending, heading = [], self.pending_heading
        self.pending_heading = False
        if text:
            kind: LineKind = "heading" if heading else "text"
            self.lines.append(PageLine(kind, text, self.depth, group=self.group))

    def has_named(self, node: Node) -> bool:
        return id(node) in self.named_inside

    def walk(
        self, node: Node, *, in_footer: bool = False, card: dict[str, str] | None = None
    ) -> None:
        quiet = in_footer or card is not None  # footer text is dropped, card text summarised
        for child in node.children:
            if isinstance(child, str):
                if not quiet and child.strip():
                    self.pending.append(child.strip())
                continue
            if child.tag in DROP_TAGS or child.tag == "head" or hidden(child):
                continue
            footer = in_footer or is_footer(child)
            if footer and not in_footer and not self.has_named(child) and not element_name(child):
                continue  # a footer without actionable elements
            name = element_name(child)
            if name:
                self.flush()
                self.named(child, name, footer, card)
                continue
            if "data-asin" in child.attrs and card is None:
                self.flush()
                self.card(child, None, footer)
                continue
            block = child.tag in BLOCK_TAGS
            if block:
                self.flush()
            if child.tag in HEADINGS:
                self.pending_heading = True
            self.walk(child, in_footer=footer, card=card)
            if child.tag == "img" and child.attrs.get("alt") and not (quiet or footer):
                self.pending.append(child.attrs["alt"])
            if block:
                self.flush()

    def named(self, node: Node, name: str, footer: bool, card: dict[str, str] | None) -> None:
        product = card is not None or _is_product_link(name)
        if not self.has_named(node):  # a leaf: one element line
            text = clip(visible_text(node), self.max_element_text)
            if card is not None and text and text == card.get("title"):
                text = "(title)"
            el = PageElement(name, role_of(node, False), text, state_of(node), product)
            self.lines.append(PageLine("element", "", self.depth, el, self.group))
        elif card is None and _product_card(node, name):
            self.card(node, name, footer)
        else:
            label = clip(node.attrs.get("aria-label", ""), self.max_element_text)
            role = role_of(node, True)
            el = PageElement(name, role, label, state_of(node), product, container=True)
            self.nested(PageLine("container", "", self.depth, el, self.group), node, footer, card)

    def nested(self, line: PageLine, node: Node, footer: bool, card: dict[str, str] | None) -> None:
        """Add ``line`` (a container or card) and render ``node``'s content inside it."""
        self.lines.append(line)
        outer, self.group = self.group, len(self.lines) - 1
        self.depth += 1
        self.walk(node, in_footer=footer, card=card)
        self.flush()
        self.depth -= 1
        self.group = outer

    def card(self, node: Node, name: str | None, footer: bool) -> None:
        """A product card: one summary line, then its elements (texts go into the summary)."""
        texts: list[str] = []
        titled: list[str] = []

        def collect(n: Node, inside_named: bool) -> None:
            for c in n.children:
                if isinstance(c, str):
                    if c.strip() and not inside_named:
                        texts.append(SPACE.sub(" ", c).strip())
                elif c.tag not in DROP_TAGS and not hidden(c):
                    cname = element_name(c)
                    if cname and not self.has_named(c):
                        part = cname.rsplit(".", 1)[-1]
                        shown = visible_text(c) if part in PRODUCT_LINK_PARTS else ""
                        if shown:  # the title link's text first, then images' and others'
                            titled.insert(0 if part == "product_title" else len(titled), shown)
                        collect(c, True)
                    elif c.tag in HEADINGS and not inside_named:
                        titled.append(text_of(c))
                    else:
                        collect(c, inside_named)

        collect(node, False)
        title = clip(titled[0], self.max_element_text) if titled else ""
        if not title and texts:
            title = clip(texts.pop(0), self.max_element_text)
        prices = [t for t in texts if _PRICE.search(t)]
        ratings = [t for t in texts if _RATING.search(t) and t not in prices]
        others = [t for t in texts if t not in prices and t not in ratings and t != title]
        parts = [_quote(title), *prices[:1], *ratings[:1], *others]
        summary = clip("product " + " | ".join(p for p in parts if p), self.max_text)
        el = PageElement(name, role_of(node, True), "", (), True, container=True) if name else None
        price = clip(prices[0], self.max_element_text) if prices else ""
        line = PageLine("product", summary, self.depth, el, self.group, title, price)
        self.nested(line, node, footer, {"title": title})


def render_page(
    html: str, url: str | None = None, *, max_text: int = 200, max_element_text: int = 100
) -> RenderedPage:
    """Render simplified HTML as compact text lines (see the module docstring for the rules)."""
    root, title = parse_html(html)
    renderer = _Renderer(root, max_text, max_element_text)
    renderer.walk(root)
    renderer.flush()
    return RenderedPage(clip(title, max_text), url, tuple(renderer.lines))
