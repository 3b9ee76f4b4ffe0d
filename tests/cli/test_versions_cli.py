"""``behaviorlab series versions`` and ``series confounders`` on generated results tables with
a known answer (a planted regression, a planted confounder), their JSON and report outputs,
and bad input exiting with code 2 and a message saying what to do."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from behaviorlab.cli._timeseries import series_app
from behaviorlab.store import COLUMNS

runner = CliRunner()


def invoke(*args: str | Path) -> tuple[int, str]:
    res = runner.invoke(series_app, [str(a) for a in args])
    return res.exit_code, res.output


def results(rows: list[dict[str, object]]) -> pd.DataFrame:
    base = {"task": "survey", "condition": "full", "seed": 0, "step_index": 0, "error": None}
    records = []
    for k, r in enumerate(rows):
        rec = {c: None for c in COLUMNS} | base | {"trial_id": f"t{k}"} | r
        rec["episode_id"] = f"{rec['person_id']}-{rec['item_id']}"
        records.append(rec)
    return pd.DataFrame.from_records(records, columns=list(COLUMNS))


def version_tables(tmp_path: Path) -> list[Path]:
    """Three versions of one simulator on 30 people x 20 items at accuracy 0.8; person p03
    drops to 0.05 at the third version."""
    rng = np.random.default_rng(0)
    paths = []
    for v in range(3):
        rows = []
        for p in range(30):
            for i in range(20):
                chance = 0.05 if (p == 3 and v == 2) else 0.8
                ok = bool(rng.random() < chance)
                rows.append(
                    {"run_id": f"twin-{v}", "simulator": "llm:twin", "person_id": f"p{p:02d}"}
                    | {"item_id": f"q{i:02d}", "answer": "a" if ok else "b", "human_answer": "a"}
                    | {"correct": float(ok)}
                )
        path = tmp_path / f"v{v}.csv"
        results(rows).to_csv(path, index=False)
        paths.append(path)
    return paths


def test_versions_finds_the_planted_regression_and_writes_json_and_report(
    tmp_path: Path,
) -> None:
    paths = version_tables(tmp_path)
    groups = tmp_path / "groups.csv"
    pd.DataFrame({"person_id": [f"p{p:02d}" for p in range(30)], "site": ["x", "y"] * 15}).to_csv(
        groups, index=False
    )
    out, html = tmp_path / "v.json", tmp_path / "v.html"
    code, text = invoke(
        "versions", *paths, "--label", "jan", "--label", "feb", "--label", "mar",
        "--groups", groups, "--group-by", "site", "--resamples", "200",
        "--json", out, "--report", html,
    )  # fmt: skip
    assert code == 0, text
    assert "regressed feb -> mar: 1: person p03" in text
    assert "min-ACC and WC-ACC are not reported" in text
    payload = json.loads(out.read_text())
    assert payload["labels"] == ["jan", "feb", "mar"]
    flagged = [r for r in payload["regressions"] if r["regressed"]]
    assert [(r["kind"], r["unit"], r["after_version"]) for r in flagged] == [
        ("person", "p03", "mar")
    ]
    assert {r["group"] for r in payload["forgetting"]} == {"all people", "x", "y"}
    page = html.read_text()
    assert "Across versions" in page and "versions-plot" in page and "p03" in page


def test_versions_with_learned_at_reports_min_and_wc_acc(tmp_path: Path) -> None:
    paths = version_tables(tmp_path)
    learned = tmp_path / "learned.csv"
    pd.DataFrame(
        {"person_id": [f"p{p:02d}" for p in range(30)], "version": ["twin-0", "twin-1"] * 15}
    ).to_csv(learned, index=False)
    md, out = tmp_path / "v.md", tmp_path / "v.json"
    code, text = invoke(
        "versions", *paths, "--learned-at", learned, "--resamples", "100", "--report", md,
        "--json", out, "--correction", "fdr_bh",
    )  # fmt: skip
    assert code == 0, text
    assert "Continual evaluation" in text
    cont = json.loads(out.read_text())["continual"]
    assert [r["k"] for r in cont] == [1, 2, 2]
    # p03 (learned at twin-1) collapses at twin-2: min-ACC below the other versions' level
    assert cont[2]["min_acc"] < 0.8
    assert "min-ACC" in md.read_text()


def test_versions_bad_input_exits_2_with_what_to_do(tmp_path: Path) -> None:
    paths = version_tables(tmp_path)
    code, text = invoke("versions", *paths, "--label", "a")
    assert code == 2 and "one label per run" in text
    code, text = invoke("versions", paths[0], "nosuchrun", "--out", tmp_path)
    assert code == 2 and "no results at" in text
    learned = tmp_path / "learned.csv"
    pd.DataFrame({"who": ["p00"], "version": ["twin-0"]}).to_csv(learned, index=False)
    code, text = invoke("versions", *paths, "--learned-at", learned)
    assert code == 2 and "no column 'person_id'" in text and "--learned-by" in text
    code, text = invoke("versions", *paths, "--group-by", "site")
    assert code == 2 and "--groups FILE" in text


def confounded(tmp_path: Path) -> tuple[Path, Path]:
    """llm:a (truly 0.15 better) answered mostly hard items, llm:b mostly easy ones."""
    rng = np.random.default_rng(2)
    rows = []
    for sim, hard_share, effect in (("llm:a", 0.85, 0.15), ("llm:b", 0.15, 0.0)):
        for p in range(60):
            for i in range(30):
                hard = i % 2 == 1
                if rng.random() >= (hard_share if hard else 1 - hard_share):
                    continue
                ok = bool(rng.random() < 0.75 - 0.45 * hard + effect)
                rows.append(
                    {"run_id": "mix", "simulator": sim, "person_id": f"p{p:02d}"}
                    | {"item_id": f"q{i:02d}", "answer": "a" if ok else "b", "human_answer": "a"}
                    | {"correct": float(ok)}
                )
    path, items = tmp_path / "mix.parquet", tmp_path / "items.csv"
    frame = results(rows)
    kept = ["run_id", "task", "simulator", "condition", "person_id", "item_id", "episode_id"]
    kept += ["step_index", "seed", "answer", "human_answer", "correct", "error"]
    frame[kept].to_parquet(path)  # a results table holding only the columns the ranking reads
    pd.DataFrame(
        {"item_id": [f"q{i:02d}" for i in range(30)], "difficulty": ["easy", "hard"] * 15}
    ).to_csv(items, index=False)
    return path, items


def test_confounders_flips_the_planted_ranking(tmp_path: Path) -> None:
    path, items = confounded(tmp_path)
    out, md = tmp_path / "c.json", tmp_path / "c.md"
    code, text = invoke(
        "confounders", path, "--confounder", "difficulty", "--items", items,
        "--json", out, "--report", md,
    )  # fmt: skip
    assert code == 0, text
    assert "adjustment changes the ranking" in text
    payload = json.loads(out.read_text())
    ranks = {r["arm"]: (r["raw_rank"], r["adjusted_rank"]) for r in payload["table"]}
    assert ranks == {"llm:a": (2, 1), "llm:b": (1, 2)}
    assert not payload["balanced"]
    assert "changes the ranking" in md.read_text()


def test_confounders_bad_input_exits_2(tmp_path: Path) -> None:
    path, _ = confounded(tmp_path)
    code, text = invoke("confounders", path, "--confounder", "difficulty")
    assert code == 2 and "no confounder column" in text and "items table" in text
    code, text = invoke("confounders", path, "--confounder", "difficulty", "--items", path)
    assert code == 2 and "item_id" in text


def test_versions_on_stored_runs_groups_by_a_persona_attribute(tmp_path: Path) -> None:
    """Runs by name under --out; --group-by reads the first run's persons table."""
    from behaviorlab.store import ResultStore, TrialResult

    rng = np.random.default_rng(4)
    for v in range(2):
        store = ResultStore(tmp_path / f"twin{v}" / "results.sqlite")
        store.start_run(f"twin{v}-id", f"twin{v}", {"name": f"twin{v}"})
        rows = []
        for p in range(20):
            for i in range(10):
                # the "old" half drops from 0.9 to 0.3 at the second version
                ok = bool(rng.random() < (0.3 if (v == 1 and p % 2) else 0.9))
                rows.append(
                    TrialResult(
                        run_id=f"twin{v}-id",
                        trial_id=f"t{p}-{i}",
                        task="survey",
                        simulator="llm:twin",
                        condition="full",
                        seed=0,
                        person_id=f"p{p:02d}",
                        item_id=f"q{i}",
                        episode_id=f"p{p:02d}-q{i}",
                        step_index=0,
                        answer="a" if ok else "b",
                        human_answer="a",
                        correct=float(ok),
                    )
                )
        store.write_many(rows)
        people = [(f"p{p:02d}", {"age": "old" if p % 2 else "young"}) for p in range(20)]
        store.write_persons(f"twin{v}-id", people)
        store.close()
    out = tmp_path / "v.json"
    code, text = invoke(
        "versions", "twin0", "twin1", "--out", tmp_path, "--group-by", "age",
        "--resamples", "200", "--json", out,
    )  # fmt: skip
    assert code == 0, text
    payload = json.loads(out.read_text())
    assert payload["labels"] == ["twin0-id", "twin1-id"]
    forgetting = {r["group"]: r for r in payload["forgetting"]}
    assert forgetting["old"]["low"] > 0.3 and forgetting["young"]["high"] < 0.2


def test_versions_picks_the_llm_arm_of_each_model_update_and_checkpoints_of_one_run(
    tmp_path: Path,
) -> None:
    """Runs twin-v1..v3 hold llm:mock-N and a majority baseline: one --simulator for every run
    is a glob; the same run three times with one --simulator each gives three checkpoints."""
    rng = np.random.default_rng(5)
    paths = []
    for v in (1, 2, 3):
        rows = []
        for sim in (f"llm:mock-{v}", "majority"):
            for p in range(10):
                for i in range(5):
                    ok = bool(rng.random() < 0.7)
                    rows.append(
                        {"run_id": f"twin-v{v}", "simulator": sim, "person_id": f"p{p:02d}"}
                        | {"item_id": f"q{i}", "answer": "a" if ok else "b"}
                        | {"human_answer": "a", "correct": float(ok)}
                    )
        paths.append(tmp_path / f"twin-v{v}.csv")
        results(rows).to_csv(paths[-1], index=False)
    code, text = invoke("versions", *paths, "--simulator", "llm:mock-1", "--resamples", "100")
    assert code == 2 and "no trials match" in text and "llm:mock-2" in text, text
    out = tmp_path / "v.json"
    code, text = invoke(
        "versions", *paths, "--simulator", "llm:*", "--resamples", "100", "--json", out
    )
    assert code == 0, text
    assert json.loads(out.read_text())["labels"] == ["twin-v1", "twin-v2", "twin-v3"]
    one = tmp_path / "one.csv"
    frames = [pd.read_csv(p) for p in paths]
    pd.concat([f.loc[f["simulator"] != "majority"].assign(run_id="one") for f in frames]).to_csv(
        one, index=False
    )
    sims = [a for s in ("llm:mock-1", "llm:mock-2", "llm:mock-3") for a in ("--simulator", s)]
    code, text = invoke("versions", one, one, one, *sims, "--resamples", "100", "--json", out)
    assert code == 0, text
    assert json.loads(out.read_text())["labels"] == ["llm:mock-1", "llm:mock-2", "llm:mock-3"]
    code, text = invoke("versions", one, one, one, *sims[:4])
    assert code == 2 and "2 --simulator for 3 runs" in text


def test_learned_at_with_numeric_labels_and_a_blank_cell(tmp_path: Path) -> None:
    """Versions labelled 1, 2, 3; the table's version column is numeric with one blank cell
    (a person not learned in this series): read as text, not as 1.0, the blank left out."""
    paths = version_tables(tmp_path)
    learned = tmp_path / "learned.csv"
    versions_of = ["1", "2"] * 14 + ["", "2"]
    learned.write_text(
        "person_id,version\n" + "".join(f"p{p:02d},{v}\n" for p, v in enumerate(versions_of))
    )
    labels = [a for x in ("1", "2", "3") for a in ("--label", x)]
    out = tmp_path / "v.json"
    code, text = invoke(
        "versions", *paths, *labels, "--learned-at", learned, "--resamples", "100",
        "--correction", "fdr_bh", "--json", out,
    )  # fmt: skip
    assert code == 0, text
    payload = json.loads(out.read_text())
    assert [r["k"] for r in payload["continual"]] == [1, 2, 2]
    assert any("1 person_id value(s) have no learned-at version" in n for n in payload["notes"])
    learned.write_text("person_id,version\np00,1\np01,2\np02,7\n")
    code, text = invoke("versions", *paths, *labels, "--learned-at", learned)
    assert code == 2 and "learned.csv" in text and "learned_at row 3" in text, text
    assert "'p02' has the version '7'" in text
