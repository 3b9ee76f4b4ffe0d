"""How big and how slow a run will be, before it runs (``behaviorlab plan``).

Counts come from the plan itself, not from guesses:

* **trials** per simulator and condition, and those already stored (a resumed run skips them);
* **model calls** the remaining trials make, and how many of them the LLM-call cache already
  holds: every LLM simulator answers every remaining trial against a *probe* backend that
  records each request, looks its exact cache key up and returns an empty answer (no model
  is called);
* **prompt tokens** of the calls still to make, counted on the rendered messages with the
  task's own token count (a task's ``count(text)``, e.g. ``next_action``'s characters / 3),
  else ``ceil(characters / 4)``; the chat template's own tokens are not counted.

Time is never guessed: it comes from a **measured throughput**, either by answering a few
trials for real (``measure``: evenly spaced trials, answered without the cache; with two or
more, the first call counts as start-up, e.g. loading the model) or from the latencies stored
by an earlier run (``throughput_from_run``). The extrapolation is linear: calls still to make ×
measured seconds per call (+ start-up), trials × seconds per trial for simulators without a
model, one call at a time. An endpoint that cannot be measured here (a remote server, a GPU)
gets its speed from the simulator spec's ``throughput`` (:class:`ThroughputSpec`): calls ×
``latency_s`` + prompt tokens / ``prompt_tokens_per_s`` + output tokens / ``tokens_per_s``,
divided by the spec's ``concurrency`` (the endpoint serves calls in parallel).

**Output tokens** of the calls still to make: ``throughput.output_tokens`` per call when
configured, else the mean per call measured or stored, else at most the calls' ``max_tokens``
(option scoring generates none). **Cost**: prompt and output tokens at the model's prices
(the simulator spec's ``pricing``, else the backend's).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from behaviorlab.models._base import Backend, Pricing
from behaviorlab.models._cache import CachedBackend
from behaviorlab.runs._build import members, party_members, party_pricing, pricing_of
from behaviorlab.runs._executor import play_trial
from behaviorlab.runs._probe import Probe
from behaviorlab.runs._spec import ThroughputSpec
from behaviorlab.runs._throughput import (
    Throughput,
    _backend_of,
    measure,
    throughput_from_run,
    throughput_from_store,
)
from behaviorlab.runs._types import Plan
from behaviorlab.store._sqlite import ResultStore
from behaviorlab.tasks._tokens import TokenCounter, char_counter


@dataclass
class Cell:
    """One simulator × condition of a plan."""

    simulator: str
    condition: str
    trials: int = 0
    stored: int = 0
    calls: int = 0
    """Model calls the trials still to answer make."""
    cached: int = 0
    """Of those, calls the LLM-call cache already holds."""
    prompt_tokens: int = 0
    """Prompt tokens of the calls still to make (not cached)."""
    max_output_tokens: int = 0
    """Upper bound on their output tokens: the sum of their ``max_tokens`` (scoring: 0)."""
    by_party: dict[str, list[int]] = field(default_factory=dict)
    """A set of parties: [prompt tokens, max output tokens] of each party's calls still to
    make, keyed by the role(s) it plays (what prices them one by one)."""

    @property
    def to_call(self) -> int:
        return self.calls - self.cached


@dataclass
class Estimate:
    """What a plan will do and, given a throughput, how long it takes."""

    name: str
    scope: str
    cells: list[Cell]
    llm: set[str] = field(default_factory=set)
    """Labels of the simulators that call a model."""
    throughput: dict[str, Throughput] = field(default_factory=dict)
    concurrency: int = 1
    counter: str = "ceil(characters / 3)"
    pricing: dict[str, Pricing] = field(default_factory=dict)
    """Token prices by simulator label (unpriced simulators are absent)."""
    party_pricing: dict[str, dict[str, Pricing]] = field(default_factory=dict)
    """A set of parties' prices, by label and then by the role(s) of each priced party."""
    bounded: set[str] = field(default_factory=set)
    """Labels (sets of parties) whose prompt tokens are an upper bound: their later turns
    were built from answers as long as ``max_tokens`` (no measured answer length)."""
    configured: dict[str, ThroughputSpec] = field(default_factory=dict)
    """Endpoint speeds from the simulator specs, by label (they win over measurements)."""

    def _sum(self, attr: str, label: str | None = None) -> int:
        return sum(int(getattr(c, attr)) for c in self.cells if label in (None, c.simulator))

    @property
    def trials(self) -> int:
        return self._sum("trials")

    @property
    def to_call(self) -> int:
        return self._sum("to_call")

    def output_tokens_for(self, label: str) -> tuple[float, str]:
        """Expected output tokens of one simulator's calls still to make, and how they were
        obtained."""
        calls = self._sum("to_call", label)
        conf = self.configured.get(label)
        if conf is not None and conf.output_tokens is not None:
            return calls * conf.output_tokens, f"{conf.output_tokens:g} per call (configured)"
        tp = self.throughput.get(label)
        if tp is not None and tp.per == "call" and tp.tokens_out is not None:
            return calls * tp.tokens_out, f"{tp.tokens_out:.0f} per call (measured)"
        return float(self._sum("max_output_tokens", label)), "at most: max_tokens of each call"

    def output_tokens(self) -> float:
        return sum(self.output_tokens_for(label)[0] for label in self._labels())

    def cost_for(self, label: str) -> float | None:
        """Expected cost of one simulator's calls still to make (None: unpriced). A set of
        parties: each priced party's prompt tokens at its own prices, and its share of the
        expected output tokens (its share of their ``max_tokens``) at its output price."""
        if label in self.party_pricing:
            return self._party_cost(label)
        price = self.pricing.get(label)
        if price is None:
            return None
        prompt = self._sum("prompt_tokens", label)
        output = self.output_tokens_for(label)[0]
        return (prompt * price.input_per_mtok + output * price.output_per_mtok) / 1e6

    def _party_tokens(self, label: str) -> dict[str, tuple[int, int]]:
        sums: dict[str, tuple[int, int]] = {}
        for c in self.cells:
            if c.simulator != label:
                continue
            for key, (prompt, out) in c.by_party.items():
                p0, o0 = sums.get(key, (0, 0))
                sums[key] = (p0 + prompt, o0 + out)
        return sums

    def _party_amounts(self, label: str) -> list[tuple[Pricing, float]]:
        """Each priced party's expected cost: its prompt tokens at its input price, its
        share of the expected output tokens (its share of their max_tokens) at its output
        price."""
        sums = self._party_tokens(label)
        output = self.output_tokens_for(label)[0]
        all_max = sum(o for _, o in sums.values())
        out: list[tuple[Pricing, float]] = []
        for key, price in (self.party_pricing.get(label) or {}).items():
            prompt, max_out = sums.get(key, (0, 0))
            share = max_out / all_max if all_max else 0.0
            amount = prompt * price.input_per_mtok + output * share * price.output_per_mtok
            out.append((price, amount / 1e6))
        return out

    def _party_cost(self, label: str) -> float | None:
        amounts = self._party_amounts(label)
        return sum(a for _, a in amounts) if amounts else None

    def currency_for(self, label: str) -> str | None:
        """The currency of one simulator's prices ('mixed' when its parties' differ; None:
        unpriced)."""
        found = {p.currency for p in (self.party_pricing.get(label) or {}).values()}
        if label in self.pricing:
            found.add(self.pricing[label].currency)
        if not found:
            return None
        return found.pop() if len(found) == 1 else "mixed"

    def cost(self) -> tuple[float, str] | None:
        """Expected cost of every priced simulator and its currency ('mixed' when they
        differ; None when no simulator with calls to make is priced)."""
        priced = [label for label in self._labels() if self.currency_for(label) is not None]
        if not priced:
            return None
        currencies = {self.currency_for(label) for label in priced}
        total = sum(self.cost_for(label) or 0.0 for label in priced)
        return total, str(currencies.pop()) if len(currencies) == 1 else "mixed"

    def cost_by_currency(self) -> dict[str, float]:
        """Expected cost per currency (a set of parties priced in two currencies counts in
        both): amounts in different currencies are never added."""
        out: dict[str, float] = {}
        for label in self._labels():
            if label in self.party_pricing:
                for price, amount in self._party_amounts(label):
                    out[price.currency] = out.get(price.currency, 0.0) + amount
            elif label in self.pricing:
                price = self.pricing[label]
                out[price.currency] = out.get(price.currency, 0.0) + (self.cost_for(label) or 0.0)
        return out

    def _labels(self) -> list[str]:
        return list(dict.fromkeys(c.simulator for c in self.cells))

    def _configured_seconds(self, label: str, conf: ThroughputSpec) -> float:
        calls = self._sum("to_call", label)
        secs = calls * conf.latency_s
        if conf.prompt_tokens_per_s is not None:
            secs += self._sum("prompt_tokens", label) / conf.prompt_tokens_per_s
        if conf.tokens_per_s is not None:
            secs += self.output_tokens_for(label)[0] / conf.tokens_per_s
        return secs / self.concurrency

    def seconds_for(self, label: str) -> float | None:
        """Expected seconds of one simulator's remaining trials (None: not measured)."""
        remaining = self._sum("trials", label) - self._sum("stored", label)
        tp = self.throughput.get(label)
        conf = self.configured.get(label)
        if label in self.llm and conf is not None:
            return self._configured_seconds(label, conf)
        if label in self.llm:
            calls = self._sum("to_call", label)
            if calls == 0:
                return 0.0
            if tp is None:
                return None
            return tp.startup_s + calls * tp.seconds
        if tp is None:
            return None
        return remaining * tp.seconds

    def seconds(self) -> float | None:
        """Expected seconds of the remaining trials, one call at a time (a configured
        endpoint: ``concurrency`` at once); None: an LLM simulator with calls to make has no
        measured or configured throughput."""
        total = 0.0
        for label in dict.fromkeys(c.simulator for c in self.cells):
            s = self.seconds_for(label)
            if s is None:
                if label in self.llm:
                    return None
                continue  # a baseline without a measurement: fast, counted as 0
            total += s
        return total

    def line(self) -> str:
        """One line: trials, calls, prompt and output tokens, time, cost."""
        tokens = self._sum("prompt_tokens")
        stored = self._sum("stored")
        calls = self._sum("calls")
        secs = self.seconds()
        when = (
            f"~{format_seconds(secs)} at the {self._speed_source()}"
            if secs is not None
            else "time not measured (behaviorlab plan SPEC --measure 3)"
        )
        cost = self.cost()
        money = f"; ~{cost[0]:.4f} {cost[1]}" if cost is not None else ""
        if cost is not None and cost[1] == "mixed":  # never one sum of two currencies
            each = self.cost_by_currency()
            money = "; " + " + ".join(f"~{v:.4f} {c}" for c, v in sorted(each.items()))
        return (
            f"estimate ({self.scope}): {self.trials} trials ({stored} stored), "
            f"{self.to_call} model calls after {calls - self.to_call} expected cache hits, "
            f"{'at most ' if self.bounded else ''}~{tokens:,} prompt tokens, "
            f"~{self.output_tokens():,.0f} output tokens; "
            f"{when}{money}"
        )

    def lines(self) -> list[str]:
        """A table of cells, then totals and how the time was obtained."""
        head = f"{'simulator':<22} {'condition':<22} {'trials':>6} {'stored':>6} "
        head += f"{'calls':>6} {'cached':>6} {'prompt tokens':>13}"
        out = [f"estimate for {self.name} ({self.scope})", head]
        for c in self.cells:
            out.append(
                f"{c.simulator:<22} {c.condition:<22} {c.trials:>6} {c.stored:>6} "
                f"{c.calls:>6} {c.cached:>6} {c.prompt_tokens:>13,}"
            )
        out.append(self.line())
        out.append(
            f"prompt tokens: counted as {self.counter} on the rendered messages of the calls "
            "still to make (the chat template's own tokens are not counted)"
        )
        if self.bounded:
            out.append(
                f"  {', '.join(sorted(self.bounded))}: turns built from earlier answers counted "
                "with answers as long as max_tokens (an upper bound; a stored run's or "
                "plan --measure's answer lengths make it an estimate)"
            )
        labels = self._labels()
        for label in labels:
            tp = self.throughput.get(label)
            secs = self.seconds_for(label)
            if label in self.llm:
                out.append(self._budget_line(label))
            conf = self.configured.get(label)
            if label in self.llm and conf is not None:
                out.append(
                    f"  {label}: configured endpoint speed: {conf.describe()}, "
                    f"{self.concurrency} calls at once → ~{format_seconds(secs or 0.0)}"
                )
                continue
            if tp is None:
                kind = "model calls" if label in self.llm else "trials (no model: fast)"
                out.append(f"  {label}: not measured; {kind}")
                continue
            toks = ""
            if tp.tokens_in is not None:
                toks = f", {tp.tokens_in:.0f} prompt / {tp.tokens_out or 0:.0f} output tokens"
            start = f" + {tp.startup_s:.1f} s start-up" if tp.startup_s else ""
            out.append(
                f"  {label}: {tp.seconds:.3g} s per {tp.per}{start}{toks} ({tp.source}) → "
                f"~{format_seconds(secs or 0.0)}"
            )
        if self.concurrency > 1 and any(lb not in self.configured for lb in self.llm):
            out.append(
                f"  times assume one call at a time; concurrency {self.concurrency} helps only "
                "on a backend that serves calls in parallel (llama.cpp does not)"
            )
        return out

    def _speed_source(self) -> str:
        configured = [lb for lb in self.llm if lb in self.configured]
        if not configured:
            return "measured throughput"
        if len(configured) == len(self.llm):
            return "configured endpoint speed"
        return "measured and configured speeds"

    def _budget_line(self, label: str) -> str:
        out_tokens, how = self.output_tokens_for(label)
        price = self.pricing.get(label)
        cost = self.cost_for(label)
        if label in self.party_pricing and cost is not None:
            each = ", ".join(
                f"{key} at {p.input_per_mtok:g} / {p.output_per_mtok:g} {p.currency}"
                for key, p in self.party_pricing[label].items()
            )
            unpriced = sorted(set(self._party_tokens(label)) - set(self.party_pricing[label]))
            money = f"~{cost:.4f} {self.currency_for(label)}; each party at its own prices ({each}"
            money += f"; unpriced: {', '.join(unpriced)})" if unpriced else ")"
        elif price is not None and cost is not None:
            money = (
                f"~{cost:.4f} {price.currency} at {price.input_per_mtok:g} / "
                f"{price.output_per_mtok:g} per million prompt / output tokens"
            )
        else:
            money = "cost: no pricing configured"
        return (
            f"  {label}: {self._sum('prompt_tokens', label):,} prompt tokens, "
            f"~{out_tokens:,.0f} output tokens ({how}); {money}"
        )


def format_seconds(s: float) -> str:
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.1f} h"


def _counter(plan: Plan) -> tuple[TokenCounter, str]:
    """The task's own token counter (its ``count(text)`` method), else characters / 4."""
    count = getattr(plan.task, "count", None)
    if callable(count):
        about = getattr(plan.task, "count_description", None) or "its own count"
        return count, f"the {plan.task.name} task's token count ({about})"
    return char_counter(4.0), "ceil(characters / 4)"


async def estimate_plan(
    plan: Plan,
    *,
    store: ResultStore | None = None,
    throughput: dict[str, Throughput] | None = None,
    scope: str = "this spec",
) -> Estimate:
    """Count a plan's trials, model calls after cache hits and prompt tokens (no model is
    called); ``store``: skip trials already stored for the spec's run id."""
    done = store.done_ids(plan.spec.run_id()) if store is not None else set()
    count, counter_text = _counter(plan)
    cells: dict[tuple[str, str], Cell] = {}
    llm: set[str] = set()
    probes: dict[int, Probe] = {}
    originals: dict[int, Backend] = {}
    seen: set[str] = set()
    # a set of parties calls the models of its parties: each party's backend gets a probe
    parts = {id(sim): members(sim) for sim in plan.simulators}
    roles_of = {id(sim): party_members(sim) for sim in plan.simulators}
    every = {id(one): one for group in parts.values() for one in group}
    for sim in plan.simulators:
        if any(_backend_of(one) is not None for one in parts[id(sim)]):
            llm.add(sim.label)
    for key, one in every.items():
        real = _backend_of(one)
        if real is None:
            continue
        originals[key] = real
        if isinstance(real, CachedBackend):
            probes[key] = Probe(real.inner, real.cache, count, seen)
        else:  # no cache in front of this simulator: every call is made
            probes[key] = Probe(real, None, count, seen)
    for sim in plan.simulators:  # a measured answer length sizes the stand-in's answers
        tp = (throughput or {}).get(sim.label)
        if tp is not None and tp.per == "call" and tp.tokens_out:
            for one in parts[id(sim)]:
                if id(one) in probes:
                    probes[id(one)].answer_tokens = round(tp.tokens_out)
    try:
        for key, one in every.items():
            if key in probes:
                one.backend = probes[key]  # type: ignore[attr-defined]
        for job in (job for chain in plan.chains for job in chain):
            cell = cells.setdefault(
                (job.simulator.label, job.condition), Cell(job.simulator.label, job.condition)
            )
            cell.trials += 1
            if job.trial_id in done:
                cell.stored += 1
                continue
            used = [probes[id(one)] for one in parts[id(job.simulator)] if id(one) in probes]
            if not used:
                continue
            before = sum(p.tokens_uncached for p in used)
            before_out = sum(p.max_output_uncached for p in used)
            keyed = {
                roles: probes[id(one)]
                for roles, one in roles_of[id(job.simulator)].items()
                if id(one) in probes
            }
            each = {r: (p.tokens_uncached, p.max_output_uncached) for r, p in keyed.items()}
            # a game or a multi-party exchange: every turn's calls count
            answer = await play_trial(plan.task, job.trial, job.simulator)
            cell.calls += answer.calls
            cell.cached += answer.cache_hits
            cell.prompt_tokens += sum(p.tokens_uncached for p in used) - before
            cell.max_output_tokens += sum(p.max_output_uncached for p in used) - before_out
            for roles, p in keyed.items():
                got = cell.by_party.setdefault(roles, [0, 0])
                got[0] += p.tokens_uncached - each[roles][0]
                got[1] += p.max_output_uncached - each[roles][1]
    finally:
        for key, one in every.items():
            if key in originals:
                one.backend = originals[key]  # type: ignore[attr-defined]
    # a multi-party trial's later prompts hold earlier answers: given at max_tokens, the
    # prompt tokens counted are an upper bound
    bounded = {
        sim.label
        for sim in plan.simulators
        if party_members(sim)
        and any(probes[id(o)].bounded for o in parts[id(sim)] if id(o) in probes)
    }
    prices = {s.label: pricing_of(s) for s in plan.simulators}
    configured = {
        sim.label: spec.throughput
        for sim, spec in zip(plan.simulators, plan.spec.simulators, strict=False)
        if spec.throughput is not None
    }
    return Estimate(
        name=plan.spec.name,
        scope=scope,
        cells=list(cells.values()),
        llm=llm,
        throughput=dict(throughput or {}),
        concurrency=plan.spec.concurrency,
        counter=counter_text,
        pricing={label: pr for label, pr in prices.items() if pr is not None},
        party_pricing={
            s.label: {key: pr for key, pr in party_pricing(s).items() if pr is not None}
            for s in plan.simulators
            if any(pr is not None for pr in party_pricing(s).values())
        },
        configured=configured,
        bounded=bounded,
    )


def fill_fallback(estimate: Estimate) -> Estimate:
    """Give LLM simulators without their own measurement the pooled ``*llm*`` one."""
    pooled = estimate.throughput.get("*llm*")
    if pooled is not None:
        for label in estimate.llm:
            if label not in estimate.throughput:
                estimate.throughput[label] = Throughput(
                    seconds=pooled.seconds,
                    n=pooled.n,
                    source=f"{pooled.source} (another label: pooled over its LLM trials)",
                    per="call",
                    tokens_in=pooled.tokens_in,
                    tokens_out=pooled.tokens_out,
                )
    return estimate


def estimate_dict(e: Estimate) -> dict[str, Any]:
    """An estimate as plain data (for JSON output)."""
    return {
        "name": e.name,
        "scope": e.scope,
        "trials": e.trials,
        "calls_to_make": e.to_call,
        "seconds": e.seconds(),
        "prompt_tokens": sum(c.prompt_tokens for c in e.cells),
        "output_tokens": e.output_tokens(),
        "cost": None if (cost := e.cost()) is None else {"amount": cost[0], "currency": cost[1]},
        "cost_by_currency": e.cost_by_currency(),
        "cells": [{**c.__dict__, "to_call": c.to_call} for c in e.cells],
        "throughput": {k: v.__dict__ for k, v in e.throughput.items()},
        "token_counter": e.counter,
    }


__all__ = [
    "Cell",
    "Estimate",
    "Throughput",
    "estimate_plan",
    "fill_fallback",
    "format_seconds",
    "measure",
    "throughput_from_run",
    "throughput_from_store",
]
