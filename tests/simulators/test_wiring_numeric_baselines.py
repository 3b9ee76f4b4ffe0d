"""majority and knn_persona leave items without options (numeric questions) not applicable,
as first_option does, instead of failing them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

import behaviorlab as bl


def test_option_baselines_leave_numeric_questions_not_applicable(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    people = 30
    table = pd.DataFrame({"pid": [f"p{i}" for i in range(people)]})
    table["age"] = rng.integers(20, 70, people)
    table["temp"] = np.round(rng.uniform(0, 10, people), 1)
    table["vote"] = rng.choice(["a", "b"], people)
    table.to_csv(tmp_path / "s.csv", index=False)
    mapping = {
        "name": "mixed",
        "id_column": "pid",
        "persona": [{"column": "age", "template": "You are {value} years old."}],
        "questions": [
            {"column": "temp", "text": "How warm?", "type": "numeric", "range": [0, 10]},
            {"column": "vote", "text": "Vote?", "options": {"a": "A", "b": "B"}},
        ],
    }
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(mapping))
    spec = {
        "name": "mixed",
        "data": {"source": str(tmp_path / "s.csv"), "mapping": str(tmp_path / "m.yaml")},
        "simulators": [{"name": "majority"}, {"name": "knn_persona", "k": 3}],
    }
    frame = bl.run(spec, out=tmp_path / "runs", progress=False).to_pandas()
    assert set(frame["simulator"]) == {"majority", "knn_persona"}
    assert frame["error"].isna().all(), frame["error"].dropna().unique()
    temp = frame.loc[frame["item_id"] == "temp"]
    assert len(temp) > 0 and temp["answer"].isna().all()
    assert temp["raw_output"].str.startswith("not applicable").all()
    vote = frame.loc[frame["item_id"] == "vote"]
    assert vote["answer"].isin(["a", "b"]).all()
