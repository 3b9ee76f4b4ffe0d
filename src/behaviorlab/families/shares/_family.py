"""The shares family: what it tells the core."""

from __future__ import annotations

from behaviorlab.families.shares._report import shares_blocks
from behaviorlab.families.shares._task import SHARES
from behaviorlab.plugins._family import Family, family, packaged_demo

FAMILY = family(
    Family(
        name=SHARES,
        summary="Aggregate answer shares per item (and group) with n: distributions, not people.",
        tasks=(SHARES,),
        report_blocks=shares_blocks,
        demos=(
            packaged_demo(
                "shares",
                "planted answer shares (synthetic, known answers): SmolLM2 against baselines",
                __package__ or "behaviorlab.families.shares",
            ),
        ),
        # the generic metrics see one answer per unit, the people's most chosen option
        metric_labels={
            "accuracy": "modal match",
            "macro_f1": "macro-F1 (mode)",
            "log_loss": "log-loss (mode)",
            "brier": "Brier (mode)",
            "js_distance": "JS to mode",
            "total_variation": "TV to mode",
            "share_js": "share JS",
            "share_tv": "share TV",
            "simbench_score": "SimBench score",
        },
        docs="docs/shares.md",
    )
)
