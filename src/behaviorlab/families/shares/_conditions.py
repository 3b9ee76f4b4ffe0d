"""The ``shuffled_group`` condition: each group of an item gets another group's persona.

The shared ``shuffled_persona`` derangement works per person, and here the person is the
item: every group of an item would get one and the same other item's persona. The control
that asks whether *this group* matters keeps the item and swaps the groups within it (a seeded
derangement of the item's groups), so the simulator still answers the same question, as
another group; the trial is scored against its own group's people (``meta["persona_of"]``
names the donor unit). An item with one group in the test split has nothing to swap: an error
naming it.
"""

from __future__ import annotations

from collections import defaultdict

from behaviorlab.data._records import Person
from behaviorlab.runs._conditions import condition, derangement
from behaviorlab.tasks._base import Trial


@condition("shuffled_group")
def shuffled_group(trials: list[Trial], *, seed: int) -> list[Trial]:
    """Within each item, every group gets another group's persona (seeded derangement)."""
    personas: dict[str, dict[str, Person | None]] = defaultdict(dict)
    for t in trials:
        personas[t.person_id].setdefault(t.item_id, t.input.persona)
    donors: dict[str, dict[str, str]] = {}
    for item, units in personas.items():
        if len(units) < 2 or any(p is None for p in units.values()):
            raise ValueError(
                f"shuffled_group: item {item!r} has {len(units)} group(s) with a persona in "
                "the test split; the condition needs two or more groups per item (data with "
                "a group column, mapping group: [...])"
            )
        donors[item] = derangement(list(units), seed)
    out = []
    for t in trials:
        donor = donors[t.person_id][t.item_id]
        update = {
            "persona": personas[t.person_id][donor],
            "meta": {**t.input.meta, "persona_of": donor},
        }
        out.append(t.model_copy(update={"input": t.input.model_copy(update=update)}))
    return out
