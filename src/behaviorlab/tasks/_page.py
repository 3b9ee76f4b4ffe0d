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
  Its text is its visible text, else ``aria-label``, ``alt``, ``title``, ``placeholder``;
  state (checked, selected, pressed, current page, disabled, value) follows in brackets.
* **Product cards**: a container whose id has a direct ``.product_title`` / ``.product_image``
  / ``.product_link`` child, or any element with ``data-asin``. Its text becomes one line
  ``product "<title>" | <price> | <rating> | <other text>``; inside the card, an element
  whose text is the title shows ``(title)``.
* **Text**: other visible text, one line per block (``div``, ``p``, ``li``, ...; headings
  start with ``# ``), whitespace collapsed, at most ``max_text`` characters (element texts:
  ``max_element_text``). Lines are indented two spaces per enclosing named container.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Literal

LineKind = Literal["element", "container", "product", "heading", "text"]

DROP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "svg", "iframe", "canvas", "object", "embed"}
)
VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
     "track", "wbr", "param"}
)  # fmt: skip
BLOCK_TAGS = frozenset(
    {"div", "p", "li", "ul", "ol", "dl", "dt", "dd", "section", "article", "aside", "main",
     "header", "footer", "nav", "form", "table", "tr", "td", "th", "tbody", "thead", "br",
     "h1", "h2", "h3", "h4", "h5", "h6", "hr", "fieldset", "figure", "figcaption", "label"}
)  # fmt: skip
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
PRODUCT_LINK_PARTS = ("product_title", "product_image", "product_link")
_LEAF_ROLES = {"a": "link", "button": "button", "select": "select", "option": "option"}
_ARIA_ROLES = {
    "link": "link",
    "button": "button",
    "checkbox": "checkbox",
    "radio": "radio",
    "option": "option",
    "menuitem": "button",
    "tab": "button",
    "switch": "checkbox",
    "textbox": "input",
    "searchbox": "input",
    "combobox": "select",
    "listbox": "select",
}
_INPUT_ROLES = {"checkbox": "checkbox", "radio": "radio", "submit": "button", "button": "button"}
_FALSE = ("false", "0", "off", "no")
_PRICE = re.compile(r"[$€£]\s?\d[\d,]*(?:\.\d+)?")
_RATING = re.compile(r"out of 5|stars?\b", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node | str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    """A forgiving tree: unknown end tags are ignored, unclosed tags closed by an ancestor's."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {})
        self.stack: list[_Node] = [self.root]
        self.title_parts: list[str] = []
        self._in_title = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = _Node(tag, {k: (v if v is not None else "") for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag == "title":
            self._in_title += 1
        if tag not in VOID_TAGS:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(_Node(tag, {k: (v or "") for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title -= 1
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        self.stack[-1].children.append(data)


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
        return f"{pad}[{el.semantic_id}] {el.role}{' ' + shown if shown else ''}{state}"


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


def _clip(text: str, limit: int) -> str:
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _hidden(node: _Node) -> bool:
    a = node.attrs
    return (
        "hidden" in a
        or a.get("aria-hidden", "").lower() == "true"
        or bool(_HIDDEN_STYLE.search(a.get("style", "")))
        or (node.tag == "input" and a.get("type", "").lower() == "hidden")
    )


def _is_footer(node: _Node) -> bool:
    a = node.attrs
    words = " ".join((a.get("name", ""), a.get("id", ""), a.get("class", ""))).lower()
    return node.tag == "footer" or a.get("role") == "contentinfo" or "footer" in words


def _name(node: _Node) -> str:
    return node.attrs.get("name", "").strip()


def _visible_children(node: _Node) -> list[_Node]:
    return [
        c
        for c in node.children
        if isinstance(c, _Node) and c.tag not in DROP_TAGS and not _hidden(c)
    ]


def _mark_named(node: _Node, out: set[int]) -> bool:
    """Add to ``out`` the id of every node holding a named element; True if ``node`` does."""
    found = False
    for c in _visible_children(node):
        inside = _mark_named(c, out)
        found = found or inside or bool(_name(c))
    if found:
        out.add(id(node))
    return found


def _text_of(node: _Node) -> str:
    out: list[str] = []

    def walk(n: _Node) -> None:
        for c in n.children:
            if isinstance(c, str):
                out.append(c)
            elif c.tag not in DROP_TAGS and not _hidden(c):
                if c.tag in BLOCK_TAGS:
                    out.append(" ")
                walk(c)
                if c.tag == "img" and c.attrs.get("alt"):
                    out.append(" " + c.attrs["alt"])

    walk(node)
    return _SPACE.sub(" ", "".join(out)).strip()


def _role(node: _Node, container: bool) -> str:
    aria = node.attrs.get("role", "").lower()
    if container:
        if aria:
            return aria
        return {"select": "select", "form": "form", "ul": "list", "ol": "list"}.get(
            node.tag, "group"
        )
    if aria in _ARIA_ROLES:
        return _ARIA_ROLES[aria]
    if node.tag == "input":
        return _INPUT_ROLES.get(node.attrs.get("type", "text").lower(), "input")
    if node.tag == "textarea":
        return "input"
    return _LEAF_ROLES.get(node.tag, "clickable")


def _state(node: _Node) -> tuple[str, ...]:
    a = node.attrs
    out: list[str] = []

    def on(key: str) -> bool:
        return key in a and a[key].strip().lower() not in _FALSE

    if on("checked") or a.get("aria-checked", "").lower() == "true":
        out.append("checked")
    if on("selected") or a.get("aria-selected", "").lower() == "true":
        out.append("selected")
    if a.get("aria-pressed", "").lower() == "true":
        out.append("pressed")
    if on("aria-current"):
        out.append("current")
    if on("disabled") or a.get("aria-disabled", "").lower() == "true":
        out.append("disabled")
    if node.tag in ("input", "textarea") and a.get("value"):
        out.append(f'value "{_clip(a["value"], 80)}"')
    return tuple(out)


def _visible_text(node: _Node) -> str:
    text = _text_of(node)
    if text:
        return text
    for key in ("aria-label", "alt", "title", "placeholder"):
        if node.attrs.get(key, "").strip():
            return node.attrs[key].strip()
    img = next((c for c in node.children if isinstance(c, _Node) and c.tag == "img"), None)
    return img.attrs.get("alt", "").strip() if img is not None else ""


def _product_card(node: _Node, name: str) -> bool:
    if "data-asin" in node.attrs:
        return True
    if not name:
        return False
    wanted = {f"{name}.{part}" for part in PRODUCT_LINK_PARTS}
    stack = list(node.children)
    while stack:
        c = stack.pop()
        if isinstance(c, _Node):
            if _name(c) in wanted:
                return True
            stack.extend(c.children)
    return False


def _is_product_link(semantic_id: str) -> bool:
    return semantic_id.rsplit(".", 1)[-1] in PRODUCT_LINK_PARTS


class _Renderer:
    def __init__(self, root: _Node, max_text: int, max_element_text: int) -> None:
        self.named_inside: set[int] = set()
        _mark_named(root, self.named_inside)
        self.max_text, self.max_element_text = max_text, max_element_text
        self.lines: list[PageLine] = []
        self.pending: list[str] = []
        self.pending_heading = False
        self.depth = 0
        self.group: int | None = None

    def flush(self) -> None:
        text = _clip(" ".join(self.pending), self.max_text)
        self.pending, heading = [], self.pending_heading
        self.pending_heading = False
        if text:
            kind: LineKind = "heading" if heading else "text"
            self.lines.append(PageLine(kind, text, self.depth, group=self.group))

    def has_named(self, node: _Node) -> bool:
        return id(node) in self.named_inside

    def walk(
        self, node: _Node, *, in_footer: bool = False, card: dict[str, str] | None = None
    ) -> None:
        quiet = in_footer or card is not None  # footer text is dropped, card text summarised
        for child in node.children:
            if isinstance(child, str):
                if not quiet and child.strip():
                    self.pending.append(child.strip())
                continue
            if child.tag in DROP_TAGS or child.tag == "head" or _hidden(child):
                continue
            footer = in_footer or _is_footer(child)
            if footer and not in_footer and not self.has_named(child) and not _name(child):
                continue  # a footer without actionable elements
            name = _name(child)
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

    def named(self, node: _Node, name: str, footer: bool, card: dict[str, str] | None) -> None:
        container = self.has_named(node)
        if container and card is None and _product_card(node, name):
            self.card(node, name, footer)
            return
        text = _clip(_visible_text(node), self.max_element_text)
        product = card is not None or _is_product_link(name)
        if card is not None and text and text == card.get("title"):
            text = "(title)"
        if container:
            label = node.attrs.get("aria-label", "").strip()
            el = PageElement(name, _role(node, True), _clip(label, self.max_element_text),
                             _state(node), product, container=True)  # fmt: skip
            self.lines.append(PageLine("container", "", self.depth, el, self.group))
            outer, self.group = self.group, len(self.lines) - 1
            self.depth += 1
            self.walk(node, in_footer=footer, card=card)
            self.flush()
            self.depth -= 1
            self.group = outer
            return
        el = PageElement(name, _role(node, False), text, _state(node), product)
        self.lines.append(PageLine("element", "", self.depth, el, self.group))

    def card(self, node: _Node, name: str | None, footer: bool) -> None:
        """A product card: one summary line, then its elements (texts go into the summary)."""
        texts: list[str] = []
        titled: list[str] = []

        def collect(n: _Node, inside_named: bool) -> None:
            for c in n.children:
                if isinstance(c, str):
                    if c.strip() and not inside_named:
                        texts.append(_SPACE.sub(" ", c).strip())
                elif c.tag not in DROP_TAGS and not _hidden(c):
                    cname = _name(c)
                    if cname and not self.has_named(c):
                        part = cname.rsplit(".", 1)[-1]
                        if part in PRODUCT_LINK_PARTS and _visible_text(c):
                            titled.append(_visible_text(c))
                        collect(c, True)
                    elif c.tag in HEADINGS and not inside_named:
                        titled.append(_text_of(c))
                    else:
                        collect(c, inside_named)

        collect(node, False)
        title = _clip(titled[0], self.max_element_text) if titled else ""
        if not title and texts:
            title = _clip(texts.pop(0), self.max_element_text)
        prices = [t for t in texts if _PRICE.search(t)]
        ratings = [t for t in texts if _RATING.search(t) and t not in prices]
        others = [t for t in texts if t not in prices and t not in ratings and t != title]
        parts = [_quote(title), *prices[:1], *ratings[:1], *others]
        summary = _clip("product " + " | ".join(p for p in parts if p), self.max_text)
        el = PageElement(name, _role(node, True), "", (), True, container=True) if name else None
        self.lines.append(PageLine("product", summary, self.depth, el, self.group))
        outer, self.group = self.group, len(self.lines) - 1
        self.depth += 1
        self.walk(node, in_footer=footer, card={"title": title})
        self.flush()
        self.depth -= 1
        self.group = outer


def render_page(
    html: str, url: str | None = None, *, max_text: int = 200, max_element_text: int = 100
) -> RenderedPage:
    """Render simplified HTML as compact text lines (see the module docstring for the rules)."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    renderer = _Renderer(builder.root, max_text, max_element_text)
    renderer.walk(builder.root)
    renderer.flush()
    title = _clip("".join(builder.title_parts), max_text)
    return RenderedPage(title, url, tuple(renderer.lines))
