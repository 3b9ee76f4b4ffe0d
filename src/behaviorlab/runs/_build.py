"""Building a run's parts from its spec: the data, the simulators, their prices, the cache."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from behaviorlab._registry import call_with_options
from behaviorlab.data import load_dataset
from behaviorlab.data._records import Dataset
from behaviorlab.models._base import Backend, Pricing
from behaviorlab.models._cache import CallCache
from behaviorlab.runs._spec import ExperimentSpec, SpecError
from behaviorlab.simulators._base import Simulator, simulators


def load_data(spec: ExperimentSpec) -> Dataset:
    d = spec.data
    opts: dict[str, Any] = dict(d.options)
    for key in ("target", "persona", "people", "mapping"):
        value = getattr(d, key)
        if value is not None:
            opts[key] = value
    opts.setdefault("seed", d.split.seed)
    return load_dataset(d.source, **opts)


def make_simulator(name: str, options: dict[str, Any], cache: CallCache | None) -> Simulator:
    factory = simulators.get(name)
    opts = dict(options)
    if cache is not None and "cache" in inspect.signature(factory).parameters:
        opts["cache"] = cache
    sim: Simulator = call_with_options("simulator", name, factory, **opts)
    return sim


def members(sim: Simulator) -> list[Simulator]:
    """The simulators that answer for ``sim``: the parties of a ``parties:`` entry (each
    distinct simulator once), else ``sim`` itself."""
    parties = getattr(sim, "parties", None)
    if not isinstance(parties, dict):
        return [sim]
    return list({id(s): s for s in parties.values()}.values())


def pricing_of(sim: Simulator) -> Pricing | None:
    """The token prices of a simulator's model (None: no model or unpriced); of a set of
    parties, the first priced party's."""
    for one in members(sim):
        backend = getattr(one, "backend", None)
        if isinstance(backend, Backend) and backend.pricing is not None:
            return backend.pricing
    return None


def set_pricing(sim: Simulator, pricing: Pricing) -> None:
    """Price a simulator's model as its spec says (over the backend's own prices)."""
    backend = getattr(sim, "backend", None)
    if not isinstance(backend, Backend):
        raise SpecError(f"simulator {sim.label!r} calls no model: 'pricing' does not apply")
    backend.pricing = pricing
    inner = getattr(backend, "inner", None)
    if isinstance(inner, Backend):  # the call cache wraps the model
        inner.pricing = pricing


def open_cache(spec: ExperimentSpec) -> CallCache | None:
    if spec.cache is False:
        return None
    if spec.cache is True:
        return CallCache()
    return CallCache(Path(spec.cache))


def results_path(spec: ExperimentSpec, out: Path) -> Path:
    return out / spec.name / "results.sqlite"
