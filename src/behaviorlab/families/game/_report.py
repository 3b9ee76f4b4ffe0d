"""The games part of the report: only for runs of the ``game`` task.

Per game (rock-paper-scissors, prisoner's dilemma: their payoffs are in different units):
prediction accuracy, payoff, the best response's payoff, regret, payoff share and learning
(late half minus early half), each with an interval clustered by game; learning curves (the
mean payoff per round over games, with intervals, next to the best response's); the payoff
share by partner; and the failed moves and predictions.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from behaviorlab.analysis import Estimate, estimate
from behaviorlab.families.game._metrics import game_failures, learning_curves
from behaviorlab.families.game._task import GAME
from behaviorlab.report._collect import RunData
from behaviorlab.report._document import Block, Heading, Paragraph, Plot, Table, table
from behaviorlab.report._plots import _style, colors, esc
from behaviorlab.report._terminal import format_estimate

GAME_NAMES = {"rps": "rock-paper-scissors", "ipd": "prisoner's dilemma"}
COLUMNS = {
    "prediction_accuracy": "prediction accuracy",
    "mean_payoff": "payoff / round",
    "regret": "regret ↓",
    "payoff_share": "payoff share",
    "payoff_learning": "payoff: late − early",
    "prediction_learning": "prediction: late − early",
    "forfeit_rate": "forfeits ↓",
}
BR_COLOR = "#111827"


def _game_of(frame: pd.DataFrame) -> pd.Series:
    metas = frame["meta"] if "meta" in frame.columns else [None] * len(frame)
    return pd.Series(
        [m.get("game") if isinstance(m, dict) else None for m in metas],
        index=frame.index,
        dtype=object,
    )


def _arms(frame: pd.DataFrame) -> list[tuple[str, str]]:
    pairs = {(str(s), str(c)) for s, c in zip(frame["simulator"], frame["condition"], strict=True)}
    return sorted(pairs, key=lambda a: (a[0], a[1] != "full", a[1]))


def _metric_table(
    frame: pd.DataFrame, game: str, baselines: set[str], boot: dict[str, Any]
) -> Table:
    rows, base_rows = [], []
    for i, (sim, cond) in enumerate(_arms(frame)):
        g = frame.loc[(frame["simulator"] == sim) & (frame["condition"] == cond)]
        est: dict[str, Estimate | None] = {m: estimate(g, m, **boot) for m in COLUMNS}
        rows.append(
            [
                sim + (" (baseline)" if sim in baselines else ""),
                cond,
                str(len(g)),
                *(format_estimate(est[m]) for m in COLUMNS),
            ]
        )
        if sim in baselines:
            base_rows.append(i)
    return table(
        ["simulator", "condition", "games", *COLUMNS.values()],
        rows,
        numeric=["games", *COLUMNS.values()],
        baseline_rows=base_rows,
        caption=f"{GAME_NAMES.get(game, game)}: mean over games [interval clustered by game].",
    )


def _curve_plot(frame: pd.DataFrame, games: list[str], baselines: set[str], level: float) -> Plot:
    full = frame.loc[frame["condition"].astype(str) == "full"]
    if full.empty:
        full = frame
    curves = learning_curves(full, "payoff", by=("simulator", "game"), level=level)
    best = learning_curves(full, "br_payoff", by=("game",), level=level)
    sims = list(dict.fromkeys(str(s) for s in curves["simulator"]))
    palette = colors((s, s in baselines) for s in sims)
    fig = make_subplots(
        rows=1,
        cols=len(games),
        subplot_titles=[esc(GAME_NAMES.get(g, g)) for g in games],
        horizontal_spacing=0.08,
    )
    offsets = {
        s: 0.24 * (i - (len(sims) - 1) / 2) / max(1, len(sims) - 1) for i, s in enumerate(sims)
    }
    for col, game in enumerate(games, start=1):
        for sim in sims:
            c = curves.loc[(curves["simulator"] == sim) & (curves["game"] == game)]
            if c.empty:
                continue
            fig.add_trace(
                go.Scatter(
                    x=(c["round"] + offsets[sim]).tolist(),  # side by side: bars stay apart
                    customdata=c["round"].tolist(),
                    hovertemplate=f"{esc(sim)}<br>round %{{customdata}}: %{{y:.2f}}<extra></extra>",
                    y=c["value"].tolist(),
                    mode="lines+markers",
                    name=esc(sim),
                    legendgroup=esc(sim),
                    showlegend=col == 1,
                    line={"color": palette[sim], "dash": "dot" if sim in baselines else "solid"},
                    error_y={
                        "type": "data",
                        "symmetric": False,
                        "array": (c["high"] - c["value"]).fillna(0).tolist(),
                        "arrayminus": (c["value"] - c["low"]).fillna(0).tolist(),
                        "thickness": 1,
                    },
                ),
                row=1,
                col=col,
            )
        b = best.loc[best["game"] == game]
        fig.add_trace(
            go.Scatter(
                x=b["round"].tolist(),
                y=b["value"].tolist(),
                mode="lines",
                name="best response",
                legendgroup="best response",
                showlegend=col == 1,
                line={"color": BR_COLOR, "dash": "dash", "width": 1},
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text="round", dtick=1, row=1, col=col)
    fig.update_yaxes(title_text="mean payoff", row=1, col=1)
    _style(fig, 380)
    return Plot(
        "plot-game-learning",
        fig,
        f"Learning curves: the mean payoff in each round over games (condition full), bars: "
        f"{round(level * 100)}% intervals clustered by game; dashed: the best response to the "
        "same partners. Dotted lines: non-LLM reference players.",
    )


def _partner_table(frame: pd.DataFrame, boot: dict[str, Any]) -> Table | None:
    metas = frame["meta"] if "meta" in frame.columns else [None] * len(frame)
    kinds = pd.Series(
        [m.get("partner_kind") if isinstance(m, dict) else None for m in metas], index=frame.index
    )
    full = frame.loc[frame["condition"].astype(str) == "full"]
    partners = sorted(str(k) for k in kinds.loc[full.index].dropna().unique())
    if not partners:
        return None
    rows = []
    for sim in sorted({str(s) for s in full["simulator"]}):
        cells = [sim]
        for p in partners:
            g = full.loc[(full["simulator"] == sim) & (kinds.loc[full.index] == p)]
            cells.append(format_estimate(estimate(g, "payoff_share", **boot)))
        rows.append(cells)
    return table(
        ["simulator", *partners],
        rows,
        numeric=partners,
        caption="Payoff share by partner (condition full): 1 = the best response's payoff, "
        "0 = the game's lowest payoff in every round [interval clustered by game].",
    )


def _failures(frame: pd.DataFrame) -> Table:
    f = game_failures(frame)
    rows = [
        [
            str(r["simulator"]),
            str(r["condition"]),
            str(r["games"]),
            str(int(r["failed_games"]) + int(r["invalid_games"])),
            f"{r['failed_moves']} of {r['rounds']}",
            f"{r['failed_predictions']} of {r['rounds']}",
        ]
        for r in f.to_dict("records")
    ]
    return table(
        ["simulator", "condition", "games", "failed games", "failed moves", "failed predictions"],
        rows,
        numeric=["games", "failed games"],
        caption="A failed or invalid move is a forfeit (the game's lowest payoff; the game goes "
        "on); a failed prediction counts as wrong; a game is failed only when every move failed.",
    )


def game_blocks(data: RunData) -> list[Block]:
    """The games blocks of the report; empty when the run has no game trials."""
    frame = data.frame.loc[data.frame["task"].astype(str) == GAME]
    if frame.empty:
        return []
    report = data.report
    boot: dict[str, Any] = {"n_resamples": report.n_resamples, "seed": report.seed}
    boot["level"] = report.level
    baselines = {r.simulator for r in report.rows if r.baseline}
    per_game = _game_of(frame)
    games = [g for g in ("rps", "ipd") if (per_game == g).any()]
    games += sorted({str(g) for g in per_game.dropna()} - set(games))
    blocks: list[Block] = [
        Heading("Games"),
        Paragraph(
            "One trial is one game against a scripted partner; intervals are clustered by "
            "game. Prediction accuracy: the partner's move predicted (literal theory of mind). "
            "Regret: the best response's payoff per round minus the agent's (functional theory "
            "of mind: adapting to the partner). Payoff share: where the payoff lies between the "
            "game's lowest payoff (0) and the best response's (1). Late − early: the second "
            "half of the game minus the first (learning)."
        ),
    ]
    blocks += [
        _metric_table(frame.loc[per_game == g], g, baselines, boot)
        for g in games
        if (per_game == g).any()
    ]
    if games:
        blocks.append(_curve_plot(frame, games, baselines, report.level))
    partners = _partner_table(frame, boot)
    if partners is not None:
        blocks.append(partners)
    blocks.append(_failures(frame))
    return blocks
