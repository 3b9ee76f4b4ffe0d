"""``make_synthetic_opera``: SYNTHETIC demo data in OPeRA's exact layout, written offline.

Scripted shoppers (:mod:`._opera_shoppers`) run sessions (:mod:`._opera_session`) on a
generated shop (:mod:`._opera_pages`); the records go through :func:`export_opera`, so the
files are what the exporter writes for real data. Deterministic given the seed.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from behaviorlab.data import _opera_catalog as goods
from behaviorlab.data._opera_export import export_opera
from behaviorlab.data._opera_schema import VERSIONS, OperaVersion
from behaviorlab.data._opera_session import Session, run_session
from behaviorlab.data._opera_shoppers import make_shopper
from behaviorlab.data._records import Dataset, Episode, Step

README = "README.txt"
_MARK = "SYNTHETIC DATA"


_SPLIT_RULES = {
    "time": "each user's last session is in test, the earlier ones in train",
    "user": "the last quarter of the users (all their sessions) are in test",
}


def _iso(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S.%f}Z"


def make_synthetic_opera(
    out_dir: str | Path,
    *,
    users: int = 8,
    sessions_per_user: int = 3,
    seed: int = 0,
    version: OperaVersion = "filtered",
    split_by: Literal["time", "user"] = "time",
    rationale_rate: float = 0.1,
) -> Path:
    """Write SYNTHETIC shopping sessions in OPeRA's layout under ``out_dir``; return ``out_dir``.

    Scripted shoppers (five styles, each with a survey persona marked ``"synthetic": true``)
    browse a generated 60-product shop; the result is deterministic given ``seed``. Splits:
    ``split_by="time"`` puts each user's last session in ``test`` (users are in both user
    tables), ``"user"`` puts the last quarter of the users, all their sessions, in ``test``.
    ``README.txt`` (in ``out_dir`` and in the version's folder) says the data are synthetic.
    Existing output of this function is replaced; any other existing ``OPeRA_{version}``
    folder is an error.
    """
    if version not in VERSIONS:
        raise ValueError(f"OPeRA version must be 'filtered' or 'full', not {version!r}")
    if users < 1 or sessions_per_user < 1:
        raise ValueError("users and sessions_per_user must be at least 1")
    if split_by not in ("time", "user"):
        raise ValueError(f"split_by must be 'time' or 'user', not {split_by!r}")
    root = Path(out_dir)
    folder = root / f"OPeRA_{version}"
    marker = folder / README
    ours = marker.is_file() and marker.read_text().startswith(_MARK)
    if folder.exists() and not ours:
        raise FileExistsError(
            f"{str(folder)!r} exists and is not synthetic data written by "
            "make_synthetic_opera; choose an empty directory"
        )
    catalog = goods.make_catalog(seed)
    rng = random.Random(f"behaviorlab-opera-shoppers-{seed}")
    shoppers = [make_shopper(i, catalog, rng) for i in range(users)]
    test_users = max(1, users // 4) if users > 1 else 0
    episodes: list[Episode] = []
    splits: dict[str, list[str]] = {w.user_id: [] for w in shoppers}
    for u, who in enumerate(shoppers):
        day = datetime(2025, 3, 3, tzinfo=UTC) + timedelta(days=u)
        for k in range(sessions_per_user):
            srng = random.Random(f"behaviorlab-opera-session-{seed}-{u}-{k}")
            day += timedelta(days=srng.randint(2, 9))
            start = day.replace(
                hour=srng.randint(8, 21),
                minute=srng.randint(0, 59),
                second=srng.randint(0, 59),
                microsecond=srng.randint(0, 999) * 1000,
            )
            session = Session(who, catalog, srng, start, rationale_rate)
            run_session(session)
            end = session.now + timedelta(milliseconds=srng.randint(500, 5000))
            steps = [
                Step(index=i, **e.fields)
                for i, e in enumerate(e for e in session.events if e.only in (None, version))
            ]
            last = k == sessions_per_user - 1 and sessions_per_user > 1
            split = "test" if (last if split_by == "time" else u >= users - test_users) else "train"
            if split not in splits[who.user_id]:
                splits[who.user_id].append(split)
            episodes.append(
                Episode(
                    episode_id=f"{who.user_id}_{_iso(start)}_{_iso(end)}",
                    person_id=who.user_id,
                    kind="shopping_session",
                    started_at=start,
                    ended_at=end,
                    steps=steps,
                    meta={"action_count": len(steps), "split": split},
                )
            )
    persons = {
        w.user_id: w.person.model_copy(
            update={"meta": {**w.person.meta, "splits": sorted(splits[w.user_id], reverse=True)}}
        )
        for w in shoppers
    }
    data = Dataset(
        name="opera-synthetic",
        version=version,
        source="make_synthetic_opera",
        persons=persons,
        episodes=episodes,
        meta={"synthetic": True},
    )
    export_opera(data, root, version=version, overwrite=ours)
    text = (
        f"{_MARK}: NOT REAL PEOPLE, NOT OPeRA.\n\n"
        "Written by behaviorlab.data.make_synthetic_opera("
        f"users={users}, sessions_per_user={sessions_per_user}, seed={seed}, "
        f"split_by={split_by!r}, rationale_rate={rationale_rate}).\n"
        "Scripted shoppers with invented personas browse a generated shop (products, prices,\n"
        "reviews and pages are made up). The tables mirror the layout of the OPeRA dataset\n"
        "(NEU-HAI/OPeRA on the Hugging Face Hub) so that behaviorlab's loader, tasks and\n"
        'baselines run offline. Every survey carries "synthetic": true. Results on these\n'
        "data say nothing about real shoppers.\n"
        f"Split: {_SPLIT_RULES[split_by]}.\n"
    )
    marker.write_text(text)  # marks this folder as ours, so a rerun may replace it
    (root / README).write_text(text)
    return root
