"""How many targets stay on the page for real-shaped OPeRA users, by persona rule (issue 15).

    .venv/bin/python bench/next_action_survival.py        # about 10 s

The fixture is the one of ``tests/tasks/test_next_action_real_users.py``: the synthetic shop's
sessions with users shaped like real OPeRA users (nested survey of ~930 tokens rendered, an
interview of ~2,500 more), read from CSV. Prints the share of the targets in view at budgets
1500 and 2000, without and with ``interview: true``, for the whole persona, the old cap
(0.35), a cap of 0.25, the default (0.2 with a floor of 300) and no persona at all (the
page's own limit). Nothing here is measured on real OPeRA data.

Measured with the page cut of docs/next-action.md §2 (card steps 5-8): the default keeps
0.966 at 1500 and 0.995 at 2000 (before those steps: 0.892 and 0.946; the page alone 0.936
and 1.000, now 0.985 and 1.000).
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from typing import Any

from behaviorlab.data import Dataset, load_opera
from behaviorlab.families.next_action import target_survival

FIXTURE = Path(__file__).parent.parent / "tests/tasks/test_next_action_real_users.py"


def real_shaped() -> Dataset:
    spec = importlib.util.spec_from_file_location("real_users_fixture", FIXTURE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return load_opera(module.make_real_shaped_opera(Path(tempfile.mkdtemp()))).dataset


def main() -> None:
    ds = real_shaped()
    bare = ds.model_copy(
        update={
            "persons": {
                k: p.model_copy(update={"description": None, "text": None})
                for k, p in ds.persons.items()
            }
        }
    )
    rows: list[tuple[str, Dataset, dict[str, Any]]] = [
        ("whole (persona_share: null)", ds, {"persona_share": None}),
        ("0.35, no floor (old default)", ds, {"persona_share": 0.35, "persona_floor": 0}),
        ("0.25, no floor", ds, {"persona_share": 0.25, "persona_floor": 0}),
        ("0.2, floor 300 (default)", ds, {}),
        ("none at all (page's limit)", bare, {}),
    ]
    print(f"{'persona':30s} {'1500':>7s} {'1500+iv':>8s} {'2000':>7s} {'2000+iv':>8s}")
    for name, data, options in rows:
        shares = [
            target_survival(data, budget, interview=interview, **options).share
            for budget in (1500, 2000)
            for interview in (False, True)
        ]
        print(f"{name:30s} " + " ".join(f"{s:7.3f} " for s in shares))


if __name__ == "__main__":
    main()
