"""How fast a plan's simulators answer: measured on a few trials, or read from the latencies a
run already stored (used by :mod:`behaviorlab.runs._estimate` to estimate time)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from behaviorlab.models._base import Backend
from behaviorlab.models._cache import CachedBackend
from behaviorlab.runs._build import members
from behaviorlab.runs._executor import play_trial
from behaviorlab.runs._types import Job, Plan
from behaviorlab.simulators._base import Simulator
from behaviorlab.store._sqlite import ResultStore


@dataclass
class Throughput:
    """Measured speed of one simulator."""

    seconds: float
    """Seconds per model call (LLM simulators) or per trial (others)."""
    n: int
    source: str
    per: str = "call"
    startup_s: float = 0.0
    tokens_in: float | None = None
    tokens_out: float | None = None


def _backend_of(sim: Simulator) -> Backend | None:
    found = getattr(sim, "backend", None)
    return found if isinstance(found, Backend) else None


def _spread(plan: Plan, sim: Simulator, n: int) -> list[Job]:
    """``n`` of ``sim``'s jobs evenly spaced over the plan (all when it has fewer): the
    chains are made twice, to count and to pick, and never held."""
    total = sum(1 for chain in plan.chains for j in chain if j.simulator is sim)
    if n >= total:
        picks = set(range(total))
    else:
        step = total / n
        picks = {int(i * step) for i in range(n)}
    out: list[Job] = []
    i = 0
    for chain in plan.chains:
        for job in chain:
            if job.simulator is sim:
                if i in picks:
                    out.append(job)
                i += 1
    return out


async def measure(plan: Plan, n: int = 3) -> dict[str, Throughput]:
    """Answer ``n`` evenly spaced trials of each simulator for real, without the call cache,
    and time them (a set of parties: every party's model uncached, the whole exchange
    timed). With ``n`` ≥ 2, an LLM simulator's first call is counted as start-up
    (loading the model) beyond the mean of the others."""
    if n < 1:
        raise ValueError(f"--measure needs at least 1 trial, not {n}")
    out: dict[str, Throughput] = {}
    for sim in plan.simulators:
        jobs = _spread(plan, sim, n)
        if not jobs:
            continue
        # a set of parties calls the models of its parties: each one is timed uncached
        parts = members(sim)
        reals = {id(one): _backend_of(one) for one in parts}
        uncached_of = {
            key: (b.inner if isinstance(b, CachedBackend) else b) for key, b in reals.items()
        }
        real = next((b for b in reals.values() if b is not None), None)
        times: list[float] = []
        tin: list[int] = []
        tout: list[int] = []
        calls = 0
        try:
            for one in parts:
                if reals[id(one)] is not None and uncached_of[id(one)] is not reals[id(one)]:
                    one.backend = uncached_of[id(one)]  # type: ignore[attr-defined]
            for job in jobs:
                start = time.perf_counter()
                answer = await play_trial(plan.task, job.trial, sim)  # a game: all turns
                times.append(time.perf_counter() - start)
                calls += max(1, answer.calls)
                tin.append(answer.tokens_in or 0)
                tout.append(answer.tokens_out or 0)
        finally:
            for one in parts:
                if reals[id(one)] is not None:
                    one.backend = reals[id(one)]  # type: ignore[attr-defined]
        if real is None:
            out[sim.label] = Throughput(
                seconds=sum(times) / len(times),
                n=len(times),
                source=f"measured: {len(times)} trials answered",
                per="trial",
            )
            continue
        per_call_calls = calls / len(times)
        if len(times) >= 2:
            rest = sum(times[1:]) / (len(times) - 1)
            startup = max(0.0, times[0] - rest)
            note = f"first {times[0]:.1f} s counted as start-up beyond the mean of the rest"
        else:
            rest, startup, note = times[0], 0.0, "one trial, start-up included"
        idents = [b.identity() for b in uncached_of.values() if b is not None]
        what = ", ".join(dict.fromkeys(f"{i.backend}/{i.model}" for i in idents)) or sim.label
        out[sim.label] = Throughput(
            seconds=rest / per_call_calls,
            n=len(times),
            source=f"measured: {len(times)} trials on {what} without the cache; {note}",
            per="call",
            startup_s=startup,
            tokens_in=sum(tin) / len(tin) / per_call_calls,
            tokens_out=sum(tout) / len(tout) / per_call_calls,
        )
    return out


def throughput_from_frame(frame: pd.DataFrame, source: str) -> dict[str, Throughput]:
    """Seconds per model call (trials that called a model without any cache hit) or per
    trial (simulators that call none), by simulator label, from stored results. The key
    ``"*llm*"`` pools every simulator that called a model (a fallback for other labels)."""
    out: dict[str, Throughput] = {}
    if frame.empty:
        return out
    calls = frame["calls"].fillna(0)
    hits = frame["cache_hits"].fillna(0)
    model = frame[(calls > 0) & (hits == 0) & frame["latency_s"].notna()]
    if not model.empty:
        per = model["latency_s"] / model["calls"]
        for label in sorted(set(model["simulator"])):
            mask = model["simulator"] == label
            out[str(label)] = _tp(per[mask], model[mask], source)
        out["*llm*"] = _tp(per, model, source)
    plain = frame[(calls == 0) & frame["latency_s"].notna()]
    for label in sorted(set(plain["simulator"])):
        rows = plain[plain["simulator"] == label]
        if str(label) not in out:
            out[str(label)] = Throughput(
                seconds=float(rows["latency_s"].mean()),
                n=len(rows),
                source=f"{source}: {len(rows)} stored trials",
                per="trial",
            )
    return out


def _tp(per_call: pd.Series, rows: pd.DataFrame, source: str) -> Throughput:
    n_calls = rows["calls"].sum()
    return Throughput(
        seconds=float(per_call.mean()),
        n=len(per_call),
        source=f"{source}: {len(per_call)} stored trials that called the model",
        per="call",
        tokens_in=float(rows["tokens_in"].fillna(0).sum() / n_calls) if n_calls else None,
        tokens_out=float(rows["tokens_out"].fillna(0).sum() / n_calls) if n_calls else None,
    )


def throughput_from_store(store: ResultStore, run_id: str) -> dict[str, Throughput]:
    """Throughput from the trials already stored for ``run_id`` (empty when none)."""
    try:
        frame = store.to_pandas(run_id)
    except (KeyError, LookupError, ValueError):
        return {}
    return throughput_from_frame(frame, f"stored latencies of {run_id}")


def throughput_from_run(run: str | Path, *, out: str | Path = "runs") -> dict[str, Throughput]:
    """Throughput from a stored run (a name under ``out``, a folder or a .sqlite file)."""
    from behaviorlab.runs._stored import open_run

    r = open_run(run, out=out)
    return throughput_from_frame(r.to_pandas(), f"from run {r.run_id}")
