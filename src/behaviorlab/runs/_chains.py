"""The plan's session chains, made one at a time (a million trials in bounded memory).

A plan does not hold its jobs: :class:`PlanChains` makes them when iterated, session chain
after session chain (seed → arm → condition → episode), and forgets each once it is handed
on. Iterating it twice gives the same chains in the same order, with the same trial ids, as
one list of every job grouped by :func:`~behaviorlab.runs._sessions.chains` would.

A task that can make the trials of some episodes only offers ``iter_trials(dataset, *,
seed, episodes)`` (:class:`EpisodeTrials`, an optional method of a task), yielding one list
of trials per episode given, in order (each trial of an episode has that episode's id and
person); its ``trials(dataset, seed=...)`` must be the concatenation of those lists over
``dataset.episodes``. Then only the episodes of the test side are made, one at a time. It
may also offer ``count_trials(dataset, episode)`` (:class:`CountsTrials`), how many trials
an episode gives whatever the seed, so that planning counts them without making them. A
task without ``iter_trials`` has all its trials made once per seed (the train side dropped),
as before: the runner falls back to its ``trials``.

A condition of :data:`PER_TRIAL` changes each trial on its own, so it is applied per
episode; any other (``shuffled_persona`` deranges personas across people, a plugin's may do
anything) and a ``subset`` (it samples people) see every test trial of the seed at once: that
section (one seed, arm and condition) is made whole, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, overload, runtime_checkable

from behaviorlab.data._records import Dataset, Episode
from behaviorlab.runs._conditions import conditions, full, no_persona, paraphrase
from behaviorlab.runs._sessions import SessionKey, chains, session_key
from behaviorlab.runs._spec import SpecError, SplitSpec, SubsetSpec
from behaviorlab.runs._split import NO_SPLIT_IN_DATA, apply_subset
from behaviorlab.runs._types import Job
from behaviorlab.simulators._base import Simulator
from behaviorlab.tasks._base import Task, Trial

if TYPE_CHECKING:
    from behaviorlab.runs._conditions import Condition

PER_TRIAL: tuple[Condition, ...] = (full, no_persona, paraphrase)
"""The built-in conditions that change each trial on its own (applied per episode)."""


@runtime_checkable
class EpisodeTrials(Protocol):
    """A task's optional hook: the trials of the episodes given, one list per episode, in
    order; over ``dataset.episodes`` their concatenation is ``trials(dataset, seed=seed)``.
    A task without it has every trial of a seed made at once (its ``trials``)."""

    def iter_trials(
        self, dataset: Dataset, *, seed: int, episodes: Iterable[Episode]
    ) -> Iterator[list[Trial]]: ...


@runtime_checkable
class CountsTrials(Protocol):
    """A task's optional hook: how many trials ``iter_trials`` makes of ``episode``, whatever
    the seed (raising what making them would), so a plan is counted without making them."""

    def count_trials(self, dataset: Dataset, episode: Episode) -> int: ...


TrialIds = Callable[[Simulator, str, int, Trial, str | None], str]


@dataclass(frozen=True)
class Arm:
    """One simulator (or set of parties) of the plan, with the conditions it runs under."""

    simulator: Simulator
    conditions: list[str]
    subset: SubsetSpec | None
    parties: str | None
    """The hash of a set of parties' role assignment (None: one simulator)."""


class LazyTrials(Sequence[Trial]):
    """Training trials made only when a simulator's ``fit`` reads them (an LLM's does not)."""

    def __init__(self, make: Callable[[], list[Trial]]) -> None:
        self._make: Callable[[], list[Trial]] | None = make
        self._trials: list[Trial] = []

    def _all(self) -> list[Trial]:
        if self._make is not None:
            self._trials, self._make = self._make(), None
        return self._trials

    @property
    def made(self) -> bool:
        return self._make is None

    def __len__(self) -> int:
        return len(self._all())

    @overload
    def __getitem__(self, i: int) -> Trial: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[Trial]: ...
    def __getitem__(self, i: int | slice) -> Trial | Sequence[Trial]:
        return self._all()[i]

    def __iter__(self) -> Iterator[Trial]:
        return iter(self._all())


@dataclass
class Tally:
    """What the split gave for one seed (counted while the trials are made, then dropped)."""

    train: int = 0
    test: int = 0
    missing: int = 0
    train_people: set[str] = field(default_factory=set)
    test_people: set[str] = field(default_factory=set)
    train_episodes: set[str] = field(default_factory=set)
    test_episodes: set[str] = field(default_factory=set)

    def info(self) -> dict[str, int]:
        return {
            "train_trials": self.train,
            "test_trials": self.test,
            "train_people": len(self.train_people),
            "test_people": len(self.test_people),
            "train_episodes": len(self.train_episodes),
            "test_episodes": len(self.test_episodes),
        }


class TrialSource:
    """The trials of each side of the split, for one seed at a time."""

    def __init__(
        self,
        task: Task,
        dataset: Dataset,
        split: SplitSpec,
        people: set[str],
        test_eps: set[str],
    ) -> None:
        self.task, self.dataset, self.split = task, dataset, split
        self.people, self.test_eps = people, test_eps
        self.by_episode = isinstance(task, EpisodeTrials)
        self._whole: tuple[int, list[Trial]] | None = None  # (seed, test trials): one seed
        self._episodes: dict[str, Episode] | None = None

    def side(self, t: Trial) -> str | None:
        """'train', 'test' or None (by: data, a trial recording no split)."""
        if self.split.by == "person":
            return "test" if t.person_id in self.people else "train"
        if self.split.by == "time":
            return "test" if t.episode_id in self.test_eps else "train"
        found = t.input.meta.get("split")
        return found if found in ("train", "test") else None

    def _episode_side(self, ep: Episode) -> str | None:
        if self.split.by == "person":
            return "test" if ep.person_id in self.people else "train"
        if self.split.by == "time":
            return "test" if ep.episode_id in self.test_eps else "train"
        return None  # by data: decided per trial

    def per_episode(
        self, seed: int, side: str | None, episodes: Iterable[Episode] | None = None
    ) -> Iterator[list[Trial]]:
        """The trials of each episode (of ``side``, None: both), episode by episode."""
        eps: Iterable[Episode] = self.dataset.episodes if episodes is None else episodes
        if side is not None and self.split.by != "data":
            eps = (ep for ep in eps if self._episode_side(ep) == side)
        assert isinstance(self.task, EpisodeTrials)  # only called when by_episode
        make = self.task.iter_trials
        for made in make(self.dataset, seed=seed, episodes=eps):
            yield made if side is None else [t for t in made if self.side(t) == side]

    def all_trials(self, seed: int) -> Iterator[list[Trial]]:
        """Every trial of the seed, in groups (an episode's, or all at once)."""
        if self.by_episode:
            yield from self.per_episode(seed, None)
        else:
            yield self.task.trials(self.dataset, seed=seed)

    def train(self, seed: int) -> list[Trial]:
        if self.by_episode:
            return [t for made in self.per_episode(seed, "train") for t in made]
        return [t for t in self.task.trials(self.dataset, seed=seed) if self.side(t) == "train"]

    def test(self, seed: int) -> list[Trial]:
        """Every test trial of the seed (kept for the seed last asked for)."""
        if self._whole is not None and self._whole[0] == seed:
            return self._whole[1]
        self._whole = None  # the previous seed's first
        if self.by_episode:
            test = [t for made in self.per_episode(seed, "test") for t in made]
        else:
            test = [t for t in self.task.trials(self.dataset, seed=seed) if self.side(t) == "test"]
        self._whole = (seed, test)
        return test

    def forget(self) -> None:
        """Drop the test trials kept for the last seed asked for."""
        self._whole = None

    def episode(self, episode_id: str) -> Episode:
        if self._episodes is None:
            self._episodes = {ep.episode_id: ep for ep in self.dataset.episodes}
        return self._episodes[episode_id]

    def tally(self, seed: int, per_trial: list[str]) -> tuple[Tally, dict[str, int]]:
        """Count both sides of the seed (trials made and dropped group by group), and the
        test trials each per-trial condition of ``per_trial`` makes (its errors raised now,
        before anything runs)."""
        if self.by_episode and isinstance(self.task, CountsTrials) and self.split.by != "data":
            return self._tally_counted(seed, per_trial, self.task.count_trials)
        t = Tally()
        made_by: dict[str, int] = dict.fromkeys(per_trial, 0)
        for made in self.all_trials(seed):
            test: list[Trial] = []
            for trial in made:
                side = self.side(trial)
                if side == "test":
                    t.test += 1
                    t.test_people.add(trial.person_id)
                    t.test_episodes.add(trial.episode_id)
                    test.append(trial)
                elif side == "train":
                    t.train += 1
                    t.train_people.add(trial.person_id)
                    t.train_episodes.add(trial.episode_id)
                else:
                    t.missing += 1
            for cond in per_trial:
                made_by[cond] += len(conditions.get(cond)(test, seed=seed)) if test else 0
        if self.split.by == "data":
            if not t.train and not t.test:
                raise SpecError(NO_SPLIT_IN_DATA)
            if t.missing:
                raise SpecError(
                    f"split by data: {t.missing} of {t.missing + t.train + t.test} trials have "
                    "no split (meta['split'] not 'train' or 'test'); use split: {by: person}"
                )
        return t, made_by

    def _tally_counted(
        self, seed: int, per_trial: list[str], counts: Callable[[Dataset, Episode], int]
    ) -> tuple[Tally, dict[str, int]]:
        """:meth:`tally` from the task's ``count_trials(dataset, episode)`` (how many trials
        an episode gives, without making them): the test side is made only for a condition
        other than ``full`` (its errors are raised now)."""
        t = Tally()
        made_by: dict[str, int] = dict.fromkeys(per_trial, 0)
        make = [c for c in per_trial if conditions.get(c) is not full]
        for ep in self.dataset.episodes:
            side = self._episode_side(ep)
            if side == "test" and make:
                trials = [x for ts in self.per_episode(seed, "test", [ep]) for x in ts]
                for cond in make:
                    made_by[cond] += len(conditions.get(cond)(trials, seed=seed)) if trials else 0
                n = len(trials)
            else:
                n = counts(self.dataset, ep)
            if not n:
                continue
            if side == "test":
                t.test += n
                t.test_people.add(ep.person_id)
                t.test_episodes.add(ep.episode_id)
            else:
                t.train += n
                t.train_people.add(ep.person_id)
                t.train_episodes.add(ep.episode_id)
        for cond in per_trial:
            if cond not in make:
                made_by[cond] = t.test
        return t, made_by


def per_trial(cond: str, subset: SubsetSpec | None) -> bool:
    """Whether the section of ``cond`` (with ``subset``) can be made episode by episode."""
    if subset is not None and (subset.people is not None or _steps_of(subset, cond) is not None):
        return False
    return any(conditions.get(cond) is c for c in PER_TRIAL)


def _steps_of(subset: SubsetSpec, cond: str) -> int | None:
    return subset.max_steps_by_condition.get(cond, subset.max_steps)


class PlanChains:
    """The plan's session chains, made as they are iterated (re-iterable, same order)."""

    def __init__(
        self,
        source: TrialSource,
        seeds: list[int],
        arms: list[Arm],
        default_conditions: list[str],
        trial_id: TrialIds,
        split_seed: int,
    ) -> None:
        self.source, self.seeds, self.arms = source, seeds, arms
        self.default_conditions = default_conditions
        self.trial_id, self.split_seed = trial_id, split_seed
        self._section: tuple[tuple[int, str, str], dict[SessionKey, list[Job]]] | None = None

    def sections(self) -> Iterator[tuple[int, Arm, str]]:
        """(seed, arm, condition) in the order their chains run."""
        for seed in self.seeds:
            for arm in self.arms:
                for cond in arm.conditions or self.default_conditions:
                    yield seed, arm, cond

    def _jobs(self, trials: list[Trial], arm: Arm, cond: str, seed: int) -> list[Job]:
        made = conditions.get(cond)(trials, seed=seed)
        sim = arm.simulator
        return [
            Job(self.trial_id(sim, cond, seed, t, arm.parties), t, sim, cond, seed) for t in made
        ]

    def _whole(self, seed: int, arm: Arm, cond: str) -> list[list[Job]]:
        sliced = apply_subset(self.source.test(seed), arm.subset, cond, self.split_seed)
        return chains(self._jobs(sliced, arm, cond, seed))

    def section(self, seed: int, arm: Arm, cond: str) -> Iterator[list[Job]]:
        """The chains of one seed, arm and condition, in order."""
        if not (self.source.by_episode and per_trial(cond, arm.subset)):
            yield from self._whole(seed, arm, cond)
            return
        for made in self.source.per_episode(seed, "test"):
            if made:
                yield from chains(self._jobs(made, arm, cond, seed))

    def __iter__(self) -> Iterator[list[Job]]:
        for seed, arm, cond in self.sections():
            yield from self.section(seed, arm, cond)

    def chain(self, key: SessionKey) -> list[Job]:
        """The chain of one session (simulator label, condition, seed, episode), made on its
        own (a Ray actor asks for each chain it is sent); [] when the plan has none."""
        label, cond, seed, episode_id = key
        arm = next((a for a in self.arms if a.simulator.label == label), None)
        if arm is None or seed not in self.seeds:
            return []
        if self.source.by_episode and per_trial(cond, arm.subset):
            try:
                ep = self.source.episode(episode_id)
            except KeyError:
                return []
            made = [t for ts in self.source.per_episode(seed, "test", [ep]) for t in ts]
            found = chains(self._jobs(made, arm, cond, seed))
            return next((c for c in found if session_key(c[0]) == key), [])
        where = (seed, label, cond)
        if self._section is None or self._section[0] != where:
            self._section = None  # the previous section's first
            self._section = (where, {session_key(c[0]): c for c in self._whole(seed, arm, cond)})
        return self._section[1].get(key, [])


def counted_planned(
    plan_chains: PlanChains, tallies: dict[int, Tally], per_cond: dict[int, dict[str, int]]
) -> int:
    """How many jobs iterating ``plan_chains`` makes: per-trial sections from the counts of
    the tally, whole sections made (and dropped) to be counted."""
    n = 0
    for seed, arm, cond in plan_chains.sections():
        if plan_chains.source.by_episode and per_trial(cond, arm.subset):
            n += per_cond[seed][cond]
        else:
            n += sum(len(c) for c in plan_chains._whole(seed, arm, cond))
    return n
