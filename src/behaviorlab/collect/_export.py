"""Captured events → behaviorlab records → OPeRA's parquet layout (via ``export_opera``).

- user: one per participant who consented; ``survey`` and ``raw_survey`` from the
  questionnaire (null if they skipped it).
- session: one per (participant, client ``session_id``), named
  ``{participant_id}_{first event time}_{last event time}`` (OPeRA's
  ``{user_id}_{start_time}_{end_time}``), events ordered by ``seq`` then client time.
- action: one per event; ``action_id`` is the client's ``event_id``; the rationale that
  names the event is attached to it. The **filtered** version keeps ``click``, ``input``
  and ``terminate``; the **full** version keeps every action type. Both end every session
  with a ``terminate`` action unless the participant's last event already is one: it has
  the last event's time, URL and page (the last page with HTML) and the id
  ``{last event_id}-end``.
- sessions without a single click or input are left out of the **filtered** version (they
  would be a lone ``terminate``); the full version keeps them.
- a stored event that no longer validates (stored by an older server) is skipped with a
  warning naming it, rather than failing the whole export.
- splits: ``split="time"`` puts each participant's latest session in ``test`` when they
  have two or more (the rest in ``train``); ``split="train"`` puts everything in ``train``.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from behaviorlab.collect._events import CapturedEvent
from behaviorlab.collect._printable import printable
from behaviorlab.collect._store import CaptureStore, EventRow
from behaviorlab.data._opera_export import export_opera
from behaviorlab.data._opera_schema import FILTERED_ACTION_TYPES, OperaVersion, format_timestamp
from behaviorlab.data._records import Action, Dataset, Episode, Observation, Person, Rationale, Step

Split = Literal["time", "train"]
log = logging.getLogger(__name__)


def _step(index: int, step_id: str, event: CapturedEvent, why: str | None) -> Step:
    obs_meta: dict[str, object] = {}
    if event.window_size is not None:
        obs_meta["window_size"] = event.window_size.model_dump()
    if event.page_meta:
        obs_meta["page_meta"] = event.page_meta
    if event.simplified_html is None:
        obs_meta["html_missing"] = True
    attributes: dict[str, object] = {}
    if event.click_type is not None:
        attributes["click_type"] = event.click_type
    if event.navigation_type is not None:
        attributes["navigation_type"] = event.navigation_type
    if event.mouse_position is not None:
        attributes["mouse_position"] = event.mouse_position.model_dump()
    if event.element_meta:
        attributes["element_meta"] = event.element_meta
    if event.products is not None:
        attributes["products"] = event.products
    if event.scroll_detail is not None:
        attributes["scroll_detail"] = event.scroll_detail
    return Step(
        index=index,
        step_id=step_id,
        timestamp=event.timestamp,
        observation=Observation(
            kind="page", content=event.simplified_html or "", url=event.url, meta=obs_meta
        ),
        action=Action(
            action_type=event.action_type,
            target=event.semantic_id,
            value=event.input_text,
            attributes=attributes,
        ),
        rationale=Rationale(text=why.strip()) if why and why.strip() else None,
    )


def _terminate(index: int, events: list[CapturedEvent]) -> Step:
    last = events[-1]
    page = next((e for e in reversed(events) if e.simplified_html is not None), last)
    end = CapturedEvent(
        event_id=f"{last.event_id}-end",
        session_id=last.session_id,
        seq=last.seq + 1,
        timestamp=last.timestamp,
        action_type="terminate",
        url=last.url,
        window_size=last.window_size,
        simplified_html=page.simplified_html,
        page_meta=page.page_meta,
    )
    return _step(index, end.event_id, end, None)


def _valid_events(rows: list[EventRow]) -> list[CapturedEvent]:
    events = []
    for row in rows:
        try:
            events.append(CapturedEvent.model_validate_json(row.payload))
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            log.warning(
                "skipped stored event %s of participant %s (%s: %s)",
                printable(row.event_id),
                printable(row.participant_id),
                printable(where),
                printable(first["msg"]),
            )
    return events


def capture_dataset(
    store: CaptureStore, study_id: str, version: OperaVersion = "filtered", split: Split = "time"
) -> Dataset:
    """The study's captured data as records in OPeRA's shape (see the module docstring)."""
    study = store.get_study(study_id)
    if study is None:
        known = ", ".join(s.study_id for s in store.list_studies()) or "none"
        raise LookupError(f"no study {study_id!r} in {store.url} (studies: {known})")
    whys = {(r.participant_id, r.event_id): r.rationale for r in store.rationales_of(study_id)}
    grouped: dict[tuple[str, str], list[EventRow]] = defaultdict(list)
    for row in store.events_of(study_id):
        grouped[(row.participant_id, row.session_id)].append(row)
    persons: dict[str, Person] = {}
    for p in store.participants_of(study_id):
        if p.consented_at is None:
            continue
        meta: dict[str, object] = {}
        if p.survey is not None:
            meta["survey"] = p.survey
            meta["raw_survey"] = p.raw_survey or {}
        persons[p.participant_id] = Person(person_id=p.participant_id, meta=meta)
    episodes: list[Episode] = []
    used_ids: set[str] = set()
    for (pid, _), rows in grouped.items():
        if pid not in persons:
            continue
        events = _valid_events(rows)
        if not events:
            continue
        if version == "filtered" and not any(e.action_type in ("click", "input") for e in events):
            continue  # nothing but scrolls / navigation: an empty session in this version
        events.sort(key=lambda e: (e.seq, e.timestamp))
        steps: list[Step] = []
        for event in events:
            if version == "filtered" and event.action_type not in FILTERED_ACTION_TYPES:
                continue
            step_id = (
                event.event_id if event.event_id not in used_ids else f"{pid}-{event.event_id}"
            )
            used_ids.add(step_id)
            steps.append(_step(len(steps), step_id, event, whys.get((pid, event.event_id))))
        if events[-1].action_type != "terminate":
            steps.append(_terminate(len(steps), events))
        start, end = events[0].timestamp, events[-1].timestamp
        episodes.append(
            Episode(
                episode_id=f"{pid}_{format_timestamp(start)}_{format_timestamp(end)}",
                person_id=pid,
                kind="shopping_session",
                started_at=start,
                ended_at=end,
                steps=steps,
                meta={"split": "train", "client_session_id": events[0].session_id},
            )
        )
    if split == "time":
        by_person: dict[str, list[Episode]] = defaultdict(list)
        for ep in episodes:
            by_person[ep.person_id].append(ep)
        for eps in by_person.values():
            if len(eps) > 1:
                latest = max(eps, key=lambda e: (e.started_at is not None, e.started_at))
                latest.meta["split"] = "test"
    return Dataset(
        name=f"capture-{study_id}",
        source=f"behaviorlab collect ({store.url})",
        persons=persons,
        episodes=episodes,
    )


def export_study(
    store: CaptureStore,
    study_id: str,
    out_dir: str | Path,
    *,
    versions: tuple[OperaVersion, ...] = ("filtered", "full"),
    split: Split = "time",
    overwrite: bool = False,
) -> list[Path]:
    """Write the study in OPeRA's layout under ``out_dir`` (``OPeRA_filtered``,
    ``OPeRA_full``); the folders written."""
    return [
        export_opera(
            capture_dataset(store, study_id, v, split), out_dir, version=v, overwrite=overwrite
        )
        for v in versions
    ]
