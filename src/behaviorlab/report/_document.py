"""The report as a document: sections of paragraphs, tables, plots and code blocks.

The section builders (``_sections``, ``_breakdown``, ``_operations``, ``_compare``) produce
this structure from a run's data; ``_html`` and ``_markdown`` render the same document, so
the two outputs cannot drift apart. Every string in it is plain text (never HTML): the
renderers escape it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

Tone = Literal["plain", "lead", "note", "missing", "warning"]


@dataclass(frozen=True)
class Paragraph:
    """A paragraph. ``tone``: ``lead`` (the headline reading), ``note`` (small print),
    ``missing`` (what could not be shown, and why), ``warning``."""

    kind: ClassVar[str] = "paragraph"
    text: str
    tone: Tone = "plain"


@dataclass(frozen=True)
class Heading:
    """A sub-heading inside a section."""

    kind: ClassVar[str] = "heading"
    text: str


@dataclass(frozen=True)
class Bullets:
    kind: ClassVar[str] = "bullets"
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    """A table of text cells. ``numeric`` columns are right-aligned, ``code`` columns show raw
    text (model output) verbatim; rows in ``baseline_rows`` are non-LLM baselines."""

    kind: ClassVar[str] = "table"
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()
    code: frozenset[int] = frozenset()
    baseline_rows: frozenset[int] = frozenset()
    caption: str = ""

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"row {row!r} has {len(row)} cells for {len(self.columns)}")


@dataclass(frozen=True)
class Plot:
    """A plotly figure; ``plot_id`` is the id of its element in the HTML page."""

    kind: ClassVar[str] = "plot"
    plot_id: str
    figure: Any
    caption: str = ""


@dataclass(frozen=True)
class Code:
    """Preformatted text (the manifest), collapsed under ``summary`` in HTML."""

    kind: ClassVar[str] = "code"
    text: str
    summary: str
    language: str = ""


Block = Paragraph | Heading | Bullets | Table | Plot | Code


@dataclass(frozen=True)
class Section:
    section_id: str
    title: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)

    @property
    def plots(self) -> list[Plot]:
        return [b for b in self.blocks if isinstance(b, Plot)]


@dataclass(frozen=True)
class Document:
    """The whole report: a title, a subtitle line and the sections in order."""

    title: str
    subtitle: str
    sections: tuple[Section, ...]

    def plots(self) -> Iterator[Plot]:
        for s in self.sections:
            yield from s.plots

    @property
    def n_plots(self) -> int:
        return sum(1 for _ in self.plots())


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[str] = (),
    code: Sequence[str] = (),
    baseline_rows: Sequence[int] = (),
    caption: str = "",
) -> Table:
    """A :class:`Table`, naming the numeric and code columns by header."""
    cols = tuple(columns)
    return Table(
        columns=cols,
        rows=tuple(tuple(r) for r in rows),
        numeric=frozenset(cols.index(c) for c in numeric),
        code=frozenset(cols.index(c) for c in code),
        baseline_rows=frozenset(baseline_rows),
        caption=caption,
    )
