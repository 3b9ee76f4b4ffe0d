"""Metrics and the gap between simulated and real people, with person-clustered intervals.

``gap(results)`` is the entry point: every registered metric for every (task, simulator,
condition) with a bootstrap interval clustered by person, the human split-half noise floor,
paired persona effects, the best LLM against the best baseline, and position bias. The parts
are usable on their own (:func:`estimate`, :func:`paired_effect`, :func:`noise_floor`,
:func:`position_shares`), and ``@metric("name")`` adds a metric to all of them.
"""

from behaviorlab.analysis._bootstrap import ClusterStats, Estimate, cluster_bootstrap
from behaviorlab.analysis._distributions import (
    DistributionMetric,
    js_distance,
    noise_floor,
    total_variation,
)
from behaviorlab.analysis._frame import valid_rows
from behaviorlab.analysis._gap import GapReport, GapRow, gap
from behaviorlab.analysis._metrics import MeanMetric, Metric, estimate, metric, metrics
from behaviorlab.analysis._paired import PairedEffect, paired_effect
from behaviorlab.analysis._position import position_shares

__all__ = [
    "ClusterStats",
    "DistributionMetric",
    "Estimate",
    "GapReport",
    "GapRow",
    "MeanMetric",
    "Metric",
    "PairedEffect",
    "cluster_bootstrap",
    "estimate",
    "gap",
    "js_distance",
    "metric",
    "metrics",
    "noise_floor",
    "paired_effect",
    "position_shares",
    "total_variation",
    "valid_rows",
]
