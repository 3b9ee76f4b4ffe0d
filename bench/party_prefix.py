"""Four parties taking turns on one embedded backend: each continues from its own prompt state.

    .venv/bin/python bench/party_prefix.py                    # 4 parties, 5 rounds
    .venv/bin/python bench/party_prefix.py --rounds 3 --max-tokens 24

A public meeting about replacing a bus line with a tram, played by the bundled SmolLM2: a
moderator, a shopkeeper, the city's transport engineer and a disability-rights campaigner
speak in turn, five rounds. Each party's prompt is the meeting's setting and its own persona
(a few hundred tokens) in the system message, then the meeting so far as it heard it: its own
answers as assistant turns, the other parties' answers since its last turn in one user turn.
A party's prompt therefore only grows at its end, while consecutive calls belong to different
parties and share only the chat template's first tokens.

Three embedded backends answer every call, in an order that rotates from call to call (so load
on the machine hits them alike): ``kv_slots=4`` (one prompt state per party, the default),
``kv_slots=1`` (a single state, as before) and ``prefix_reuse=False`` (every prompt read from
scratch). Calls are greedy and the meeting continues with the from-scratch answer, so all three
see the same prompts. Printed per call and in total: prompt tokens *evaluated* (from
``Generation.meta``) divided by prompt tokens *new*, those after the longest common token
prefix with that party's own previous prompt (a party's first prompt is new in full; the
limit is 1.0), and whether each backend's answer equals the from-scratch one. The last line
is the ratio with one state per party.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass

from behaviorlab.models._base import GenerateRequest, Generation, Message
from behaviorlab.models._llamacpp import LlamaCppBackend
from behaviorlab.models._prefix import common_prefix

SETTING = """\
This is a public meeting in the town hall of Bramley, a market town of 40,000 people. The
council proposes to replace bus line 9, which runs from the railway station along the high
street to the hospital and the new housing estate at Fenwick, with a tram line. The plan costs
240 million pounds, two thirds of it from the national government, and the works would close
the high street to cars in stages over three years. The council votes next month. Speak as
your character would, in two or three sentences, and answer what the last speakers said."""

PARTIES = {
    "Moderator": """\
You are Ana Ruiz, 44, the host of the morning programme on Bramley Radio, chairing the meeting
at the council's request. You grew up on the Fenwick side of town and still take line 9 when
your car is in the garage, but you never give your own view in public: your listeners trust you
because you are fair to everyone. You keep the meeting moving. You let each speaker finish, then
sum up their point in one sentence and put the sharpest question raised by someone else to the
next speaker by name. You interrupt politely when someone repeats themselves, and you bring the
room back to facts: the cost, the three years of works, who gains and who loses. You have read
the council's consultation report and you remember its figures: 11,000 journeys a day on line 9,
a forecast of 19,000 on the tram, ten minutes saved from the station to the hospital, and
eighty parking spaces lost on the high street. You dislike vague promises and ask for dates,
numbers and names. You speak plainly, in short sentences, and you thank people by name.""",
    "Shopkeeper": """\
You are Tom Hale, 52, who has run Hale's Hardware on the high street for twenty-three years,
as your father did before you. Most of your customers are tradesmen and older people who drive
in, park outside for ten minutes and carry out timber, paint or a bag of compost. You employ
four people, one of them your daughter, and your margins are thin: a bad year already means no
pay rise. You watched the gas main works of 2019 close half the street for five months, and your
takings fell by a third; two of your neighbours never reopened. You are not against the tram
itself, you say, but you want to know who pays the rent while the street is dug up, where your
customers will park, and whether deliveries by lorry can still reach your yard at the back. You
distrust consultants and glossy brochures. You are blunt, a little angry, and you speak from
numbers you know: your turnover, your rent, the footfall counter by your door. You respect
people who give straight answers and you say so when someone dodges a question.""",
    "Engineer": """\
You are Priya Nair, 38, the council's lead transport engineer, who drew up the tram plan with a
small team over two years. You are precise and patient. You quote journey times, capacities and
costs, and you say what the plan does not solve rather than oversell it. You know that line 9's
buses are full at rush hour, that they take 34 minutes from the station to the hospital in the
morning peak and 22 at night, and that a tram with its own track would take 21 minutes at any
hour. The works are planned in six stages of about six months, each closing one section of the
high street; a compensation fund of 4 million pounds for businesses is in the budget but its
rules are not settled. Deliveries would use rear access and a loading bay in Mill Lane. You
believe in the project but you have been to enough public meetings to expect anger, and you
answer it with facts, not with promises you cannot keep. When you do not know a figure you say
so and offer to find it. You avoid jargon and explain technical terms in a few words.""",
    "Campaigner": """\
You are Margaret Osei, 67, a retired primary school teacher who uses a wheelchair since a
stroke six years ago and who chairs Bramley Access Group, a volunteer campaign of about 200
members. You take line 9 to the hospital twice a week for physiotherapy. The buses have one
wheelchair space, often taken by a pushchair, and twice this winter the driver could not lower
the ramp, so you waited forty minutes in the cold for the next one. Level boarding on a tram
would change your life, and you say so warmly, but you also want the works to keep pavements
and crossings usable for three years, and you worry that the new stops will be further apart
than the bus stops. You have heard many promises from the council before and you want them in
writing, with dates. You are courteous, firm and practical, you speak for people who cannot
come to meetings, and you tell short, concrete stories about your members rather than quoting
statistics. You are sympathetic to the shopkeepers and you look for solutions everyone can
accept, such as a shuttle bus during the works.""",
}

VARIANTS = ("slots", "single", "scratch")


@dataclass
class Row:
    round: int
    party: str
    total: int
    new: int
    evaluated: dict[str, int]
    seconds: dict[str, float]
    texts: dict[str, str]


def party_messages(name: str, transcript: list[tuple[str, str]]) -> list[Message]:
    """``name``'s prompt: setting and persona, then the meeting as it heard it (see above)."""
    messages = [Message(role="system", content=f"{SETTING}\n\n{PARTIES[name]}")]
    heard: list[str] = []
    for speaker, text in transcript:
        if speaker == name:  # the turn it answered, exactly as it was asked
            messages.append(_your_turn(name, heard))
            messages.append(Message(role="assistant", content=text))
            heard = []
        else:
            heard.append(f"{speaker}: {text}")
    messages.append(_your_turn(name, heard))
    return messages


def _your_turn(name: str, heard: list[str]) -> Message:
    opening = [] if heard else ["The meeting is open."]
    return Message(role="user", content="\n\n".join([*opening, *heard, f"Your turn, {name}."]))


@dataclass
class States:
    """What the per-party backend's prompt states cost."""

    saves: int = 0
    restores: int = 0
    peak_saved: int = 0  # states saved at once, at most
    peak_bytes: int = 0


async def play(args: argparse.Namespace) -> tuple[list[Row], States]:
    common = {"n_ctx": args.n_ctx, "n_threads": args.threads}
    backends = {
        "slots": LlamaCppBackend("smollm2", kv_slots=args.kv_slots, **common),
        "single": LlamaCppBackend("smollm2", kv_slots=1, **common),
        "scratch": LlamaCppBackend("smollm2", prefix_reuse=False, **common),
    }
    rows: list[Row] = []
    transcript: list[tuple[str, str]] = []
    previous: dict[str, list[int]] = {}
    states = States()
    try:
        for b in backends.values():  # load the models before timing anything
            await b.generate(GenerateRequest(prompt="Hello", max_tokens=1))
        for rnd in range(1, args.rounds + 1):
            for name in PARTIES:
                messages = party_messages(name, transcript)
                tokens = backends["scratch"].prompt_tokens(messages)
                request = GenerateRequest(
                    messages=messages, temperature=0.0, max_tokens=args.max_tokens
                )
                k = len(rows) % len(VARIANTS)
                gens: dict[str, Generation] = {}
                secs: dict[str, float] = {}
                for variant in VARIANTS[k:] + VARIANTS[:k]:
                    start = time.perf_counter()
                    gens[variant] = await backends[variant].generate(request)
                    secs[variant] = time.perf_counter() - start
                new = len(tokens) - common_prefix(previous.get(name, []), tokens)
                previous[name] = tokens
                rows.append(
                    Row(
                        round=rnd,
                        party=name,
                        total=len(tokens),
                        new=new,
                        evaluated={
                            v: int(g.meta["prompt_tokens_evaluated"]) for v, g in gens.items()
                        },
                        seconds=secs,
                        texts={v: g.text for v, g in gens.items()},
                    )
                )
                _print_row(rows[-1])
                transcript.append((name, gens["scratch"].text))
                kept = backends["slots"].prompt_states
                states.saves, states.restores = kept.saves, kept.restores
                states.peak_saved = max(states.peak_saved, len(kept.saved))
                states.peak_bytes = max(states.peak_bytes, sum(len(x) for x in kept.saved))
    finally:
        for b in backends.values():
            await b.aclose()
    return rows, states


def _print_row(r: Row) -> None:
    ev = r.evaluated
    same = [v for v in ("slots", "single") if r.texts[v] != r.texts["scratch"]]
    print(
        f"round {r.round} {r.party:<10}: prompt {r.total:4d}, new {r.new:4d} | evaluated: "
        f"per party {ev['slots']:4d} ({ev['slots'] / r.new:4.2f}x new), "
        f"one state {ev['single']:4d} ({ev['single'] / r.new:4.2f}x), "
        f"scratch {ev['scratch']:4d} | "
        + " / ".join(f"{r.seconds[v]:4.1f} s" for v in VARIANTS)
        + (f"  OUTPUT DIFFERS: {', '.join(same)}" if same else "")
    )


def summary(rows: list[Row], states: States, args: argparse.Namespace) -> None:
    new = sum(r.new for r in rows)
    total = sum(r.total for r in rows)
    ev = {v: sum(r.evaluated[v] for r in rows) for v in VARIANTS}
    sec = {v: sum(r.seconds[v] for r in rows) for v in VARIANTS}
    same = {v: sum(r.texts[v] == r.texts["scratch"] for r in rows) for v in ("slots", "single")}
    later = [r for r in rows if r.round > 1]
    print(
        f"\n{len(rows)} calls ({len(PARTIES)} parties x {args.rounds} rounds, greedy, "
        f"max_tokens={args.max_tokens}); prompt tokens: {total} in all, {new} new "
        f"(after each party's own previous prompt)"
    )
    print(
        f"evaluated/new, one state per party (kv_slots={args.kv_slots}): "
        f"{ev['slots'] / new:.3f}  (limit 1.0, target <= 1.3)"
    )
    print(f"evaluated/new, a single state (kv_slots=1):     {ev['single'] / new:.3f}")
    print(f"evaluated/new, from scratch:                    {ev['scratch'] / new:.3f}")
    if later:
        later_new = sum(r.new for r in later)
        print(
            "rounds 2+ only: per party "
            f"{sum(r.evaluated['slots'] for r in later) / later_new:.3f}, one state "
            f"{sum(r.evaluated['single'] for r in later) / later_new:.3f}, scratch "
            f"{sum(r.evaluated['scratch'] for r in later) / later_new:.3f}"
        )
    print(
        f"wall clock: per party {sec['slots']:.1f} s, one state {sec['single']:.1f} s, "
        f"scratch {sec['scratch']:.1f} s"
    )
    print(
        f"prompt states (kv_slots={args.kv_slots}): {states.saves} saves, {states.restores} "
        f"restores; at most {states.peak_saved} saved at once, "
        f"{states.peak_bytes / 2**20:.1f} MiB"
    )
    print(
        f"greedy outputs identical to from scratch: {same['slots']}/{len(rows)} per party, "
        f"{same['single']}/{len(rows)} one state"
    )
    print(f"evaluated/new: {ev['slots'] / new:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=40, help="answer length (tokens)")
    parser.add_argument("--kv-slots", type=int, default=4, help="prompt states kept")
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp CPU threads")
    args = parser.parse_args()
    rows, states = asyncio.run(play(args))
    summary(rows, states, args)


if __name__ == "__main__":
    main()
