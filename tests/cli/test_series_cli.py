"""``behaviorlab series ...``: each method on a generated table with a known answer, the
captured-study entry on a SQLite store, and bad input exiting with code 2 and a message naming
the file and column (the Typer app is tested directly; ``cli/_app.py`` registers it)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from behaviorlab.analysis import early_warning
from behaviorlab.cli._timeseries import series_app
from behaviorlab.collect._store import open_store
from behaviorlab.collect._study import Participant, Study

runner = CliRunner()


def fold(length: int, seed: int) -> np.ndarray:
    """The fold normal form ``dx = (r + x^2) dt + 0.05 dW`` with ``r`` from -1 to -0.05."""
    rng = np.random.default_rng(seed)
    dt, x, out = 0.01, -1.0, np.empty(length)
    for i, r in enumerate(np.linspace(-1.0, -0.05, length)):
        for _ in range(100):
            x += (r + x * x) * dt + 0.05 * np.sqrt(dt) * rng.normal()
        out[i] = x
    return out


def did_panel(n_units: int = 120, seed: int = 0) -> pd.DataFrame:
    """Groups never / 3 / 5 over periods 1..6, unit and period effects, an effect of 2 on the
    treated (ATT 2 in every post cell, 0 before), small noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_units):
        g = (0, 3, 5)[u % 3]
        alpha = rng.normal()
        for t in range(1, 7):
            treated = g > 0 and t >= g
            y = alpha + 0.3 * t + 2.0 * treated + rng.normal(0, 0.1)
            rows.append({"unit": f"u{u}", "period": t, "first": g, "y": y})
    return pd.DataFrame(rows)


def carry_over(n: int, seed: int) -> pd.DataFrame:
    """A treatment that follows the last outcome and acts now (1.0) and one period later
    (0.5) on an AR(1) outcome (0.5): the APTE is 1, the naive difference far above it."""
    rng = np.random.default_rng(seed)
    a, y = np.zeros(n), np.zeros(n)
    y_prev = a_prev = 0.0
    for t in range(n):
        a[t] = rng.random() < 1 / (1 + np.exp(-1.5 * (y_prev - 1.0)))
        y[t] = 1.0 * a[t] + 0.5 * a_prev + 0.5 * y_prev + rng.normal()
        y_prev, a_prev = y[t], a[t]
    return pd.DataFrame({"day": np.arange(n)[::-1], "nudge": a.astype(int), "steps": y})[::-1]


def invoke(*args: str | Path) -> tuple[int, str]:
    res = runner.invoke(series_app, [str(a) for a in args])
    return res.exit_code, res.output


# --- early warnings ----------------------------------------------------------------------


def test_early_warning_on_a_fold_warns_and_matches_the_library(tmp_path: Path) -> None:
    x = fold(300, seed=1)
    table = tmp_path / "fold.parquet"
    pd.DataFrame({"t": np.arange(300)[::-1], "x": x[::-1]}).to_parquet(table)  # rows reversed
    out, html = tmp_path / "ew.json", tmp_path / "ew.html"
    code, text = invoke(
        "early-warning", table, "--value", "x", "--time", "t", "--surrogates", "99",
        "--json", out, "--report", html,
    )  # fmt: skip
    assert code == 0, text
    got = json.loads(out.read_text())["series"]["x"]
    direct = early_warning(x, n_surrogates=99)  # --time put the rows back in order
    assert got["warns"] is True and got["p_value"] == pytest.approx(direct.p_value)
    assert got["tau"] == pytest.approx(direct.tau) and direct.tau["variance"] > 0.5
    assert got["window"] == 75 and len(got["indicators"]["variance"]) == 300 - 75 + 1
    assert "yes" in text and f"{direct.tau['ac1']:.3f}" in text
    page = html.read_text()
    assert "Early warnings" in page and "The series warns" in page and "plotly" in page


def test_early_warning_per_unit_and_noise_does_not_warn(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    frame = pd.concat(
        [
            pd.DataFrame({"who": "fold", "x": fold(300, seed=1)}),  # warns in the test above
            pd.DataFrame({"who": "noise", "x": rng.normal(size=300)}),
        ]
    )
    frame.to_csv(tmp_path / "two.csv", index=False)
    md, out = tmp_path / "ew.md", tmp_path / "ew.json"
    code, text = invoke(
        "early-warning", tmp_path / "two.csv", "--value", "x", "--unit", "who",
        "--surrogates", "99", "--json", out, "--report", md,
    )  # fmt: skip
    assert code == 0, text
    series = json.loads(out.read_text())["series"]
    assert series["fold"]["warns"] is True and series["noise"]["warns"] is False
    assert series["noise"]["p_value"] > 0.05
    assert "1 of 2 series warn: fold." in md.read_text()


def test_early_warning_counts_events_per_bin(tmp_path: Path) -> None:
    """--freq counts rows per bin and unit (a bin without events is 0), Anscombe-transformed."""
    start = pd.Timestamp("2026-01-01", tz="UTC")
    rng = np.random.default_rng(0)
    counts = rng.poisson(5, 60)
    counts[10] = 0
    stamps = [start + pd.Timedelta(days=d, hours=1) for d, c in enumerate(counts) for _ in range(c)]
    pd.DataFrame({"ts": stamps, "who": "p1"}).to_csv(tmp_path / "ev.csv", index=False)
    out = tmp_path / "ew.json"
    code, text = invoke(
        "early-warning", tmp_path / "ev.csv", "--time", "ts", "--unit", "who", "--freq", "1D",
        "--surrogates", "19", "--json", out,
    )  # fmt: skip
    assert code == 0, text
    got = json.loads(out.read_text())
    expected = early_warning(counts.astype(float), transform="anscombe", n_surrogates=19)
    assert got["series"]["p1"]["transform"] == "anscombe"
    assert got["series"]["p1"]["tau"] == pytest.approx(expected.tau)


def _store_with_events(db: Path) -> None:
    store = open_store(db)
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    store.create_study(Study(study_id="shoes", name="Shoes", token="st-ssssssssssssssss"))
    rng = np.random.default_rng(5)
    for k, pid in enumerate(("pa1", "pb2")):
        who = Participant(
            participant_id=pid, study_id="shoes", token=f"pt-{k}qqqqqqqqqqqqqqq", enrolled_at=t0
        )
        store.add_participant(who)
        store.record_consent(who, "text", t0, t0)
        rows: list[tuple[str, str, int, str, str, str]] = []
        for hour, n in enumerate(rng.poisson(4 + 4 * k, 48)):
            for i in range(int(n)):
                ts = (t0 + timedelta(hours=hour, minutes=i)).isoformat()
                kind = "click" if i % 2 == 0 else "scroll"
                rows.append((f"{pid}-{hour}-{i}", "s", len(rows), ts, kind, "{}"))
        store.add_batch(who, rows, [], t0)
    store.close()


def test_events_of_a_captured_study_per_participant(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    _store_with_events(db)
    out, md = tmp_path / "ev.json", tmp_path / "ev.md"
    code, text = invoke(
        "events", "--study", "shoes", "--db", db, "--freq", "1h", "--action", "click",
        "--surrogates", "19", "--json", out, "--report", md,
    )  # fmt: skip
    assert code == 0, text
    got = json.loads(out.read_text())
    assert set(got["series"]) == {"pa1", "pb2"} and got["actions"] == ["click"]
    store = open_store(db)
    rows = [(r.participant_id, r.client_ts, r.action_type) for r in store.events_of("shoes")]
    events = pd.DataFrame(rows, columns=["p", "ts", "kind"]).query("kind == 'click'")
    store.close()
    stamps = pd.to_datetime(events.loc[events["p"] == "pa1", "ts"])
    pa1 = pd.Series(1, index=stamps).resample("h").size()  # hours without clicks hold 0
    expected = early_warning(pa1.to_numpy(float), transform="anscombe", n_surrogates=19)
    assert len(pa1) >= 46 and got["series"]["pa1"]["tau"] == pytest.approx(expected.tau)
    assert len(got["series"]["pa1"]["indicators"]["variance"]) == len(pa1) - len(pa1) // 4 + 1
    assert "Study shoes: click events per 1h bin" in md.read_text()

    code, text = invoke(
        "events", "--study", "shoes", "--db", db, "--freq", "1h", "--pooled", "--surrogates",
        "19", "--transform", "none", "--json", out,
    )  # fmt: skip
    assert code == 0, text
    pooled = json.loads(out.read_text())["series"]
    every = pd.Series(1, index=pd.to_datetime(pd.DataFrame(rows)[1])).resample("h").size()
    expected = early_warning(every.to_numpy(float), n_surrogates=19)
    assert list(pooled) == ["events"] and pooled["events"]["tau"] == pytest.approx(expected.tau)


def test_events_bad_study_and_too_coarse_bins(tmp_path: Path) -> None:
    db = tmp_path / "c.sqlite"
    _store_with_events(db)
    code, text = invoke("events", "--study", "hats", "--db", db)
    assert code == 2 and "no study 'hats'" in text and "shoes" in text
    code, text = invoke("events", "--study", "shoes", "--db", db, "--freq", "1D")
    assert code == 2 and "study 'shoes'" in text and "at least 40 points" in text
    code, text = invoke("events", "--study", "shoes", "--db", tmp_path / "none.sqlite")
    assert code == 2 and "no store at" in text


# --- staggered DiD -----------------------------------------------------------------------


def test_did_recovers_a_known_att(tmp_path: Path) -> None:
    panel = tmp_path / "panel.csv"
    did_panel().to_csv(panel, index=False)
    out, html = tmp_path / "did.json", tmp_path / "did.html"
    code, text = invoke(
        "did", panel, "--outcome", "y", "--unit", "unit", "--time", "period", "--group", "first",
        "--boot", "199", "--json", out, "--report", html,
    )  # fmt: skip
    assert code == 0, text
    got = json.loads(out.read_text())
    assert got["overall"]["att"] == pytest.approx(2.0, abs=0.03)
    assert got["overall"]["low"] < 2.0 < got["overall"]["high"]
    by_e = {r["event_time"]: r["att"] for r in got["event_time"]}
    assert all(abs(by_e[e] - 2.0) < 0.05 for e in by_e if e >= 0)
    assert all(abs(by_e[e]) < 0.05 for e in by_e if e < 0)
    assert len(got["cells"]) == 2 * 5 and got["n_units"] == 120
    assert f"overall ATT {got['overall']['att']:.3f}" in text
    page = html.read_text()
    assert "ATT by event time" in page and "Every ATT(g, t)" in page


def test_did_bad_panels(tmp_path: Path) -> None:
    panel = did_panel(30)
    panel.to_csv(tmp_path / "p.csv", index=False)
    base: list[str | Path] = [
        "did",
        tmp_path / "p.csv",
        "--unit",
        "unit",
        "--time",
        "period",
        "--group",
        "first",
    ]
    code, text = invoke(*base, "--outcome", "score")
    assert code == 2 and "p.csv" in text and "'score'" in text and "--outcome" in text
    panel.loc[panel["first"] == 0, "first"] = 6
    panel.to_csv(tmp_path / "q.csv", index=False)
    base[1] = tmp_path / "q.csv"
    code, text = invoke(*base, "--outcome", "y", "--boot", "49")
    assert code == 2 and "q.csv" in text and "no never-treated units" in text
    code, text = invoke(*base, "--outcome", "y", "--control", "not-yet-treated", "--boot", "49")
    assert code == 0, text  # the units first treated at 6 are the controls until then
    att = re.search(r"overall ATT (-?[0-9.]+) ", text)
    assert att and float(att[1]) == pytest.approx(2.0, abs=0.1) and "not-yet-treated" in text
    panel.assign(first="soon").to_csv(tmp_path / "r.csv", index=False)
    code, text = invoke(
        *[tmp_path / "r.csv" if a == base[1] else a for a in base], "--outcome", "y"
    )
    assert code == 2 and "r.csv: column 'first' (given by --group) holds 'soon'" in text
    code, text = invoke(*base, "--outcome", "y", "--control", "sometimes")
    assert code == 2 and "--control" in text


# --- within-person -----------------------------------------------------------------------


def test_within_person_recovers_the_apte_and_shows_the_naive_bias(tmp_path: Path) -> None:
    table = tmp_path / "days.parquet"
    carry_over(300, seed=4).to_parquet(table)
    out, md = tmp_path / "wp.json", tmp_path / "wp.md"
    code, text = invoke(
        "within-person", table, "--treatment", "nudge", "--outcome", "steps", "--time", "day",
        "--boot", "50", "--json", out, "--report", md,
    )  # fmt: skip
    assert code == 0, text
    rows = {r["estimand"]: r for r in json.loads(out.read_text())["table"]}
    assert rows["apte"]["value"] == pytest.approx(1.0, abs=0.3)
    assert rows["apte"]["low"] < rows["apte"]["value"] < rows["apte"]["high"]
    assert rows["sustained"]["value"] == pytest.approx(3.0, abs=0.8)
    assert rows["naive"]["value"] > 1.8  # confounded by the last outcome
    assert rows["apte"]["n_periods"] == 300
    summary = md.read_text()
    assert "Effect of nudge on steps in a period (APTE)" in summary
    assert f"{rows['naive']['value']:+.3f}" in summary


def test_within_person_bad_input(tmp_path: Path) -> None:
    frame = carry_over(20, seed=0)
    frame.to_csv(tmp_path / "short.csv", index=False)
    args: list[str | Path] = [
        "within-person",
        tmp_path / "short.csv",
        "--treatment",
        "nudge",
        "--boot",
        "50",
    ]
    code, text = invoke(*args, "--outcome", "steps")
    assert code == 2 and "short.csv" in text and "needs at least 21 periods" in text
    code, text = invoke(*args, "--outcome", "mood")
    assert code == 2 and "short.csv" in text and "'mood'" in text and "--outcome" in text
    frame.assign(nudge=1).to_csv(tmp_path / "flat.csv", index=False)
    code, text = invoke(
        "within-person", tmp_path / "flat.csv", "--treatment", "nudge", "--outcome", "steps",
        "--boot", "50",
    )  # fmt: skip
    assert code == 2 and "never varies" in text


# --- reading tables ----------------------------------------------------------------------


def test_unreadable_tables_name_the_file(tmp_path: Path) -> None:
    code, text = invoke("early-warning", tmp_path / "none.csv", "--value", "x")
    assert code == 2 and "none.csv: no such file" in text
    (tmp_path / "x.xlsx").write_text("")
    code, text = invoke("early-warning", tmp_path / "x.xlsx", "--value", "x")
    assert code == 2 and "x.xlsx" in text and ".parquet" in text
    pd.DataFrame({"x": ["1", "two", *map(str, range(60))]}).to_csv(tmp_path / "t.csv", index=False)
    code, text = invoke("early-warning", tmp_path / "t.csv", "--value", "x")
    assert code == 2 and "t.csv" in text and "'two'" in text and "not a number" in text
    pd.DataFrame({"x": np.arange(30.0)}).to_csv(tmp_path / "s.csv", index=False)
    code, text = invoke("early-warning", tmp_path / "s.csv", "--value", "x")
    assert code == 2 and "s.csv" in text and "at least 40 points" in text
    pd.DataFrame({"t": [1, 2, 2] * 20, "x": 1.0}).to_csv(tmp_path / "d.csv", index=False)
    code, text = invoke("early-warning", tmp_path / "d.csv", "--value", "x", "--time", "t")
    assert code == 2 and "d.csv: t 1 has two rows" in text


def test_registered_under_a_parent_app(tmp_path: Path) -> None:
    """The line cli/_app.py takes: ``app.add_typer(series_app, name="series")``."""
    import typer

    parent = typer.Typer()
    parent.command("version")(lambda: None)  # a second command, so "series" is a subcommand
    parent.add_typer(series_app, name="series")
    did_panel(30).to_csv(tmp_path / "p.csv", index=False)
    args = ["series", "did", str(tmp_path / "p.csv"), "--outcome", "y", "--unit", "unit"]
    res = runner.invoke(parent, [*args, "--time", "period", "--group", "first", "--boot", "99"])
    assert res.exit_code == 0, res.output
    att = re.search(r"overall ATT (-?[0-9.]+) ", res.output)
    assert att and float(att[1]) == pytest.approx(2.0, abs=0.05)


def test_the_main_cli_has_the_series_commands() -> None:
    from behaviorlab.cli import app as main_app

    res = CliRunner().invoke(main_app, ["series", "--help"])
    assert res.exit_code == 0
    for command in ("early-warning", "events", "did", "within-person"):
        assert command in res.output
