"""A run from start to end: plan, manifest, answer the missing trials, finish; resumable.

Resumable by construction: a trial's id is a hash of (task, simulator, condition, seed, trial
key), every answered trial is committed on its own, and a rerun of the same spec skips the ids
already stored. A failing trial is a stored row with its error; the run goes on. Trials are
answered session after session (see :mod:`behaviorlab.runs._executor`), here or on Ray
workers (:mod:`behaviorlab.runs._ray`); this process is always the one writer of the store.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from behaviorlab.runs._build import all_pricings, open_cache, results_path
from behaviorlab.runs._executor import Pending, execute_local
from behaviorlab.runs._manifest import build_manifest, data_manifest, task_manifest
from behaviorlab.runs._planning import plan
from behaviorlab.runs._spec import ExecutorKind, ExperimentSpec, load_spec
from behaviorlab.runs._types import Plan, ProgressHook, RunSummary, currency_of
from behaviorlab.store._sqlite import ResultStore

if TYPE_CHECKING:
    from behaviorlab.runs._estimate import Estimate


async def execute(
    p: Plan,
    store: ResultStore,
    run_id: str,
    *,
    limit: int | None = None,
    on_progress: ProgressHook | None = None,
    executor: ExecutorKind | None = None,
    address: str | None = None,
) -> RunSummary:
    """Answer the plan's trials not stored yet (at most ``limit``), session chain by chain,
    here or on Ray (``executor``, default: the spec's); each result is committed at once."""
    done = store.done_ids(run_id)
    work = Pending(p.chains, done, limit)  # chains made as they are taken
    # every stored id is one of the plan's (the run id is the spec's hash): counted exactly
    # while the chains are taken, and set again once they all are
    todo = max(0, p.planned - len(done))
    summary = RunSummary(
        run_id,
        store.path,
        planned=p.planned,
        already_done=len(done),
        currency=currency_of([pr for s in p.simulators for pr in all_pricings(s)]),
    )
    started = time.perf_counter()
    kind = executor or p.spec.executor.kind
    if kind == "ray":
        from behaviorlab.runs._ray import execute_ray

        await execute_ray(
            p,
            store,
            run_id,
            summary,
            work,
            remaining=todo if limit is None else min(todo, limit),
            address=address or p.spec.executor.address,
            on_progress=on_progress,
        )
    else:
        await execute_local(
            p,
            store,
            run_id,
            summary,
            work,
            remaining=todo if limit is None else min(todo, limit),
            on_progress=on_progress,
        )
    summary.already_done = work.already_done
    summary.elapsed_s = time.perf_counter() - started
    return summary


def usage_totals(p: Plan, store: ResultStore, run_id: str) -> dict[str, Any]:
    """Tokens and cost of every stored trial of the run, in all and by simulator (for the
    manifest)."""
    by_sim = store.totals(run_id)
    prices = {s.label: all_pricings(s) for s in p.simulators}
    per: dict[str, Any] = {}
    for label, row in by_sim.items():
        per[label] = {**row, "currency": currency_of(prices.get(label, []))}
    return {
        "trials": sum(int(r["trials"]) for r in by_sim.values()),
        "tokens_in": sum(int(r["tokens_in"]) for r in by_sim.values()),
        "tokens_out": sum(int(r["tokens_out"]) for r in by_sim.values()),
        "cost": sum(float(r["cost"]) for r in by_sim.values()),
        "currency": currency_of([pr for group in prices.values() for pr in group]),
        "by_simulator": per,
    }


async def run_async(
    spec_source: str | Path | ExperimentSpec | dict[str, Any],
    *,
    out: str | Path = "runs",
    limit: int | None = None,
    on_progress: ProgressHook | None = None,
    on_plan: Callable[[Plan], None] | None = None,
    on_estimate: Callable[[Estimate], None] | None = None,
    executor: ExecutorKind | None = None,
    address: str | None = None,
) -> RunSummary:
    """Run (or resume) an experiment; returns what this invocation did.

    ``executor`` / ``address``: answer the trials here (``"local"``) or on Ray workers
    (``"ray"``, on the cluster at ``address`` or a local one); default: the spec's
    ``executor``.

    ``on_estimate`` receives the plan's estimate (trials, model calls after cache hits,
    prompt tokens, and time from the latencies already stored for this run, if any) before
    the first trial is answered."""
    spec = load_spec(spec_source)
    if (executor or spec.executor.kind) == "ray":
        from behaviorlab.runs._ray import import_ray

        import_ray()  # a missing extra fails before anything runs
    out = Path(out)
    # whatever was opened is closed, also when planning, on_plan or opening the store fails
    async with AsyncExitStack() as opened:
        cache = open_cache(spec)
        if cache is not None:
            opened.callback(cache.close)
        p = plan(spec, cache)
        opened.push_async_callback(p.aclose)
        if on_plan is not None:
            on_plan(p)
        store = ResultStore(results_path(spec, out))
        opened.callback(store.close)
        run_id = spec.run_id()
        if on_estimate is not None:
            from behaviorlab.runs._estimate import estimate_plan, throughput_from_store

            on_estimate(
                await estimate_plan(p, store=store, throughput=throughput_from_store(store, run_id))
            )
        store.start_run(run_id, spec.name, spec.model_dump(mode="json"))
        manifest = build_manifest(
            run_id=run_id,
            spec=spec.model_dump(mode="json"),
            spec_hash=spec.spec_hash(),
            dataset=data_manifest(p.dataset, len(p.test_ids)),
            simulators=[{"label": s.label, **s.identity()} for s in p.simulators],
            trials_planned=p.planned,
        )
        manifest["split"] = p.split
        manifest["task"] = task_manifest(p.spec.task)
        if p.task_info:
            manifest["task_info"] = p.task_info
        store.set_manifest(run_id, manifest)
        store.write_persons(
            run_id, ((pid, p.dataset.persons[pid].attributes) for pid in sorted(p.test_ids))
        )
        summary = await execute(
            p,
            store,
            run_id,
            limit=limit,
            on_progress=on_progress,
            executor=executor,
            address=address,
        )
        complete = store.count(run_id) == p.planned
        store.finish_run(run_id, "finished" if complete else "partial")
        manifest["cache"] = {"hits": summary.cache_hits, "misses": summary.cache_misses}
        manifest["status"] = "finished" if complete else "partial"
        manifest["totals"] = usage_totals(p, store, run_id)
        store.set_manifest(run_id, manifest)
        (store.path.parent / "manifest.json").write_text(
            json.dumps(manifest, indent=2, default=str)
        )
    return summary
