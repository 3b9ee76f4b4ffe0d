"""Specs a careless user writes fail fast with the file, the line and the field, never a
traceback: values past their bounds, a folder, a binary or non-UTF-8 file, a key given twice.
The executor starts no more workers than there are session chains."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import behaviorlab as bl
from behaviorlab.cli import app
from behaviorlab.runs import SpecError, load_spec

BASE: dict[str, Any] = {
    "name": "bounds",
    "data": {"source": "anes96", "target": "vote", "people": 20},
    "simulators": [{"name": "majority"}],
}


def _write(tmp_path: Path, **over: Any) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump({**BASE, **over}, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("field", "value", "bound"),
    [
        ("concurrency", 1_000_000_000_000, "1024"),
        ("n_resamples", 100_000_000_000, "100000"),
        ("seeds", [10**30], "9223372036854775807"),
        ("seeds", [-(10**30)], "-9223372036854775808"),
    ],
)
def test_values_past_their_bounds_are_spec_errors(
    tmp_path: Path, field: str, value: Any, bound: str
) -> None:
    path = _write(tmp_path, **{field: value})
    started = time.perf_counter()
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert time.perf_counter() - started < 5
    message = str(info.value)
    assert f"{path}:" in message and field in message and bound in message


def test_bounds_keep_valid_values_and_ids(tmp_path: Path) -> None:
    edge = load_spec(
        _write(tmp_path, concurrency=1024, n_resamples=100_000, seeds=[-(2**63), 2**63 - 1])
    )
    assert edge.concurrency == 1024 and edge.seeds == [-(2**63), 2**63 - 1]
    plain = load_spec(_write(tmp_path))
    # bounds only: the same spec has the same run id whatever its concurrency or resamples
    assert plain.run_id() == edge.model_copy(update={"seeds": [0]}).run_id()


def test_executor_starts_no_more_workers_than_chains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []
    real = asyncio.TaskGroup.create_task

    def counting(self: asyncio.TaskGroup, coro: Coroutine[Any, Any, Any], **kw: Any) -> Any:
        started.append(coro.__qualname__)
        return real(self, coro, **kw)

    monkeypatch.setattr(asyncio.TaskGroup, "create_task", counting)
    run = bl.run({**BASE, "concurrency": 1024}, out=tmp_path / "runs", progress=False)
    trials = len(run.to_pandas())
    workers = [q for q in started if q.endswith("worker")]
    assert trials == 10 and 0 < len(workers) <= trials


def test_spec_path_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="is a folder; give the YAML file in it"):
        load_spec(tmp_path)
    res = CliRunner().invoke(app, ["run", str(tmp_path)])
    assert res.exit_code == 2 and "is a folder" in res.output and res.exception is not None
    assert isinstance(res.exception, SystemExit)


def test_binary_and_non_utf8_spec_files(tmp_path: Path) -> None:
    png = tmp_path / "exp.yaml"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    with pytest.raises(SpecError) as info:
        load_spec(png)
    assert str(png) in str(info.value) and "not a text YAML file" in str(info.value)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(SpecError) as info:
        load_spec(latin)
    assert f"{latin}:1: not UTF-8 text" in str(info.value) and r"b'\xe9'" in str(info.value)


def test_a_key_given_twice_names_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(
        "name: bounds\n"
        "seeds: [1, 2]\n"
        "data:\n"
        "  source: anes96\n"
        "  target: vote\n"
        "  target: turnout\n"
        "simulators: [{name: majority}]\n"
    )
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert f"{path}:6:" in message and "'target' is given twice (lines 5 and 6)" in message
    path.write_text(path.read_text().replace("  target: turnout\n", "") + "seeds: [3]\n")
    with pytest.raises(SpecError, match=r"exp.yaml:7: .*'seeds' is given twice \(lines 2 and 7\)"):
        load_spec(path)


def test_merge_keys_may_still_be_overridden(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text(
        "name: bounds\n"
        "data: {source: anes96, target: vote, people: 20}\n"
        "simulators:\n"
        "  - &first {name: knn_persona, k: 3}\n"
        "  - <<: *first\n"
        "    k: 5\n"
    )
    spec = load_spec(path)
    assert [(s.name, s.options()) for s in spec.simulators] == [
        ("knn_persona", {"k": 3}),
        ("knn_persona", {"k": 5}),
    ]
