"""The ingest server with real page snapshots: batches of events carrying 20-60 KB pages.

    .venv/bin/python bench/ingest_pages.py --participants 40 --batches 3 --events 10

Pages are the demo shop's search page with its product grid grown to a size drawn from
20-60 KB (cards like the shop's own: title, image link, price, rating). A fixed share of the
events repeat a page another event also carries (a product page many participants see, one
page across a participant's clicks); the others carry a page no other event has. For each
share (50% and 0%) the bench starts the server (a subprocess, SQLite in a temporary folder;
``--workers N`` cleaning processes), and measures:

- burst: every participant posts its batches at once (a 503 is retried after its
  ``Retry-After``, as the extension does); events per second acknowledged;
- sustained: batches sent on a fixed schedule at ``--rate`` events per second for
  ``--seconds``; p50 / p99 batch latency;
- bytes stored per event (the database files after the server stopped) and lost events
  (acknowledged but not stored).

Then a kill -9 of the server during a burst: every event acknowledged before the kill must be
in the store when it is opened again. Ends with ``events/s (50% repeats): N``,
``events/s (0% repeats): N`` and ``lost: N`` (over all runs). Bounded: a fixed number of
requests to 127.0.0.1; the servers are stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest_burst import HOST, free_port, make_study, start_server

from behaviorlab.collect._shop import create_shop_app
from behaviorlab.collect._store import open_store

CARD = (
    '<div class="card" data-name="{slug}" data-asin="{asin}" data-title="{title}" '
    'data-price="{price}">\n'
    '  <a href="/product/{asin}" data-name="product_image" class="image" '
    'aria-label="{title}">{word}</a>\n'
    '  <a href="/product/{asin}" data-name="product_title" class="title">{title}</a>\n'
    '  <span class="price">${price}</span>\n'
    '  <span class="rating">{stars} out of 5 stars ({reviews})</span>\n'
    "</div>\n"
)
WORDS = [
    "Trail",
    "Running",
    "Shoes",
    "Leather",
    "Boots",
    "Wool",
    "Socks",
    "Canvas",
    "Sneakers",
    "Hiking",
    "Sandals",
]


def shop_page() -> str:
    """The demo shop's search page (its real markup)."""
    with TestClient(create_shop_app()) as shop:
        return shop.get("/search", params={"q": "shoes"}).text


def grown(base: str, key: str, size: int) -> str:
    """``base`` with product cards (named by ``key``) added to its grid up to ``size`` bytes."""
    rng = random.Random(key)
    cards: list[str] = []
    total = len(base)
    n = 0
    while total < size:
        title = " ".join(rng.choice(WORDS) for _ in range(4))
        card = CARD.format(
            slug=title.lower().replace(" ", "_"),
            asin=f"B{key[-6:]}{n:04d}",
            title=title,
            word=title.split()[-1],
            price=f"{rng.uniform(5, 300):.2f}",
            stars=f"{rng.uniform(1, 5):.1f}",
            reviews=rng.randint(0, 5000),
        )
        cards.append(card)
        total += len(card)
        n += 1
    at = base.find('<div class="card"')
    return base[:at] + "".join(cards) + base[at:]


@dataclass
class Workload:
    """Pre-built request bodies: ``bodies[p]`` are participant p's batches (JSON bytes)."""

    bodies: list[list[bytes]]
    events: int
    repeats: int
    page_bytes: int


def workload(
    base: str, participants: int, batches: int, events: int, share: float, tag: str
) -> Workload:
    """Every other event (at ``share`` 0.5) carries one of 20 shared pages; the rest a page
    of their own (``tag`` names this run's events and unique pages)."""
    rng = random.Random(tag)
    shared = [grown(base, f"shared{i:06d}", rng.randint(20_000, 60_000)) for i in range(20)]
    bodies: list[list[bytes]] = []
    index = repeats = page_bytes = 0
    for p in range(participants):
        mine = []
        for b in range(batches):
            items = []
            for k in range(events):
                repeat = share > 0 and (index % round(1 / share)) == 0
                if repeat:
                    page = shared[index % len(shared)]
                    repeats += 1
                else:
                    page = grown(base, f"{tag}{index:09d}", rng.randint(20_000, 60_000))
                page_bytes += len(page)
                items.append(
                    {
                        "event_id": f"{tag}{p:05d}-{b:03d}-{k:03d}",
                        "session_id": f"s{p}",
                        "seq": b * events + k,
                        "timestamp": "2026-01-01T00:00:00Z",
                        "action_type": "click",
                        "click_type": "product_link",
                        "semantic_id": f"search_results.product_{k}.title",
                        "url": f"http://{HOST}/search?q=shoes&page={b}",
                        "simplified_html": page,
                    }
                )
                index += 1
            mine.append(json.dumps({"events": items}).encode())
        bodies.append(mine)
    return Workload(bodies, index, repeats, page_bytes)


@dataclass
class Sent:
    acknowledged: set[str] = field(default_factory=set)
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    busy: int = 0
    failed: int = 0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def post(client: httpx.AsyncClient, token: str, body: bytes, sent: Sent) -> None:
    """One batch, retried on 503 after ``Retry-After``; acknowledged ids recorded."""
    start = time.perf_counter()
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    try:
        while True:
            r = await client.post("/api/v1/events", content=body, headers=headers)
            if r.status_code != 503:
                break
            sent.busy += 1
            await asyncio.sleep(float(r.headers.get("retry-after", "1")))
    except httpx.HTTPError:
        sent.failed += 1
        return
    sent.latencies.append(time.perf_counter() - start)
    sent.statuses[r.status_code] = sent.statuses.get(r.status_code, 0) + 1
    if r.status_code == 200:
        sent.acknowledged.update(e["event_id"] for e in json.loads(body)["events"])


def client_for(base: str, n: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    return httpx.AsyncClient(base_url=base, timeout=120, limits=limits)


async def burst(
    base: str, tokens: list[str], load: Workload, sent: Sent | None = None
) -> tuple[Sent, float]:
    sent = sent if sent is not None else Sent()
    async with client_for(base, len(tokens)) as client:

        async def one(p: int) -> None:
            for body in load.bodies[p]:
                await post(client, tokens[p], body, sent)

        start = time.perf_counter()
        await asyncio.gather(*(one(p) for p in range(len(tokens))))
        return sent, time.perf_counter() - start


async def sustained(base: str, tokens: list[str], load: Workload, rate: float) -> Sent:
    """Batches on a fixed schedule (open loop): ``rate`` events per second."""
    sent = Sent()
    plan = [(p, body) for b in range(len(load.bodies[0])) for p, mine in enumerate(load.bodies)
            for body in mine[b : b + 1]]  # fmt: skip
    per_batch = load.events / max(1, len(plan))
    async with client_for(base, 200) as client:
        start = time.perf_counter()
        tasks = []
        for j, (p, body) in enumerate(plan):
            delay = start + j * per_batch / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(client, tokens[p], body, sent)))
        await asyncio.gather(*tasks)
    return sent


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` and its live children (the
    worker processes), read from /proc (Linux); 0 where /proc is missing. Unlike wall-clock
    rates, this does not depend on what else shares the cores."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def stored_ids(db: Path) -> set[str]:
    store = open_store(db)
    try:
        return {r.event_id for r in store.events_of("burst")}
    finally:
        store.close()


def disk_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def run_share(base_page: str, share: float, args: argparse.Namespace) -> tuple[float, int]:
    """Burst and sustained runs at one repeat share; (burst events/s, lost)."""
    shape = (args.participants, args.batches, args.events, share)
    load = workload(base_page, *shape, tag=f"b{share:.1f}")
    steady = workload(base_page, *shape, tag=f"s{share:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "pages.sqlite"
        tokens = make_study(db, args.participants)
        port = free_port()
        server = start_server(db, port, workers=args.workers)
        url = f"http://127.0.0.1:{port}"
        try:
            cpu0, client0 = tree_cpu(server.pid), time.process_time()
            fast, seconds = asyncio.run(burst(url, tokens, load))
            cpu = tree_cpu(server.pid) - cpu0
            client = time.process_time() - client0
            slow = asyncio.run(sustained(url, tokens, steady, args.rate))
        finally:
            server.terminate()
            server.wait(timeout=60)
        stored = stored_ids(db)
        lost = len((fast.acknowledged | slow.acknowledged) - stored)
        size = disk_bytes(db)
    rate = len(fast.acknowledged) / seconds
    print(
        f"repeats {load.repeats}/{load.events} = {load.repeats / load.events:.0%}; "
        f"pages {load.page_bytes / load.events / 1024:.1f} KB on average"
    )
    print(
        f"  burst: {len(fast.acknowledged)} events in {seconds:.2f} s = {rate:,.0f} events/s; "
        f"statuses {fast.statuses}, 503 retried {fast.busy}, failed {fast.failed}; "
        f"batch p50 {fast.percentile(0.5):.2f} s, p99 {fast.percentile(0.99):.2f} s"
    )
    per_event = cpu / max(1, len(fast.acknowledged))
    print(
        f"  burst CPU: server {per_event * 1000:.2f} ms per event (all its processes), bench "
        f"client {client / max(1, len(fast.acknowledged)) * 1000:.2f} ms; at that cost 2 "
        f"cores free for the server would take {2 / max(per_event, 1e-9):,.0f} events/s; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"  sustained at {args.rate:g} events/s: {len(slow.acknowledged)} events; batch latency "
        f"p50 {slow.percentile(0.5) * 1000:.0f} ms, p99 {slow.percentile(0.99) * 1000:.0f} ms; "
        f"503 retried {slow.busy}"
    )
    print(
        f"  stored {len(stored)} events, {size / max(1, len(stored)) / 1024:.1f} KB on disk per "
        f"event (pages sent: {load.page_bytes / load.events / 1024:.1f} KB); lost {lost}"
    )
    return rate, lost


def run_kill(base_page: str, args: argparse.Namespace) -> int:
    """kill -9 the server once a burst has some events acknowledged (0.3 s after the first
    answer); acknowledged events missing from the store opened again after."""
    load = workload(base_page, args.participants, args.batches, args.events, 0.5, tag="k")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "kill.sqlite"
        tokens = make_study(db, args.participants)
        port = free_port()
        server = start_server(db, port, workers=args.workers)

        async def go() -> Sent:
            sent = Sent()
            task = asyncio.create_task(burst(f"http://127.0.0.1:{port}", tokens, load, sent))
            deadline = time.monotonic() + 60
            while not sent.acknowledged and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)
            os.kill(server.pid, signal.SIGKILL)
            sent, _ = await task
            return sent

        try:
            sent = asyncio.run(go())
        finally:
            server.kill()
            server.wait(timeout=60)
        lost = len(sent.acknowledged - stored_ids(db))
    print(
        f"kill -9 during a burst: {len(sent.acknowledged)} events acknowledged before, "
        f"{sent.failed} batches cut off; lost {lost}"
    )
    return lost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=40)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--events", type=int, default=10)
    parser.add_argument("--rate", type=float, default=300.0, help="sustained events/s")
    parser.add_argument("--workers", type=int, default=0, help="cleaning processes")
    args = parser.parse_args()
    base = shop_page()
    print(
        f"{args.participants} participants x {args.batches} batches x {args.events} events, "
        f"pages 20-60 KB from the demo shop's search page; server workers {args.workers}"
    )
    results = {share: run_share(base, share, args) for share in (0.5, 0.0)}
    killed = run_kill(base, args)
    print(f"events/s (50% repeats): {results[0.5][0]:.0f}")
    print(f"events/s (0% repeats): {results[0.0][0]:.0f}")
    print(f"lost: {results[0.5][1] + results[0.0][1] + killed}")


if __name__ == "__main__":
    main()
