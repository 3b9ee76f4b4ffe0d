"""The patient family: simulated CBT patients built from cognitive models, in sessions with a
therapist, judged fairly from the transcript alone.

It brings the persona (:class:`CognitiveModel` in the PATIENT-Ψ shape, a conversational
style, :func:`load_cognitive_models`), the ``patient_models`` dataset (the project's own
generated cognitive models, or a file; its people carry the persona text), the multi-party
``patient_session`` task (roles ``therapist`` and ``patient``) with its judges (an LLM judge
whose prompt and model are recorded, a keyword yardstick), the ``scripted_patient``
simulator, the baseline condition ``name_and_style``, fidelity metrics (per-label F1,
Jaccard, a permutation chance line, consistency between sessions) with intervals clustered
by cognitive model, its report block and ``behaviorlab demo patient`` (docs/patient.md).

A training and research simulator, not a clinical tool.
"""

from behaviorlab.families.patient import _conditions  # noqa: F401  (register)
from behaviorlab.families.patient._agents import ScriptedPatient
from behaviorlab.families.patient._data import generate_models, patient_models, planted_transcript
from behaviorlab.families.patient._family import FAMILY
from behaviorlab.families.patient._judge import (
    Judgement,
    KeywordJudge,
    LLMJudge,
    transcript_text,
)
from behaviorlab.families.patient._metrics import (
    consistency,
    fidelity,
    judgements,
    permutation_chance,
)
from behaviorlab.families.patient._model import (
    CORE_CATEGORIES,
    EMOTIONS,
    STYLES,
    CognitiveModel,
    CognitiveModelError,
    load_cognitive_models,
    persona_text,
)
from behaviorlab.families.patient._task import PATIENT, PatientConfigError, PatientTask

__all__ = [
    "CORE_CATEGORIES",
    "EMOTIONS",
    "FAMILY",
    "PATIENT",
    "STYLES",
    "CognitiveModel",
    "CognitiveModelError",
    "Judgement",
    "KeywordJudge",
    "LLMJudge",
    "PatientConfigError",
    "PatientTask",
    "ScriptedPatient",
    "consistency",
    "fidelity",
    "generate_models",
    "judgements",
    "load_cognitive_models",
    "patient_models",
    "permutation_chance",
    "persona_text",
    "planted_transcript",
    "transcript_text",
]
