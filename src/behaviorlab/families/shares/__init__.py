"""The shares family: aggregate answer shares per item (and group) with a sample size.

Data published as shares of each option with n (public-opinion toplines, choice rates,
SimBench-style distributions) and no per-person rows: the ``shares_file`` loader (CSV,
Parquet or a DataFrame), the ``shares`` task (the subject is the item; groups nested in their
item), the ``shuffled_group`` condition (another group's persona within the item), JS / TV /
SimBench-score metrics per item with intervals over items and the people's multinomial noise,
a noise floor, the ``train_shares`` baseline, toplines of any survey source
(``survey_shares``), a planted generator with known answers
(``shares_synthetic``, the ``planted_shares`` simulator), its report block and ``behaviorlab demo
shares`` (docs/shares.md).
"""

from behaviorlab.families.shares import (  # noqa: F401  (register)
    _baselines,
    _conditions,
    _metrics,
    _survey,
    _synthetic,
)
from behaviorlab.families.shares._baselines import TrainSharesSimulator
from behaviorlab.families.shares._data import (
    SharesDataError,
    SharesMapping,
    load_shares_file,
    shares_from_frame,
)
from behaviorlab.families.shares._effects import share_effects
from behaviorlab.families.shares._family import FAMILY
from behaviorlab.families.shares._metrics import (
    TV_UNIFORM_MIN,
    share_items,
    share_scores,
)
from behaviorlab.families.shares._survey import survey_shares_table
from behaviorlab.families.shares._synthetic import PlantedSimulator, planted_table, planted_truth
from behaviorlab.families.shares._task import SHARES, SharesTask

__all__ = [
    "FAMILY",
    "SHARES",
    "TV_UNIFORM_MIN",
    "PlantedSimulator",
    "SharesDataError",
    "SharesMapping",
    "SharesTask",
    "TrainSharesSimulator",
    "load_shares_file",
    "planted_table",
    "planted_truth",
    "share_effects",
    "share_items",
    "share_scores",
    "shares_from_frame",
    "survey_shares_table",
]
