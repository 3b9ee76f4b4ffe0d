"""The next-action family (OPeRA): from a shopper's persona, the page now and their earlier
actions and rationales, predict the next action and its rationale.

Its data come in OPeRA's layout (the format lives in :mod:`behaviorlab.data`, shared with
:mod:`behaviorlab.collect`). It brings the ``next_action`` task (page rendering, token budget
with target survival), its prompting, the baselines ``majority_action``, ``markov``,
``nearest_step`` and ``first_product_link``, the history conditions (``no_history``,
``no_rationale_history``, ``history_kN``), its metrics and report section, and
``behaviorlab demo opera``.
"""

from behaviorlab.analysis._sensitivity_parts import tokenize
from behaviorlab.families.next_action import _baselines, _conditions, _metrics, _rationale  # noqa: F401
from behaviorlab.families.next_action._actions import action_schema, normalize_text
from behaviorlab.families.next_action._baselines import (
    FirstProductLinkSimulator,
    MajorityActionSimulator,
    MarkovSimulator,
    NearestStepSimulator,
)
from behaviorlab.families.next_action._budget import CutReport, fit_budget
from behaviorlab.families.next_action._conditions import history_k
from behaviorlab.families.next_action._family import FAMILY
from behaviorlab.families.next_action._metrics import (
    NEXT_ACTION_METRICS,
    session_outcomes,
    with_human_actions,
)
from behaviorlab.families.next_action._page import PageElement, RenderedPage, render_page
from behaviorlab.families.next_action._prompting import NextActionPrompting, validation_schema
from behaviorlab.families.next_action._rationale import (
    RationaleEmbeddingCosine,
    embedding_cosine,
    rouge_l,
    token_f1,
)
from behaviorlab.families.next_action._survival import Survival
from behaviorlab.families.next_action._tables import accuracy_by_type, cut_summary
from behaviorlab.families.next_action._task import NEXT_ACTION, NextActionTask, target_survival
from behaviorlab.runs._split import split_by_data as split_by_session

__all__ = [
    "FAMILY",
    "NEXT_ACTION",
    "NEXT_ACTION_METRICS",
    "CutReport",
    "FirstProductLinkSimulator",
    "MajorityActionSimulator",
    "MarkovSimulator",
    "NearestStepSimulator",
    "NextActionPrompting",
    "NextActionTask",
    "PageElement",
    "RationaleEmbeddingCosine",
    "RenderedPage",
    "Survival",
    "accuracy_by_type",
    "action_schema",
    "cut_summary",
    "embedding_cosine",
    "fit_budget",
    "history_k",
    "normalize_text",
    "render_page",
    "rouge_l",
    "session_outcomes",
    "split_by_session",
    "target_survival",
    "token_f1",
    "tokenize",
    "validation_schema",
    "with_human_actions",
]
