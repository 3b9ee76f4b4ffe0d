"""Records → OPeRA's parquet tables, in the layout of the ``NEU-HAI/OPeRA`` repository:

``OUT/OPeRA_{version}/user/{split}/{split}.parquet``,
``OUT/OPeRA_{version}/session/{split}/{split}.parquet`` and
``OUT/OPeRA_{version}/action/{split}-00000-of-00001.parquet``, with the dataset card's columns
in its order (text columns as strings, ``action_count`` as int64, JSON columns as JSON text).
The mapping is the inverse of :mod:`behaviorlab.data._opera`'s.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from behaviorlab.data._opera import OperaData
from behaviorlab.data._opera_schema import (
    CLICK_TYPES,
    INTEGER_COLUMNS,
    SPLITS,
    TABLES,
    VERSIONS,
    OperaFormatError,
    OperaVersion,
    action_types,
    dump_json,
    format_timestamp,
    parse_timestamp,
    table_columns,
)
from behaviorlab.data._records import Dataset, Episode, Person, Step


def export_opera(
    data: OperaData | Dataset,
    out_dir: str | Path,
    *,
    version: OperaVersion = "filtered",
    overwrite: bool = False,
) -> Path:
    """Write ``data`` as OPeRA's user, session and action tables; return ``OUT/OPeRA_{version}``.

    A session goes to the split in ``OperaData.session_splits`` (or ``Episode.meta["split"]``,
    else ``train``); a user to every split in ``OperaData.user_splits`` (or
    ``Person.meta["splits"]``, else the splits of the user's sessions). ``train`` and ``test``
    always get all three tables, empty where they have no rows. Records that OPeRA cannot hold
    (an action type outside the version, a click without a known ``click_type``, a step
    without a timestamp, a session id that does not start with ``{user_id}_``) raise
    :class:`OperaFormatError` before anything is written.
    """
    if version not in VERSIONS:
        raise ValueError(f"OPeRA version must be 'filtered' or 'full', not {version!r}")
    dataset = data.dataset if isinstance(data, OperaData) else data
    session_split = {e.episode_id: _episode_split(data, e) for e in dataset.episodes}
    rows: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for split in SPLITS:
        for table in TABLES:
            rows[(table, split)] = []
    for person in dataset.persons.values():
        for split in _person_splits(data, person, session_split):
            rows.setdefault(("user", split), []).append(_user_row(person))
    for episode in dataset.episodes:
        split = session_split[episode.episode_id]
        rows.setdefault(("session", split), []).append(_session_row(episode))
        actions = rows.setdefault(("action", split), [])
        actions.extend(_action_row(episode, step, version) for step in episode.steps)
    for split in {s for _, s in rows}:
        for table in TABLES:
            rows.setdefault((table, split), [])

    root = Path(out_dir) / f"OPeRA_{version}"
    if root.exists() and any(root.iterdir()):
        if not overwrite:
            raise FileExistsError(
                f"{str(root)!r} already holds files; pass overwrite=True to replace them"
            )
        shutil.rmtree(root)
    for (table, split), table_rows in sorted(rows.items()):
        _write(root / _relative_path(table, split), table_columns(table, version), table_rows)
    return root


def _relative_path(table: str, split: str) -> str:
    if table == "action":
        return f"action/{split}-00000-of-00001.parquet"
    return f"{table}/{split}/{split}.parquet"


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(c, pa.int64() if c in INTEGER_COLUMNS else pa.string()) for c in columns])
    table = pa.table({c: [r[c] for r in rows] for c in columns}, schema=schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")


def _episode_split(data: OperaData | Dataset, episode: Episode) -> str:
    if isinstance(data, OperaData) and episode.episode_id in data.session_splits:
        return data.session_splits[episode.episode_id]
    return str(episode.meta.get("split", "train"))


def _person_splits(
    data: OperaData | Dataset, person: Person, session_split: dict[str, str]
) -> Iterable[str]:
    if isinstance(data, OperaData) and person.person_id in data.user_splits:
        return data.user_splits[person.person_id]
    if "splits" in person.meta:
        return [str(s) for s in person.meta["splits"]]
    dataset = data.dataset if isinstance(data, OperaData) else data
    found = [session_split[e.episode_id] for e in dataset.episodes_of(person.person_id)]
    return list(dict.fromkeys(found)) or ["train"]


def _dumped(values: dict[str, Any], key: str) -> str | None:
    return dump_json(values[key]) if key in values else None


def _user_row(person: Person) -> dict[str, Any]:
    m = person.meta
    return {
        "user_id": person.person_id,
        "survey": _dumped(m, "survey"),
        "raw_survey": _dumped(m, "raw_survey"),
        "interview_transcript": m.get("interview_transcript"),
        "interview_transcript_processed": person.text,
    }


def _session_row(episode: Episode) -> dict[str, Any]:
    if not episode.episode_id.startswith(f"{episode.person_id}_"):
        raise OperaFormatError(
            f"cannot export session {episode.episode_id!r}: OPeRA session ids are "
            f"{{user_id}}_{{start_time}}_{{end_time}} and this one does not start with "
            f"{episode.person_id!r}_",
            table="session",
            column="session_id",
            reason="mismatched_user",
        )
    count = episode.meta.get("action_count", len(episode.steps))
    return {"session_id": episode.episode_id, "user_id": episode.person_id, "action_count": count}


def _timestamp(episode: Episode, step: Step) -> str:
    if step.timestamp is None:
        raise OperaFormatError(
            f"cannot export step {step.step_id!r} of session {episode.episode_id!r}: "
            "it has no timestamp, which OPeRA requires",
            table="action",
            column="timestamp",
            reason="missing_value",
        )
    raw = step.meta.get("raw_timestamp")
    if isinstance(raw, str):
        try:
            if parse_timestamp(raw) == step.timestamp:
                return raw
        except ValueError:
            pass
    return format_timestamp(step.timestamp)


def _rationale(step: Step) -> str | None:
    text = step.rationale.text if step.rationale else ""
    if "raw_rationale" in step.meta:
        raw = step.meta["raw_rationale"]
        if (raw.strip() if isinstance(raw, str) else "") == text:
            return raw  # type: ignore[no-any-return]
    return text


def _action_row(episode: Episode, step: Step, version: OperaVersion) -> dict[str, Any]:
    obs, act = step.observation, step.action
    a, om = act.attributes, obs.meta
    allowed = action_types(version)
    where = f"step {step.step_id!r} of session {episode.episode_id!r}"
    if act.action_type not in allowed:
        raise OperaFormatError(
            f"cannot export {where} as the {version} version: action_type "
            f"{act.action_type!r} is not one of {', '.join(allowed)}",
            table="action",
            column="action_type",
            reason="unknown_action_type",
        )
    click = a.get("click_type")
    if (act.action_type == "click" or click not in (None, "")) and click not in CLICK_TYPES:
        raise OperaFormatError(
            f"cannot export {where}: click_type {click!r} is not one of {', '.join(CLICK_TYPES)}",
            table="action",
            column="click_type",
            reason="unknown_click_type",
        )
    return {
        "session_id": episode.episode_id,
        "action_id": step.step_id,
        "timestamp": _timestamp(episode, step),
        "action_type": act.action_type,
        "navigation_type": a.get("navigation_type"),
        "click_type": click,
        "semantic_id": act.target,
        "target": a.get("target"),
        "mouse_position": _dumped(a, "mouse_position"),
        "element_meta": _dumped(a, "element_meta"),
        "url": obs.url,
        "window_size": _dumped(om, "window_size"),
        "page_meta": _dumped(om, "page_meta"),
        "simplified_html": None if om.get("html_missing") else obs.content,
        "simplified_html_new_page": a.get("simplified_html_new_page"),
        "rationale": _rationale(step),
        "products": _dumped(a, "products"),
        "scroll_detail": _dumped(a, "scroll_detail"),
        "input_text": act.value,
        "image": om.get("image"),
        "image_new_page": a.get("image_new_page"),
    }
