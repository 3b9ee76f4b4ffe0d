"""Metrics and the gap between simulated and real people, with person-clustered intervals.

``gap(results)`` is the entry point: every registered metric for every (task, simulator,
condition) with an interval clustered by person (a bootstrap, or the CR2 t interval for mean
metrics with few people), the human split-half noise floor, paired persona effects, the best
LLM against the best baseline, position bias, paired comparisons with permutation tests and
Holm correction, distribution equivalence tests, subgroup gaps, item-level agreement and a
human ceiling where the data hold one. A task family's own metrics (next-action accuracy by
type, P-Score, choice shares, game regret, ...) live in its folder under
:mod:`behaviorlab.families` and register with ``@metric(..., tasks=...)`` like any other; the
gap computes every registered metric for the tasks it applies to. The parts are usable on
their own (:func:`estimate`, :func:`compare`, :func:`distribution_tests`,
:func:`subgroup_gaps`, :func:`item_level`, :func:`human_ceiling`, :func:`noise_floor`, ...),
and ``@metric("name")`` adds a metric.
"""

from behaviorlab.analysis._answer_key import (
    AnswerKeyReport,
    answer_key_agreement,
    read_correctness,
)
from behaviorlab.analysis._bootstrap import ClusterStats, Estimate, cluster_bootstrap
from behaviorlab.analysis._ceiling import HumanCeiling, human_ceiling
from behaviorlab.analysis._compare import compare
from behaviorlab.analysis._confounders import AdjustedRanking, adjusted_ranking
from behaviorlab.analysis._did import StaggeredDiD, staggered_did
from behaviorlab.analysis._distributions import DistributionMetric, js_distance, total_variation
from behaviorlab.analysis._early_warning import EarlyWarning, binned_counts, early_warning
from behaviorlab.analysis._equivalence import distribution_tests
from behaviorlab.analysis._frame import valid_rows
from behaviorlab.analysis._gap import gap
from behaviorlab.analysis._items import error_agreement, item_level
from behaviorlab.analysis._metrics import MeanMetric, Metric, estimate, metric, metrics
from behaviorlab.analysis._noise_floor import noise_floor
from behaviorlab.analysis._numeric import NumericOutcomes, numeric_outcomes
from behaviorlab.analysis._ordinal import Wasserstein
from behaviorlab.analysis._paired import PairedEffect, paired_effect
from behaviorlab.analysis._position import position_shares
from behaviorlab.analysis._report import GapReport, GapRow
from behaviorlab.analysis._sensitivity import Sensitivity, cell_levels, rouge_l, sensitivity
from behaviorlab.analysis._small_sample import SMALL_SAMPLE_CLUSTERS, cr2_interval
from behaviorlab.analysis._subgroups import subgroup_gaps
from behaviorlab.analysis._turns import role_table, turns
from behaviorlab.analysis._versions import VersionSeries, versions
from behaviorlab.analysis._within_person import WithinPersonEffect, within_person_effect

__all__ = [
    "SMALL_SAMPLE_CLUSTERS",
    "AdjustedRanking",
    "AnswerKeyReport",
    "ClusterStats",
    "DistributionMetric",
    "EarlyWarning",
    "Estimate",
    "GapReport",
    "GapRow",
    "HumanCeiling",
    "MeanMetric",
    "Metric",
    "NumericOutcomes",
    "PairedEffect",
    "Sensitivity",
    "StaggeredDiD",
    "VersionSeries",
    "Wasserstein",
    "WithinPersonEffect",
    "adjusted_ranking",
    "answer_key_agreement",
    "binned_counts",
    "cell_levels",
    "cluster_bootstrap",
    "compare",
    "cr2_interval",
    "distribution_tests",
    "early_warning",
    "error_agreement",
    "estimate",
    "gap",
    "human_ceiling",
    "item_level",
    "js_distance",
    "metric",
    "metrics",
    "noise_floor",
    "numeric_outcomes",
    "paired_effect",
    "position_shares",
    "read_correctness",
    "role_table",
    "rouge_l",
    "sensitivity",
    "staggered_did",
    "subgroup_gaps",
    "total_variation",
    "turns",
    "valid_rows",
    "versions",
    "within_person_effect",
]
