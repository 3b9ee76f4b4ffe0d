"""Choice data sources: ``choice_file`` (any per-person choice file with a mapping) and
``modechoice`` (statsmodels' travel mode choice data).

``modechoice`` is ``statsmodels.datasets.modechoice``: 210 non-business travellers between
Sydney, Canberra and Melbourne, each choosing one of air, train, bus and car (1987 study;
Greene and Hensher 1997; statsmodels says it is public domain). Units, as statsmodels
documents them: ``ttme`` terminal waiting time (minutes; 0 for car), ``invc`` in-vehicle cost
for all stages (dollars), ``invt`` in-vehicle travel time for all stages (minutes), ``gc``
generalized cost (dollars), ``hinc`` household income ($1000s), ``psize`` travelling group
size in the mode chosen. The sample is choice based: air, train and bus are over-sampled and
car under-sampled, so its choice shares are not the population's.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from behaviorlab.data._records import Dataset
from behaviorlab.data._sources import dataset
from behaviorlab.families.choice._loader import choice_from_frame, load_choice_file
from behaviorlab.families.choice._mapping import (
    ChoiceAttribute,
    ChoiceDataError,
    ChoiceMapping,
    ChoiceOption,
    PersonaAttribute,
)

MODECHOICE_QUESTION = (
    "You are making a non-business trip between Sydney, Canberra and Melbourne. "
    "Which way of travelling do you choose?"
)

MODECHOICE_MAPPING = ChoiceMapping(
    name="modechoice",
    format="long",
    person="individual",
    option="mode",
    chosen="choice",
    question_id="mode",
    question=MODECHOICE_QUESTION,
    options=[
        ChoiceOption(code="air", name="Air", value="1"),
        ChoiceOption(code="train", name="Train", value="2"),
        ChoiceOption(code="bus", name="Bus", value="3"),
        # ttme is 0 for car by construction: no terminal wait to describe
        ChoiceOption(code="car", name="Car", value="4", describe=["invt", "invc"]),
    ],
    attributes=[
        ChoiceAttribute(name="invt", column="invt", text="{value} in the vehicle", unit="minutes"),
        ChoiceAttribute(
            name="ttme", column="ttme", text="{value} waiting at the terminal", unit="minutes"
        ),
        ChoiceAttribute(name="invc", column="invc", text="costs ${value}"),
        ChoiceAttribute(name="gc", column="gc", text=None),
    ],
    persona=[
        PersonaAttribute(
            name="hinc", column="hinc", text="Your household income is {value} thousand dollars."
        ),
        PersonaAttribute(name="psize", column="psize", text="Your travelling group size: {value}."),
    ],
    source="statsmodels.datasets.modechoice (Greene and Hensher 1997; Greene, Econometric "
    "Analysis, 7th ed., table F18-2)",
    license="public domain (statsmodels.datasets.modechoice COPYRIGHT)",
    version="statsmodels",
)
"""How statsmodels' modechoice frame maps onto choice records (long format, one row per
traveller and mode)."""


@dataset("modechoice")
def modechoice(
    people: int | None = None, persona: Sequence[str] | None = None, seed: int = 0
) -> Dataset:
    """Travel mode choice (statsmodels): 210 travellers choosing air, train, bus or car."""
    from statsmodels.datasets import modechoice as sm_modechoice

    frame = sm_modechoice.load_pandas().data
    return choice_from_frame(
        frame,
        MODECHOICE_MAPPING,
        origin="statsmodels.datasets.modechoice",
        people=people,
        persona=persona,
        seed=seed,
    )


@dataset("choice_file")
def choice_file(
    path: str | Path | None = None,
    mapping: ChoiceMapping | dict[str, Any] | str | Path | None = None,
    people: int | None = None,
    persona: Sequence[str] | None = None,
    seed: int = 0,
) -> Dataset:
    """Per-person choices from a CSV / Parquet / JSONL file and a choice mapping (long or
    wide)."""
    if path is None or mapping is None:
        raise ChoiceDataError(
            "dataset 'choice_file' needs data.options.path (the file) and data.mapping (a "
            "choice mapping: YAML path or inline; see docs/choice.md)"
        )
    return load_choice_file(path, mapping, people=people, persona=persona, seed=seed)
