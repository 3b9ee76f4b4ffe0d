"""Prefix reuse without a model: block arithmetic, totals, the prompt layout, the call lock."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from behaviorlab.data import Action, Observation, Person, Step
from behaviorlab.models._base import GenerateRequest, Generation, Message
from behaviorlab.models._llamacpp import LlamaCppBackend
from behaviorlab.models._prefix import PrefixStats, PromptReuse, common_prefix, reusable_prefix
from behaviorlab.simulators._prompts import structured_prompt
from behaviorlab.tasks._base import TrialInput


def test_common_prefix_stops_at_the_first_difference() -> None:
    assert common_prefix([1, 2, 3, 4], [1, 2, 9, 4]) == 2
    assert common_prefix([1, 2], [1, 2, 3]) == 2
    assert common_prefix([], [1]) == 0


def test_reusable_prefix_is_whole_blocks_and_never_the_whole_prompt() -> None:
    cached = list(range(200))
    assert reusable_prefix(cached, [*range(150), 999], block=64) == 128  # 150 -> 128
    assert reusable_prefix(cached, [*range(63), 999], block=64) == 0
    # the same prompt again: its last token is re-read (fresh logits), 128 -> 127 -> 64
    assert reusable_prefix(cached[:128], cached[:128], block=64) == 64
    assert reusable_prefix(cached, cached[:129], block=64) == 128
    assert reusable_prefix(cached, [], block=64) == 0
    assert reusable_prefix(cached, cached[:10], block=1) == 9
    with pytest.raises(ValueError, match="block must be at least 1"):
        reusable_prefix(cached, cached, block=0)


def test_prefix_stats_sum_calls() -> None:
    stats = PrefixStats()
    assert stats.reuse_share == 0.0
    stats.add(PromptReuse(reused=0, evaluated=100))
    stats.add(PromptReuse(reused=64, evaluated=36))
    assert (stats.calls, stats.prompt_tokens, stats.reused, stats.evaluated) == (2, 200, 64, 136)
    assert stats.reuse_share == pytest.approx(0.32)
    assert PromptReuse(3, 4).as_meta() == {"prompt_tokens_reused": 3, "prompt_tokens_evaluated": 4}


def _step(i: int, title: str) -> Step:
    return Step(
        index=i,
        step_id=f"s{i}",
        observation=Observation(kind="page", content="", meta={"title": title}),
        action=Action(action_type="click", target=f"button_{i}"),
    )


def _trial(history: list[Step], page: str) -> TrialInput:
    return TrialInput(
        task="next_action",
        item_id=page,
        person_id="p1",
        persona=Person(person_id="p1", description="You are 40 and careful with money."),
        history=history,
        observation=Observation(kind="page", content=page),
        answer_schema={"type": "object", "properties": {"action_type": {"type": "string"}}},
        instructions="Predict the next action.",
    )


def test_consecutive_steps_share_everything_before_the_new_history_line() -> None:
    steps = [_step(i, f"Page {i}") for i in range(3)]
    prompts = [structured_prompt(_trial(steps[:k], f"[page {k}] body")) for k in range(4)]
    systems = {p.messages[0].content for p in prompts}
    assert len(systems) == 1  # instructions and persona: identical at every step
    users = [p.messages[1].content for p in prompts]
    for k in range(1, 3):  # step k+1's user message starts with step k's history
        history_k = users[k].split("\n\nWhat you see now:")[0]
        assert users[k + 1].startswith(f'{history_k}\n{k + 1}. on "Page {k}"')
    # the page and the reply format come last
    assert users[3].index("[page 3] body") > users[3].index('on "Page 2"')
    assert users[3].endswith("- action_type")


def test_calls_on_one_backend_never_overlap() -> None:
    """Calls from several tasks and several event loops (threads) run one at a time."""
    backend = LlamaCppBackend("smollm2")  # the model is never loaded here
    active, peak, done = 0, 0, []
    guard = threading.Lock()

    def fake_generate(request: GenerateRequest) -> Generation:
        nonlocal active, peak
        with guard:
            active += 1
            peak = max(peak, active)
        time.sleep(0.01)
        with guard:
            active -= 1
            done.append(request.seed)
        return Generation(text="ok")

    backend._generate_sync = fake_generate  # type: ignore[method-assign]
    request = GenerateRequest(messages=[Message(role="user", content="hi")])

    async def many(offset: int) -> None:
        await asyncio.gather(
            *(backend.generate(request.model_copy(update={"seed": offset + i})) for i in range(5))
        )

    threads = [threading.Thread(target=asyncio.run, args=(many(10 * t),)) for t in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak == 1
    assert sorted(done) == [0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 20, 21, 22, 23, 24]
