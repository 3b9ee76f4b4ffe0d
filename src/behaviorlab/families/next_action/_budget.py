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
5. product card summaries, farthest first, shortened to their head: the title's first
   ``CARD_HEAD`` (40) characters and the price (:attr:`PageLine.head`; rating and other
   text go);

Steps 6-8 touch only cards in a *list* (two or more cards in one container: results, a
carousel, a cart of several items); a card alone (the product of a product page, a cart's
only item) keeps its id and every element until step 9.

6. listed cards' own ids, farthest first: the card's line stays as text, its elements keep
   theirs (a card groups what people act on: its links and buttons);
7. in each listed card, the elements other than its title link (the ``product_title``
   element, else its first), farthest card first: an image link that repeats the title, an
   "Add to cart" that every card repeats, so a results list keeps one link per product
   before it loses whole products;
8. listed cards left with their title link alone, farthest first, shown as that one link
   with the card's head: ``[<card>.product_title] link "<title head>" | <price>`` (the
   card's line goes; only a link that showed the title, ``(title)``, takes it);
9. actionable elements, farthest first; a container or product card line goes with its last
   element;
10. the remaining history steps, oldest first and in chunks.

Steps 1-8 take descriptive text and repeated or grouping parts before any element people act
on is lost, so long lists keep their length and every product stays nameable; the page keeps
its structure (containers stay while any of their elements does). No step looks at what the
person did.

History is cut in **chunks** of ``history_chunk`` lines (default 4) counted from the start of
the history given: the number of oldest lines dropped is always the smallest multiple of
``history_chunk`` that makes the prompt fit. In step 3 it is capped at the largest multiple
that leaves at least ``keep_recent`` lines (so between ``keep_recent`` and ``keep_recent +
history_chunk - 1`` lines stay until elements are cut); in step 10 at all of them (the last
chunk may be partial). History lines keep their own step numbers
(:func:`~behaviorlab.families.next_action._actions.history_lines`), so a step's shown history is the
previous step's plus its new line whenever both drop the same number of lines. Chunks make that
the usual case (the need grows by about one line per step and moves with the page's length,
the cut only every ``history_chunk`` lines), which keeps the prompt prefix that a KV cache
reuses between consecutive steps (docs/performance.md). ``history_chunk=1`` cuts line by line.

*Far* means deep in a list: an element's depth is its position among the elements of its
container (the 8th product card, the 5th quantity option), or its container's depth if that is
larger (every element of the 8th card is as deep as the card); equal depths go from the bottom
of the page up. A top-level section (a container or card outside any other) is at depth 0
wherever it sits on the page, so depth counts within a section: the 3rd result is as deep as
the 3rd nav link or the 3rd sort option, however many sections come before the results
(elements outside any section count as one more section). So long lists are shortened from
their ends, every section evenly, and every section keeps its first elements: the first
results, the first filters, the nav bar. The instructions and the persona are not cut here:
the persona comes already condensed to its share of the budget (:mod:`._persona`), and a
trial whose fixed part alone exceeds the budget keeps an empty page and is flagged
``over_budget``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from behaviorlab.families.next_action._html import clip
from behaviorlab.families.next_action._page import CARD_HEAD, PageLine, RenderedPage
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
    cards_shortened: int = 0
    """Product cards shown with their head (step 5), without their own id (step 6) or as
    their title link (step 8)."""

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
    short_at: set[int] = set()  # element texts shortened (step 4)
    headed: set[int] = set()  # card lines shown as their head (step 5)
    unnamed: set[int] = set()  # card lines shown without their id (step 6)
    merged: dict[int, int] = {}  # title link -> its card, shown as one line (step 8)
    hist_start = 0  # history[hist_start:] is kept
    dropped_text = 0

    children = [0] * n  # alive lines directly inside each container / card line
    parent = [ln.group for ln in lines]  # a merged title link's is its card's (step 8)
    title_link: dict[int, int] = {}  # card line -> its title link (step 7)
    for i, ln in enumerate(lines):
        if ln.group is not None:
            children[ln.group] += 1
            if ln.kind == "element" and lines[ln.group].kind == "product":
                first = title_link.setdefault(ln.group, i)
                if _is_title(ln) and not _is_title(lines[first]):
                    title_link[ln.group] = i
    depth = [0] * n  # how deep in its section's list (see the module docstring)
    seen_in: dict[int | None, int] = {}
    for i, ln in enumerate(lines):
        if ln.kind in ("text", "heading"):
            continue
        if ln.group is None and ln.kind in ("container", "product"):
            continue  # a top-level section is at depth 0 wherever it sits on the page
        depth[i] = seen_in.get(ln.group, 0)
        seen_in[ln.group] = depth[i] + 1
        if ln.group is not None:
            depth[i] = max(depth[i], depth[ln.group])

    def shown(i: int) -> PageLine:
        """Line ``i`` as it is shown after steps 4-8."""
        ln = lines[i]
        if i in short_at and ln.element is not None:
            text = ln.element.text
            el = dataclasses.replace(ln.element, text=text[: short - 1].rstrip() + "…")
            ln = dataclasses.replace(ln, element=el)
        if i in headed and ln.head is not None:
            ln = dataclasses.replace(ln, text=ln.head)
        if i in unnamed:
            ln = dataclasses.replace(ln, element=None)
        card = merged.get(i)
        if card is not None and ln.element is not None:  # the card's head on its title link
            c = lines[card]
            el = dataclasses.replace(ln.element, text=clip(c.card_title, CARD_HEAD))
            ln = dataclasses.replace(ln, element=el, text=c.card_price, depth=c.depth)
        return ln

    def recount(i: int) -> None:
        nonlocal total
        new = count(shown(i).render()) + 1
        total -= cost[i] - new
        cost[i] = new

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
        group = parent[i]
        while group is not None:
            children[group] -= 1
            if children[group] > 0 or not alive[group]:
                break
            alive[group] = False
            total -= cost[group]
            group = parent[group]

    def drop_far(indices: list[int]) -> None:
        for i in far_first(indices):
            if fits():
                break
            if alive[i]:
                drop(i)

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

    elements = [i for i, ln in enumerate(lines) if ln.kind == "element"]
    cards = [i for i, ln in enumerate(lines) if ln.kind == "product"]
    in_list = Counter(lines[i].group for i in cards)
    listed = [i for i in cards if in_list[lines[i].group] > 1]  # steps 6-8
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
        for i in far_first(elements):  # 4.
            if fits():
                break
            el = lines[i].element
            if el is not None and len(el.text) > short and not el.text.startswith("("):
                short_at.add(i)
                recount(i)
        for i in far_first(cards):  # 5.
            if fits():
                break
            head = lines[i].head
            if alive[i] and head is not None and len(head) < len(lines[i].text):
                headed.add(i)
                recount(i)
        for i in far_first(listed):  # 6.
            if fits():
                break
            if alive[i] and lines[i].element is not None:
                unnamed.add(i)
                recount(i)
        repeated = [i for i in elements if title_link.get(_group(lines[i]), i) != i]
        drop_far([i for i in repeated if in_list[lines[_group(lines[i])].group] > 1])  # 7.
        for i in far_first(listed):  # 8.
            if fits():
                break
            link = title_link.get(i)
            if alive[i] and i in unnamed and children[i] == 1 and link is not None:
                el = lines[link].element
                if alive[link] and el is not None and el.text == "(title)":
                    merged[link] = i
                    alive[i] = False
                    total -= cost[i]
                    parent[link] = parent[i]
                    recount(link)
        drop_far(elements)  # 9.
        drop_history(0)  # 10.

    changed = not all(alive) or bool(short_at or headed or unnamed)
    kept = [
        dataclasses.replace(shown(i), group=None) for i in (range(n) if changed else ()) if alive[i]
    ]
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
        cards_shortened=len([i for i in headed | unnamed if alive[i]])
        + len([i for i in merged if alive[i]]),
    )
    return Cut(new_page, len(history) - hist_start, report)


def _group(line: PageLine) -> int:
    return -1 if line.group is None else line.group


def _is_title(line: PageLine) -> bool:
    el = line.element
    return el is not None and el.semantic_id.rsplit(".", 1)[-1] == "product_title"
