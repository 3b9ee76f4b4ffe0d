"""The ``debate`` task: N agents (roles ``agent_1..agent_N``), each with an identity, debate a
topic for R rounds, reporting their attitude on the topic's scale before the first round and
after every round (how a debate is played: :mod:`._play`; the setups: the ``debate_topics``
dataset; the arms same-identity, retest and the model's default: :mod:`._conditions`).

Task options: ``agents`` (N, default 2), ``rounds`` (R, default 3), ``order`` (the speaking
order, every role once; default ``agent_1..agent_N``), ``public_attitudes`` (default true:
every agent sees the others' reports; the DeGroot reference agent needs them),
``default_asks`` (how often each role is asked for the model's default in a
``model_default`` trial, default 3), ``drift_threshold`` (agents whose initial gap to the
default is below it are left out of the drift ratio, default 0.5 scale points) and
``attitude_options`` (default false: a structured ``{attitude, reason}`` answer; true: the
attitude question is posed with the scale's points as its options, so an ``llm`` party with
``answer: score`` gives a probability per point, recorded with the report, whose expected
point is the attitude; give it ``open_answers: generate`` to write the speeches).

A trial is one debate; its ``person_id`` is the debate setup (opaque), the cluster of every
interval; its ``item_id`` the topic. Per trial (:meth:`DebateTask.score`): the mean attitude
at the start and the end, the mean change, the spread between agents (population standard
deviation) at the start and the end, the invalid reports and, where the identities are real
respondents (``debate_topics`` option ``respondents``), ``own_answer_error``: the mean
absolute difference of the first report from the respondent's own answer. Per turn (the
per-role table): ``attitude``, ``change`` (from the agent's previous valid report) and
``own_answer_error`` at round 0.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from behaviorlab.data._records import Dataset, Observation
from behaviorlab.families.debate._play import attitude_schema, play_debate
from behaviorlab.families.debate._topics import Topic
from behaviorlab.tasks._base import Trial, TrialInput, task, trial_key

if TYPE_CHECKING:
    from behaviorlab.simulators._base import Answer, Simulator

DEBATE = "debate"
INSTRUCTIONS = (
    "You take part in a debate. Stay in your identity. Answer in the JSON form you are asked for."
)


class DebateConfigError(ValueError):
    """A debate's options or data do not fit together (the message names what is missing)."""


def role_names(agents: int) -> tuple[str, ...]:
    return tuple(f"agent_{i}" for i in range(1, agents + 1))


def _identities(raw: Any, roles: Sequence[str], where: str) -> dict[str, str]:
    """The line-up ``raw`` (a list, one per role, or a mapping role -> identity) by role."""
    listed = f"{len(roles)} roles {', '.join(roles)}"
    if isinstance(raw, Mapping):
        missing = [r for r in roles if r not in raw]
        unknown = sorted(set(raw) - set(roles))
        if missing or unknown:
            parts = [f"no identity for {', '.join(missing)}"] if missing else []
            parts += [f"identities for roles it does not have: {', '.join(unknown)}"] * bool(
                unknown
            )
            raise DebateConfigError(
                f"{where}: {'; '.join(parts)}; the task has the {listed} "
                "(task_options.agents sets N)"
            )
        return {r: str(raw[r]) for r in roles}
    values = [str(x) for x in raw]
    if len(values) != len(roles):
        raise DebateConfigError(
            f"{where} has {len(values)} identities for the {listed}: give one identity per "
            f"role (or set task_options.agents: {len(values)})"
        )
    return dict(zip(roles, values, strict=True))


@task(DEBATE)
class DebateTask:
    """Debates between N agents (see the module docstring)."""

    name = DEBATE

    def __init__(
        self,
        agents: int = 2,
        rounds: int = 3,
        order: Sequence[str] | None = None,
        public_attitudes: bool = True,
        default_asks: int = 3,
        drift_threshold: float = 0.5,
        attitude_options: bool = False,
    ) -> None:
        if agents < 1 or rounds < 1 or default_asks < 1:
            raise DebateConfigError(
                f"debate: agents ({agents}), rounds ({rounds}) and default_asks "
                f"({default_asks}) must be at least 1"
            )
        self.roles = role_names(agents)
        chosen = [str(r) for r in (order or self.roles)]
        missing = [r for r in self.roles if r not in chosen]
        extra = [r for r in chosen if r not in self.roles or chosen.count(r) > 1]
        if missing or extra:
            raise DebateConfigError(
                f"debate: task_options.order must name every role once ({', '.join(self.roles)})"
                f"{'; missing ' + ', '.join(missing) if missing else ''}"
                f"{'; not a role or repeated: ' + ', '.join(sorted(set(extra))) if extra else ''}"
            )
        self.order = tuple(chosen)
        self.rounds = rounds
        self.public_attitudes = public_attitudes
        self.default_asks = default_asks
        self.drift_threshold = float(drift_threshold)
        self.attitude_options = bool(attitude_options)

    def trials(self, dataset: Dataset, *, seed: int) -> list[Trial]:
        out: list[Trial] = []
        for ep in dataset.episodes:
            step = ep.steps[0]
            setup = step.observation.meta
            if "topic" not in setup or "identities" not in setup:
                raise DebateConfigError(
                    f"debate: episode {ep.episode_id!r} is not a debate setup (no topic or "
                    "identities in its observation's meta); use data source debate_topics"
                )
            topic = Topic.model_validate(setup["topic"])
            where = f"debate: episode {ep.episode_id!r} (line-up {setup.get('lineup', '?')})"
            identities = _identities(setup["identities"], self.roles, where)
            person = dataset.persons[ep.person_id]
            out.append(
                Trial(
                    key=trial_key(self.name, ep.episode_id, None, seed),
                    episode_id=ep.episode_id,
                    step_index=0,
                    input=TrialInput(
                        task=self.name,
                        item_id=topic.id,
                        person_id=person.person_id,
                        persona=None,
                        observation=Observation(kind="debate", content=topic.statement),
                        answer_schema=attitude_schema(topic),
                        instructions=INSTRUCTIONS,
                        meta={
                            "topic": topic.model_dump(mode="json"),
                            "identities": identities,
                            "arm": "debate",
                            "drift_threshold": self.drift_threshold,
                            **({"personas": setup["personas"]} if "personas" in setup else {}),
                        },
                    ),
                    target=step.action,
                    person=person,
                )
            )
        return out

    async def play_parties(self, trial: Trial, parties: Mapping[str, Simulator]) -> Answer:
        return await play_debate(self, trial, parties)

    def score(self, trial: Trial, answer: Answer) -> dict[str, float]:
        value = answer.value or {}
        reports = list(value.get("reports", []))
        out: dict[str, float] = {
            "invalid_reports": float(sum(r["attitude"] is None for r in reports))
        }
        if value.get("arm") == "model_default":
            got = [float(r["attitude"]) for r in reports if r["attitude"] is not None]
            if got:
                out["default_attitude"] = statistics.fmean(got)
            return out
        last = int(value.get("rounds", 0))
        at = {
            (r["role"], int(r["round"])): float(r["attitude"])
            for r in reports
            if r["attitude"] is not None
        }
        start = [v for (_, rnd), v in at.items() if rnd == 0]
        end = [v for (_, rnd), v in at.items() if rnd == last]
        both = [
            at[(role, last)] - at[(role, 0)]
            for role in self.roles
            if (role, 0) in at and (role, last) in at
        ]
        if start:
            out["start_attitude"] = statistics.fmean(start)
            out["spread_start"] = statistics.pstdev(start)
        if end:
            out["end_attitude"] = statistics.fmean(end)
            out["spread_end"] = statistics.pstdev(end)
        if both:
            out["attitude_change"] = statistics.fmean(both)
        errors = [
            abs(float(r["attitude"]) - float(r["own_answer"]))
            for r in reports
            if int(r["round"]) == 0
            and r.get("own_answer") is not None
            and r["attitude"] is not None
        ]
        if errors:  # identity fidelity: the first report against the person's own answer
            out["own_answer_error"] = statistics.fmean(errors)
        return out

    def human_answer(self, trial: Trial) -> str | None:
        return None
