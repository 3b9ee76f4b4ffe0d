"""CPU time to clean and mask worst-case 8 MiB request bodies (issue 14 §2.1), one core.

    .venv/bin/python bench/sanitize_worst.py [--mib 8]

Each body is an EventBatch as the server accepts it (``simplified_html`` at most 2,000,000
characters per event, ``element_meta`` / ``page_meta`` / ``products`` of any size), built
to be as slow as possible for the masker: long whitespace runs after card keywords (the
reported stall: ``"cvv" + " " * 40000`` took 24.7 s), ``"a%" * N`` (quadratic for the old
email pattern), digit groups that look like phones and cards, many tiny text nodes and
attributes, deep and wide metadata. Prints the CPU time of ``clean_event`` over the whole
body (parsing excluded) and the rate per MiB; the last line is the slowest body.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

from behaviorlab.collect._events import MAX_HTML_CHARS, EventBatch
from behaviorlab.collect._pii import PiiMasker
from behaviorlab.collect._sanitize import clean_event

MiB = 1024 * 1024


def _event(i: int, **fields: Any) -> dict[str, Any]:
    return {
        "event_id": f"worst-{i:08d}",
        "session_id": "s",
        "seq": i,
        "timestamp": "2026-01-01T00:00:00+00:00",
        "action_type": "click",
        "url": "http://shop.test/p",
    } | fields


def _html_body(unit: str, size: int) -> list[dict[str, Any]]:
    per_event = MAX_HTML_CHARS - 20
    events, left, i = [], size, 0
    while left > 0:
        n = min(per_event, left) // len(unit)
        events.append(_event(i, simplified_html="<p>" + unit * n + "</p>"))
        left -= n * len(unit) + 7
        i += 1
    return events


BODIES: dict[str, Callable[[int], list[dict[str, Any]]]] = {
    "html: cvv + spaces": lambda n: [
        _event(i, simplified_html="<p>cvv" + " " * (MAX_HTML_CHARS - 20) + "x</p>")
        for i in range(max(1, n // MAX_HTML_CHARS))
    ],
    "html: a% repeated": lambda n: _html_body("a%", n),
    "html: phone-like groups": lambda n: _html_body("1 1 ", n),
    "html: card-like groups": lambda n: _html_body("4111 ", n),
    "html: tiny nodes": lambda n: _html_body("<b>1</b>", n),
    "html: attributes": lambda n: _html_body('<i title="555-1" data-x="a@b">.</i>', n),
    "element_meta: cvv + spaces": lambda n: [_event(0, element_meta={"t": "cvv" + " " * n})],
    "element_meta: a% repeated": lambda n: [_event(0, element_meta={"t": "a%" * (n // 2)})],
    "page_meta: many keys": lambda n: [
        _event(0, page_meta={f"k{i} 555-123-4567": "a@b.co" for i in range(n // 40)})
    ],
    "products: many phone-like values": lambda n: [
        _event(0, products=[{"p": "+1 555 123 4567 1 1"} for _ in range(n // 30)])
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=float, default=8.0, help="body size in MiB")
    args = parser.parse_args()
    size = int(args.mib * MiB)
    masker = PiiMasker()
    worst = ("", 0.0)
    for name, build in BODIES.items():
        body = json.dumps({"events": build(size)})
        batch = EventBatch.model_validate_json(body)
        start = time.process_time()
        for event in batch.events:
            clean_event(event, masker)
        cpu = time.process_time() - start
        mib = len(body.encode()) / MiB
        print(f"{name:34} {mib:5.2f} MiB  {cpu:6.2f} s CPU  ({cpu / mib:.3f} s/MiB)")
        if cpu > worst[1]:
            worst = (name, cpu)
    print(f"slowest {args.mib:g} MiB body: {worst[0]}, {worst[1]:.2f} s CPU")


if __name__ == "__main__":
    main()
