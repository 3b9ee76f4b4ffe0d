"""The transcript part of the report: only for runs of the ``transcript`` task.

Per simulator, condition and experiment (and pooled over experiments): the per-choice NLL of
the participants' responses next to the chance line, the accuracy of the most likely option
and the free-text NLL per token, each with an interval clustered by participant
(:func:`~behaviorlab.families.transcript._metrics.transcript_table`).
"""

from __future__ import annotations

from behaviorlab.families.transcript._metrics import transcript_table
from behaviorlab.families.transcript._task import TRANSCRIPT
from behaviorlab.report._collect import RunData
from behaviorlab.report._document import Block, Heading, Paragraph, table

NAMES = {
    "choice_nll": "NLL / choice ↓",
    "chance_nll": "chance NLL",
    "choice_accuracy": "accuracy",
    "free_text_nll": "free-text NLL / token ↓",
}


def transcript_blocks(data: RunData) -> list[Block]:
    """The transcript blocks of the report; empty when the run has no transcript trials."""
    frame = data.frame.loc[data.frame["task"].astype(str) == TRANSCRIPT]
    if frame.empty:
        return []
    report = data.report
    t = transcript_table(
        frame, level=report.level, n_resamples=report.n_resamples, seed=report.seed
    )
    rows = [
        [
            str(r["simulator"]),
            str(r["condition"]),
            str(r["experiment"]),
            NAMES[str(r["metric"])],
            f"{r['value']:.3f} [{r['low']:.3f}, {r['high']:.3f}]",
            str(r["participants"]),
            str(r["choices"]),
        ]
        for r in t.to_dict("records")
    ]
    return [
        Heading("Transcripts"),
        Paragraph(
            "One trial is one participant's whole session; every response is predicted given "
            "the transcript so far. NLL: the negative log-likelihood (nats) of the response "
            "over the options the transcript states, pooled over choices; chance: the uniform "
            "distribution over the same options. Intervals are clustered by participant."
        ),
        table(
            [
                "simulator",
                "condition",
                "experiment",
                "metric",
                "value [interval]",
                "participants",
                "choices",
            ],
            rows,
            numeric=["participants", "choices"],
            caption="Windowed choices (transcripts longer than the context) are not included.",
        ),
    ]
