"""The token budget: the documented cut order, honest accounting, the survival ceiling."""

from __future__ import annotations

from pathlib import Path

import pytest

from behaviorlab.data import Dataset, load_opera, make_synthetic_opera
from behaviorlab.families.next_action import RenderedPage, fit_budget, render_page, target_survival
from behaviorlab.tasks import approx_tokens

PAGE = (
    """<title>Results</title>
<div name="nav"><a name="nav.home">Home</a><a name="nav.cart">Cart</a></div>
<p>Intro text that nobody acts on, fairly long so that it costs a few tokens.</p>
<h2>Results</h2>
<div name="list">"""
    + "".join(
        f'<a name="list.item_{i}">Item number {i} with a longer label than needed</a>'
        for i in range(10)
    )
    + """</div>
<p>Closing text at the bottom of the page, also long enough to cost tokens.</p>"""
)

HISTORY = [f"{i}. on page {i}: click something.somewhere_{i}" for i in range(1, 7)]


def total(page: RenderedPage, history: list[str], fixed: int) -> int:
    lines = page.text().splitlines()
    return (
        fixed
        + sum(approx_tokens(x) + 1 for x in lines)
        + sum(approx_tokens(h) + 1 for h in history)
    )


def test_no_cut_within_budget_and_accounting() -> None:
    page = render_page(PAGE)
    cut = fit_budget(page, HISTORY, fixed_tokens=50, budget=10_000)
    r = cut.report
    assert cut.page == page and cut.history_kept == len(HISTORY)
    assert r.tokens_before == r.tokens_after == total(page, HISTORY, 50)
    assert (r.elements_dropped, r.text_lines_dropped, r.over_budget) == (0, 0, False)
    assert fit_budget(page, HISTORY, fixed_tokens=50, budget=None).report == r.__class__(
        **{**r.__dict__, "budget": None}
    )


def test_cut_order_text_then_headings_then_old_history_then_deep_elements() -> None:
    page = render_page(PAGE)
    full = total(page, HISTORY, 50)
    text_cost = sum(approx_tokens(ln.render()) + 1 for ln in page.lines if ln.kind == "text")

    # 1. a little over: only the bottom text line goes
    cut = fit_budget(page, HISTORY, fixed_tokens=50, budget=full - 5)
    assert cut.report.text_lines_dropped == 1
    assert "Closing text" not in cut.page.text() and "Intro text" in cut.page.text()
    assert cut.history_kept == 6 and cut.report.elements_dropped == 0

    # 2. more: text and the heading go, then history down to keep_recent, elements untouched
    #    (history_chunk=1: line by line; chunks are tested below)
    cut = fit_budget(
        page, HISTORY, fixed_tokens=50, budget=full - text_cost - 30, keep_recent=2, history_chunk=1
    )
    assert "Intro" not in cut.page.text() and "# Results" not in cut.page.text()
    assert 2 <= cut.history_kept < 6 and cut.report.elements_dropped == 0

    # 3. tighter: history at keep_recent, long element texts shortened, then the deepest
    #    elements of the long list go first; the nav bar (shallow) stays
    cut = fit_budget(
        page, HISTORY, fixed_tokens=50, budget=200, keep_recent=2, short=12, history_chunk=1
    )
    ids = cut.semantic_ids()
    assert cut.history_kept == 2 and cut.report.elements_shortened > 0
    assert {"nav", "nav.home", "nav.cart", "list", "list.item_0"} <= set(ids)
    kept_items = [i for i in range(10) if f"list.item_{i}" in ids]
    assert kept_items == list(range(len(kept_items))) and len(kept_items) < 10
    assert cut.report.tokens_after <= 200 and not cut.report.over_budget
    assert cut.report.tokens_after == total(cut.page, HISTORY[-2:], 50)
    assert cut.report.elements_dropped == 10 - len(kept_items)


def test_container_goes_with_its_last_element_and_over_budget_is_flagged() -> None:
    page = render_page(PAGE)
    cut = fit_budget(page, HISTORY, fixed_tokens=500, budget=100)
    assert cut.report.over_budget and cut.page.elements == [] and cut.history_kept == 0
    assert "[list]" not in cut.page.text() and "[nav]" not in cut.page.text()
    assert cut.report.elements_before == 14 and cut.report.elements_after == 0


def test_a_real_tokenizer_function_can_count() -> None:
    page = render_page(PAGE)
    words = fit_budget(page, [], fixed_tokens=0, budget=None, count=lambda s: len(s.split()))
    chars = fit_budget(page, [], fixed_tokens=0, budget=None)
    assert words.report.tokens_before != chars.report.tokens_before
    lines = page.text().splitlines()
    assert words.report.tokens_before == sum(len(x.split()) + 1 for x in lines)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    root: Path = make_synthetic_opera(
        tmp_path_factory.mktemp("opera"), users=4, sessions_per_user=2
    )
    return load_opera(root).dataset


def test_target_survival_is_a_ceiling_that_falls_with_the_budget(shop: Dataset) -> None:
    shares = [target_survival(shop, b) for b in (None, 1500, 1000, 700)]
    assert shares[0].share == 1.0 and shares[0].reachable == 1.0
    assert shares[0].mean_tokens_before == shares[0].mean_tokens_after
    assert [s.share for s in shares] == sorted((s.share for s in shares), reverse=True)
    assert shares[-1].share < 1.0 and shares[-1].mean_elements_dropped > 0
    steps = sum(len(e.steps) for e in shop.episodes)
    assert all(s.steps == steps for s in shares)
    terminates = sum(
        1 for e in shop.episodes for s in e.steps if s.action.action_type == "terminate"
    )
    assert shares[0].targeted == steps - terminates
    s = shares[-1]
    assert s.reachable == pytest.approx((s.in_view + terminates) / steps)
    assert set(s.by_click_type) >= {"input", "product_link"}
    assert all(0.0 <= v <= 1.0 for v in s.by_click_type.values())
