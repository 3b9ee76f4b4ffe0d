"""The debate arms beyond the debate itself, as conditions (so the gap table, the per-role
table and the report show each arm apart):

- ``same_identity``: for every distinct identity of a line-up, the same debate with every
  agent holding that identity. Averaging dynamics predict no movement there, so movement
  toward the default is the model's pull.
- ``retest``: the same agents asked R+1 times without any debate (no speeches; each sees its
  own earlier reports only): drift against noise and regression to the mean.
- ``model_default``: the model's own default on the topic: no identity, asked the same way,
  ``default_asks`` times per role, in the same run. Drift is measured toward it.

Controls: the same debate with one thing changed, so the gap table and the drift table show
what that one thing does (each stays a debate: speeches and reports as usual):

- ``shuffled_identities``: the line-up's identities moved across the agents by a seeded
  derangement (a role never keeps its identity where another differs), so an effect of
  the identity is told apart from one of the role's place in the speaking order;
- ``reversed_order``: the speaking order reversed (the last speaker opens);
- ``paraphrased_topic``: the topic debated in another wording of the same statement (a
  topic's ``paraphrases``). The model's default is measured per wording: beside each
  paraphrased debate the condition has a ``model_default`` trial asked in the same
  paraphrase, and that arm's drift is measured against it (a paraphrase that is the
  statement itself, up to spaces and case, is refused).

Each applies to ``debate`` trials only (anything else is refused, naming the trial).
"""

from __future__ import annotations

from behaviorlab.data._records import stable_hash
from behaviorlab.families.debate._task import DEBATE, DebateConfigError
from behaviorlab.families.debate._topics import Topic
from behaviorlab.runs._conditions import condition
from behaviorlab.tasks._base import Trial

SAME_IDENTITY, RETEST, MODEL_DEFAULT = "same_identity", "retest", "model_default"
SHUFFLED_IDENTITIES, REVERSED_ORDER, PARAPHRASED_TOPIC = (
    "shuffled_identities",
    "reversed_order",
    "paraphrased_topic",
)
CONTROLS = (SHUFFLED_IDENTITIES, REVERSED_ORDER, PARAPHRASED_TOPIC)


def _check(trials: list[Trial], name: str) -> None:
    for t in trials:
        if t.input.task != DEBATE:
            raise DebateConfigError(
                f"condition {name!r} applies to debate trials only; trial {t.key} is of task "
                f"{t.input.task!r}"
            )


def _arm(trial: Trial, arm: str, key: str, **meta: object) -> Trial:
    return trial.model_copy(
        update={
            "key": key,
            "input": trial.input.model_copy(
                update={"meta": {**trial.input.meta, "arm": arm, **meta}}
            ),
        }
    )


@condition(SAME_IDENTITY)
def same_identity(trials: list[Trial], *, seed: int) -> list[Trial]:
    """Every agent holds the same identity: one trial per distinct identity of the line-up."""
    _check(trials, SAME_IDENTITY)
    out: list[Trial] = []
    for t in trials:
        held = dict(t.input.meta["identities"])
        for identity in sorted(set(held.values())):
            key = stable_hash(t.key, SAME_IDENTITY, identity)
            out.append(_arm(t, SAME_IDENTITY, key, identities=dict.fromkeys(held, identity)))
    return out


@condition(RETEST)
def retest(trials: list[Trial], *, seed: int) -> list[Trial]:
    """The same agents asked again after every round, without any debate."""
    _check(trials, RETEST)
    return [_arm(t, RETEST, t.key) for t in trials]


@condition(MODEL_DEFAULT)
def model_default(trials: list[Trial], *, seed: int) -> list[Trial]:
    """The model's default on the topic: no identity, no debate (one trial per setup)."""
    _check(trials, MODEL_DEFAULT)
    return [_arm(t, MODEL_DEFAULT, t.key) for t in trials]


def _derangement(roles: list[str], held: dict[str, str], seed: int, key: str) -> dict[str, str]:
    """``held``'s identities moved across ``roles``: the roles in a seeded order, grouped by
    identity, each taking the identity of the role ``m`` places on (``m`` the largest group's
    size), so every role changes identity when no identity is held by more than half of them;
    otherwise the seeded rotation that moves the most roles."""
    order = sorted(roles, key=lambda r: (held[r], stable_hash(SHUFFLED_IDENTITIES, seed, key, r)))
    n = len(order)
    m = max(list(held.values()).count(v) for v in set(held.values()))
    shifts = [m] if 2 * m <= n else list(range(1, n))
    best: dict[str, str] = {}
    moved = -1
    for shift in shifts:
        out = {r: held[order[(i + shift) % n]] for i, r in enumerate(order)}
        count = sum(out[r] != held[r] for r in roles)
        if count > moved:
            best, moved = out, count
    return {r: best[r] for r in roles}


@condition(SHUFFLED_IDENTITIES)
def shuffled_identities(trials: list[Trial], *, seed: int) -> list[Trial]:
    """The line-up's identities moved across the agents (a seeded derangement)."""
    _check(trials, SHUFFLED_IDENTITIES)
    out: list[Trial] = []
    for t in trials:
        held = {str(r): str(i) for r, i in t.input.meta["identities"].items()}
        if len(set(held.values())) < 2:
            raise DebateConfigError(
                f"condition {SHUFFLED_IDENTITIES!r}: trial {t.key} has one identity for every "
                f"agent ({next(iter(held.values()), '?')!r}), so there is nothing to shuffle; "
                "give line-ups with at least two identities"
            )
        moved = _derangement(list(held), held, seed, t.key)
        out.append(_arm(t, "debate", t.key, identities=moved, control=SHUFFLED_IDENTITIES))
    return out


@condition(REVERSED_ORDER)
def reversed_order(trials: list[Trial], *, seed: int) -> list[Trial]:
    """The speaking order reversed (the task's ``order``, last speaker first)."""
    _check(trials, REVERSED_ORDER)
    return [_arm(t, "debate", t.key, reverse_order=True, control=REVERSED_ORDER) for t in trials]


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def _paraphrases(topic: Topic) -> list[str]:
    """``topic``'s paraphrases; refused (naming the topic) when it has none or one is the
    statement itself (up to spaces and case)."""
    if not topic.paraphrases:
        raise DebateConfigError(
            f"condition {PARAPHRASED_TOPIC!r}: topic {topic.id!r} has no paraphrases; give "
            "data.options.topics[...].paraphrases: [another wording, ...]"
        )
    same = [p for p in topic.paraphrases if _normal(p) == _normal(topic.statement)]
    if same:
        raise DebateConfigError(
            f"condition {PARAPHRASED_TOPIC!r}: topic {topic.id!r} has the paraphrase "
            f"{same[0]!r}, which is the statement itself (up to spaces and case); give "
            "data.options.topics[...].paraphrases another wording of it"
        )
    return topic.paraphrases


def _worded(trial: Trial, arm: str, key: str, topic: Topic, wording: str) -> Trial:
    """``trial`` as ``arm`` asking ``topic`` in ``wording``."""
    shown = topic.model_copy(update={"statement": wording}).model_dump(mode="json")
    out = _arm(trial, arm, key, topic=shown, original_statement=topic.statement)
    return out.model_copy(
        update={
            "input": out.input.model_copy(
                update={
                    "observation": out.input.observation.model_copy(update={"content": wording}),
                    "meta": {**out.input.meta, "control": PARAPHRASED_TOPIC},
                }
            )
        }
    )


@condition(PARAPHRASED_TOPIC)
def paraphrased_topic(trials: list[Trial], *, seed: int) -> list[Trial]:
    """The topic debated in one of its other wordings (seeded choice among ``paraphrases``),
    and beside each debate the model's default asked in that wording (a ``model_default``
    trial of this condition)."""
    _check(trials, PARAPHRASED_TOPIC)
    out: list[Trial] = []
    for t in trials:
        topic = Topic.model_validate(t.input.meta["topic"])
        paraphrases = _paraphrases(topic)
        pick = int(stable_hash(PARAPHRASED_TOPIC, seed, t.key, length=8), 16)
        wording = paraphrases[pick % len(paraphrases)]
        out.append(_worded(t, "debate", t.key, topic, wording))
        default_key = stable_hash(t.key, PARAPHRASED_TOPIC, MODEL_DEFAULT)
        out.append(_worded(t, MODEL_DEFAULT, default_key, topic, wording))
    return out
