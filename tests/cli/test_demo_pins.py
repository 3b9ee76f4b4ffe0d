"""Every demo on the mock backend gives exactly the rows recorded before the task families
moved into their own folders (issue 11): same run ids, trial ids, prompts (the mock answers
with a hash of the prompt), answers, scores and probabilities. See ``bl_pins``."""

from __future__ import annotations

from pathlib import Path

import pytest
from bl_pins import DEMOS, demo_rows, read_pinned


@pytest.mark.parametrize("which", DEMOS)
def test_demo_rows_are_the_pinned_ones(which: str, tmp_path: Path) -> None:
    rows = demo_rows(which, tmp_path)
    pinned = read_pinned(which)
    assert len(rows) == len(pinned), f"demo {which}: {len(rows)} rows, pinned {len(pinned)}"
    changed = [(new, old) for new, old in zip(rows, pinned, strict=True) if new != old]
    assert not changed, (
        f"demo {which}: {len(changed)} of {len(rows)} rows differ from the pinned ones; "
        f"first: now {changed[0][0]}, pinned {changed[0][1]}"
    )
