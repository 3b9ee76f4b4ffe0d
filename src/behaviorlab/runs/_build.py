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


def party_members(sim: Simulator) -> dict[str, Simulator]:
    """The distinct simulators of a ``parties:`` entry keyed by the role(s) each plays
    (``"player_1+player_2"`` when one simulator plays both); ``{}`` for one simulator."""
    parties = getattr(sim, "parties", None)
    if not isinstance(parties, dict):
        return {}
    roles: dict[int, list[str]] = {}
    by_id: dict[int, Simulator] = {}
    for role, one in parties.items():
        roles.setdefault(id(one), []).append(str(role))
        by_id[id(one)] = one
    return {"+".join(roles[key]): one for key, one in by_id.items()}


def members(sim: Simulator) -> list[Simulator]:
    """The simulators that answer for ``sim``: the parties of a ``parties:`` entry (each
    distinct simulator once), else ``sim`` itself."""
    return list(party_members(sim).values()) or [sim]


def _own_pricing(sim: Simulator) -> Pricing | None:
    backend = getattr(sim, "backend", None)
    if isinstance(backend, Backend):
        return backend.pricing
    return None


def pricing_of(sim: Simulator) -> Pricing | None:
    """The token prices of a simulator's model (None: no model, unpriced, or a set of
    parties, whose members are priced one by one: :func:`party_pricing`)."""
    if party_members(sim):
        return None
    return _own_pricing(sim)


def party_pricing(sim: Simulator) -> dict[str, Pricing | None]:
    """The prices of each member of a set of parties, keyed as :func:`party_members`
    (``{}`` for one simulator)."""
    return {key: _own_pricing(one) for key, one in party_members(sim).items()}


def all_pricings(sim: Simulator) -> list[Pricing | None]:
    """Every price a simulator's calls are charged at: its own, or each party's."""
    return list(party_pricing(sim).values()) or [pricing_of(sim)]


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
