"""The ``patient_session`` task: a therapist and a simulated patient talk for T turns, then
judges read the transcript and name the core beliefs, emotions and style it shows.

Roles ``therapist`` and ``patient`` (a spec's ``parties:`` assigns them). A turn is the
therapist's line, then the patient's reply; each party sees the exchange so far (shared part
first, the new line last). The patient sees its persona (``trial.input.persona``: the
cognitive model and the style, from the ``patient_models`` dataset), the therapist none. The
therapist is any party: ``script`` with lines (:data:`THERAPIST_PROMPTS` by default in the
demo), an ``llm``, or (later) a person in the viewer.

Task options: ``turns`` (T, default 4), ``judges`` (default ``[{kind: keywords}]``; see
:mod:`._judge`). A judge reads the transcript only: never the cognitive model, never the
persona. Planted transcripts (dataset option ``planted``) are not played: the judges read
them, which checks the judges on statements whose labels are known.

A trial's ``person_id`` is the cognitive model (the cluster of every interval). Per turn:
``words`` of each utterance. Per session (not per planted transcript): per judge,
``beliefs_<judge>`` and ``emotions_<judge>`` (the Jaccard of the labels it read with the true
model's) and ``style_<judge>`` (1 when it named the true style) (the report
has the per-label F1, the permutation chance line and the consistency, :mod:`._metrics`).
A trial's ``calls``, ``tokens_in``, ``tokens_out``, ``cache_hits`` and ``cost`` count the
parties' turns and the judges' readings; ``meta["judge_calls"]`` (and ``judge_tokens_in``,
...) the judges' part.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from behaviorlab.data._records import Dataset, Observation
from behaviorlab.families.patient._data import PLANTED_KIND, SESSION
from behaviorlab.families.patient._judge import Judge, Judgement, make_judge
from behaviorlab.tasks._base import Trial, TrialInput, task, trial_key

if TYPE_CHECKING:
    from behaviorlab.simulators._base import Answer, Simulator

PATIENT = "patient_session"
ROLES = ("therapist", "patient")
PATIENT_INSTRUCTIONS = (
    "You play a patient in a simulated cognitive behavioural therapy session, used to train "
    "therapists and for research. Stay in the character described below: speak as that "
    "person would, in their conversational style, and let their beliefs and feelings show "
    "the way a real patient's do, without naming them like a textbook. Reply with your next "
    "line only."
)
THERAPIST_INSTRUCTIONS = (
    "You play a therapist in a simulated cognitive behavioural therapy session (training and "
    "research). Ask one open question at a time about the patient's situations, thoughts, "
    "feelings and behaviour. Reply with your next line only."
)
UTTERANCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "utterance": {"type": "string", "maxLength": 400, "description": "what you say next"}
    },
    "required": ["utterance"],
}
DEFAULT_JUDGES: tuple[dict[str, Any], ...] = ({"kind": "keywords"},)


class PatientConfigError(ValueError):
    """The task's options or data do not fit (the message names what to change)."""


def jaccard(judged: Sequence[str], truth: Sequence[str]) -> float:
    """``|judged ∩ truth| / |judged ∪ truth|``; NaN when the truth is empty (there is nothing
    to read, so a judge reading nothing is not right)."""
    sa, sb = set(judged), set(truth)
    return math.nan if not sb else len(sa & sb) / len(sa | sb)


JUDGE_USAGE = ("calls", "cache_hits", "tokens_in", "tokens_out", "cost")


def _probed(parties: Mapping[str, Simulator]) -> bool:
    """The parties answer ``behaviorlab plan``'s stand-in (it counts their calls, calls no
    model): the judges, outside its reach, must not be called for real either."""
    from behaviorlab.runs._probe import Probe

    return any(isinstance(getattr(sim, "backend", None), Probe) for sim in parties.values())


def with_judge_usage(answer: Answer, judgements: Sequence[Judgement]) -> Answer:
    """The trial's answer with the judges' calls, cache hits, tokens and cost added to its
    totals (the parties' alone before), and the judges' part in ``meta["judge_<field>"]``."""
    used = {f: sum(getattr(j, f) for j in judgements) for f in JUDGE_USAGE}
    return answer.model_copy(
        update={
            **{f: getattr(answer, f) + used[f] for f in JUDGE_USAGE},
            "meta": {**answer.meta, **{f"judge_{f}": used[f] for f in JUDGE_USAGE}},
        }
    )


@task(PATIENT)
class PatientTask:
    """Therapy sessions with a simulated patient, judged on the transcript (module docstring)."""

    name = PATIENT
    roles = ROLES

    def __init__(self, turns: int = 4, judges: Sequence[Mapping[str, Any]] | None = None) -> None:
        if turns < 1:
            raise PatientConfigError(f"patient_session: turns ({turns}) must be at least 1")
        self.turns = turns
        specs = list(DEFAULT_JUDGES if judges is None else judges)
        self.judges: list[Judge] = [make_judge(j, i) for i, j in enumerate(specs)]
        labels = [j.label for j in self.judges]
        if len(set(labels)) != len(labels):
            raise PatientConfigError(f"patient_session: judge labels repeat: {labels}")

    def trials(self, dataset: Dataset, *, seed: int) -> list[Trial]:
        out: list[Trial] = []
        for ep in dataset.episodes:
            setup = ep.steps[0].observation.meta if ep.steps else {}
            if ep.kind not in (SESSION, PLANTED_KIND) or "model" not in setup:
                raise PatientConfigError(
                    f"patient_session: episode {ep.episode_id!r} is not a patient session "
                    "(no cognitive model in its observation's meta); use data source "
                    "patient_models"
                )
            person = dataset.persons[ep.person_id]
            planted = ep.kind == PLANTED_KIND
            meta: dict[str, Any] = {"kind": ep.kind, "arm": "session", "style": setup["style"]}
            if planted:
                meta |= {
                    "level": setup["level"],
                    "transcript": setup["transcript"],
                    "arm": "planted",
                }
            out.append(
                Trial(
                    key=trial_key(self.name, ep.episode_id, None, seed),
                    episode_id=ep.episode_id,
                    step_index=0,
                    input=TrialInput(
                        task=self.name,
                        item_id=f"planted-{setup['level']}" if planted else "session",
                        person_id=person.person_id,
                        persona=person,
                        observation=Observation(kind="session", content=""),
                        answer_schema=UTTERANCE_SCHEMA,
                        instructions=PATIENT_INSTRUCTIONS,
                        meta=meta,
                    ),
                    target=ep.steps[0].action,
                    person=person,
                )
            )
        return out

    def _view(self, trial: Trial, role: str, said: list[dict[str, str]], t: int) -> TrialInput:
        lines = [f"{x['role'].capitalize()}: {x['text']}" for x in said]
        last = (
            "Your turn as the therapist: your next line."
            if role == "therapist"
            else "Your turn as the patient: your reply to the therapist."
        )
        text = "\n".join([*lines, last]) if lines else last
        base = trial.input
        return base.model_copy(
            update={
                "persona": base.persona if role == "patient" else None,
                "instructions": PATIENT_INSTRUCTIONS
                if role == "patient"
                else THERAPIST_INSTRUCTIONS,
                "observation": Observation(kind="session", content=text),
                "meta": {
                    "arm": base.meta.get("arm"),
                    "session": {"turn": t, "turns": self.turns, "speaker": role},
                    "draw_key": trial.key,
                },
            }
        )

    async def _judge(
        self, said: list[dict[str, str]], parties: Mapping[str, Simulator]
    ) -> list[Judgement]:
        if _probed(parties):  # behaviorlab plan: no judge is called; its notes count them
            return []
        patient = parties.get("patient")
        model = patient.identity().get("model") if patient is not None else None
        return [
            await j.judge(said, model if isinstance(model, dict) else None) for j in self.judges
        ]

    async def play_parties(self, trial: Trial, parties: Mapping[str, Simulator]) -> Answer:
        from behaviorlab.simulators._parties import TurnLog

        log = TurnLog(parties)
        meta = trial.input.meta
        truth = {k: trial.person.attributes.get(k) for k in ("core_beliefs", "emotions", "style")}
        said: list[dict[str, str]] = []
        if meta.get("kind") == PLANTED_KIND:
            said = [dict(x) for x in meta["transcript"]]
        else:
            for t in range(self.turns):
                for role in ROLES:
                    answer = await log.ask(role, self._view(trial, role, said, t))
                    value = answer.value or {}
                    text = str(value.get("utterance", "")).strip() if answer.ok else ""
                    turn = len(log.turns) - 1
                    if answer.ok and not text:
                        log.fail(turn, "an empty utterance")
                    if role == "patient" and text:
                        log.score(turn, words=len(text.split()))
                    said.append({"role": role, "text": text[:2000] or "(no answer)"})
        judgements = await self._judge(said, parties)
        played = log.answer(
            value={
                "kind": meta.get("kind"),
                "arm": meta.get("arm"),
                "level": meta.get("level"),
                "model_id": trial.person.attributes.get("model_id"),
                "truth": truth,
                "transcript": said,
                "judgements": [j.model_dump(mode="json") for j in judgements],
                "role_simulators": {r: s.label for r, s in parties.items()},
            },
            raw="\n".join(f"{x['role']}: {x['text']}" for x in said)[:4000],
            meta={"arm": meta.get("arm"), "kind": meta.get("kind")},
        )
        return with_judge_usage(played, judgements)

    def score(self, trial: Trial, answer: Answer) -> dict[str, float]:
        value = answer.value or {}
        truth = value.get("truth") or {}
        out: dict[str, float] = {}
        if value.get("kind") == PLANTED_KIND:  # the judge check: in the report's table only
            return out
        for j in value.get("judgements", []):
            if j.get("error") is not None or j.get("core_beliefs") is None:
                continue
            label = j["judge"]
            out[f"beliefs_{label}"] = jaccard(j["core_beliefs"], truth.get("core_beliefs") or [])
            out[f"emotions_{label}"] = jaccard(j["emotions"] or [], truth.get("emotions") or [])
            out[f"style_{label}"] = float(j.get("style") == truth.get("style"))
        return out

    def human_answer(self, trial: Trial) -> str | None:
        return None

    def result_meta(self, trial: Trial) -> dict[str, Any]:
        meta = trial.input.meta
        return {"kind": meta.get("kind"), "style": meta.get("style"), "level": meta.get("level")}

    def plan_info(self, test_trials: Sequence[Trial]) -> dict[str, Any]:
        """The judges as they read (model identity, prompt wording and hash), for the manifest."""
        return {"judges": [j.describe() for j in self.judges]}

    async def aclose(self) -> None:
        for j in self.judges:
            await j.aclose()
