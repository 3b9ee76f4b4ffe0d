"""Step-by-step replay of OPeRA-shaped sessions with and without KV-cache prefix reuse.

    .venv/bin/python bench/prefix_replay.py                      # 1 session of 20 steps
    .venv/bin/python bench/prefix_replay.py --sessions 2 --page-tokens 400
    .venv/bin/python bench/prefix_replay.py --budget 1500 --history-chunk 1   # next_action's cut

Sessions are built from ``make_synthetic_opera`` data (SYNTHETIC): one shopper's steps in time
order (their sessions chained until there are ``--steps`` steps), each step a trial of persona,
the growing history (one line per earlier step, as ``next_action`` shows it) and the current
page rendered and cut to ``--page-tokens`` (approximate tokens, 3 characters each). Prompts use
the real layout of the ``llm`` simulator (:func:`structured_prompt`: instructions and persona,
then history oldest first, then the page and the reply format last) and the bundled SmolLM2.

Two embedded backends replay the same steps, interleaved (the order alternates every step, so
load on the machine hits both alike): one reuses the KV cache of the prefix shared with the
previous step (``prefix_reuse=True``, the default), one re-reads every prompt from scratch
(``prefix_reuse=False``). Each call is greedy, constrained by the step's action schema, and
short (``--max-tokens``), so prompt reading dominates. Printed per step and in total:
prompt tokens *evaluated* (from ``Generation.meta``) divided by prompt tokens *new* at that step
(those after the longest common token prefix with the previous step's prompt; the limit is 1.0),
the wall-clock ratio, and whether both backends produced the same output.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from behaviorlab.data import Observation, Person, Step, make_synthetic_opera
from behaviorlab.data._opera import opera
from behaviorlab.families.next_action._actions import action_schema, history_lines
from behaviorlab.families.next_action._budget import char_counter, fit_budget
from behaviorlab.families.next_action._page import render_page
from behaviorlab.families.next_action._task import NEXT_ACTION_INSTRUCTIONS, PROMPT_RESERVE
from behaviorlab.models._base import GenerateRequest, Generation
from behaviorlab.models._llamacpp import LlamaCppBackend
from behaviorlab.models._prefix import common_prefix
from behaviorlab.simulators._prompts import structured_prompt
from behaviorlab.tasks._base import TrialInput


@dataclass
class Row:
    session: int
    step: int
    total: int
    new: int
    evaluated: dict[str, int]
    seconds: dict[str, float]
    texts: dict[str, str]


def build_sessions(
    root: Path, n_sessions: int, n_steps: int, page_tokens: int, cut: CutOptions | None = None
) -> list[list[TrialInput]]:
    """``n_sessions`` sessions of ``n_steps`` trials each (see the module docstring)."""
    data = opera(str(root))
    steps_of: dict[str, list[Step]] = defaultdict(list)
    for ep in sorted(data.episodes, key=lambda e: (e.person_id, e.started_at or 0)):
        steps_of[ep.person_id].extend(ep.steps)
    people = [pid for pid, steps in steps_of.items() if len(steps) >= n_steps]
    if len(people) < n_sessions:
        raise SystemExit(f"only {len(people)} shoppers have {n_steps} steps; ask for fewer")
    sessions = []
    for pid in people[:n_sessions]:
        person = data.persons[pid].model_copy(update={"text": None})
        sessions.append(_session(person, steps_of[pid][:n_steps], page_tokens, cut))
    return sessions


@dataclass(frozen=True)
class CutOptions:
    """``next_action``'s own cut of persona + history + page (``--budget``)."""

    budget: int
    history_chunk: int


def _session(
    person: Person, steps: list[Step], page_tokens: int, options: CutOptions | None = None
) -> list[TrialInput]:
    count = char_counter(3.0)
    fixed = count(NEXT_ACTION_INSTRUCTIONS) + count(person.description or "") + PROMPT_RESERVE
    out: list[TrialInput] = []
    shown: list[Step] = []
    for i, step in enumerate(steps):
        page = render_page(step.observation.content, step.observation.url)
        if options is None:
            cut = fit_budget(page, [], fixed_tokens=0, budget=page_tokens, count=count)
            history = list(shown)
        else:
            cut = fit_budget(
                page, history_lines(shown), fixed_tokens=fixed, budget=options.budget,
                count=count, history_chunk=options.history_chunk,
            )  # fmt: skip
            history = shown[len(shown) - cut.history_kept :] if cut.history_kept else []
        seen = Observation(
            kind="page", content=cut.page.text(), url=step.observation.url,
            meta={"title": page.title},
        )  # fmt: skip
        out.append(
            TrialInput(
                task="next_action",
                item_id=f"step{i}",
                person_id=person.person_id,
                persona=person,
                history=history,
                observation=seen,
                answer_schema=action_schema(cut.semantic_ids()),
                instructions=NEXT_ACTION_INSTRUCTIONS,
            )
        )
        shown.append(step.model_copy(update={"observation": seen, "index": i}))
    return out


async def replay(sessions: list[list[TrialInput]], args: argparse.Namespace) -> list[Row]:
    backends = {
        "reuse": LlamaCppBackend("smollm2", n_ctx=args.n_ctx, n_threads=args.threads),
        "scratch": LlamaCppBackend(
            "smollm2", n_ctx=args.n_ctx, n_threads=args.threads, prefix_reuse=False
        ),
    }
    rows: list[Row] = []
    try:
        for b in backends.values():  # load both models before timing anything
            await b.generate(GenerateRequest(prompt="Hello", max_tokens=1))
        for s, session in enumerate(sessions):
            previous: list[int] = []
            for k, trial in enumerate(session):
                messages = structured_prompt(trial).messages
                tokens = backends["reuse"].prompt_tokens(messages)
                request = GenerateRequest(
                    messages=messages,
                    json_schema=trial.answer_schema,
                    temperature=0.0,
                    max_tokens=args.max_tokens,
                )
                order = ["reuse", "scratch"] if k % 2 == 0 else ["scratch", "reuse"]
                gens: dict[str, Generation] = {}
                secs: dict[str, float] = {}
                for name in order:
                    start = time.perf_counter()
                    gens[name] = await backends[name].generate(request)
                    secs[name] = time.perf_counter() - start
                new = len(tokens) - common_prefix(previous, tokens)
                previous = tokens
                rows.append(
                    Row(
                        session=s,
                        step=k + 1,
                        total=len(tokens),
                        new=new,
                        evaluated={
                            n: int(g.meta["prompt_tokens_evaluated"]) for n, g in gens.items()
                        },
                        seconds=secs,
                        texts={n: g.text for n, g in gens.items()},
                    )
                )
                _print_row(rows[-1])
    finally:
        for b in backends.values():
            await b.aclose()
    return rows


def _print_row(r: Row) -> None:
    print(
        f"session {r.session} step {r.step:2d}: prompt {r.total:5d} tok, new {r.new:5d} | "
        f"evaluated reuse {r.evaluated['reuse']:5d} ({r.evaluated['reuse'] / r.new:4.2f}x new), "
        f"scratch {r.evaluated['scratch']:5d} ({r.evaluated['scratch'] / r.new:4.2f}x) | "
        f"{r.seconds['reuse']:5.2f} s vs {r.seconds['scratch']:5.2f} s"
        + ("" if r.texts["reuse"] == r.texts["scratch"] else "  OUTPUTS DIFFER")
    )


def summary(rows: list[Row]) -> None:
    new = sum(r.new for r in rows)
    total = sum(r.total for r in rows)
    ev = {n: sum(r.evaluated[n] for r in rows) for n in ("reuse", "scratch")}
    sec = {n: sum(r.seconds[n] for r in rows) for n in ("reuse", "scratch")}
    later = [r for r in rows if r.step > 1]
    same = sum(r.texts["reuse"] == r.texts["scratch"] for r in rows)
    print(
        f"\n{len(rows)} steps; prompt tokens: {total} in all, {new} new "
        f"(mean prompt {total / len(rows):.0f}, mean new {new / len(rows):.0f})"
    )
    print(f"evaluated / new, with reuse:      {ev['reuse'] / new:.3f}  (limit 1.0, target <= 1.2)")
    print(f"evaluated / new, from scratch:    {ev['scratch'] / new:.3f}")
    if later:
        print(
            "steps 2+ only: reuse "
            f"{sum(r.evaluated['reuse'] for r in later) / sum(r.new for r in later):.3f}, "
            f"scratch {sum(r.evaluated['scratch'] for r in later) / sum(r.new for r in later):.3f}"
        )
    print(
        f"wall clock: reuse {sec['reuse']:.1f} s, scratch {sec['scratch']:.1f} s, "
        f"scratch / reuse = {sec['scratch'] / sec['reuse']:.2f}x"
    )
    print(f"greedy outputs identical with and without reuse: {same}/{len(rows)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sessions", type=int, default=1)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--users", type=int, default=8, help="synthetic shoppers to draw from")
    parser.add_argument("--page-tokens", type=int, default=300, help="page cut (approx. tokens)")
    parser.add_argument(
        "--budget", type=int, default=None,
        help="cut persona + history + page as next_action does (approx. tokens; replaces "
        "--page-tokens)",
    )  # fmt: skip
    parser.add_argument(
        "--history-chunk", type=int, default=8,
        help="with --budget: history cut in multiples of this many lines (1: line by line)",
    )  # fmt: skip
    parser.add_argument("--max-tokens", type=int, default=4)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp CPU threads")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = make_synthetic_opera(Path(tmp), users=args.users, sessions_per_user=3, seed=0)
        cut = None if args.budget is None else CutOptions(args.budget, args.history_chunk)
        sessions = build_sessions(root, args.sessions, args.steps, args.page_tokens, cut)
    rows = asyncio.run(replay(sessions, args))
    summary(rows)


if __name__ == "__main__":
    main()
