"""A generated survey file and its mapping, for the tests that plan or load many trials:
``people`` rows of ``rid``, ``age`` and ``questions`` three-option questions."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml


def write_survey(folder: Path, people: int, questions: int, *, name: str) -> tuple[Path, Path]:
    """Write ``s.csv`` and ``m.yaml`` in ``folder``; return their paths (data, mapping)."""
    qcols = [f"q{i}" for i in range(questions)]
    data, mapping_path = folder / "s.csv", folder / "m.yaml"
    with data.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["rid", "age", *qcols])
        for i in range(people):
            out.writerow([f"r{i}", 20 + i % 50, *[1 + (i * 7 + j) % 3 for j in range(questions)]])
    mapping = {
        "name": name,
        "id_column": "rid",
        "persona": [{"column": "age", "template": "You are {value} years old."}],
        "questions": [
            {"column": c, "text": f"{c}?", "options": {1: "yes", 2: "no", 3: "maybe"}}
            for c in qcols
        ],
    }
    mapping_path.write_text(yaml.safe_dump(mapping), encoding="utf-8")
    return data, mapping_path
