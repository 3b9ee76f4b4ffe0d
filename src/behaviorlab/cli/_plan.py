"""``behaviorlab plan``'s estimate: trials, model calls after cache hits, prompt tokens and
time of a spec (and of its family's full test split), then the family's notes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console


async def print_estimates(
    console: Console,
    spec: Any,
    out: Path,
    *,
    from_run: str | Path | None = None,
    measure_n: int | None = None,
    show_spec: bool = True,
) -> None:
    """The plan estimate of ``spec`` (and, when its family says the spec runs a slice, of its
    whole test split, then the family's notes), timed from a stored run (``from_run``), by
    measuring ``measure_n`` trials, or from this spec's own stored latencies."""
    from behaviorlab.plugins import family_of
    from behaviorlab.runs._build import open_cache, results_path
    from behaviorlab.runs._estimate import (
        Estimate,
        Throughput,
        estimate_plan,
        fill_fallback,
        measure,
        throughput_from_run,
        throughput_from_store,
    )
    from behaviorlab.runs._planning import plan
    from behaviorlab.runs._types import Plan, trials_per_label
    from behaviorlab.store._sqlite import ResultStore

    def show(est: Estimate) -> None:
        for line in est.lines():
            console.print(line, highlight=False, markup=False, soft_wrap=True)

    cache = open_cache(spec)
    plans: list[Plan] = []
    store: ResultStore | None = None
    try:
        p = plan(spec, cache)
        plans.append(p)
        path = results_path(spec, out)
        if path.exists():
            store = ResultStore(path, readonly=True)
        throughput: dict[str, Throughput] = {}
        if store is not None:
            throughput.update(throughput_from_store(store, spec.run_id()))
        if from_run is not None:
            throughput.update(throughput_from_run(from_run, out=out))
        if measure_n:
            console.print(f"measuring: {measure_n} trials per simulator, without the cache ...")
            throughput.update(await measure(p, measure_n))
        last = fill_fallback(await estimate_plan(p, store=store, throughput=throughput))
        if show_spec:
            show(last)
        if show_spec and spec.sweep is not None:  # cells × trials (each cell: one label)
            per_label = trials_per_label(p)
            counts = {per_label[c["label"]] for _, c in spec.sweep.cells()}
            per_cell = counts.pop() if len(counts) == 1 else None
            console.print("sweep: " + spec.sweep.describe(per_cell), highlight=False, markup=False)
        fam = family_of(spec.task)
        full = fam.full_scope(spec) if fam is not None and fam.full_scope is not None else None
        if full is not None:
            reuse = p.dataset if spec.data.people is None else None
            fp = plan(full, cache, dataset=reuse)
            plans.append(fp)
            last = fill_fallback(
                await estimate_plan(fp, throughput=throughput, scope="full test split")
            )
            if show_spec:
                console.print("")
            show(last)
        if fam is not None and fam.plan_notes is not None:
            for line in fam.plan_notes(spec, last):
                console.print(line, highlight=False, markup=False, soft_wrap=True)
    finally:
        if store is not None:
            store.close()
        for pl in plans:
            await pl.aclose()
        if cache is not None:
            cache.close()
