"""The report as a Markdown summary: the same sections and tables as the HTML page, with the
plots left to the page. Text from the data is escaped, so raw model output cannot inject
Markdown or HTML."""

from __future__ import annotations

import re

from behaviorlab.report._document import (
    Block,
    Bullets,
    Code,
    Document,
    Heading,
    Paragraph,
    Plot,
    Table,
)

_SPECIAL = re.compile(r"([\\`*\[\]|])")
_LEADING = re.compile(r"^(\s*)([#+-] |\d+\. )")
"""What would make a heading or a list item at the start of a paragraph."""
_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
"""An underscore that could open or close emphasis (``knn_persona`` stays as it is)."""


def md(text: str) -> str:
    """Text safe inside Markdown: HTML characters as entities, Markdown syntax escaped,
    line breaks as spaces."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _UNDERSCORE.sub(r"\\_", _SPECIAL.sub(r"\\\1", text))
    text = " ".join(text.split("\n")).replace("\r", " ")
    return _LEADING.sub(_unlead, text)


def _unlead(m: re.Match[str]) -> str:
    indent, marker = m.group(1), m.group(2)
    if marker[0].isdigit():  # "1. " -> "1\. "
        return f"{indent}{marker[:-2]}\\. "
    return f"{indent}\\{marker}"


def anchor(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as dashes."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def _table(t: Table) -> list[str]:
    head = "| " + " | ".join(md(c) for c in t.columns) + " |"
    rule = "|" + "|".join("---:" if i in t.numeric else "---" for i in range(len(t.columns))) + "|"
    body = ["| " + " | ".join(md(v) for v in r) + " |" for r in t.rows]
    lines = [head, rule, *body, ""]
    if t.caption:
        lines += [f"_{md(t.caption)}_", ""]
    return lines


def _fence(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _block(b: Block, html_name: str | None) -> list[str]:
    if isinstance(b, Paragraph):
        prefix = {"missing": "> ", "warning": "> **Warning:** ", "lead": "**"}.get(b.tone, "")
        suffix = "**" if b.tone == "lead" else ""
        text = md(b.text)
        return [f"_{text}_" if b.tone == "note" else f"{prefix}{text}{suffix}", ""]
    if isinstance(b, Heading):
        return [f"### {md(b.text)}", ""]
    if isinstance(b, Bullets):
        return [*(f"- {md(item)}" for item in b.items), ""]
    if isinstance(b, Table):
        return _table(b)
    if isinstance(b, Plot):
        where = f" in [{html_name}]({html_name})" if html_name else " in the HTML report"
        caption = f": {md(b.caption)}" if b.caption else ""
        return [f"_Plot{where}{caption}_", ""]
    if isinstance(b, Code):
        fence = _fence(b.text)
        return [f"{md(b.summary)}:", "", f"{fence}{b.language}", b.text, fence, ""]
    raise TypeError(f"unknown block {type(b).__name__}")  # pragma: no cover


def render_markdown(doc: Document, html_name: str | None = None) -> str:
    """The Markdown summary; ``html_name`` links the plots to the HTML page."""
    lines = [f"# {md(doc.title)}", "", md(doc.subtitle), ""]
    if html_name:
        lines += [f"The full report with {doc.n_plots} plots: [{html_name}]({html_name}).", ""]
    lines += ["## Contents", ""]
    lines += [f"- [{md(s.title)}](#{anchor(s.title)})" for s in doc.sections] + [""]
    for s in doc.sections:
        lines += [f"## {md(s.title)}", ""]
        for b in s.blocks:
            lines += _block(b, html_name)
    return "\n".join(lines).rstrip("\n") + "\n"
