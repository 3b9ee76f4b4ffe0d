"""Metrics and the gap between simulated and real people, with person-clustered intervals.

``gap(results)`` is the entry point: every registered metric for every (task, simulator,
condition) with an interval clustered by person (a bootstrap, or the CR2 t interval for mean
metrics with few people), the human split-half noise floor, paired persona effects, the best
LLM against the best baseline, position bias, paired comparisons with permutation tests and
Holm correction, distribution equivalence tests, subgroup gaps, item-level agreement and a
human ceiling where the data hold one. Next-action (OPeRA) trials get their own metrics
(action-type and click-type accuracy and macro-F1, the reachable ceiling, session purchase
and termination, rationale ROUGE-L and token F1) and tables (:func:`accuracy_by_type`,
:func:`cut_summary`, :func:`session_outcomes`). The parts are usable on their own (:func:`estimate`,
:func:`compare`, :func:`distribution_tests`, :func:`subgroup_gaps`, :func:`item_level`,
:func:`human_ceiling`, :func:`noise_floor`, ...), and ``@metric("name")`` adds a metric.
"""

from behaviorlab.analysis._bootstrap import ClusterStats, Estimate, cluster_bootstrap
from behaviorlab.analysis._ceiling import HumanCeiling, human_ceiling
from behaviorlab.analysis._choice_metrics import RhoSquared, choice_shares
from behaviorlab.analysis._compare import compare
from behaviorlab.analysis._distributions import DistributionMetric, js_distance, total_variation
from behaviorlab.analysis._equivalence import distribution_tests
from behaviorlab.analysis._frame import valid_rows
from behaviorlab.analysis._game_metrics import (
    GAME_METRICS,
    game_failures,
    game_rounds,
    learning_curves,
)
from behaviorlab.analysis._gap import gap
from behaviorlab.analysis._items import error_agreement, item_level
from behaviorlab.analysis._metrics import MeanMetric, Metric, estimate, metric, metrics
from behaviorlab.analysis._noise_floor import noise_floor
from behaviorlab.analysis._ordinal import Wasserstein
from behaviorlab.analysis._paired import PairedEffect, paired_effect
from behaviorlab.analysis._position import position_shares
from behaviorlab.analysis._rationale import (
    RationaleEmbeddingCosine,
    embedding_cosine,
    rouge_l,
    token_f1,
    tokenize,
)
from behaviorlab.analysis._report import GapReport, GapRow
from behaviorlab.analysis._scenario_metrics import FIRST_OPTION, awareness_table, scenario_table
from behaviorlab.analysis._small_sample import SMALL_SAMPLE_CLUSTERS, cr2_interval
from behaviorlab.analysis._subgroups import subgroup_gaps
from behaviorlab.analysis._web_metrics import (
    NEXT_ACTION_METRICS,
    session_outcomes,
    with_human_actions,
)
from behaviorlab.analysis._web_tables import accuracy_by_type, cut_summary

# Task-family metrics that register themselves on import.
from behaviorlab.analysis import _choice_metrics, _game_metrics, _scenario_metrics  # noqa: F401  isort: skip

__all__ = [
    "FIRST_OPTION",
    "GAME_METRICS",
    "NEXT_ACTION_METRICS",
    "SMALL_SAMPLE_CLUSTERS",
    "ClusterStats",
    "DistributionMetric",
    "Estimate",
    "GapReport",
    "GapRow",
    "HumanCeiling",
    "MeanMetric",
    "Metric",
    "PairedEffect",
    "RationaleEmbeddingCosine",
    "RhoSquared",
    "Wasserstein",
    "accuracy_by_type",
    "awareness_table",
    "choice_shares",
    "cluster_bootstrap",
    "compare",
    "cr2_interval",
    "cut_summary",
    "distribution_tests",
    "embedding_cosine",
    "error_agreement",
    "estimate",
    "game_failures",
    "game_rounds",
    "gap",
    "human_ceiling",
    "item_level",
    "js_distance",
    "learning_curves",
    "metric",
    "metrics",
    "noise_floor",
    "paired_effect",
    "position_shares",
    "rouge_l",
    "scenario_table",
    "session_outcomes",
    "subgroup_gaps",
    "token_f1",
    "tokenize",
    "total_variation",
    "valid_rows",
    "with_human_actions",
]
