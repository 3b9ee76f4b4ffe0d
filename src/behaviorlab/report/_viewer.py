"""``behaviorlab view``: a local web viewer of the runs in a folder and their reports.

``create_app(runs_dir)`` is a FastAPI app: ``/`` lists the runs (name, run id, status, trials,
created), ``/runs/NAME`` serves the run's ``report.html`` (written on first request, and again
when the results changed since; cached on disk next to the results), ``/runs/NAME/report.md``
the Markdown summary, and ``/api/runs`` the list as JSON. It reads results read-only and has no
authentication: serve it on the loopback interface (the default).

A run whose results file is broken (empty, cut, not a behaviorlab store) is listed with
``unreadable: <why and what to do>``, and its pages answer 409 with that message; the other
runs are served as usual.

``/chat`` talks to a twin of any person of a registered dataset or of a run's data, with any
backend; the conversations are kept in their own store (``chat_dir``, by default
``RUNS/_chat/``), never in a run's (:mod:`behaviorlab.report._chat_routes`).
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse

from behaviorlab.report._chat import ChatService
from behaviorlab.report._chat_dialogue import Dialogues
from behaviorlab.report._chat_routes import allowed_hosts, chat_router
from behaviorlab.report._chat_routes import guard as host_guard
from behaviorlab.report._html import render_page
from behaviorlab.report._rating import rating_router
from behaviorlab.report._report import HTML_NAME, MARKDOWN_NAME, write_report
from behaviorlab.runs import open_run
from behaviorlab.store import ResultStore, StoreError

RESULTS_NAME = "results.sqlite"


@dataclass(frozen=True)
class RunInfo:
    """One run folder as the viewer lists it. ``report`` is ``ready``, ``stale`` (the results
    changed since it was written) or ``missing``; ``status`` is the runner's, or
    ``unreadable: ...`` when the results file could not be read."""

    name: str
    run_id: str
    status: str
    trials: int
    created_at: str
    report: str
    url: str


def results_mtime(folder: Path) -> float:
    """When the results last changed: in WAL mode SQLite commits to ``results.sqlite-wal``
    and copies into ``results.sqlite`` later, so the newer of the two counts."""
    paths = (folder / RESULTS_NAME, folder / f"{RESULTS_NAME}-wal")
    return max(p.stat().st_mtime for p in paths if p.exists())


def report_state(folder: Path) -> str:
    """``ready``, ``stale`` (older than the results) or ``missing``."""
    html = folder / HTML_NAME
    if not html.exists():
        return "missing"
    return "ready" if html.stat().st_mtime >= results_mtime(folder) else "stale"


def run_folders(runs_dir: Path) -> list[Path]:
    """Sub-folders of ``runs_dir`` holding a results file, by name."""
    if not runs_dir.is_dir():
        return []
    return sorted(d for d in runs_dir.iterdir() if (d / RESULTS_NAME).is_file())


def run_info(folder: Path) -> RunInfo:
    url = f"/runs/{quote(folder.name)}"
    try:
        store = ResultStore(folder / RESULTS_NAME, readonly=True)
        try:
            runs = store.runs()
            if runs.empty:
                return RunInfo(folder.name, "", "empty", 0, "", "missing", url)
            latest = runs.sort_values("updated_at").iloc[-1]
            run_id = str(latest["run_id"])
            trials = store.count(run_id)
        finally:
            store.close()
    except Exception as exc:  # a half-written or foreign file: list it, say why
        return RunInfo(folder.name, "", f"unreadable: {exc}", 0, "", "missing", url)
    created = str(latest["created_at"])[:19].replace("T", " ")
    return RunInfo(
        folder.name, run_id, str(latest["status"]), trials, created, report_state(folder), url
    )


def _unknown(name: str, runs_dir: Path, folders: list[Path]) -> str:
    known = ", ".join(f.name for f in folders) or "none"
    return (
        f"No run {name!r} in {str(runs_dir)!r} (runs there: {known}). A run is a folder "
        f"holding {RESULTS_NAME}; make one with `behaviorlab run SPEC --out {runs_dir}` or "
        f"`behaviorlab demo --out {runs_dir}`."
    )


REPORT_ERRORS = (StoreError, ValueError, LookupError, FileNotFoundError)
"""What stops one run's report (a broken results file among them): answered as that run's
409 page, never a 500, and the other runs are still served."""


def _cannot(name: str, exc: BaseException) -> str:
    return f"Could not build the report of {name!r}: {exc}"


def create_app(
    runs_dir: str | Path = "runs",
    *,
    n_resamples: int = 2000,
    chat_dir: str | Path | None = None,
    host: str = "127.0.0.1",
) -> FastAPI:
    """The viewer of the runs under ``runs_dir``; reports are written with ``n_resamples``
    bootstrap resamples when missing or stale; conversations are stored under ``chat_dir``
    (default ``runs_dir/_chat``). ``host`` is the interface it is served on: the chat answers
    only requests naming it (or loopback) in their ``Host`` header, as every page does."""
    root = Path(runs_dir)
    guard = threading.Lock()
    locks: dict[str, threading.Lock] = {}
    chat = ChatService(root, chat_dir, run_folders=run_folders)
    dialogues = Dialogues(chat)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await dialogues.aclose()
        await chat.aclose()

    app = FastAPI(
        title="behaviorlab viewer",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
        # every page answers only requests naming this viewer (a DNS-rebinding page cannot
        # read the run reports either), and a POST only from its own origin
        dependencies=[Depends(host_guard(allowed_hosts(host)))],
    )
    app.state.chat = chat  # the chat's service (its store, its models)
    app.include_router(chat_router(chat, dialogues, host))
    app.include_router(rating_router(root, run_folders, host))  # /rate: a person as a judge

    def page(message: str, tone: str = "plain", runs: list[RunInfo] | None = None) -> str:
        return render_page(
            "index.html.j2",
            title="behaviorlab runs",
            subtitle=f"{len(runs or [])} runs in {root.resolve()}",
            runs=runs or [],
            message=message,
            tone=tone,
        )

    def folder_of(name: str) -> Path | None:
        # only names of listed folders: no path from the URL reaches the file system
        return next((f for f in run_folders(root) if f.name == name), None)

    def fresh_report(folder: Path) -> Path:
        with guard:
            lock = locks.setdefault(folder.name, threading.Lock())
        with lock:  # one writer per run; concurrent requests wait for it
            if report_state(folder) != "ready":
                write_report(open_run(folder), folder, n_resamples=n_resamples)
        return folder / HTML_NAME

    def not_found(name: str) -> HTMLResponse:
        message = _unknown(name, root, run_folders(root))
        return HTMLResponse(page(message, "missing"), status_code=404)

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        runs = [run_info(f) for f in run_folders(root)]
        message = "" if runs else _unknown("(any)", root, [])
        return HTMLResponse(page(message, "missing" if not runs else "plain", runs))

    @app.get("/api/runs")
    def api_runs() -> list[dict[str, Any]]:
        return [asdict(run_info(f)) for f in run_folders(root)]

    @app.get("/runs/{name}", response_class=HTMLResponse)
    def report(name: str) -> HTMLResponse:
        folder = folder_of(name)
        if folder is None:
            return not_found(name)
        try:
            path = fresh_report(folder)
        except REPORT_ERRORS as exc:
            return HTMLResponse(page(_cannot(name, exc), "warning"), status_code=409)
        return HTMLResponse(path.read_text(encoding="utf-8"))

    @app.get("/runs/{name}/report.md", response_class=PlainTextResponse)
    def markdown(name: str) -> PlainTextResponse:
        folder = folder_of(name)
        if folder is None:
            return PlainTextResponse(_unknown(name, root, run_folders(root)), status_code=404)
        try:
            fresh_report(folder)
        except REPORT_ERRORS as exc:
            return PlainTextResponse(_cannot(name, exc), status_code=409)
        return PlainTextResponse(
            (folder / MARKDOWN_NAME).read_text(encoding="utf-8"),
            media_type="text/markdown; charset=utf-8",
        )

    @app.get("/api/runs/{name}")
    def api_run(name: str) -> JSONResponse:
        folder = folder_of(name)
        if folder is None:
            return JSONResponse(
                {"detail": _unknown(name, root, run_folders(root))}, status_code=404
            )
        return JSONResponse(asdict(run_info(folder)))

    return app
