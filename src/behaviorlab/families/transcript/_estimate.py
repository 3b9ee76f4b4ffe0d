"""The demo's estimate for the shared Psych-201 experiments in full, from the run's own speed.

The model's trials of the finished run (those that called it without a cache hit, sorted by
their end times, ``created_at``) give the tokens it evaluated per second. Trials run
``concurrency`` at a time share one model, so a trial's own ``latency_s`` holds its wait for
the model; its decode cannot have started before the model trial ending just before it did.
So each trial is given ``min(latency_s, its end - the previous model trial's end)``, and the
first model trial (whose time holds the model's start-up) is left out. The rate is the tokens
of the measured trials over the sum of their times: the transcripts read once when the run
has any, else the per-choice ones. With one model trial its own latency is used (start-up
included, said so).

What the shared experiments hold is fixed by the data and the tokenizer: the transcript tokens
of every participant (the bundled SmolLM2's tokenizer, counted by ``bench/transcript_pass.py``)
and how many times those tokens per-choice prompts from scratch read. A backend that reads
each transcript once needs the transcript tokens; any other the per-choice ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

ONE_PASS_MODES = frozenset({"one_pass", "one_request"})


@dataclass(frozen=True)
class SharedExperiment:
    label: str
    participants: int
    transcript_tokens: int
    per_choice_ratio: float
    """Tokens per-choice prompts from scratch evaluate ÷ transcript tokens."""


SHARED = (
    SharedExperiment("risky choice", 301, 191_613, 5.919),
    SharedExperiment("2x2 games", 300, 1_044_850, 10.495),
)
"""bench/transcript_pass.py on ../shared/data/psych201 (docs/transcript.md, "Each transcript
read once"): every participant's transcript tokens, and the ratio on its measured ones."""


@dataclass(frozen=True)
class Rate:
    tokens: int
    seconds: float
    trials: int
    one_pass: bool
    startup_included: bool
    simulators: tuple[str, ...] = ()

    @property
    def per_s(self) -> float:
        return self.tokens / self.seconds


def measured_rate(frame: pd.DataFrame) -> Rate | None:
    """Tokens evaluated per second by the model's uncached, error-free trials of ``frame`` (a
    run's results), or None when it has none (every model trial cached or failed, or none
    reported its tokens). The transcripts read once are measured when there are any, else the
    per-choice ones (see the module for the time each trial is given)."""
    if frame.empty:
        return None
    called = frame.loc[(frame["calls"].fillna(0) > 0) & (frame["cache_hits"].fillna(0) == 0)]
    called = called.sort_values("created_at")
    ends = list(pd.to_datetime(called["created_at"]))
    modes = [str((m or {}).get("mode")) for m in called["meta"]]
    usable = [
        bool(pd.isna(e)) and int(t or 0) > 0
        for e, t in zip(called["error"], called["tokens_in"], strict=True)
    ]
    one_pass = any(u and m in ONE_PASS_MODES for u, m in zip(usable, modes, strict=True))
    picked = [
        i
        for i, (u, m) in enumerate(zip(usable, modes, strict=True))
        if u and (m in ONE_PASS_MODES) == one_pass
    ]
    if not picked:
        return None
    latency = list(called["latency_s"].fillna(0.0))
    tokens_in = list(called["tokens_in"])
    later = [i for i in picked if i > 0]
    if not later:  # the one model trial that ran first: its own time, start-up included
        i = picked[0]
        rate = Rate(int(tokens_in[i]), float(latency[i]), 1, one_pass, True)
    else:
        seconds = sum(
            min(float(latency[i]), (ends[i] - ends[i - 1]).total_seconds()) for i in later
        )
        rate = Rate(sum(int(tokens_in[i]) for i in later), seconds, len(later), one_pass, False)
    if rate.seconds <= 0:
        return None
    names = tuple(dict.fromkeys(str(called["simulator"].iloc[i]) for i in picked))
    return Rate(rate.tokens, rate.seconds, rate.trials, one_pass, rate.startup_included, names)


def why_no_rate(frame: pd.DataFrame) -> str:
    """Why :func:`measured_rate` found nothing to measure."""
    called = frame.loc[frame["calls"].fillna(0) > 0] if not frame.empty else frame
    if called.empty:
        return "no trial called a model"
    fresh = called.loc[called["error"].isna() & (called["cache_hits"].fillna(0) == 0)]
    if fresh.empty:
        return (
            "every model trial was answered from the call cache or failed; rerun with cache: false"
        )
    names = ", ".join(dict.fromkeys(str(s) for s in fresh["simulator"]))
    return f"{names} reported no tokens evaluated, as the mock backend does"


def duration(seconds: float) -> str:
    """``2.3 h``, ``25 min``, ``40 s`` or ``under 1 s``."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s" if seconds >= 1 else "under 1 s"


def estimate_lines(frame: pd.DataFrame) -> list[str]:
    """The estimate as report lines (plain text): the rate measured, then one line per shared
    experiment; a line saying why there is none when nothing was measured."""
    rate = measured_rate(frame)
    head = "The shared Psych-201 experiments in full"
    if rate is None:
        return [f"{head}: no estimate, this run measured no speed ({why_no_rate(frame)})."]
    model = ", ".join(rate.simulators)
    how = "read once" if rate.one_pass else "per choice, from scratch"
    left_out = (
        "its start-up included"
        if rate.startup_included
        else f"{rate.trials} trials, the run's first model trial left out (start-up)"
    )
    lines = [
        f"{head}, estimated from this run's speed: {model} evaluated {rate.tokens:,} tokens in "
        f"{rate.seconds:.1f} s ({rate.per_s:,.0f} tokens/s; {left_out}), transcripts {how}:"
    ]
    for exp in SHARED:
        tokens = exp.transcript_tokens * (1.0 if rate.one_pass else exp.per_choice_ratio)
        lines.append(
            f"  {exp.label}: {exp.participants} participants, {tokens:,.0f} tokens, about "
            f"{duration(tokens / rate.per_s)}"
        )
    lines.append(
        "  (SmolLM2 token counts from bench/transcript_pass.py; per choice from scratch reads "
        + " and ".join(f"{e.per_choice_ratio:.1f}x" for e in SHARED)
        + " of them. The demo's transcripts are shorter than the games' 3,500 tokens, and a "
        "longer one decodes slower: the bench measured 145 and 124 tokens/s.)"
    )
    return lines
