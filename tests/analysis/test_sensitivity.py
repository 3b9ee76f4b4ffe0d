"""Sensitivity sweeps in analysis: labels read back, the ANOVA shares, the noise floor and what
is refused."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import behaviorlab as bl
from behaviorlab.analysis import cell_levels, rouge_l, sensitivity
from behaviorlab.analysis._sensitivity_parts import balanced_shares as _balanced_shares
from behaviorlab.runs._sweep import cell_label


def _rows(effects: dict[str, dict[str, float]], seeds: int = 2, people: int = 30) -> pd.DataFrame:
    """A sweep whose cell accuracies are exactly base + the planted level effects (every person
    answers ``n`` trials, a fixed share of them right)."""
    names = [*effects, "seed"]
    levels = [list(effects[f]) for f in effects] + [[str(s) for s in range(seeds)]]
    rows = []
    for combo in itertools.product(*levels):
        lv = dict(zip(names, combo, strict=True))
        acc = 0.5 + sum(effects[f][lv[f]] for f in effects)
        right = round(acc * 20)
        for p in range(people):
            for i in range(20):
                rows.append(
                    {
                        "simulator": cell_label("sw", lv),
                        "person_id": f"p{p}",
                        "item_id": f"q{i}",
                        "correct": float(i < right),
                    }
                )
    return pd.DataFrame(rows)


def test_a_cell_label_reads_back_as_its_levels() -> None:
    levels = {"model": "org.m-1:q4", "prompt": "paraphrase", "temperature": "0.7", "seed": "2"}
    assert cell_levels(cell_label("sweep", levels)) == ("sweep", levels)
    assert cell_levels("llm:smollm2") is None
    assert cell_levels("x[model]") is None


def test_rouge_l_is_the_lcs_f_measure_on_word_tokens() -> None:
    assert rouge_l("A b, c d.", "a c d") == pytest.approx(2 * (3 / 4) * 1 / (3 / 4 + 1))
    assert rouge_l("same words", "Same words!") == 1.0
    assert rouge_l("a b", "c d") == 0.0


def test_exact_effects_and_shares_equal_the_planted_ones() -> None:
    planted = {"temperature": {"0": 0.0, "1": -0.2}, "model": {"a": 0.0, "b": 0.0, "c": 0.1}}
    result = sensitivity(_rows(planted), n_resamples=200)
    assert result.effect("temperature", "1")["value"] == pytest.approx(-0.2)
    assert result.effect("model", "c")["value"] == pytest.approx(0.1)
    assert result.effect("model", "b")["value"] == pytest.approx(0.0)
    # no noise: the seeds agree exactly, the floor is 0 and nothing is within it but 0
    floor = result.floor()
    assert floor is not None and floor["value"] == pytest.approx(0.0)
    assert not result.effect("temperature", "1")["within_noise"]
    assert any("seed floor is 0 and says nothing about noise" in n for n in result.notes)
    # a balanced design: SS of a factor is (cells per level) * sum of squared level deviations
    cells = result.cells
    grand = cells["accuracy"].mean()
    for f in ("temperature", "model"):
        means = cells.groupby(f)["accuracy"].mean()
        per_level = len(cells) / len(means)
        ss = per_level * ((means - grand) ** 2).sum()
        row = result.variance.loc[
            (result.variance["metric"] == "accuracy") & (result.variance["factor"] == f)
        ]
        assert float(row["sum_sq"].iloc[0]) == pytest.approx(ss)
    # the bootstrap's numpy shares are the statsmodels shares on the data
    point = _balanced_shares(cells["accuracy"].to_numpy()[None, :], cells, result.factors)
    for f in ("temperature", "model", "residual"):
        assert float(point[f][0]) == pytest.approx(result.share(f), abs=1e-9)
    total = ((cells["accuracy"] - grand) ** 2).sum()
    assert result.share("temperature") == pytest.approx(6 * 0.1**2 * 2 / total)


def test_without_seeds_there_is_no_floor_and_the_notes_say_so() -> None:
    frame = _rows({"temperature": {"0": 0.0, "1": -0.2}}, seeds=1)
    result = sensitivity(frame, n_resamples=200)
    assert result.noise_floor.empty
    assert result.effect("temperature", "1")["within_noise"] is None
    assert any("no noise floor" in n for n in result.notes)
    assert any("rationale" in n for n in result.notes)


def test_a_reference_level_changes_the_sign() -> None:
    frame = _rows({"temperature": {"0": 0.0, "1": -0.2}})
    result = sensitivity(frame, reference={"temperature": "1"}, n_resamples=200)
    assert result.effect("temperature", "0")["value"] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="factor temperature has no level '2'"):
        sensitivity(frame, reference={"temperature": "2"})
    with pytest.raises(ValueError, match="has no factor 'model'"):
        sensitivity(frame, reference={"model": "a"})


def test_results_without_sweep_cells_are_refused_with_what_to_do() -> None:
    frame = pd.DataFrame({"simulator": ["llm:x"], "person_id": ["p"], "correct": [1.0]})
    with pytest.raises(ValueError, match="sweep: block"):
        sensitivity(frame)
    two = pd.concat(
        [
            _rows({"temperature": {"0": 0, "1": 0}}).assign(
                simulator=lambda d: d["simulator"].str.replace("sw[", "other[", regex=False)
            ),
            _rows({"temperature": {"0": 0, "1": 0}}),
        ]
    )
    with pytest.raises(ValueError, match="several sweeps"):
        sensitivity(two)
    assert sensitivity(two, sweep="other", n_resamples=100).prefix == "other"


def test_a_missing_cell_is_reported() -> None:
    frame = _rows({"temperature": {"0": 0.0, "1": -0.2}, "model": {"a": 0.0, "b": 0.0}})
    gone = cell_label("sw", {"model": "b", "temperature": "1", "seed": "1"})
    result = sensitivity(frame.loc[frame["simulator"] != gone], n_resamples=100)
    assert any("7 of the 8 cells" in n for n in result.notes)
    assert np.isfinite(result.effect("model", "b")["value"])


def test_cells_under_several_conditions_need_one_picked() -> None:
    one = _rows({"temperature": {"0": 0.0, "1": -0.2}})
    both = pd.concat([one.assign(condition="full"), one.assign(condition="no_persona")])
    with pytest.raises(ValueError, match=r"several conditions \(full, no_persona\)"):
        sensitivity(both)
    picked = sensitivity(both, condition="no_persona", n_resamples=100)
    assert picked.effect("temperature", "1")["value"] == pytest.approx(-0.2)
    assert set(picked.cells["n"]) == {30 * 20}
    with pytest.raises(ValueError, match="condition 'paraphrase'"):
        sensitivity(both, condition="paraphrase")


def test_a_structured_sweeps_rationales_are_read_from_its_rows(tmp_path: Path) -> None:
    """next_action answers hold a rationale in answer_json; the mock model writes one per call
    (its text a hash of the prompt, model, seed and temperature), so seeds differ."""
    from behaviorlab.data import make_synthetic_opera

    path = make_synthetic_opera(tmp_path / "opera", users=4, sessions_per_user=2)
    spec = {
        "name": "opsw",
        "task": "next_action",
        "task_options": {"budget": 4000},
        "data": {"source": "opera", "options": {"path": str(path)}, "split": {"by": "data"}},
        "sweep": {
            "simulator": {"name": "llm", "backend": "mock", "answer": "sample", "n": 1},
            "factors": {"model": ["a", "b"], "seed": [0, 1]},
        },
    }
    run = bl.run(spec, out=tmp_path / "runs", progress=False)
    result = sensitivity(run, n_resamples=100)
    rat = {r["factor"]: r for r in result.rationales.to_dict("records")}
    assert set(rat) == {"model", "seed"}
    per_cell = len(run.to_pandas()) // 4  # every trial of a cell has a rationale
    # each comparison pairs the trials of 2 cell pairs (the other factor's two levels)
    assert rat["model"]["n_pairs"] == rat["seed"]["n_pairs"] == 2 * per_cell
    assert 0 < rat["seed"]["value"] <= 1
    assert any("no options" in n for n in result.notes)  # no answer distribution for clicks


def test_rationales_pair_the_same_trial_under_several_spec_seeds() -> None:
    # two spec seeds: each (person, item) is answered twice per cell, told apart by `seed`
    rows = []
    for model in ("a", "b"):
        for s in ("0", "1"):
            for spec_seed in (0, 1):
                for p in range(6):
                    for i in range(3):
                        text = f"reason {p} {i} {spec_seed}" + (" changed" if model == "b" else "")
                        rows.append(
                            {
                                "simulator": cell_label("sw", {"model": model, "seed": s}),
                                "person_id": f"p{p}",
                                "item_id": f"q{i}",
                                "seed": spec_seed,
                                "correct": 1.0,
                                "answer_json": {"rationale": text},
                            }
                        )
    result = sensitivity(pd.DataFrame(rows), n_resamples=100)
    tab = result.rationales.set_index("factor")
    # every trial pairs with its own seed's trial only: 2 seed contexts × 36 trials
    assert tab.loc["model", "n_pairs"] == 2 * 36
    # "reason p i s" vs "reason p i s changed": LCS 4 of 4 and 5 tokens
    assert tab.loc["model", "value"] == pytest.approx(1 - 2 * 1 * 0.8 / 1.8)
    assert tab.loc["seed", "value"] == pytest.approx(0.0)


def test_a_null_factor_gets_its_null_share_of_the_noise() -> None:
    # pure noise over 3 models × 4 seeds (C = 12): a factor's share averages df / (C - 1), and
    # the null share (df times the seed's share per df) estimates the same
    grid = pd.DataFrame([{"model": m, "seed": s} for m, s in itertools.product("abc", "0123")])
    factors = {"model": list("abc"), "seed": list("0123")}
    values = np.random.default_rng(3).normal(size=(20000, 12))
    shares = _balanced_shares(values, grid, factors)
    assert shares["model"].mean() == pytest.approx(2 / 11, abs=0.005)
    assert (2 * shares["seed"] / 3).mean() == pytest.approx(2 / 11, abs=0.005)
    # the table: null_share = df × (seed share / seed df), for every row
    noisy = _rows({"model": {"a": 0.0, "b": 0.0, "c": 0.2}}, seeds=3)
    bump = noisy["simulator"].str.contains("seed=1") & (noisy["item_id"] == "q19")
    noisy.loc[bump, "correct"] = 1.0  # seed 1 a little better: noise the seeds measure
    var = sensitivity(noisy, n_resamples=100).variance.set_index("factor")
    per_df = var.loc["seed", "share"] / var.loc["seed", "df"]
    assert per_df > 0
    for f in ("model", "seed", "residual"):
        assert var.loc[f, "null_share"] == pytest.approx(var.loc[f, "df"] * per_df)
    assert var.loc["model", "share"] > var.loc["model", "null_share"]
