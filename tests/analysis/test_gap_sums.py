"""The gap from a store: the table's metrics from per-person sums read in chunks equal the
gap of the whole frame, and the store is read a chunk at a time."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from behaviorlab.analysis import gap
from behaviorlab.store import ResultStore, TrialResult

ARMS = (("llm:a", "full"), ("llm:a", "no_persona"), ("majority", "full"))


def _trials(people: int, seed: int) -> list[TrialResult]:
    """Three arms, people of 1 to 9 trials each, some failed, invalid and numeric trials,
    probabilities for the baseline and for some of the LLM's trials."""
    rng = random.Random(seed)
    sizes = {f"p{i:03d}": rng.randint(1, 9) for i in range(people)}
    out = []
    for sim, cond in ARMS:
        for pid, size in sizes.items():
            for k in range(size):
                human, answer = str(rng.randint(1, 4)), str(rng.randint(1, 4))
                if rng.random() < 0.5:
                    answer = human
                roll = rng.random()
                error = kind = None
                if roll < 0.05:
                    error, kind, answer = "could not parse", "invalid", None
                elif roll < 0.08:
                    error, kind, answer = "backend down", "backend", None
                numeric = rng.random() < 0.1
                probs = None
                if sim == "majority" or rng.random() < 0.3:
                    w = [rng.random() for _ in range(4)]
                    probs = {str(c + 1): x / sum(w) for c, x in enumerate(w)}
                out.append(
                    TrialResult(
                        run_id="r1",
                        trial_id=f"{sim}-{cond}-{pid}-{k}",
                        task="survey",
                        simulator=sim,
                        condition=cond,
                        seed=0,
                        person_id=pid,
                        item_id=f"q{k}",
                        episode_id=pid,
                        step_index=k,
                        raw_output="x" * rng.randint(0, 50),
                        answer=answer,
                        human_answer=human,
                        options=["1", "2", "3", "4"],
                        answer_position=None if answer is None else int(answer) - 1,
                        probabilities=None if error else probs,
                        correct=None if error else float(answer == human),
                        error=error,
                        error_kind=kind,
                        meta={"answer_type": "numeric"} if numeric else {},
                    )
                )
    return out


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gap-sums") / "results.sqlite"
    with ResultStore(path) as store:
        store.start_run("r1", "exp", {})
        store.write_many(_trials(130, seed=3))  # 130 people: mean metrics bootstrap too
    return path


def _same(a: Any, b: Any, where: str = "report") -> None:
    """``a`` equals ``b``, floats to 1e-12 (NaN equal to NaN)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list | tuple):
        assert isinstance(b, list | tuple) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert (math.isnan(a) and math.isnan(b)) or math.isclose(
            a, b, rel_tol=1e-12, abs_tol=1e-12
        ), f"{where}: {a} != {b}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


@pytest.mark.parametrize(
    ("people", "interval", "metrics"),
    [
        (130, "auto", None),  # 130 people: bootstrap intervals for every metric
        (40, "auto", None),  # 40 people: the CR2 t interval for the mean metrics
        (40, "cr2", ["accuracy", "log_loss", "brier"]),
    ],
)
def test_the_gap_from_chunked_sums_equals_the_gap_of_the_whole_frame(
    stored: Path, people: int, interval: Any, metrics: list[str] | None
) -> None:
    path = stored
    if people != 130:
        path = stored.with_name(f"results-{people}.sqlite")
        if not path.exists():
            with ResultStore(path) as store:
                store.start_run("r1", "exp", {})
                store.write_many(_trials(people, seed=5))
    with ResultStore(path, readonly=True) as store:
        frame = store.to_pandas()
        options: dict[str, Any] = {"n_resamples": 300, "seed": 11, "interval": interval}
        whole = gap(frame, metrics=metrics, **options)
        chunked = gap(store, metrics=metrics, chunk_rows=37, **options)
    assert len(frame) > 37 * 5 and {r.n_invalid > 0 and r.n_failed > 0 for r in whole.rows} == {
        True
    }
    methods = {e.method for r in whole.rows for e in r.estimates.values() if e is not None}
    expected = {"cluster-t-cr2"} if people < 100 else {"cluster-bootstrap"}
    assert expected <= methods
    table = whole.to_pandas()
    assert table.filter(like="accuracy").notna().all().all()  # the metrics apply
    if metrics is None:
        assert table["macro_f1"].notna().all() and table["log_loss"].notna().all()
    _same(whole.to_dict(), chunked.to_dict())
    pd.testing.assert_frame_equal(whole.to_pandas(), chunked.to_pandas(), rtol=1e-12)


def test_the_gap_of_a_store_reads_it_in_chunks_never_whole(
    stored: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []
    iter_frames = ResultStore.iter_frames

    def counted(self: ResultStore, *args: Any, **kwargs: Any) -> Iterator[pd.DataFrame]:
        for chunk in iter_frames(self, *args, **kwargs):
            sizes.append(len(chunk))
            yield chunk

    def whole(*args: Any, **kwargs: Any) -> pd.DataFrame:
        raise AssertionError("the gap of a store read every row at once (to_pandas)")

    monkeypatch.setattr(ResultStore, "iter_frames", counted)
    monkeypatch.setattr(ResultStore, "to_pandas", whole)
    with ResultStore(stored, readonly=True) as store:
        n = store.count("r1")
        report = gap(store, n_resamples=50, chunk_rows=100)
    assert max(sizes) <= 100 < n
    assert sum(sizes) == n  # one pass: the sums and the compact frame of the other parts
    assert sum(r.n for r in report.rows) == n
