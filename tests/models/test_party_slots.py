"""Prompt states kept per party (KvSlots) without a model: which state a call continues from,
what is saved, replaced and evicted, and that the cache always holds what a call reuses."""

from __future__ import annotations

import random

import pytest

from behaviorlab.models._llamacpp import LlamaCppBackend
from behaviorlab.models._prefix import KvSlots

BLOCK = 4


class FakeCache:
    """A KV cache that remembers which token sits at each position."""

    def __init__(self) -> None:
        self.kv: list[int] = []
        self.saved: list[int] = []  # n_tokens of each save
        self.fail_restore = False

    def save(self, n_tokens: int) -> tuple[int, ...]:
        del self.kv[n_tokens:]
        self.saved.append(n_tokens)
        return tuple(self.kv)

    def restore(self, state: tuple[int, ...]) -> bool:
        if self.fail_restore:
            self.kv = []
            return False
        self.kv = list(state)
        return True

    def call(self, slots: KvSlots[tuple[int, ...]], tokens: list[int]) -> int:
        """One call as the backend makes it; returns the tokens reused."""
        reused = slots.prepare(self, tokens)
        assert reused % BLOCK == 0 and 0 <= reused < len(tokens)
        assert self.kv[:reused] == tokens[:reused]  # the cache really holds what is reused
        self.kv = [*tokens, -1, -2]  # evaluated, then a generated answer after it
        slots.commit(tokens)
        return reused


def party(name: int, turns: int) -> list[list[int]]:
    """A party's prompts, turn by turn: a shared 4-token head, 8 tokens of its own, then
    5 tokens more per turn (its prompt only grows at its end)."""
    own = [100 * name + i for i in range(8)]
    return [[1, 2, 3, 4, *own, *range(1000 * name, 1000 * name + 5 * t)] for t in range(turns)]


def test_alternating_parties_each_continue_from_their_own_prompt() -> None:
    slots: KvSlots[tuple[int, ...]] = KvSlots(capacity=3, block=BLOCK)
    cache = FakeCache()
    prompts = {p: party(p, 4) for p in (1, 2, 3)}
    first = [cache.call(slots, prompts[p][0]) for p in (1, 2, 3)]
    assert first == [0, 4, 4]  # only the shared head: the previous call was another party's
    for turn in (1, 2, 3):
        for p in (1, 2, 3):
            previous = prompts[p][turn - 1]
            reused = cache.call(slots, prompts[p][turn])
            assert reused == len(previous) // BLOCK * BLOCK  # its own last prompt's blocks
    assert len(slots) == 3  # each new prompt replaced its party's old one
    # after the first round, every call saves the state in the cache and loads its own
    assert (slots.saves, slots.restores) == (2 + 9, 9)


def test_a_single_state_is_the_old_single_cache() -> None:
    slots: KvSlots[tuple[int, ...]] = KvSlots(capacity=1, block=BLOCK)
    cache = FakeCache()
    a, b = party(1, 2), party(2, 2)
    assert [cache.call(slots, p) for p in (a[0], b[0], a[1], b[1])] == [0, 4, 4, 4]
    assert (slots.saves, slots.restores, cache.saved) == (0, 0, [])


def test_least_recently_used_state_is_evicted() -> None:
    slots: KvSlots[tuple[int, ...]] = KvSlots(capacity=2, block=BLOCK)
    cache = FakeCache()
    a, b, c = party(1, 2), party(2, 2), party(3, 2)
    for p in (a[0], b[0], a[0], c[0]):  # a used again after b, so b is the oldest when c comes
        cache.call(slots, p)
    assert slots.prompts == [tuple(a[0][:12]), tuple(c[0][:12])]
    assert cache.call(slots, b[1]) == 4  # b's state is gone: only the shared head
    assert cache.call(slots, c[1]) == 12  # c's was kept (a, the older one, was evicted)
    assert len(slots) == 2


def test_ties_go_to_the_state_in_the_cache_and_a_longer_prompt_replaces_its_own() -> None:
    slots: KvSlots[tuple[int, ...]] = KvSlots(capacity=4, block=BLOCK)
    cache = FakeCache()
    a, b = party(1, 1)[0], party(2, 1)[0]
    cache.call(slots, a)
    cache.call(slots, b)
    restores = slots.restores
    cache.call(slots, [1, 2, 3, 4, 5, 6, 7, 8, 9])  # 4 shared with both: continue in the cache
    assert slots.restores == restores
    assert cache.call(slots, [*a, 7, 7, 7, 7, 7]) == 12
    assert slots.prompts[-1] == (*a, 7, 7, 7, 7)  # whole blocks only
    assert tuple(a) not in slots.prompts  # replaced: the longer prompt reuses all it did


def test_a_state_that_a_prompt_starts_with_is_dropped_wherever_it_is() -> None:
    slots: KvSlots[tuple[int, ...]] = KvSlots(capacity=4, block=BLOCK)
    cache = FakeCache()
    a = party(1, 3)
    cache.call(slots, a[0])
    cache.call(slots, party(2, 1)[0])
    cache.call(slots, a[2])  # extends a's first prompt, which was saved, not in the cache
    assert tuple(a[0][:12]) not in slots.prompts and len(slots) == 2


def test_short_prompts_and_failed_restores_reuse_nothing() -> None:
    slots: KvSlots[tuple[int, ...]] = KvSlots(capacity=3, block=BLOCK)
    cache = FakeCache()
    assert cache.call(slots, [1, 2, 3]) == 0
    assert len(slots) == 0  # no whole block: nothing to keep
    a, b = party(1, 2), party(2, 1)
    cache.call(slots, a[0])
    cache.call(slots, b[0])
    cache.fail_restore = True
    assert cache.call(slots, a[1]) == 0  # a's state could not be loaded: read from scratch
    assert tuple(a[0][:12]) not in slots.prompts
    with pytest.raises(ValueError, match="capacity"):
        KvSlots(capacity=0, block=BLOCK)


def test_random_calls_never_reuse_what_the_cache_does_not_hold() -> None:
    rng = random.Random(0)
    for capacity in (1, 2, 3, 5):
        slots: KvSlots[tuple[int, ...]] = KvSlots(capacity=capacity, block=BLOCK)
        cache = FakeCache()
        lineages = [party(p, 1)[0] for p in range(1, 6)]
        for _ in range(300):
            i = rng.randrange(len(lineages))
            prompt = lineages[i]
            if rng.random() < 0.2:  # rewrite the end of the history
                prompt = prompt[: rng.randrange(1, len(prompt) + 1)]
            lineages[i] = [*prompt, *(rng.randrange(50) for _ in range(rng.randrange(1, 9)))]
            cache.call(slots, lineages[i])  # asserts the cache holds what is reused
            assert len(slots) <= capacity
            assert len(slots.saved) >= len(slots) - 1  # all but the one in the cache are saved


def test_kv_slots_is_an_option_that_leaves_the_model_identity_alone() -> None:
    one = LlamaCppBackend("smollm2", kv_slots=1)  # the model is never loaded here
    assert one.identity() == LlamaCppBackend("smollm2").identity()
    assert one.identity().params == {"n_ctx": 2048, "seed": 0}
    assert LlamaCppBackend("smollm2").prompt_states.capacity == 4
    with pytest.raises(ValueError, match="kv_slots must be at least 1"):
        LlamaCppBackend("smollm2", kv_slots=0)
