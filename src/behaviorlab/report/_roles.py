"""The per-role table of multi-party trials (a spec's ``parties:``) in the report."""

from __future__ import annotations

from behaviorlab.analysis import GapReport
from behaviorlab.report._document import Block, Heading, Paragraph, table
from behaviorlab.report._format import interval, number


def roles_blocks(report: GapReport) -> list[Block]:
    """A heading and one table row per (arm, role, metric): the mean over the role's turns
    with its person-clustered interval, turns, people, tokens and cost. Nothing when no trial
    was played by several parties."""
    roles = report.roles
    if roles.empty:
        return []
    many = len(report.tasks) > 1
    columns = [*(["task"] if many else []), "simulator", "condition", "role", "played by"]
    columns += ["metric", "value", "turns", "people", "tokens in", "tokens out", "cost"]
    columns.append("failed trials")
    rows = []
    for r in roles.to_dict(orient="records"):
        cells = [*([str(r["task"])] if many else []), str(r["simulator"]), str(r["condition"])]
        cells += [str(r["role"]), str(r["role_simulator"]), str(r["metric"])]
        cells += [interval(r["value"], r["low"], r["high"]), str(r["n_turns"])]
        cells += [str(r["n_people"]), str(r["tokens_in"]), str(r["tokens_out"])]
        cells += [number(r["cost"], 4), str(r["failed_trials"])]
        rows.append(cells)
    level = round(report.level * 100)
    return [
        Heading("Per role"),
        Paragraph(
            "Trials played by several parties, read per role: the mean over each role's turns "
            f"of every per-turn score the task gave, [{level}% interval clustered by person]; "
            "valid_turn is the share of the role's turns without an error. The turns of "
            "failed trials (a party that never played) are left out and counted."
        ),
        table(
            columns,
            rows,
            numeric=[*columns[columns.index("value") :]],
            caption="Per-role results of multi-party trials.",
        ),
    ]
