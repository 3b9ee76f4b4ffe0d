"""Rating stored trials in the viewer: a person as a judge (mounted by
:func:`behaviorlab.report._viewer.create_app`).

A family that can be rated gives a :class:`behaviorlab.plugins.RatingForm` for a stored result
row (its ``rating_form`` hook): the text to read and the questions. ``/rate`` lists the runs
whose family has one and their rateable trials (by trial id: an order that does not follow the
arms); ``/rate/RUN/TRIAL`` shows the form;
``POST /api/rate/RUN/TRIAL`` (JSON: ``rater``, ``answers``) stores one rating and ``GET
/api/rate/RUN`` lists them.

The ratings of a run are kept in their own SQLite file next to its results,
``runs/NAME/ratings.sqlite`` (WAL, ``synchronous=FULL``, one transaction per rating), never in
the results store: a file that is a symbolic link or a SQLite file of another schema is
refused. Requests pass the chat's Host and Origin checks, POSTs must be
``application/json`` (:mod:`behaviorlab.report._chat_routes`); every string is escaped
where it is shown. A new rating makes the run's cached report stale (``report.html`` is
removed and written again on the next visit), so the family's metrics read it.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from behaviorlab.plugins._family import RatingForm, family_of
from behaviorlab.report._chat_routes import allowed_hosts, guard, require_json
from behaviorlab.report._html import render_page

RATINGS_NAME = "ratings.sqlite"
RESULTS_NAME = "results.sqlite"
SCHEMA_VERSION = 1
_SETUP = threading.Lock()
"""Held while a ratings file is checked and set up (schema and version in one transaction)."""
_SCHEMA = """
CREATE TABLE IF NOT EXISTS ratings (
    rating_id INTEGER PRIMARY KEY AUTOINCREMENT,
    trial_id TEXT NOT NULL,
    rater TEXT NOT NULL,
    created_at TEXT NOT NULL,
    body TEXT NOT NULL
);
"""
RATER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$"


class RatingError(ValueError):
    """A rating that cannot be stored or read; says what to do. ``status``: the HTTP answer."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class RateBody(BaseModel):
    """What the rating page posts."""

    model_config = ConfigDict(extra="forbid")

    rater: str = Field(pattern=RATER_PATTERN, description="Who rates (a name or initials).")
    answers: dict[str, list[str] | str]


class Rating(BaseModel):
    """One stored rating of one trial."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = SCHEMA_VERSION
    run_id: str
    trial_id: str
    rater: str
    answers: dict[str, list[str] | str]
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())


def check_answers(form: RatingForm, answers: dict[str, list[str] | str]) -> dict[str, Any]:
    """The answers as stored: every question answered with its own options (a list for a
    multi-select, one option otherwise); unknown questions or options are refused."""
    known = {q.name for q in form.questions}
    extra = sorted(set(answers) - known)
    if extra:
        raise RatingError(f"unknown questions {extra}; this form asks {sorted(known)}")
    out: dict[str, Any] = {}
    for q in form.questions:
        if q.name not in answers:
            raise RatingError(f"question {q.name!r} ({q.prompt}) is not answered")
        got = answers[q.name]
        values = [got] if isinstance(got, str) else list(got)
        wrong = [v for v in values if v not in q.options]
        if wrong:
            raise RatingError(
                f"question {q.name!r}: {wrong} are not among its options {list(q.options)}"
            )
        if q.multiple:
            out[q.name] = [o for o in q.options if o in values]
        elif len(values) != 1:
            raise RatingError(f"question {q.name!r} takes exactly one of {list(q.options)}")
        else:
            out[q.name] = values[0]
    return out


class RatingStore:
    """The ratings of the run in ``folder`` (its ``ratings.sqlite``, created on first rating)."""

    def __init__(self, folder: Path) -> None:
        # absolute (not resolved: a link is refused below, never followed): sqlite's read-only
        # URI needs an absolute path, and the viewer's --out is relative ("runs") by default
        self.path = Path(folder).absolute() / RATINGS_NAME

    def _check(self) -> None:
        if self.path.is_symlink():
            raise RatingError(
                f"{str(self.path)!r} is a symbolic link (to {str(self.path.resolve())!r}); "
                "ratings are written only to their own file: remove the link",
                409,
            )
        if not self.path.exists():
            return
        try:
            with closing(sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)) as db:
                tables = {
                    r[0]
                    for r in db.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table' "
                        "AND name NOT LIKE 'sqlite_%'"
                    )
                }
                version = int(db.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise RatingError(
                f"{str(self.path)!r} is not a ratings file ({exc}); move it away", 409
            ) from None
        if tables and (tables != {"ratings"} or version != SCHEMA_VERSION):
            raise RatingError(
                f"{str(self.path)!r} is not a ratings file (tables {sorted(tables)}, "
                f"user_version {version}); move it away",
                409,
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # one writer at a time sets the file up: two first ratings at once would otherwise see
        # the table before its user_version (a wrong "not a ratings file") or race the switch
        # to WAL ("database is locked")
        with _SETUP:
            self._check()
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.execute("BEGIN IMMEDIATE")
                db.execute(_SCHEMA)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                db.execute("COMMIT")
            except BaseException:
                db.close()
                raise
        with closing(db):
            yield db

    def add(self, rating: Rating) -> int:
        """Store one rating in one transaction; its id."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            cur = db.execute(
                "INSERT INTO ratings (trial_id, rater, created_at, body) VALUES (?, ?, ?, ?)",
                (rating.trial_id, rating.rater, rating.created_at, rating.model_dump_json()),
            )
            db.execute("COMMIT")
            return int(cur.lastrowid or 0)

    def ratings(self) -> list[Rating]:
        """Every rating, oldest first (none when the file is absent)."""
        if not self.path.exists() and not self.path.is_symlink():
            return []
        self._check()
        with closing(sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT body FROM ratings ORDER BY rating_id").fetchall()
        return [Rating.model_validate_json(r[0]) for r in rows]


def read_ratings(folder: str | Path, run_id: str | None = None) -> list[Rating]:
    """The ratings stored for the run in ``folder``, oldest first (none: no
    ``ratings.sqlite``); with ``run_id``, only that run's (a results file may hold an earlier
    run of the same name, whose trial ids can be the same but whose transcripts differ)."""
    found = RatingStore(Path(folder)).ratings()
    return found if run_id is None else [r for r in found if r.run_id == run_id]


def latest_by_rater(ratings: list[Rating]) -> dict[tuple[str, str], Rating]:
    """The last rating of each (trial, rater): a person rating a trial again replaces it."""
    return {(r.trial_id, r.rater): r for r in ratings}


def _rateable(folder: Path) -> tuple[str, list[tuple[dict[str, Any], RatingForm]], bool]:
    """The run id, the (row, form) of every trial of the run that can be rated, and whether
    any family of the run has a rating form."""
    from behaviorlab.runs import open_run

    run = open_run(folder)
    frame = run.to_pandas()
    out: list[tuple[dict[str, Any], RatingForm]] = []
    if "task" not in frame.columns:
        return run.run_id, out, False
    forms = {}
    for task in frame["task"].dropna().unique():
        fam = family_of(str(task))
        if fam is not None and fam.rating_form is not None:
            forms[str(task)] = fam.rating_form
    if forms:
        for record in frame.to_dict(orient="records"):
            row = {str(k): v for k, v in record.items()}
            make = forms.get(str(row.get("task")))
            form = make(row) if make is not None else None
            if form is not None:
                out.append((row, form))
    return run.run_id, out, bool(forms)


def rating_router(
    root: Path, run_folders: Callable[[Path], list[Path]], host: str = "127.0.0.1"
) -> APIRouter:
    """The rating pages and API over the runs under ``root`` (module docstring)."""
    router = APIRouter(dependencies=[Depends(guard(allowed_hosts(host)))])

    def folder_of(name: str) -> Path:
        found = next((f for f in run_folders(root) if f.name == name), None)
        if found is None:
            raise RatingError(f"no run {name!r} under {str(root)!r}; the list is at /rate", 404)
        return found

    def trial_of(name: str, trial_id: str) -> tuple[Path, str, dict[str, Any], RatingForm]:
        folder = folder_of(name)
        run_id, rows, _ = _rateable(folder)
        for row, form in rows:
            if str(row.get("trial_id")) == trial_id:
                return folder, run_id, row, form
        raise RatingError(
            f"run {name!r} has no rateable trial {trial_id!r}; its trials are at /rate", 404
        )

    def page(status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("message", "")
        html = render_page("rating.html.j2", title="behaviorlab ratings", **context)
        return HTMLResponse(html, status_code=status)

    @router.get("/rate", response_class=HTMLResponse)
    def rate_index() -> HTMLResponse:
        runs: list[dict[str, Any]] = []
        for folder in run_folders(root):
            try:
                run_id, rows, rated = _rateable(folder)
                if not rated:
                    continue
                done = latest_by_rater(read_ratings(folder, run_id))
            except Exception as exc:  # a broken run is listed with why, the others served
                runs.append({"name": folder.name, "trials": [], "error": str(exc)})
                continue
            trials = [
                {
                    "trial_id": str(row["trial_id"]),
                    "title": form.title,
                    "ratings": sum(1 for t, _ in done if t == str(row["trial_id"])),
                }
                for row, form in sorted(rows, key=lambda rf: str(rf[0]["trial_id"]))
            ]
            runs.append({"name": folder.name, "trials": trials, "error": ""})
        message = "" if runs else "No run here has trials to rate."
        return page(
            mode="index",
            subtitle=f"rate stored trials · runs in {root}",
            runs=runs,
            message=message,
        )

    @router.get("/rate/{name}/{trial_id}", response_class=HTMLResponse)
    def rate_page(name: str, trial_id: str) -> HTMLResponse:
        try:
            _, _, _, form = trial_of(name, trial_id)
        except RatingError as exc:
            return page(mode="missing", subtitle="", message=str(exc), status=exc.status)
        questions = [
            {"name": q.name, "prompt": q.prompt, "options": list(q.options), "multiple": q.multiple}
            for q in form.questions
        ]
        return page(
            mode="form",
            subtitle=f"{name} · trial {trial_id}",
            form={"title": form.title, "text": form.text},
            questions=questions,
            data={"url": f"/api/rate/{name}/{trial_id}"},
        )

    @router.post("/api/rate/{name}/{trial_id}", dependencies=[Depends(require_json)])
    def api_rate(name: str, trial_id: str, body: RateBody) -> JSONResponse:
        try:
            folder, run_id, _, form = trial_of(name, trial_id)
            answers = check_answers(form, body.answers)
            rating = Rating(run_id=run_id, trial_id=trial_id, rater=body.rater, answers=answers)
            rating_id = RatingStore(folder).add(rating)
        except RatingError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=exc.status)
        from behaviorlab.report._report import HTML_NAME

        (folder / HTML_NAME).unlink(missing_ok=True)  # the report reads the ratings again
        return JSONResponse(
            {"rating_id": rating_id, **rating.model_dump(mode="json")}, status_code=201
        )

    @router.get("/api/rate/{name}")
    def api_ratings(name: str) -> JSONResponse:
        try:
            found = read_ratings(folder_of(name))
        except RatingError as exc:
            return JSONResponse({"detail": str(exc)}, status_code=exc.status)
        return JSONResponse([r.model_dump(mode="json") for r in found])

    return router
