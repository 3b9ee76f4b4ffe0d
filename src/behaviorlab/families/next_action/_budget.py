"""A token budget per trial: what of the persona, history and page fits, and what was cut.

Tokens are counted by a :data:`TokenCounter` (text → tokens). The default,
:func:`approx_tokens`, is ``ceil(characters / chars_per_token)`` with 4 characters per token;
pass a real tokenizer's counting function for exact numbers. A prompt's count is the sum over
its parts: the fixed part (instructions, persona, a reserve for the prompt's own wording), one
count per history line and one per page line (each plus one for its newline).

When the total exceeds the budget, parts are cut in this order, each step only as far as
needed (docs/next-action.md):

1. page text lines that are not headings, from the bottom of the page up;
2. heading lines, from the bottom up;
3. history steps, oldest first in chunks (below), down to about the ``keep_recent`` most recent;
4. element texts longer than ``short`` characters, shortened, farthest first;
5. actionable elements, farthest first; a container or product card line goes with its last
   element;
6. the remaining history steps, oldest first and in chunks.

History is cut in **chunks** of ``history_chunk`` lines (default 4) counted from the start of
the history given: the number of oldest lines dropped is always the smallest multiple of
``history_chunk`` that makes the prompt fit. In step 3 it is capped at the largest multiple
that leaves at least ``keep_recent`` lines (so between ``keep_recent`` and ``keep_recent +
history_chunk - 1`` lines stay until elements are cut); in step 6 at all of them (the last
chunk may be partial). History lines keep their own step numbers
(:func:`~behaviorlab.families.next_action._actions.history_lines`), so a step's shown history is the
previous step's plus its new line whenever both drop the same number of lines. Chunks make that
the usual case (the need grows by about one line per step and moves with the page's length,
the cut only every ``history_chunk`` lines), which keeps the prompt prefix that a KV cache
reuses between consecutive steps (docs/performance.md). ``history_chunk=1`` cuts line by line.

*Far* means deep in a list: an element's depth is its position among the elements of its
container (the 8th product card, the 5th quantity option), or its container's depth if that is
larger (every element of the 8th card is as deep as the card); equal depths go from the bottom
of the page up. So long lists are shortened from their ends, and every section keeps its first
elements: the first results, the first filters, the nav bar. The instructions and the persona
are not cut here: the persona comes already condensed to its share of the budget
(:mod:`._persona`), and a trial whose fixed part alone exceeds the budget keeps an empty page
and is flagged ``over_budget``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from behaviorlab.families.next_action._page import PageLine, RenderedPage
from behaviorlab.tasks._tokens import TokenCounter, approx_tokens


@dataclass(frozen=True)
class CutReport:
    """How much of one trial's prompt was cut to fit the budget."""

    budget: int | None
    tokens_before: int
    tokens_after: int
    fixed_tokens: int
    """Instructions + persona (as condensed to its share, :mod:`._persona`) + reserve."""
    page_tokens_before: int
    page_tokens_after: int
    history_before: int
    history_after: int
    text_lines_dropped: int
    elements_before: int
    elements_after: int
    elements_shortened: int
    over_budget: bool

    @property
    def elements_dropped(self) -> int:
        return self.elements_before - self.elements_after

    def as_meta(self) -> dict[str, Any]:
        """The report as a flat JSON-able dict (stored with every result row)."""
        out = dataclasses.asdict(self)
        out["elements_dropped"] = self.elements_dropped
        return out


@dataclass(frozen=True)
class Cut:
    """What fits: the page's kept lines, how many recent history steps are kept, the report."""

    page: RenderedPage
    history_kept: int
    """The number of most recent history entries kept (the last ones of the list given)."""
    report: CutReport

    def semantic_ids(self) -> list[str]:
        return self.page.semantic_ids()


def fit_budget(
    page: RenderedPage,
    history: Sequence[str],
    *,
    fixed_tokens: int,
    budget: int | None,
    count: TokenCounter = approx_tokens,
    keep_recent: int = 3,
    short: int = 40,
    history_chunk: int = 4,
) -> Cut:
    """Cut ``page`` and ``history`` (oldest first, one text per step) to fit ``budget`` tokens
    together with ``fixed_tokens``, in the documented order (see the module docstring);
    history goes in chunks of ``history_chunk`` oldest lines."""
    if history_chunk < 1:
        raise ValueError(f"fit_budget: history_chunk must be at least 1, not {history_chunk}")
    if keep_recent < 0:
        raise ValueError(f"fit_budget: keep_recent must be >= 0, not {keep_recent}")
    lines = list(page.lines)
    n = len(lines)
    cost = [count(ln.render()) + 1 for ln in lines]
    hist_cost = [count(h) + 1 for h in history]
    header = count(page.header()) + 1
    page_before = header + sum(cost)
    total = fixed_tokens + page_before + sum(hist_cost)
    before = total
    ids_before = sum(1 for ln in lines if ln.element is not None)
    alive = [True] * n
    short_at: set[int] = set()
    hist_start = 0  # history[hist_start:] is kept
    dropped_text = 0

    children = [0] * n  # alive lines directly inside each container / card line
    for ln in lines:
        if ln.group is not None:
            children[ln.group] += 1
    depth = [0] * n  # how deep in its list (see the module docstring)
    seen_in: dict[int | None, int] = {}
    for i, ln in enumerate(lines):
        if ln.kind in ("text", "heading"):
            continue
        depth[i] = seen_in.get(ln.group, 0)
        seen_in[ln.group] = depth[i] + 1
        if ln.group is not None:
            depth[i] = max(depth[i], depth[ln.group])

    def bottom_up(indices: list[int]) -> list[int]:
        return sorted(indices, reverse=True)

    def far_first(indices: list[int]) -> list[int]:
        return sorted(indices, key=lambda i: (-depth[i], -i))

    def fits() -> bool:
        return budget is None or total <= budget

    def drop(i: int) -> None:
        nonlocal total
        alive[i] = False
        total -= cost[i]
        group = lines[i].group
        while group is not None:
            children[group] -= 1
            if children[group] > 0 or not alive[group]:
                break
            alive[group] = False
            total -= cost[group]
            group = lines[group].group

    def drop_history(floor: int) -> None:
        """Drop the oldest history lines in chunks until it fits or ``floor`` lines remain."""
        nonlocal total, hist_start
        most = len(history)
        if floor:  # step 3: a whole number of chunks, keeping at least ``floor`` lines
            most = (len(history) - floor) // history_chunk * history_chunk
        most = max(hist_start, most)
        while not fits() and hist_start < most:
            stop = min(most, (hist_start // history_chunk + 1) * history_chunk)
            total -= sum(hist_cost[hist_start:stop])
            hist_start = stop

    def childless(ln: PageLine, i: int) -> bool:
        return ln.kind in ("container", "product") and children[i] == 0

    if not fits():
        for kinds in (("text",), ("heading",)):
            pool = [
                i for i, ln in enumerate(lines)
                if ln.kind in kinds or (kinds == ("text",) and childless(ln, i))
            ]  # fmt: skip
            for i in bottom_up(pool):
                if fits():
                    break
                if alive[i]:
                    drop(i)
                    dropped_text += 1
        drop_history(keep_recent)
        for i in far_first([i for i, ln in enumerate(lines) if ln.kind == "element"]):
            if fits():
                break
            el = lines[i].element
            if el is not None and len(el.text) > short and not el.text.startswith("("):
                new = count(lines[i].render(short)) + 1
                total -= cost[i] - new
                cost[i] = new
                short_at.add(i)
        for i in far_first([i for i, ln in enumerate(lines) if ln.kind == "element"]):
            if fits():
                break
            if alive[i]:
                drop(i)
        drop_history(0)

    changed = not all(alive) or bool(short_at)
    kept: list[PageLine] = []
    for i, ln in enumerate(lines if changed else ()):
        if not alive[i]:
            continue
        if i in short_at and ln.element is not None:
            text = ln.element.text
            el = dataclasses.replace(ln.element, text=text[: short - 1].rstrip() + "…")
            ln = dataclasses.replace(ln, element=el)
        kept.append(dataclasses.replace(ln, group=None))
    new_page = RenderedPage(page.title, page.url, tuple(kept)) if changed else page
    report = CutReport(
        budget=budget,
        tokens_before=before,
        tokens_after=total,
        fixed_tokens=fixed_tokens,
        page_tokens_before=page_before,
        page_tokens_after=header + sum(c for c, a in zip(cost, alive, strict=True) if a),
        history_before=len(history),
        history_after=len(history) - hist_start,
        text_lines_dropped=dropped_text,
        elements_before=ids_before,
        elements_after=len(new_page.elements),
        elements_shortened=len([i for i in short_at if alive[i]]),
        over_budget=not fits(),
    )
    return Cut(new_page, len(history) - hist_start, report)
