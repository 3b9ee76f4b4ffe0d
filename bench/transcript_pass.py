"""Each transcript read once: one pass against per-choice prompts, on the shared Psych-201 data.

    .venv/bin/python bench/transcript_pass.py                      # 3 + 1 participants
    .venv/bin/python bench/transcript_pass.py --risky 5 --games 2 --scratch-every 4

The bundled SmolLM2 (n_ctx 8192) scores every choice of the first participants of the two
shared experiments (``../shared/data/psych201``: Thoma et al. 2025 risky choice, Zhu et al.
2024 2x2 games) three ways, with the same options and the same raw-text prompts:

* **one pass**: :meth:`LlamaCppBackend.score_positions`, one decode of the transcript;
* **per choice, prefix reuse**: one :meth:`score` request per choice on a backend that keeps
  the KV entries of the whole 64-token blocks a prompt shares with the previous one;
* **per choice, from scratch**: the same requests with ``prefix_reuse=False``. On the games
  data (about 3,500 tokens and 100 choices per participant) only every ``--scratch-every``-th
  choice is run; its time and tokens are scaled by the ratio of prompt tokens of all choices
  to those of the sample, and the line says so.

Printed per experiment: transcript tokens (and, for every participant in the files, their
tokens and the hours a one pass at the measured speed would take), tokens evaluated by each
way (÷ transcript tokens), wall-clock seconds and the ratio one pass ÷ each way, and the
largest |difference| of a choice's NLL between the one pass and each way. The last line is
evaluated ÷ transcript tokens of the one pass over both experiments (target: ≤ 1.05).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from behaviorlab.families.transcript import TranscriptTask, load_transcripts, score_one_pass
from behaviorlab.families.transcript._onepass import nll_close, session_request
from behaviorlab.families.transcript._scoring import ChoiceRecord, Session, from_logprobs
from behaviorlab.models._base import PositionsRequest, ScoreRequest
from behaviorlab.models._llamacpp import LlamaCppBackend

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "psych201"
EXPERIMENTS = {"risky": "Thoma_et_al_2025_risky_choice", "games": "zhu2024games"}


@dataclass
class Way:
    evaluated: int = 0
    seconds: float = 0.0
    worst: float = 0.0
    note: str = ""


async def per_choice(
    backend: LlamaCppBackend, session: Session, every: int
) -> tuple[list[ChoiceRecord], int, int, int, float]:
    """Every ``every``-th choice as its own score request: records, tokens evaluated, prompt
    tokens of those choices and of all choices, seconds."""
    request: PositionsRequest = session_request(session)
    before = backend.prefix_stats.evaluated
    records: list[ChoiceRecord] = []
    sample_tokens = all_tokens = 0
    seconds = 0.0
    for i, (k, point) in enumerate(zip(session.scored(), request.points, strict=True)):
        prompt = "".join(request.pieces[: point.after])
        n = len(backend.prompt_tokens(prompt=prompt))
        all_tokens += n
        if i % every:
            continue
        sample_tokens += n
        t0 = time.perf_counter()
        got = await backend.score(ScoreRequest(prompt=prompt, continuations=point.continuations))
        seconds += time.perf_counter() - t0
        options = session.options[k]
        assert options is not None
        records.append(from_logprobs(k, session.responses[k], options, got.logprobs))
    evaluated = backend.prefix_stats.evaluated - before
    return records, evaluated, sample_tokens, all_tokens, seconds


async def experiment(
    name: str,
    people: int,
    every: int,
    data: Path,
    one: LlamaCppBackend,
    reuse: LlamaCppBackend,
    scratch: LlamaCppBackend,
) -> tuple[int, int]:
    ds = load_transcripts(data, experiments=[EXPERIMENTS[name]], participants=people)
    task = TranscriptTask()
    sessions = [task.session(t) for t in task.trials(ds, seed=0)]
    transcript = 0
    ways = {"one pass": Way(), "per choice, prefix reuse": Way(), "per choice, from scratch": Way()}
    for session in sessions:
        if any(o is None for o in (session.options[k] for k in session.scored())):
            raise SystemExit(f"{name}: a choice without parsed options; this bench scores options")
        t0 = time.perf_counter()
        fast, stats = await score_one_pass(one, session)
        ways["one pass"].seconds += time.perf_counter() - t0
        ways["one pass"].evaluated += stats.evaluated
        transcript += stats.transcript_tokens
        assert stats.one_pass and not stats.windowed_choices, "raise --n-ctx"
        reuse.prompt_states.clear()
        recs, ev, _, _, secs = await per_choice(reuse, session, 1)
        way = ways["per choice, prefix reuse"]
        way.evaluated += ev
        way.seconds += secs
        way.worst = max(way.worst, nll_close(fast, recs))
        recs, ev, sample, total, secs = await per_choice(scratch, session, every)
        way = ways["per choice, from scratch"]
        way.evaluated += round(ev * total / sample)
        way.seconds += secs * total / sample
        way.worst = max(
            way.worst, nll_close([fast[r.k - session.first_scored] for r in recs], recs)
        )
        if every > 1:
            way.note = f" (estimated from every {every}th choice, scaled by prompt tokens)"
    print(f"{name}: {len(sessions)} participants, {transcript} transcript tokens")
    base = ways["one pass"]
    every_one = load_transcripts(data, experiments=[EXPERIMENTS[name]])
    total = sum(
        len(one.prompt_tokens(prompt="".join(session_request(task.session(t)).pieces)))
        for t in task.trials(every_one, seed=0)
    )
    rate = transcript / base.seconds
    print(
        f"  all {len(every_one.episodes)} participants: {total} transcript tokens; at the one "
        f"pass's {rate:.0f} tokens/s here, about {total / rate / 3600:.1f} h in one pass"
    )
    for label, way in ways.items():
        ratio = "" if way is base else f", one pass / this {base.seconds / way.seconds:.3f}"
        print(
            f"  {label}: evaluated {way.evaluated} = {way.evaluated / transcript:.3f} x "
            f"transcript, {way.seconds:.1f} s{ratio}; max |dNLL| vs one pass {way.worst:.2e}"
            f"{way.note}"
        )
    return base.evaluated, transcript


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--risky", type=int, default=3, help="risky-choice participants")
    parser.add_argument("--games", type=int, default=1, help="2x2-games participants")
    parser.add_argument("--scratch-every", type=int, default=8, help="games: from-scratch sample")
    parser.add_argument("--n-ctx", type=int, default=8192)
    parser.add_argument("--data", type=Path, default=DATA, help="the Psych-201 folder")
    args = parser.parse_args()
    if not args.data.is_dir():
        raise SystemExit(f"the shared Psych-201 data is not at {args.data}: give --data PATH")
    one = LlamaCppBackend("smollm2", n_ctx=args.n_ctx)
    reuse = LlamaCppBackend("smollm2", n_ctx=args.n_ctx)
    scratch = LlamaCppBackend("smollm2", n_ctx=args.n_ctx, prefix_reuse=False)
    warm = ScoreRequest(prompt="Warm up: the weights are paged in here. " * 20, continuations=["A"])
    for b in (one, reuse, scratch):  # load and run each model once outside the timings
        await b.score(warm)
    try:
        evaluated = transcript = 0
        for name, people, every in (
            ("risky", args.risky, 1),
            ("games", args.games, args.scratch_every),
        ):
            if people:
                e, t = await experiment(name, people, every, args.data, one, reuse, scratch)
                evaluated, transcript = evaluated + e, transcript + t
        print(f"evaluated/transcript: {evaluated / transcript:.3f}")
    finally:
        for b in (one, reuse, scratch):
            await b.aclose()


if __name__ == "__main__":
    asyncio.run(main())
