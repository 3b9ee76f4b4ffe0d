"""One pass against per-choice prompts with prefix reuse, alternated on the same participant.

    .venv/bin/python bench/transcript_ab.py                       # games, 1 participant, 2 rounds
    .venv/bin/python bench/transcript_ab.py --experiment Thoma_et_al_2025_risky_choice

``bench/transcript_pass.py`` times each way once per participant, one after the other, so the
load of a shared machine moves its ratios by about 0.1 between runs. Here the two ways run in
turn ``--rounds`` times on two backends loaded and warmed up alike (bundled SmolLM2, n_ctx
8192), and the time spent inside ``llama_decode`` is printed next to the wall clock of each.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path
from typing import Any

import llama_cpp
import llama_cpp.llama_cpp as low_level

from behaviorlab.families.transcript import TranscriptTask, load_transcripts, score_one_pass
from behaviorlab.families.transcript._onepass import session_request
from behaviorlab.models._base import ScoreRequest
from behaviorlab.models._llamacpp import LlamaCppBackend

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "psych201"
DECODE = {"seconds": 0.0}
_decode = llama_cpp.llama_decode


def _timed(ctx: Any, batch: Any) -> Any:
    t0 = time.perf_counter()
    try:
        return _decode(ctx, batch)
    finally:
        DECODE["seconds"] += time.perf_counter() - t0


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--experiment", default="zhu2024games")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    ds = load_transcripts(args.data, experiments=[args.experiment], participants=1)
    task = TranscriptTask()
    (session,) = [task.session(t) for t in task.trials(ds, seed=0)]
    request = session_request(session)
    one = LlamaCppBackend("smollm2", n_ctx=8192)
    reuse = LlamaCppBackend("smollm2", n_ctx=8192)
    warm = ScoreRequest(prompt="Warm up: the weights are paged in here. " * 20, continuations=["A"])
    for b in (one, reuse):
        await b.score(warm)
    llama_cpp.llama_decode = low_level.llama_decode = _timed  # the pass's and Llama.eval's
    try:
        for r in range(args.rounds):
            DECODE["seconds"] = 0.0
            t0 = time.perf_counter()
            _, stats = await score_one_pass(one, session)
            a = time.perf_counter() - t0
            print(
                f"round {r + 1} one pass: {stats.evaluated} tokens, {a:.1f} s "
                f"({stats.evaluated / a:.0f} tokens/s), llama_decode {DECODE['seconds']:.1f} s"
            )
            DECODE["seconds"] = 0.0
            reuse.prompt_states.clear()
            before = reuse.prefix_stats.evaluated
            t0 = time.perf_counter()
            for point in request.points:
                prompt = "".join(request.pieces[: point.after])
                await reuse.score(ScoreRequest(prompt=prompt, continuations=point.continuations))
            b = time.perf_counter() - t0
            ev = reuse.prefix_stats.evaluated - before
            print(
                f"round {r + 1} per choice, prefix reuse: {ev} tokens, {b:.1f} s "
                f"({ev / b:.0f} tokens/s), llama_decode {DECODE['seconds']:.1f} s; "
                f"one pass / this {a / b:.3f}"
            )
    finally:
        llama_cpp.llama_decode = low_level.llama_decode = _decode
        for b in (one, reuse):
            await b.aclose()


if __name__ == "__main__":
    asyncio.run(main())
