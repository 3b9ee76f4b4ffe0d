"""The transcript family: Psych-101-format experiments, every response predicted in context.

It brings the ``psych101`` dataset (Psych-101/201 JSON Lines, plain or zipped), the
``transcript`` task (one trial per participant; each response scored given the transcript so
far, the embedded llama.cpp backend reading each transcript once), the baselines
``position_frequency``, ``repeat_last`` and ``transcript_logit``, the metrics ``choice_nll``,
``chance_nll``, ``choice_accuracy`` and ``free_text_nll`` and its report block
(docs/transcript.md).
"""

from behaviorlab.families.transcript import (  # noqa: F401  (register)
    _baselines,
    _conditions,
    _demo,
    _metrics,
)
from behaviorlab.families.transcript._baselines import (
    PositionFrequency,
    RepeatLast,
    TranscriptLogit,
)
from behaviorlab.families.transcript._family import FAMILY
from behaviorlab.families.transcript._format import (
    DEFAULT_RULES,
    OptionRule,
    TranscriptFormatError,
    parse_options,
    split_transcript,
)
from behaviorlab.families.transcript._loader import load_transcripts
from behaviorlab.families.transcript._metrics import TRANSCRIPT_METRICS, transcript_table
from behaviorlab.families.transcript._onepass import PassStats, score_one_pass
from behaviorlab.families.transcript._scoring import ChoiceRecord, Session, prompt_for
from behaviorlab.families.transcript._task import TRANSCRIPT, TranscriptTask

__all__ = [
    "DEFAULT_RULES",
    "FAMILY",
    "TRANSCRIPT",
    "TRANSCRIPT_METRICS",
    "ChoiceRecord",
    "OptionRule",
    "PassStats",
    "PositionFrequency",
    "RepeatLast",
    "Session",
    "TranscriptFormatError",
    "TranscriptLogit",
    "TranscriptTask",
    "load_transcripts",
    "parse_options",
    "prompt_for",
    "score_one_pass",
    "split_transcript",
    "transcript_table",
]
