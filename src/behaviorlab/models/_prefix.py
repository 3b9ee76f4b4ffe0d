"""Prefix reuse bookkeeping for backends that keep a KV cache between calls.

A call's prompt tokens are either *reused* (their keys and values are still in the cache from
an earlier call whose prompt started the same way) or *evaluated* (run through the model in
this call). The embedded llama.cpp backend reuses whole blocks counted from position 0
(:func:`reusable_prefix`), records both counts per call in ``Generation.meta`` and keeps
running totals (:class:`PrefixStats`), which bench/prefix_replay.py reads. It keeps several
prompt states (:class:`KvSlots`), so that parties of one trial who take turns each continue
from their own previous prompt (bench/party_prefix.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

S = TypeVar("S")


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


class KvContext(Protocol[S]):
    """The one KV cache a backend evaluates in, as :class:`KvSlots` drives it."""

    def save(self, n_tokens: int) -> S:
        """A copy of the KV entries of positions ``0..n_tokens-1`` (later ones may be dropped)."""
        ...

    def restore(self, state: S) -> bool:
        """Replace the whole cache with a saved state; False if that failed (cache now empty)."""
        ...


@dataclass(eq=False)
class _Slot(Generic[S]):
    tokens: tuple[int, ...]
    """The prompt's whole blocks: the only positions a later call may reuse."""
    state: S | None = None
    """Its saved KV entries; None while they exist only in the cache."""


class KvSlots(Generic[S]):
    """Up to ``capacity`` prompt states, one of them in the KV cache, the others saved.

    A call continues from the state whose tokens give it the longest reusable prefix
    (:func:`reusable_prefix`, ties to the one already in the cache, then to the most recently
    used), like llama.cpp server's choice of a slot by prompt similarity. Around the call:

    * :meth:`prepare` saves the state in the cache if the call would overwrite positions
      that state still needs, loads the chosen state if it is not the one in the cache, and
      returns how many leading tokens the cache now holds for the prompt;
    * the backend evaluates the rest of the prompt;
    * :meth:`commit` records the prompt's whole blocks as the state in the cache, drops the
      states it makes redundant (those whose tokens it starts with: it reuses at least as
      much for any later prompt), and evicts the least recently used states beyond
      ``capacity``.

    A party whose prompt only grows at its end thus replaces its own state at every turn, and
    parties taking turns each find theirs. Only whole blocks are kept, so the partial block at
    a prompt's end, generated tokens and scored continuations are never reused.
    """

    def __init__(self, capacity: int, block: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        if block < 1:
            raise ValueError(f"block must be at least 1, got {block}")
        self.capacity, self.block = capacity, block
        self._slots: list[_Slot[S]] = []  # least recently used first
        self._live: _Slot[S] | None = None  # the state in the KV cache, if it is one of them
        self.saves = 0
        """States copied out of the cache (a call was about to overwrite them)."""
        self.restores = 0
        """Saved states loaded back into the cache."""

    def __len__(self) -> int:
        return len(self._slots)

    @property
    def prompts(self) -> list[tuple[int, ...]]:
        """Each state's tokens, least recently used first."""
        return [slot.tokens for slot in self._slots]

    @property
    def saved(self) -> list[S]:
        """The saved states (the one only in the cache is not among them)."""
        return [slot.state for slot in self._slots if slot.state is not None]

    def prepare(self, context: KvContext[S], tokens: Sequence[int]) -> int:
        """Get the cache ready for ``tokens``; returns how many leading tokens it holds."""
        live, self._live = self._live, None  # the cache is about to change
        best: _Slot[S] | None = None
        best_key = (0, False, -1)  # reused tokens, already in the cache, recency
        for i, slot in enumerate(self._slots):
            key = (reusable_prefix(slot.tokens, tokens, self.block), slot is live, i)
            if key[0] > 0 and key > best_key:
                best, best_key = slot, key
        reused = best_key[0]
        if live is not None and live in self._slots and live.state is None:
            if best is live and reused == len(live.tokens):
                self._slots.remove(live)  # the prompt extends it: commit records the longer one
            elif self.capacity > 1:
                try:
                    live.state = context.save(len(live.tokens))
                except BaseException:
                    self._slots.remove(live)
                    raise
                self.saves += 1
            else:
                self._slots.remove(live)  # no room to keep it beside the new prompt
        if best is None:
            return 0
        if best is not live:
            assert best.state is not None  # every state outside the cache is saved
            self.restores += 1
            if not context.restore(best.state):
                self._slots.remove(best)
                return 0
        if best in self._slots:  # most recently used
            self._slots.remove(best)
            self._slots.append(best)
        return reused

    def commit(self, tokens: Sequence[int]) -> None:
        """Record that the cache holds ``tokens`` (the prompt just evaluated) from position 0."""
        kept = tuple(tokens[: len(tokens) // self.block * self.block])
        if not kept:
            return
        slots = [s for s in self._slots if kept[: len(s.tokens)] != s.tokens]
        self._live = _Slot(kept)
        slots.append(self._live)
        self._slots = slots[-self.capacity :]

    def clear(self) -> None:
        """Forget every state (the cache was reset, or is about to be overwritten)."""
        self._slots, self._live = [], None
