"""The gap of a stored run, read chunk by chunk: the table's per-person sums and a compact
frame of the rows the rest of the report reads.

:func:`read_stored` reads the run once, :data:`~behaviorlab.analysis._sums.CHUNK_ROWS` rows
at a time. Each chunk adds to the gap table's per-person sums
(:class:`~behaviorlab.analysis._sums.TableSums`) and is kept in a compact form for the parts
that need rows (distances, items, tests, a family's metrics and report sections):

* without :data:`UNREAD_COLUMNS` (the raw model text, most of a row on a real model, and the
  prompt hash; a section that needs them reads them itself);
* with ``probabilities``, ``samples`` and ``options`` decoded once (what
  :func:`~behaviorlab.analysis._frame.decoded` would do later), and equal JSON values shared
  by one object (:class:`_Shared`): the option orders, the scores, the structured answers
  and the baselines' probabilities repeat across trials, so a million rows hold a few
  thousand of them, not a million.

The values are equal to those of ``store.to_pandas()``, so every statistic is the same; the
shared objects must not be modified in place (no analysis does).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from behaviorlab.analysis._frame import as_codes, as_probs
from behaviorlab.analysis._metrics import Metric, get_metric, metric_names
from behaviorlab.analysis._sums import CHUNK_ROWS, TableSums, option_code_rows
from behaviorlab.store import COLUMNS, ResultStore

UNREAD_COLUMNS = ("raw_output", "prompt_hash")
"""Results columns a stored run's gap does not read: no part of it uses them, and the raw
model text is most of a row's size."""

ROW_COLUMNS = tuple(c for c in COLUMNS if c not in UNREAD_COLUMNS)
"""The columns of the compact frame (:attr:`Stored.frame`)."""

SHARED_COLUMNS: Mapping[str, Callable[[Any], Any] | None] = {
    "options": as_codes,
    "samples": as_codes,
    "probabilities": as_probs,
    "scores": None,
    "answer_json": None,
    "meta": None,
}
"""JSON columns whose equal values share one object, with the decoding applied first."""

SHARED_LIMIT = 20_000
"""Distinct values remembered per column; beyond it new values are kept unshared."""

_TRIAL = 20_000
"""Values looked at per column before deciding whether sharing pays (half of them repeat)."""


class _Shared:
    """One object per distinct value of each :data:`SHARED_COLUMNS` column, keyed by its
    ``repr`` (equal for equal JSON values of the same types). A column whose values rarely
    repeat (each trial's own ``meta``) stops being looked up after :data:`_TRIAL` values."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, Any]] = {c: {} for c in SHARED_COLUMNS}
        self.looked: dict[str, int] = dict.fromkeys(SHARED_COLUMNS, 0)
        self.hits: dict[str, int] = dict.fromkeys(SHARED_COLUMNS, 0)

    def column(self, name: str, values: list[Any]) -> list[Any]:
        decode = SHARED_COLUMNS[name]
        if decode is not None:
            values = [decode(v) for v in values]
        seen = self.seen[name]
        looked = self.looked[name]
        if looked >= _TRIAL and self.hits[name] * 2 < looked:
            return values  # its values do not repeat: keep them as they are
        out: list[Any] = []
        hits = 0
        for v in values:
            if v is None or isinstance(v, str | int | float):
                out.append(v)
                continue
            key = repr(v)
            same = seen.get(key)
            if same is not None:
                hits += 1
                out.append(same)
                continue
            if len(seen) < SHARED_LIMIT:
                seen[key] = v
            out.append(v)
        self.looked[name] = looked + len(values)
        self.hits[name] += hits
        return out

    def compact(self, chunk: pd.DataFrame) -> pd.DataFrame:
        """``chunk`` with its shared columns decoded and shared (a new frame)."""
        updates = {
            c: pd.Series(self.column(c, chunk[c].tolist()), index=chunk.index, dtype=object)
            for c in SHARED_COLUMNS
            if c in chunk.columns
        }
        return chunk.assign(**updates)


@dataclass(frozen=True, eq=False)
class Stored:
    """A stored run read for its gap: the table's per-person sums and the compact frame of
    its trials (:data:`ROW_COLUMNS`, the store's order)."""

    sums: TableSums
    frame: pd.DataFrame
    run_id: str

    def to_pandas(self) -> pd.DataFrame:
        return self.frame


def read_stored(
    store: ResultStore,
    run_id: str | None = None,
    *,
    metrics: Sequence[str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Stored:
    """Read run ``run_id`` (default: the latest) of ``store`` once, chunk by chunk: the gap
    table's sums of ``metrics`` (default: every registered one) and the compact frame."""
    rid = run_id or store.latest_run_id()
    names = list(metrics) if metrics is not None else metric_names()
    candidates: dict[str, Metric] = {n: get_metric(n) for n in names}
    sums = TableSums(candidates, option_code_rows)
    shared = _Shared()
    chunks: list[pd.DataFrame] = []
    for chunk in store.iter_frames(rid, columns=ROW_COLUMNS, chunk_rows=chunk_rows):
        small = shared.compact(chunk)
        del chunk
        sums.add(small)
        chunks.append(small)
    if not chunks:
        return Stored(sums, pd.DataFrame(columns=list(ROW_COLUMNS)), rid)
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    return Stored(sums, frame, rid)


@contextlib.contextmanager
def stored(results: object, metrics: Sequence[str] | None, chunk_rows: int) -> Iterator[Any]:
    """``results`` read as :class:`Stored` when it is a :class:`ResultStore` (its latest run)
    or a stored run (an object with ``results_path`` and ``run_id``, as
    :func:`behaviorlab.open_run` gives); ``results`` itself otherwise (a frame, a
    :class:`Stored`, anything with ``to_pandas()``)."""
    if isinstance(results, ResultStore):
        yield read_stored(results, metrics=metrics, chunk_rows=chunk_rows)
        return
    path, rid = getattr(results, "results_path", None), getattr(results, "run_id", None)
    if isinstance(path, str | Path) and isinstance(rid, str):
        with ResultStore(path, readonly=True) as store:
            yield read_stored(store, rid, metrics=metrics, chunk_rows=chunk_rows)
        return
    yield results
