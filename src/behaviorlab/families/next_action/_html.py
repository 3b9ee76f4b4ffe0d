"""Reading OPeRA's simplified HTML: a forgiving tree, and what each element is (hidden?, a
footer?, its role, state and visible text). The rendering rules are in :mod:`._page`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

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
MAX_DEPTH = 200
"""Deeper elements are read as siblings at this depth (the walks below are recursive)."""
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
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
_INPUT_ROLES = {
    "checkbox": "checkbox",
    "radio": "radio",
    "submit": "button",
    "button": "button",
    "reset": "button",
}
_BUTTON_TYPES = ("submit", "button", "reset")
_FALSE = ("false", "0", "off", "no")
SPACE = re.compile(r"\s+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)


class TreeBuilder(HTMLParser):
    """A forgiving tree: unknown end tags are ignored, unclosed tags closed by an ancestor's."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack: list[Node] = [self.root]
        self.title_parts: list[str] = []
        self._in_title = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag == "title":
            self._in_title += 1
        if tag not in VOID_TAGS and len(self.stack) < MAX_DEPTH:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, {k: (v or "") for k, v in attrs}))

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
        else:
            self.stack[-1].children.append(data)


def clip(text: str, limit: int) -> str:
    text = SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def hidden(node: Node) -> bool:
    a = node.attrs
    return (
        "hidden" in a
        or a.get("aria-hidden", "").lower() == "true"
        or bool(_HIDDEN_STYLE.search(a.get("style", "")))
        or (node.tag == "input" and a.get("type", "").lower() == "hidden")
    )


def is_footer(node: Node) -> bool:
    a = node.attrs
    words = " ".join((a.get("name", ""), a.get("id", ""), a.get("class", ""))).lower()
    return node.tag == "footer" or a.get("role") == "contentinfo" or "footer" in words


def element_name(node: Node) -> str:
    return node.attrs.get("name", "").strip()


def visible_children(node: Node) -> list[Node]:
    return [
        c for c in node.children if isinstance(c, Node) and c.tag not in DROP_TAGS and not hidden(c)
    ]


def mark_named(node: Node, out: set[int]) -> bool:
    """Add to ``out`` the id of every node holding a named element; True if ``node`` does."""
    found = False
    for c in visible_children(node):
        inside = mark_named(c, out)
        found = found or inside or bool(element_name(c))
    if found:
        out.add(id(node))
    return found


def text_of(node: Node) -> str:
    out: list[str] = []

    def walk(n: Node) -> None:
        for c in n.children:
            if isinstance(c, str):
                out.append(c)
            elif c.tag not in DROP_TAGS and not hidden(c):
                if c.tag in BLOCK_TAGS:
                    out.append(" ")
                walk(c)
                if c.tag == "img" and c.attrs.get("alt"):
                    out.append(" " + c.attrs["alt"])

    walk(node)
    return SPACE.sub(" ", "".join(out)).strip()


def role_of(node: Node, container: bool) -> str:
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


def state_of(node: Node) -> tuple[str, ...]:
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
    if node.tag in ("input", "textarea") and a.get("value") and not _button_input(node):
        out.append(f'value "{clip(a["value"], 80)}"')
    return tuple(out)


def _button_input(node: Node) -> bool:
    return node.tag == "input" and node.attrs.get("type", "").lower() in _BUTTON_TYPES


def visible_text(node: Node) -> str:
    if _button_input(node) and node.attrs.get("value", "").strip():
        return node.attrs["value"].strip()
    text = text_of(node)
    if text:
        return text
    for key in ("aria-label", "alt", "title", "placeholder"):
        if node.attrs.get(key, "").strip():
            return node.attrs[key].strip()
    img = next((c for c in node.children if isinstance(c, Node) and c.tag == "img"), None)
    return img.attrs.get("alt", "").strip() if img is not None else ""


def parse_html(html: str) -> tuple[Node, str]:
    """The document tree (a ``#root`` node) and the text of its ``<title>``."""
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root, "".join(builder.title_parts)
