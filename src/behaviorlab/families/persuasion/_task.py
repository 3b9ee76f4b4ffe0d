"""The ``persuasion`` task: the twin reads the arguments the person read and says where it
stands now, starting from where the person really stood.

Each (person, item) is an episode of time points (the persuasion loader, or the
``persuasion_synthetic`` generator). For every later time point with arguments shown before
it, one trial: the person's persona; the position; the stance and strength the person held at
the previous time point (their **own**, from the data); then the same arguments in the same
order; and the question, with every (stance, strength) of the scale as an option (in a
seeded order, recorded in ``meta["shown_order"]``). The target is what the person reported at
that time point; it is never in the input. A later time point with nothing shown before it
is a **retest pair** (the same item asked twice with nothing in between). It is a trial too,
a *retest trial* (``meta["arm"] == "retest"``): the twin sees its prior and no arguments, and
its target is the person's second answer. So people who were never shown an argument (the
control arm of a pre/post design) are on the test side, and the twin's "no change" there is
measured. The retest pairs also give the yardstick the report shows (``plan_info``: how often
the test people kept their answer), from every test person's pairs. A pair with nothing
shown that skips a time point other people answered (a missed time point: something may
have been shown then) is neither: not a trial, not a retest pair (counted as ``gap_pairs``).

Scores per trial (:meth:`PersuasionTask.score`): ``correct`` (same stance and strength),
``human_changed`` / ``twin_changed`` (the stance moved from the prior), ``change_correct``,
``direction_correct`` (people who changed only: the twin moved the same way along the
scale; a twin that stayed counts as wrong), ``direction_both`` (both moved: the same
way), ``strength_change_human`` / ``strength_change_twin`` (new minus prior strength) and,
when the simulator gives option probabilities, ``p_change`` (the probability mass on a
stance other than the prior).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from behaviorlab.analysis._bootstrap import ClusterStats, cluster_bootstrap
from behaviorlab.data._records import Dataset, Episode, Observation, Step, stable_hash
from behaviorlab.families.persuasion._scale import AttitudeScale, majority_side
from behaviorlab.tasks._base import Trial, TrialInput, task, trial_key

if TYPE_CHECKING:
    from behaviorlab.simulators._base import Answer

PERSUASION = "persuasion"
INSTRUCTIONS = (
    "You are the person described. You said where you stood on a position; then you may have "
    "read some arguments. Say where you stand now: choose one option."
)
ARM_ARGUMENTS, ARM_WITHHELD, ARM_RETEST = "arguments", "arguments_withheld", "retest"


def scale_of(meta: dict[str, Any]) -> AttitudeScale:
    """The attitude scale recorded in an observation's or a trial's meta."""
    return AttitudeScale.model_validate(meta["scale"])


def situation_text(claim: str, question: str, prior: str, arguments: list[str] | None) -> str:
    """What the twin reads: the position, its own earlier answer, the arguments (None: the
    stance is asked again with nothing shown), the question."""
    parts = [f"The position: {claim}", f"Earlier you said: {prior}."]
    if arguments:
        listed = "\n".join(f"{i}. {text}" for i, text in enumerate(arguments, 1))
        parts.append(f"Since then you read these arguments, in this order:\n{listed}")
    else:
        parts.append("You are asked again; nothing was shown to you in between.")
    parts.append(question)
    return "\n\n".join(parts)


def _item(ep: Episode, step: Step) -> str:
    return str(step.observation.meta.get("item", ep.episode_id))


def _skips(dataset: Dataset) -> Callable[[Episode, Step, Step], bool]:
    """Whether a pair of an episode's consecutive time points skips a time point at which
    other people answered the same item (the person may have been shown something then)."""
    times: dict[str, set[float]] = {}
    for ep in dataset.episodes:
        for step in ep.steps:
            if step.observation.meta.get("time") is not None:
                times.setdefault(_item(ep, step), set()).add(float(step.observation.meta["time"]))

    def skips(ep: Episode, before: Step, after: Step) -> bool:
        t0, t1 = before.observation.meta.get("time"), after.observation.meta.get("time")
        if t0 is None or t1 is None:
            return False
        return any(float(t0) < t < float(t1) for t in times.get(_item(ep, after), ()))

    return skips


def _retest_pairs(dataset: Dataset) -> tuple[dict[str, list[dict[str, Any]]], dict[str, int]]:
    """Per person: the (earlier, later) answers of every item asked twice with nothing shown
    in between, and how many such pairs skip a time point (not retest pairs: something may
    have been shown at the time point the person missed)."""
    skips = _skips(dataset)
    out: dict[str, list[dict[str, Any]]] = {}
    gaps: dict[str, int] = {}
    for ep in dataset.episodes:
        for before, after in zip(ep.steps, ep.steps[1:], strict=False):
            if after.observation.meta.get("arguments"):
                continue
            if skips(ep, before, after):
                gaps[ep.person_id] = gaps.get(ep.person_id, 0) + 1
                continue
            out.setdefault(ep.person_id, []).append(
                {
                    "item": _item(ep, after),
                    "before": before.action.value,
                    "after": after.action.value,
                    "same_stance": before.action.attributes.get("stance")
                    == after.action.attributes.get("stance"),
                }
            )
    return out, gaps


@task(PERSUASION)
class PersuasionTask:
    """Predict each person's new stance and strength after the arguments they read, given
    their own earlier stance (see the module docstring)."""

    name = PERSUASION

    def __init__(self, shuffle_options: bool = True, instructions: str = INSTRUCTIONS) -> None:
        self.shuffle_options = shuffle_options
        self.instructions = instructions

    def _trial(
        self, ep: Episode, prior: Step, step: Step, seed: int, dataset: Dataset, retest: Any
    ) -> Trial:
        ep_id, obs, person = ep.episode_id, step.observation, dataset.persons[ep.person_id]
        scale = scale_of(obs.meta)
        prior_stance = str(prior.action.attributes["stance"])
        prior_strength = prior.action.attributes.get("strength")
        args = list(obs.meta.get("arguments") or [])
        retest_trial = not args
        options = list(obs.options or scale.options())
        order_seed = stable_hash("persuasion-order", seed, ep_id, step.step_id)
        if self.shuffle_options:
            rng = np.random.default_rng(int(order_seed, 16))
            options = [options[i] for i in rng.permutation(len(options))]
        codes = [o.code for o in options]
        question = str(obs.meta.get("question", ""))
        content = situation_text(
            obs.content,
            question,
            scale.label(prior_stance, prior_strength),
            [a["text"] for a in args] or None,
        )
        sides = [str(a["side"]) for a in args]
        meta = {
            "arm": ARM_RETEST if retest_trial else ARM_ARGUMENTS,
            "retest": retest_trial,
            "time": obs.meta.get("time"),
            "prior": scale.code(prior_stance, prior_strength),
            "prior_stance": prior_stance,
            "prior_strength": prior_strength,
            "argument_ids": [str(a["id"]) for a in args],
            "sides": sides,
            "n_supports": sides.count("supports"),
            "n_attacks": sides.count("attacks"),
            "majority_side": majority_side(sides),
            "scale": scale.to_meta(),
            "option_order_seed": order_seed,
            "shown_order": codes,
        }
        shown = Observation(
            kind="question",
            content=content,
            options=options,
            meta={"claim": obs.content, "question": question},
        )
        target = step.action.model_copy(
            update={"attributes": {**step.action.attributes, "retest": retest}}
        )
        return Trial(
            key=trial_key(self.name, ep_id, step.step_id, seed),
            episode_id=ep_id,
            step_index=step.index,
            input=TrialInput(
                task=self.name,
                item_id=str(obs.meta.get("item", ep_id)),
                person_id=person.person_id,
                persona=person,
                observation=shown,
                answer_schema={"type": "string", "enum": codes},
                instructions=self.instructions,
                meta=meta,
            ),
            target=target,
            person=person,
        )

    def trials(self, dataset: Dataset, *, seed: int) -> list[Trial]:
        retest, gaps = _retest_pairs(dataset)
        skips = _skips(dataset)
        out: list[Trial] = []
        for ep in dataset.episodes:
            for prior, step in zip(ep.steps, ep.steps[1:], strict=False):
                if "scale" not in step.observation.meta:
                    raise ValueError(
                        f"persuasion task: episode {ep.episode_id!r} step {step.step_id!r} has "
                        "no attitude scale; load attitude data with dataset 'persuasion_file' "
                        "or 'persuasion_synthetic'"
                    )
                if not step.observation.meta.get("arguments") and skips(ep, prior, step):
                    continue  # nothing known to be shown, across a missed time point
                pairs = {"pairs": retest.get(ep.person_id, []), "gaps": gaps.get(ep.person_id, 0)}
                out.append(self._trial(ep, prior, step, seed, dataset, pairs))
        return out

    def score(self, trial: Trial, answer: Answer) -> dict[str, float]:
        meta = trial.input.meta
        scale = scale_of(meta)
        human = scale.parse(trial.target.value)
        code = answer.choice or (answer.value or {}).get("answer")
        twin = scale.parse(code if isinstance(code, str) else None)
        if human is None or twin is None:
            return {"correct": 0.0} if human is not None else {}
        prior_stance, prior_strength = str(meta["prior_stance"]), meta.get("prior_strength")
        p0 = scale.index(prior_stance)
        dh, dt = scale.index(human[0]) - p0, scale.index(twin[0]) - p0
        out = {
            "correct": float(human == twin),
            "human_changed": float(dh != 0),
            "twin_changed": float(dt != 0),
            "change_correct": float((dh != 0) == (dt != 0)),
        }
        if meta.get("retest"):
            out["retest_trial"] = 1.0
        if dh != 0:
            out["direction_correct"] = float(np.sign(dh) == np.sign(dt))
            if dt != 0:
                out["direction_both"] = float(np.sign(dh) == np.sign(dt))
        if prior_strength is not None and human[1] is not None and twin[1] is not None:
            out["strength_change_human"] = float(human[1] - int(prior_strength))
            out["strength_change_twin"] = float(twin[1] - int(prior_strength))
        if answer.probabilities:
            moved = 0.0
            for option, p in answer.probabilities.items():
                parsed = scale.parse(option)
                if parsed is not None and parsed[0] != prior_stance:
                    moved += float(p)
            out["p_change"] = min(
                max(moved / max(sum(answer.probabilities.values()), 1e-12), 0.0), 1.0
            )
        return out

    def human_answer(self, trial: Trial) -> str | None:
        return trial.target.value

    def plan_info(self, test: list[Trial]) -> dict[str, Any]:
        """The test–retest yardstick of the test people (stored as the manifest's
        ``task_info``)."""
        return {"retest": retest_yardstick(test)}


def _share_of(column: int) -> Callable[[np.ndarray], np.ndarray]:
    def share(agg: np.ndarray) -> np.ndarray:
        return np.asarray(agg[..., column] / agg[..., 2], dtype=float)

    return share


def retest_yardstick(trials: list[Trial], n_resamples: int = 2000) -> dict[str, Any]:
    """How often the people of ``trials`` kept their stance (and their whole answer) when
    asked the same item twice with nothing in between, with person-clustered intervals.
    ``gap_pairs`` counts their pairs with nothing shown that skip a time point other people
    answered (left out: not known to have nothing in between)."""
    pairs: dict[str, list[dict[str, Any]]] = {}
    gaps: dict[str, int] = {}
    for t in trials:
        found = t.target.attributes.get("retest") or {}
        if isinstance(found, list):  # as stored before gap pairs were counted
            found = {"pairs": found, "gaps": 0}
        pairs.setdefault(t.person_id, list(found.get("pairs") or []))
        gaps.setdefault(t.person_id, int(found.get("gaps") or 0))
    rows = [
        (pid, [float(p["same_stance"]), float(p["before"] == p["after"]), 1.0])
        for pid, found in pairs.items()
        for p in found
    ]
    skipped = sum(gaps.values())
    if not rows:
        return {"pairs": 0, "people": 0, "gap_pairs": skipped}
    stats = ClusterStats.from_rows([r[0] for r in rows], np.asarray([r[1] for r in rows]))
    out: dict[str, Any] = {"pairs": len(rows), "people": stats.n_clusters, "gap_pairs": skipped}
    for name, col in (("same_stance", 0), ("same_answer", 1)):
        out[name] = cluster_bootstrap(
            stats, _share_of(col), n_resamples=n_resamples, seed=0
        ).to_dict()
    return out
