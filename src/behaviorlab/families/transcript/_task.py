"""The ``transcript`` task: predict a participant's every response given the transcript so far.

A trial is one participant (``person_id`` ``<experiment>/<participant>``, the cluster of every
interval; ``item_id`` the experiment). :meth:`TranscriptTask.play` scores all of the
participant's responses in order, each given the transcript up to it with the participant's
own earlier responses in place (``history: own``; the controls: ``shuffled``, another
participant's responses of the same experiment in their place, a seeded derangement; ``none``,
the instructions and the current trial only). ``first_scored`` (a share in [0, 1)) keeps the
first part of each session as context only: 0.5 predicts the second half from the first.

How a simulator is asked:

* an ``llm`` simulator whose backend scores continuations is not asked through its option
  prompt: the transcript is a raw text and each response is scored as its continuation
  (Centaur's evaluation). A backend that reads a text once (embedded llama.cpp; an HTTP
  server that echoes prompt log-probabilities) gets the session as one
  ``score_positions`` request (:mod:`._onepass`); any other (the mock) one score request
  per response;
* any other simulator (the baselines) answers one :class:`TrialInput` per response: the
  transcript so far as the question, the stated options in stated order, the earlier
  responses as history, ``meta["choice_index"]``.

The participant's responses live in the trial's target (``target.attributes["responses"]``),
never in its input. Scores per participant (:meth:`TranscriptTask.score`): the summed and mean
NLL over the responses with options, their count, the accuracy of the most likely option, the
chance NLL (uniform over the options), the free-text NLL and token count (LLM only), and the
windowed choices apart.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from behaviorlab.data._records import Action, Dataset, Observation, Option, stable_hash
from behaviorlab.families.transcript._loader import EPISODE_KIND, SOURCE
from behaviorlab.families.transcript._scoring import (
    HISTORIES,
    ChoiceRecord,
    History,
    Session,
    Usage,
    score_by_requests,
    score_by_simulator,
)
from behaviorlab.models._base import Backend, BackendError
from behaviorlab.tasks._base import Trial, TrialInput, task, trial_key

if TYPE_CHECKING:
    from behaviorlab.simulators._base import Answer, Simulator

TRANSCRIPT = "transcript"
INSTRUCTIONS = "Predict the participant's next response in this experiment transcript."
FREE_TEXT = Option(code="(free text)", label="(free text)")


def _derangement(ids: list[str], seed: int) -> dict[str, str]:
    """Each id to another one (a seeded cyclic shift of a shuffled order)."""
    if len(ids) < 2:
        return {}
    order = sorted(ids)
    random.Random(seed).shuffle(order)
    return {a: order[(i + 1) % len(order)] for i, a in enumerate(order)}


@task(TRANSCRIPT)
class TranscriptTask:
    """Every response of a participant, given the transcript so far (Psych-101 format)."""

    name = TRANSCRIPT

    def __init__(
        self, history: History = "own", first_scored: float = 0.0, one_pass: bool = True
    ) -> None:
        if history not in HISTORIES:
            raise ValueError(
                f"transcript task: history must be one of {', '.join(HISTORIES)}, not {history!r}"
            )
        if not 0.0 <= first_scored < 1.0:
            raise ValueError(
                f"transcript task: first_scored is the share of each session kept as context "
                f"only, in [0, 1); got {first_scored}"
            )
        self.history: History = history
        self.first_scored = first_scored
        self.one_pass = one_pass

    # -- trials ---------------------------------------------------------------------------

    def trials(self, dataset: Dataset, *, seed: int) -> list[Trial]:
        by_experiment: dict[str, list[str]] = defaultdict(list)
        for ep in dataset.episodes:
            if ep.kind != EPISODE_KIND:
                raise ValueError(
                    f"transcript task: episode {ep.episode_id!r} of dataset {dataset.name!r} is "
                    f"a {ep.kind!r}, not a transcript; use data source: {SOURCE} (path: ...)"
                )
            by_experiment[str(ep.meta.get("experiment", ""))].append(ep.episode_id)
        responses = {
            ep.episode_id: [str(s.action.value or "") for s in ep.steps] for ep in dataset.episodes
        }
        donors: dict[str, str] = {}
        if self.history == "shuffled":
            for experiment, ids in by_experiment.items():
                donors.update(_derangement(ids, int(stable_hash("donors", experiment, seed), 16)))
        out: list[Trial] = []
        for ep in dataset.episodes:
            experiment = str(ep.meta.get("experiment", ""))
            own = responses[ep.episode_id]
            donor = donors.get(ep.episode_id)
            if self.history == "shuffled" and donor is None:
                raise ValueError(
                    f"transcript task: history 'shuffled' needs at least two participants of "
                    f"experiment {experiment!r}; it has one"
                )
            shown = own if donor is None else responses[donor]
            shown = [shown[i % len(shown)] for i in range(len(own))]
            first_options = next(
                (s.observation.options for s in ep.steps if s.observation.options), None
            )
            meta: dict[str, Any] = {
                "experiment": experiment,
                "segments": [s.observation.content for s in ep.steps],
                "options": [s.observation.option_codes() or None for s in ep.steps],
                "labels": [
                    None
                    if s.observation.options is None
                    else [o.label for o in s.observation.options]
                    for s in ep.steps
                ],
                "n_choices": len(ep.steps),
                "history_mode": self.history,
            }
            if "split" in ep.meta:
                meta["split"] = ep.meta["split"]
            person = dataset.persons[ep.person_id]
            trial_input = TrialInput(
                task=self.name,
                item_id=experiment,
                person_id=person.person_id,
                persona=None,
                observation=Observation(
                    kind="transcript",
                    content=ep.steps[0].observation.content,
                    options=first_options or [FREE_TEXT],
                ),
                answer_schema={
                    "type": "object",
                    "properties": {"answer": {"type": "string"}},
                    "required": ["answer"],
                },
                instructions=INSTRUCTIONS,
                meta=meta,
            )
            out.append(
                Trial(
                    key=trial_key(self.name, ep.episode_id, None, seed),
                    episode_id=ep.episode_id,
                    step_index=0,
                    input=trial_input,
                    target=Action(
                        action_type="responses",
                        attributes={"responses": own, "shown": shown, "donor": donor},
                    ),
                    person=person,
                )
            )
        return out

    def session(self, trial: Trial) -> Session:
        meta = trial.input.meta
        n = int(meta["n_choices"])
        return Session(
            experiment=str(meta["experiment"]),
            segments=tuple(meta["segments"]),
            options=tuple(None if o is None else tuple(o) for o in meta["options"]),
            labels=tuple(None if la is None else tuple(la) for la in meta["labels"]),
            responses=tuple(trial.target.attributes["responses"]),
            shown=tuple(trial.target.attributes["shown"]),
            history=meta.get("history_mode", self.history),
            first_scored=math.floor(self.first_scored * n),
        )

    # -- playing --------------------------------------------------------------------------

    async def play(self, trial: Trial, simulator: Simulator) -> Answer:

        session = self.session(trial)
        backend = getattr(simulator, "backend", None)
        if not isinstance(backend, Backend) or "score" not in backend.capabilities:
            backend = None
        usage = Usage()
        mode = "simulator"
        pass_meta: dict[str, Any] = {}
        if backend is not None:
            from behaviorlab.families.transcript._onepass import reads_once, score_one_pass

            records = None
            if self.one_pass and session.history != "none" and reads_once(backend):
                try:
                    records, stats = await score_one_pass(backend, session)
                except BackendError as exc:  # each choice then records its own error
                    usage.errors.append(str(exc))
                else:
                    mode = "one_pass" if stats.one_pass else "one_request"
                    if stats.windowed_choices:
                        mode = "windowed"
                    pass_meta = {
                        "transcript_tokens": stats.transcript_tokens,
                        "evaluated_tokens": stats.evaluated,
                        "branch_tokens": stats.extra,
                        "windowed_choices": stats.windowed_choices,
                    }
                    usage.tokens_in = stats.evaluated + stats.windowed_evaluated
                    usage.calls = stats.calls
                    usage.cache_hits = stats.cached
            if records is None:
                records = await score_by_requests(backend, session, usage)
                mode = "per_choice"
                usage.calls = len(records)
        else:
            records = await score_by_simulator(simulator, trial.input, session, usage)
        return self._answer(session, records, mode, usage, pass_meta)

    def _answer(
        self,
        session: Session,
        records: list[ChoiceRecord],
        mode: str,
        usage: Usage,
        pass_meta: dict[str, Any],
    ) -> Answer:
        from behaviorlab.simulators._base import Answer

        failed = [r for r in records if r.error is not None]
        answer = Answer(
            value={
                "experiment": session.experiment,
                "mode": mode,
                "history": session.history,
                "first_scored": session.first_scored,
                "choices": [r.as_dict() for r in records],
            },
            raw=" ".join(r.top or "-" for r in records),
            tokens_in=usage.tokens_in,
            tokens_out=usage.tokens_out,
            calls=usage.calls,
            cache_hits=usage.cache_hits,
            cost=usage.cost,
            meta={"mode": mode, "failed_choices": len(failed), **pass_meta},
        )
        if records and len(failed) == len(records):
            answer.error = (
                f"every one of the {len(records)} choices failed; the last: {failed[-1].error}"
            )
            answer.error_kind = "backend"
        return answer

    # -- scoring --------------------------------------------------------------------------

    def score(self, trial: Trial, answer: Answer) -> dict[str, float]:
        return session_scores((answer.value or {}).get("choices", []))

    def human_answer(self, trial: Trial) -> str | None:
        return " ".join(trial.target.attributes.get("responses", []))


def session_scores(choices: list[dict[str, Any]]) -> dict[str, float]:
    """Per-participant sums and means of the scored choices (windowed ones apart)."""
    full = [c for c in choices if c.get("error") is None and not c.get("windowed")]
    windowed = [c for c in choices if c.get("error") is None and c.get("windowed")]
    scores: dict[str, float] = {}
    nll = [float(c["nll"]) for c in full if c.get("nll") is not None]
    hits = [float(bool(c["correct"])) for c in full if c.get("correct") is not None]
    chance = [float(c["chance_nll"]) for c in full if c.get("nll") is not None]
    free = [c for c in full if c.get("free_text_nll") is not None]
    if nll:
        scores.update(
            nll_sum=sum(nll),
            n_choices=float(len(nll)),
            nll=sum(nll) / len(nll),
            chance_nll_sum=sum(chance),
            chance_nll=sum(chance) / len(chance),
        )
    if hits:
        scores.update(hits=sum(hits), n_predicted=float(len(hits)), accuracy=sum(hits) / len(hits))
        scores["correct"] = scores["accuracy"]
    if free:
        scores.update(
            free_text_nll_sum=sum(float(c["free_text_nll"]) for c in free),
            free_text_tokens=float(sum(int(c["free_text_tokens"] or 0) for c in free)),
            n_free_text=float(len(free)),
        )
    wn = [float(c["nll"]) for c in windowed if c.get("nll") is not None]
    if wn:
        scores.update(windowed_nll_sum=sum(wn), n_windowed=float(len(wn)))
    failed = sum(c.get("error") is not None for c in choices)
    scores["failed_choices"] = float(failed)
    return scores
