"""Per-page clean + mask time on one core: a ~40 KB product-grid page, before and after.

    .venv/bin/python bench/sanitize_page.py --before 16bb342

The page is the demo shop's search page (rendered in-process), its grid of product cards
padded with more cards to about 40 KB, with a few PII strings in it (an email split by a
tag, a phone, a card number in spans), as a simplified-HTML snapshot would carry. Each timed
call cleans a distinct page (a number in it changes), so no cached result is reused.
``--before REV`` also times ``clean_html`` as it was at that git revision (its ``_pii.py``
and ``_sanitize.py`` loaded from ``git show``) and prints the ratio; both are timed in this
one run, interleaved, by CPU time (``time.process_time``) in this single thread.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from behaviorlab.collect._pii import PiiMasker
from behaviorlab.collect._sanitize import clean_html
from behaviorlab.collect._shop import create_shop_app

ROOT = Path(__file__).resolve().parent.parent
Cleaner = Callable[[str], str]


def product_grid_page(size: int = 40_000) -> str:
    """The demo shop's search page body, its product cards repeated up to ``size`` chars."""
    with TestClient(create_shop_app()) as client:
        page = client.get("/search", params={"q": ""}).text
    body = page[page.index("<body>") + 6 : page.index("</body>")]
    cards = re.findall(r'<div class="card".*?</div>', body, flags=re.DOTALL)
    extra: list[str] = []
    i = 0
    while len(body) + sum(map(len, extra)) < size:
        card = cards[i % len(cards)].replace("BLDEMO", f"BLPAD{i:04d}")
        extra.append(card)
        i += 1
    pii = (
        '<p class="note">Questions? jane<b></b>.doe@example.com or call 555-123-4567.</p>'
        "<p>Saved card <span>4111</span> <span>1111</span> <span>1111</span> <span>1111</span>"
        "</p>"
    )
    return body.replace("</main>", "".join(extra) + pii + "</main>")


def load_before(rev: str) -> Cleaner:
    """``clean_html`` (with its masker) as it was at git revision ``rev``."""

    def source(path: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{rev}:{path}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    pii = types.ModuleType("_bench_before_pii")
    sys.modules[pii.__name__] = pii
    exec(compile(source("src/behaviorlab/collect/_pii.py"), "before_pii", "exec"), pii.__dict__)
    sanitize_src = source("src/behaviorlab/collect/_sanitize.py").replace(
        "behaviorlab.collect._pii", pii.__name__
    )
    sanitize = types.ModuleType("_bench_before_sanitize")
    sys.modules[sanitize.__name__] = sanitize
    exec(compile(sanitize_src, "before_sanitize", "exec"), sanitize.__dict__)
    masker = pii.PiiMasker()
    return lambda markup: str(sanitize.clean_html(markup, masker))


def cpu_ms(clean: Cleaner, page: str) -> float:
    start = time.process_time()
    clean(page)
    return (time.process_time() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="git revision whose cleaner to compare with")
    parser.add_argument("--pages", type=int, default=200, help="distinct pages timed")
    parser.add_argument("--size", type=int, default=40_000, help="page size in characters")
    args = parser.parse_args()

    page = product_grid_page(args.size)
    masker = PiiMasker()
    cleaners: dict[str, Cleaner] = {"now": lambda markup: clean_html(markup, masker)}
    if args.before:
        cleaners["before"] = load_before(args.before)
    out = cleaners["now"](page)
    print(f"page: {len(page):,} chars, {len(page.encode()):,} bytes; cleaned: {len(out):,} chars")
    for leak in ("jane", "555-123-4567", "<span>1111</span>"):
        print(f"  {leak!r} left in the cleaned page: {leak in out}")
    times: dict[str, list[float]] = {name: [] for name in cleaners}
    for i in range(args.pages):
        distinct = page.replace("</main>", f"<p>page {i}</p></main>")
        for name, clean in cleaners.items():  # interleaved: both see the same machine load
            times[name].append(cpu_ms(clean, distinct))
    for name, ms in times.items():
        print(
            f"{name:>6}: median {statistics.median(ms):.2f} ms/page, "
            f"p90 {statistics.quantiles(ms, n=10)[-1]:.2f} ms (CPU, one core, {args.pages} pages)"
        )
    if "before" in times:
        ratio = statistics.median(times["before"]) / statistics.median(times["now"])
        print(f"ratio before/now: {ratio:.2f}x")


if __name__ == "__main__":
    main()
