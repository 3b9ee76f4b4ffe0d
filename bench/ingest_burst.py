"""A bounded burst against the ingest server on loopback: N participants post batches at once.

    .venv/bin/python bench/ingest_burst.py --participants 200 --batches 5 --events 20

Starts ``behaviorlab collect serve``'s app (uvicorn, a subprocess, SQLite in a temporary
directory), enrols and consents the participants directly in the store, then every
participant posts its batches concurrently (httpx.AsyncClient). Prints events per second,
p50 / p99 batch latency, and checks that every acknowledged event is stored. Bounded: a fixed
number of requests to 127.0.0.1, then the server is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from behaviorlab.collect._store import open_store
from behaviorlab.collect._study import Participant, Study, utc_now

HOST = "shop.test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    db: Path, port: int, *, rate: float = 1000.0, burst: int = 1000, workers: int = 0
) -> subprocess.Popen[bytes]:
    """The ingest server in a subprocess on 127.0.0.1:port (batches cleaned in ``workers``
    processes, 0: threads); returns once /healthz answers."""
    code = (
        "import uvicorn\n"
        "from behaviorlab.collect._server import RateLimit, create_app\n"
        f"app = create_app({str(db)!r}, rate_limit=RateLimit(per_second={rate}, burst={burst}),"
        f" workers={workers})\n"
        f"uvicorn.run(app, host='127.0.0.1', port={port}, log_level='warning',\n"
        "            timeout_keep_alive=120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the ingest server exited with {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the ingest server did not start within 60 s")


def make_study(db: Path, participants: int) -> list[str]:
    """A study allowing shop.test and consented participants; their tokens."""
    store = open_store(db)
    store.create_study(Study(study_id="burst", name="burst", allowed_hosts=[HOST]))
    tokens = []
    for i in range(participants):
        who = Participant(
            participant_id=f"pb{i:05d}",
            study_id="burst",
            token=f"pt-burst-{i:06d}-xxxxxxxx",
            enrolled_at=utc_now(),
        )
        store.add_participant(who)
        store.record_consent(who, "burst test", utc_now(), utc_now())
        tokens.append(who.token)
    store.close()
    return tokens


def batch(participant: int, b: int, events: int) -> dict[str, object]:
    return {
        "events": [
            {
                "event_id": f"b{participant:05d}-{b:03d}-{k:03d}",
                "session_id": f"s{participant}",
                "seq": b * events + k,
                "timestamp": "2026-01-01T00:00:00Z",
                "action_type": "click",
                "click_type": "product_link",
                "semantic_id": f"results.product_{k}.title",
                "url": f"https://{HOST}/search?q=item{k}",
                # a different page per event, so the server's page cache never helps
                "simplified_html": f"<p>{participant}-{b}-{k}</p>"
                + "<div><a name='results.product.title'>Item</a></div>" * 20,
            }
            for k in range(events)
        ]
    }


@dataclass
class BurstResult:
    sent: int
    acknowledged: int
    statuses: dict[int, int]
    seconds: float
    latencies: list[float]
    busy: int = 0
    """503 answers (queue full) that were retried after their Retry-After."""

    @property
    def events_per_second(self) -> float:
        return self.acknowledged / self.seconds

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def burst(base: str, tokens: list[str], batches: int, events: int) -> BurstResult:
    """Every participant posts ``batches`` batches of ``events`` events, all at once; a 503
    (the server's queue is full) is sent again after its ``Retry-After``, as the extension
    does. Latency: from the first send to the final answer; statuses: final answers."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    acknowledged = 0
    busy = 0
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def one(i: int, token: str) -> None:
            nonlocal acknowledged, busy
            for b in range(batches):
                start = time.perf_counter()
                while True:
                    r = await client.post(
                        "/api/v1/events",
                        json=batch(i, b, events),
                        headers={"authorization": f"Bearer {token}"},
                    )
                    if r.status_code != 503:
                        break
                    busy += 1
                    await asyncio.sleep(float(r.headers.get("retry-after", "1")))
                latencies.append(time.perf_counter() - start)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                if r.status_code == 200:
                    acknowledged += r.json()["accepted"]

        start = time.perf_counter()
        await asyncio.gather(*(one(i, t) for i, t in enumerate(tokens)))
        seconds = time.perf_counter() - start
    return BurstResult(
        len(tokens) * batches * events, acknowledged, statuses, seconds, latencies, busy
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=200)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "burst.sqlite"
        tokens = make_study(db, args.participants)
        port = free_port()
        server = start_server(db, port)
        try:
            result = asyncio.run(
                burst(f"http://127.0.0.1:{port}", tokens, args.batches, args.events)
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
        store = open_store(db)
        stored = len(store.events_of("burst"))
        store.close()
    print(
        f"{args.participants} participants x {args.batches} batches x {args.events} events "
        f"= {result.sent} events; statuses {result.statuses}; 503 (busy) retried: {result.busy}"
    )
    print(
        f"acknowledged {result.acknowledged}, stored {stored}, lost {result.acknowledged - stored}"
    )
    print(
        f"{result.events_per_second:,.0f} events/s over {result.seconds:.2f} s; batch latency "
        f"p50 {result.percentile(0.5) * 1000:.0f} ms, p99 {result.percentile(0.99) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
