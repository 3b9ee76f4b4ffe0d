"""``adjusted_ranking``: a planted confounder (item difficulty) on unbalanced trial sets flips
the raw ranking and adjustment restores the true one; on identical trial sets adjustment
changes nothing; bad inputs say what to do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from behaviorlab.analysis import adjusted_ranking

from .conftest import build_frame

EFFECT = {"llm:a": 0.15, "llm:b": 0.0, "llm:c": -0.1}
"""The simulators' true effects on the chance of a correct answer (a is best)."""


def scored(
    hard_share: dict[str, float], n_people: int = 80, n_items: int = 40, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each simulator answers a share ``hard_share[sim]`` of hard items (chance 0.75 - 0.45 on
    them, 0.75 on easy ones, plus its effect); the items table says which items are hard."""
    rng = np.random.default_rng(seed)
    hard = {f"q{i:02d}": i % 2 == 1 for i in range(n_items)}
    rows = []
    for sim, share in hard_share.items():
        for p in range(n_people):
            for i, (item, is_hard) in enumerate(hard.items()):
                # the simulator sees a hard item with probability `share` (easy: 1 - share)
                if rng.random() >= (share if is_hard else 1 - share):
                    continue
                chance = 0.75 - 0.45 * is_hard + EFFECT[sim]
                ok = bool(rng.random() < chance)
                rows.append(
                    {
                        "simulator": sim,
                        "person_id": f"p{p:02d}",
                        "item_id": item,
                        "episode_id": f"p{p:02d}-{item}",
                        "answer": "a" if ok else "b",
                        "human_answer": "a",
                        "seed": i,
                    }
                )
    items = pd.DataFrame(
        {"item_id": list(hard), "difficulty": ["hard" if h else "easy" for h in hard.values()]}
    )
    return build_frame(rows), items


def test_a_planted_confounder_flips_the_raw_ranking_and_adjustment_restores_it() -> None:
    # a (best) answered mostly hard items, c (worst) mostly easy ones
    frame, items = scored({"llm:a": 0.85, "llm:b": 0.5, "llm:c": 0.15})
    result = adjusted_ranking(frame, ["difficulty"], items=items)
    table = result.table.set_index("arm")
    assert not result.balanced and result.ranking_changed
    assert list(table.sort_values("raw_rank").index) == ["llm:c", "llm:b", "llm:a"]
    assert list(table.sort_values("adjusted_rank").index) == ["llm:a", "llm:b", "llm:c"]
    diffs = result.differences.set_index("arm")
    for sim in ("llm:b", "llm:c"):
        truth = EFFECT[sim] - EFFECT["llm:a"]
        row = diffs.loc[sim]
        assert row["adjusted_low"] < truth < row["adjusted_high"]
        assert row["raw"] > 0  # raw, the worse simulator looks better
    assert any("difficulty: a category" in n for n in result.notes)


def test_on_identical_trial_sets_adjustment_changes_nothing() -> None:
    frame, items = scored({"llm:a": 0.5, "llm:b": 0.5, "llm:c": 0.5})
    # the same trials for every simulator: keep the (person, item) pairs all three answered
    keys = frame.groupby(["person_id", "item_id"])["simulator"].transform("nunique") == 3
    result = adjusted_ranking(frame.loc[keys], ["difficulty"], items=items)
    table = result.table
    assert result.balanced and not result.ranking_changed
    assert (table["raw_rank"] == table["adjusted_rank"]).all()
    diffs = result.differences
    np.testing.assert_allclose(diffs["adjusted"], diffs["raw"], atol=1e-10)
    assert any("adjustment cannot change the ranking" in n for n in result.notes)


def test_a_confounder_that_varies_with_the_arm_on_the_same_trial_is_not_balanced() -> None:
    """The same trials for both arms, b truly better; tokens_in is measured after answering
    (more tokens when correct, and b always spends 100 more): adjusting for it flips the
    ranking, and the result says the column varies with the arm instead of calling it
    balanced."""
    rng = np.random.default_rng(3)
    rows = []
    for sim, chance, extra in (("llm:a", 0.55, 0.0), ("llm:b", 0.7, 100.0)):
        for p in range(40):
            for i in range(10):
                ok = bool(rng.random() < chance)
                tokens = 40.0 * ok + extra + rng.normal(0, 5)
                rows.append(
                    {"simulator": sim, "person_id": f"p{p:02d}", "item_id": f"q{i}"}
                    | {"answer": "a" if ok else "b", "human_answer": "a", "tokens_in": tokens}
                )
    result = adjusted_ranking(build_frame(rows), ["tokens_in"])
    assert result.ranking_changed and not result.balanced
    assert any("tokens_in varies with the arm on 400 of the 400 trials" in n for n in result.notes)
    assert not any("cannot change the ranking" in n for n in result.notes)


def test_a_numeric_person_confounder_from_the_persons_table() -> None:
    rng = np.random.default_rng(1)
    age = {f"p{p:02d}": float(rng.uniform(20, 80)) for p in range(120)}
    rows = []
    for sim, effect in (("llm:young", 0.0), ("llm:old", 0.1)):
        for p, a in age.items():
            # llm:old is better, but was mostly run on old people, who are harder
            if (a > 50) != (sim == "llm:old") and rng.random() < 0.8:
                continue
            for i in range(10):
                ok = bool(rng.random() < 0.9 - 0.008 * (a - 20) + effect)
                rows.append(
                    {"simulator": sim, "person_id": p, "item_id": f"q{i}", "seed": 0}
                    | {"answer": "a" if ok else "b", "human_answer": "a"}
                )
    persons = pd.DataFrame({"person_id": list(age), "age": list(age.values())})
    result = adjusted_ranking(build_frame(rows), ["age"], persons=persons)
    diff = result.differences.iloc[0]
    assert result.table["arm"].iloc[0] == "llm:old" and result.ranking_changed
    assert diff["adjusted_low"] < -0.1 < diff["adjusted_high"]
    assert any("age: numeric" in n for n in result.notes)


def test_bad_inputs_say_what_to_do() -> None:
    frame, items = scored({"llm:a": 0.5, "llm:b": 0.5}, n_people=10, n_items=6)
    with pytest.raises(ValueError, match="no confounder column"):
        adjusted_ranking(frame, ["difficulty"])
    with pytest.raises(ValueError, match="at least one confounder"):
        adjusted_ranking(frame, [])
    with pytest.raises(ValueError, match="per-trial metric"):
        adjusted_ranking(frame, ["difficulty"], items=items, metric="macro_f1")
    with pytest.raises(ValueError, match="collinear") as err:
        adjusted_ranking(
            frame.assign(which=frame["simulator"]), ["difficulty", "which"], items=items
        )
    assert "the confounder(s) ['which'] are collinear" in str(err.value)
    with pytest.raises(ValueError, match=r"the confounder\(s\) \['same'\] are collinear"):
        adjusted_ranking(frame.assign(same=1), ["same"])
    with pytest.raises(ValueError, match="repeated item_id"):
        adjusted_ranking(frame, ["difficulty"], items=pd.concat([items, items]))


def test_a_category_seen_in_one_arm_only_still_fits() -> None:
    """A category only llm:a's trials have is not collinear with the arm (llm:a has other
    trials too): the call fits, as docs/versions.md says."""
    frame, _ = scored({"llm:a": 0.5, "llm:b": 0.5}, n_people=20, n_items=10)
    only_a = (frame["simulator"] == "llm:a") & (frame["item_id"] == "q00")
    result = adjusted_ranking(frame.assign(kind=np.where(only_a, "rare", "plain")), ["kind"])
    assert set(result.table["arm"]) == {"llm:a", "llm:b"}
    assert any("kind: a category (2 levels)" in n for n in result.notes)
