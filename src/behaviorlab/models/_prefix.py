"""Prefix reuse bookkeeping for backends that keep a KV cache between calls.

A call's prompt tokens are either *reused* (their keys and values are still in the cache from
an earlier call whose prompt started the same way) or *evaluated* (run through the model in
this call). The embedded llama.cpp backend reuses whole blocks counted from position 0
(:func:`reusable_prefix`), records both counts per call in ``Generation.meta`` and keeps
running totals (:class:`PrefixStats`), which bench/prefix_replay.py reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def common_prefix(cached: Sequence[int], tokens: Sequence[int]) -> int:
    """Length of the longest common prefix of two token sequences."""
    n = 0
    for a, b in zip(cached, tokens, strict=False):
        if a != b:
            break
        n += 1
    return n


def reusable_prefix(cached: Sequence[int], tokens: Sequence[int], block: int) -> int:
    """How many leading tokens of ``tokens`` can keep their cached KV entries.

    The common prefix, rounded down to a multiple of ``block``, and never the whole prompt:
    at least its last token is evaluated again, so the call has fresh logits to sample from.
    """
    if block < 1:
        raise ValueError(f"block must be at least 1, got {block}")
    if not tokens:
        return 0
    return min(common_prefix(cached, tokens), len(tokens) - 1) // block * block


@dataclass(frozen=True)
class PromptReuse:
    """One call's prompt: tokens reused from the KV cache and tokens evaluated."""

    reused: int
    evaluated: int

    @property
    def total(self) -> int:
        return self.reused + self.evaluated

    def as_meta(self) -> dict[str, int]:
        return {"prompt_tokens_reused": self.reused, "prompt_tokens_evaluated": self.evaluated}


@dataclass
class PrefixStats:
    """Running totals over a backend's calls (generate and score)."""

    calls: int = 0
    prompt_tokens: int = 0
    reused: int = 0
    evaluated: int = 0

    def add(self, call: PromptReuse) -> None:
        self.calls += 1
        self.prompt_tokens += call.total
        self.reused += call.reused
        self.evaluated += call.evaluated

    @property
    def reuse_share(self) -> float:
        """Share of prompt tokens served from the cache (0 before any call)."""
        return self.reused / self.prompt_tokens if self.prompt_tokens else 0.0
