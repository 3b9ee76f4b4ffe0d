"""Shared fixtures: an isolated LLM-call cache per test, and a small synthetic survey."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from behaviorlab.data import Action, Dataset, Episode, Observation, Option, Person, Step


@pytest.fixture(autouse=True)
def _isolated_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Never touch the user's ~/.cache/behaviorlab from a test."""
    monkeypatch.setenv("BEHAVIORLAB_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    yield


def make_survey(n_people: int = 40, seed: int = 0) -> Dataset:
    """A synthetic survey: people with age and party, two questions whose answers follow the
    party (so persona-aware baselines can beat the majority)."""
    import random

    rng = random.Random(seed)
    persons: dict[str, Person] = {}
    episodes: list[Episode] = []
    questions = {
        "q1": ("Who will you vote for?", {"0": "Candidate X", "1": "Candidate Y"}),
        "q2": ("Spending on parks is", {"-1": "too much", "0": "about right", "1": "too little"}),
    }
    for i in range(n_people):
        pid = f"p{i:03d}"
        party = rng.choice(["left", "right"])
        age = rng.randint(18, 90)
        persons[pid] = Person(
            person_id=pid,
            attributes={"age": age, "party": party},
            description=f"You are {age} years old and lean {party}.",
        )
        steps = []
        for j, (qid, (text, opts)) in enumerate(questions.items()):
            if qid == "q1":
                value = "0" if (party == "left") == (rng.random() < 0.85) else "1"
            else:
                value = rng.choice(list(opts))
            steps.append(
                Step(
                    index=j,
                    step_id=f"{pid}:{qid}",
                    observation=Observation(
                        kind="question",
                        content=text,
                        options=[Option(code=c, label=lbl) for c, lbl in opts.items()],
                        alternatives=[f"{text} (reworded)", f"Tell us: {text.lower()}"],
                        meta={"question_id": qid},
                    ),
                    action=Action(action_type="answer", value=value),
                )
            )
        episodes.append(
            Episode(episode_id=f"synthetic:{pid}", person_id=pid, kind="survey", steps=steps)
        )
    return Dataset(
        name="synthetic", version="1", source="tests", persons=persons, episodes=episodes
    )


@pytest.fixture
def survey() -> Dataset:
    return make_survey()


@pytest.fixture
def runs_dir(tmp_path: Path) -> Path:
    return tmp_path / "runs"


def _register_synthetic() -> None:
    from behaviorlab.data import datasets

    if "synthetic-test" in datasets:
        return

    @datasets.register("synthetic-test")
    def synthetic_test(people: int | None = None, seed: int = 0, **_: object) -> Dataset:
        """A synthetic two-question survey for tests."""
        return make_survey(people or 40, seed=0)


_register_synthetic()
