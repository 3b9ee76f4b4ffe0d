"""A person as a judge: the patient family's rating form and the ratings as judgements.

``behaviorlab view`` at ``/rate`` shows a stored session's transcript (never its cognitive
model) and asks the same as the LLM judges: the core-belief categories shown (any of
helpless / unlovable / worthless), the emotions shown (any of the 9 groups) and the style
(one). The ratings are kept in the run's ``ratings.sqlite``
(:mod:`behaviorlab.report._rating`); the fidelity metrics read them as a judge
``human:<rater>`` (a rater's last rating of a trial counts), beside the LLM judges.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from behaviorlab.families.patient._judge import transcript_text
from behaviorlab.families.patient._model import CORE_CATEGORIES, EMOTIONS, STYLES
from behaviorlab.families.patient._task import PATIENT
from behaviorlab.plugins._family import RatingForm, RatingQuestion

HUMAN = "human"
RATINGS_FILE = "ratings.sqlite"
"""The run's ratings file (the viewer's :data:`behaviorlab.report._rating.RATINGS_NAME`)."""
QUESTIONS = (
    RatingQuestion(
        "core_beliefs",
        "Which core-belief categories does the patient show (helpless: incompetent, weak, a "
        "failure; unlovable: unwanted, bound to be rejected or alone; worthless: a burden, "
        "bad, useless)?",
        CORE_CATEGORIES,
        multiple=True,
    ),
    RatingQuestion("emotions", "Which emotions does the patient show?", EMOTIONS, multiple=True),
    RatingQuestion(
        "style",
        "Which conversational style does the patient have (tangent: drifts off the topic)?",
        STYLES,
    ),
)


def _value(row: dict[str, Any]) -> dict[str, Any]:
    value = row.get("answer_json")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    return value if isinstance(value, dict) else {}


def rating_form(row: dict[str, Any]) -> RatingForm | None:
    """The form for one stored patient trial: its transcript and the judges' questions (None:
    not a patient trial, failed, or without a transcript). The rater is blind to the arm:
    the form shows the transcript and the trial id only."""
    error = row.get("error")
    if str(row.get("task")) != PATIENT or (isinstance(error, str) and error):
        return None
    transcript = _value(row).get("transcript")
    if not transcript:
        return None
    # blind: the title names neither the arm, the parties, the model id nor a planted check
    title = f"transcript {row.get('trial_id')}"
    return RatingForm(title=title, text=transcript_text(transcript), questions=QUESTIONS)


def human_judgements(
    folder: str | Path | None, run_id: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The ratings of the run in ``folder`` as stored judgements, by trial id (judge
    ``human:<rater>``, kind ``human``; a rater's last rating of a trial); empty when the run
    has no ``ratings.sqlite``. With ``run_id``, only that run's ratings (an earlier run of the
    same name may have the same trial ids for other transcripts)."""
    if folder is None:
        return {}
    from behaviorlab.report._rating import latest_by_rater, read_ratings

    out: dict[str, list[dict[str, Any]]] = {}
    for (trial_id, rater), r in sorted(latest_by_rater(read_ratings(folder, run_id)).items()):
        a = r.answers
        out.setdefault(trial_id, []).append(
            {
                "judge": f"{HUMAN}:{rater}",
                "kind": HUMAN,
                "core_beliefs": list(a.get("core_beliefs") or []),
                "emotions": list(a.get("emotions") or []),
                "style": a.get("style"),
                "model": {"model": HUMAN},
                "same_model_as_patient": None,
                "error": None,
            }
        )
    return out
