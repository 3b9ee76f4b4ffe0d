"""``behaviorlab collect ...``: the capture system's commands (issue 5)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:
    from behaviorlab.collect._store import CaptureStore

collect_app = typer.Typer(
    name="collect",
    help="Capture real people's behavior: ingest server, demo shop, export to OPeRA's layout.",
    no_args_is_help=True,
)
study_app = typer.Typer(help="Create and list studies.", no_args_is_help=True)
participant_app = typer.Typer(
    help="Participants: withdraw one (deletes their data).", no_args_is_help=True
)
retention_app = typer.Typer(
    help="Delete data older than each study's retention.", no_args_is_help=True
)
collect_app.add_typer(study_app, name="study")
collect_app.add_typer(participant_app, name="participant")
collect_app.add_typer(retention_app, name="retention")

console = Console()
err_console = Console(stderr=True)

DEFAULT_DB = "capture.sqlite"
DbOpt = Annotated[
    str,
    typer.Option(
        "--db",
        envvar="BEHAVIORLAB_CAPTURE_DB",
        help="The store: a SQLite file (default capture.sqlite) or a postgresql:// URL.",
    ),
]


def _text(message: object) -> Text:
    """``message`` as plain text: control characters escaped, no rich markup read."""
    from behaviorlab.collect._printable import printable

    return Text(printable(message))


def _say(message: object) -> None:
    console.print(_text(message), highlight=False, soft_wrap=True)


def _fail(message: object) -> NoReturn:
    err_console.print(
        Text.assemble(("error:", "bold red"), " ", _text(message)), highlight=False, soft_wrap=True
    )
    raise typer.Exit(2)


def _store(db: str) -> CaptureStore:
    from behaviorlab.collect._store import StoreUnavailable, open_store

    try:
        return open_store(db)
    except (ImportError, StoreUnavailable) as err:
        _fail(err)


@collect_app.command("serve")
def serve(
    db: DbOpt = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
    max_body_bytes: Annotated[int, typer.Option(help="Largest request body accepted.")] = 8
    * 1024
    * 1024,
    rate: Annotated[float, typer.Option(help="Batches per second per participant.")] = 20.0,
    burst: Annotated[int, typer.Option(help="Batches a participant may send at once.")] = 60,
    api_docs: Annotated[
        bool, typer.Option(help="Serve /docs and /openapi.json (off: they map the API).")
    ] = False,
    workers: Annotated[
        int, typer.Option(help="Processes that clean batches (0: the server's threads).")
    ] = 0,
    queue: Annotated[
        int, typer.Option(help="Batches in progress at once; one more is answered 503.")
    ] = 64,
) -> None:
    """Run the ingest server (events API, enrolment pages, questionnaire)."""
    import uvicorn

    from behaviorlab.collect._server import RateLimit, create_app
    from behaviorlab.collect._store import StoreUnavailable

    try:
        app = create_app(
            _store(db),
            max_body_bytes=max_body_bytes,
            rate_limit=RateLimit(per_second=rate, burst=burst),
            api_docs=api_docs,
            workers=workers,
            queue_size=queue,
        )
    except StoreUnavailable as err:
        _fail(f"not starting: {err}")
    _say(f"ingest server on http://{host}:{port}  (store: {db})")
    # a long keep-alive: a busy server must not close a connection a client is reusing
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_keep_alive=65)


@study_app.command("create")
def study_create(
    study_id: Annotated[str, typer.Argument(help="Short id: letters, digits, hyphens.")],
    name: Annotated[str, typer.Option(help="Shown to participants.")] = "",
    allow: Annotated[
        list[str] | None,
        typer.Option("--allow", help="A host (host or host:port) to record on; repeatable."),
    ] = None,
    rationale_share: Annotated[float, typer.Option(help="Share of actions asked why.")] = 0.1,
    retention_days: Annotated[
        int | None, typer.Option(help="Delete events this many days after they arrive.")
    ] = None,
    questionnaire: Annotated[
        Path | None, typer.Option(help="Questionnaire YAML (default: the bundled one).")
    ] = None,
    pii: Annotated[
        str, typer.Option(help="Kinds of PII to mask, comma-separated (or 'none').")
    ] = "email,phone,card,address",
    base_url: Annotated[str, typer.Option(help="The server's public URL, for the link.")] = (
        "http://127.0.0.1:8765"
    ),
    db: DbOpt = DEFAULT_DB,
) -> None:
    """Create a study; prints its join link."""
    from pydantic import ValidationError

    from behaviorlab.collect._pii import PiiConfig
    from behaviorlab.collect._questionnaire import load_questionnaire
    from behaviorlab.collect._study import Study

    kinds = [] if pii.strip() == "none" else [k.strip() for k in pii.split(",") if k.strip()]
    try:
        q = load_questionnaire(questionnaire) if questionnaire else None
        study = Study(
            study_id=study_id,
            name=name or study_id,
            allowed_hosts=allow or [],
            rationale_share=rationale_share,
            retention_days=retention_days,
            questionnaire=q.model_dump() if q else None,
            pii=PiiConfig.model_validate({"kinds": kinds}),
        )
    except ValidationError as err:
        first = err.errors()[0]
        _fail(f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    except (ValueError, FileNotFoundError) as err:
        _fail(err)
    store = _store(db)
    try:
        store.create_study(study)
    except ValueError as err:
        _fail(err)
    finally:
        store.close()
    _say(f"study {study.study_id} created in {db}")
    _say(f"join link: {base_url.rstrip('/')}/join/{study.study_id}?t={study.token}")


@study_app.command("list")
def study_list(db: DbOpt = DEFAULT_DB) -> None:
    """List the studies with their participants and events."""
    from rich.table import Table

    store = _store(db)
    table = Table("study", "name", "hosts", "retention", "participants", "events")
    for s in store.list_studies():
        table.add_row(
            _text(s.study_id),
            _text(s.name),
            _text(", ".join(s.allowed_hosts)),
            f"{s.retention_days} d" if s.retention_days else "-",
            str(len(store.participants_of(s.study_id))),
            str(len(store.events_of(s.study_id))),
        )
    store.close()
    console.print(table)


@participant_app.command("withdraw")
def participant_withdraw(
    participant_id: Annotated[str, typer.Argument(help="The participant id (p...).")],
    db: DbOpt = DEFAULT_DB,
    wait: Annotated[
        float, typer.Option(help="Seconds to keep retrying to get the rows off disk.")
    ] = 10.0,
) -> None:
    """Delete everything recorded about one participant."""
    import time

    store = _store(db)
    try:
        if store.participant(pid=participant_id) is None:
            _fail(f"no participant {participant_id!r} in {db}")
        done = store.withdraw(participant_id)
        deadline = time.monotonic() + wait
        while not done.done and time.monotonic() < deadline:
            time.sleep(0.5)
            done = replace(done, done=store.scrub())
    finally:
        store.close()
    parts = ", ".join(f"{n} {t}" for t, n in done.deleted.items())
    _say(f"withdrew {participant_id}: deleted {parts}")
    if not done.done:
        _say(
            f"pending: a reader of {db} keeps the deleted rows in its write-ahead log; they "
            "leave the disk once it closes, at the running ingest server's next try"
        )


@retention_app.command("purge")
def retention_purge(db: DbOpt = DEFAULT_DB) -> None:
    """Delete data past each study's retention_days: events and rationales by receipt time,
    then participants with nothing left (the server also does this at start and hourly)."""
    from behaviorlab.collect._study import utc_now

    store = _store(db)
    try:
        purged = store.purge_expired(utc_now())
    finally:
        store.close()
    total = sum(purged.values())
    detail = ", ".join(f"{s}: {n}" for s, n in purged.items()) or "no study has a retention"
    _say(f"purged {total} events ({detail})")


@collect_app.command("export")
def export(
    out: Annotated[Path, typer.Argument(help="Folder to write OPeRA_filtered/ and OPeRA_full/.")],
    study: Annotated[str, typer.Option("--study", help="The study id.")],
    fmt: Annotated[str, typer.Option("--format", help="Only 'opera'.")] = "opera",
    version: Annotated[str, typer.Option(help="filtered, full or both.")] = "both",
    split: Annotated[
        str,
        typer.Option(help="time: each person's latest session in test; train: all in train."),
    ] = "time",
    overwrite: Annotated[bool, typer.Option(help="Replace an existing export.")] = False,
    db: DbOpt = DEFAULT_DB,
) -> None:
    """Write a study's data in OPeRA's parquet layout (user, session, action tables)."""
    from behaviorlab.collect._export import export_study
    from behaviorlab.data._opera_schema import OperaVersion

    if fmt != "opera":
        _fail(f"unknown format {fmt!r}; the only format is 'opera'")
    versions: dict[str, tuple[OperaVersion, ...]] = {
        "both": ("filtered", "full"),
        "filtered": ("filtered",),
        "full": ("full",),
    }
    if version not in versions or split not in ("time", "train"):
        _fail("--version is filtered, full or both; --split is time or train")
    if not Path(db).exists() and not db.startswith(("postgresql://", "postgres://")):
        _fail(f"no store at {db!r}; pass --db (the file `collect serve` wrote)")
    store = _store(db)
    try:
        roots = export_study(
            store,
            study,
            out,
            versions=versions[version],
            split="time" if split == "time" else "train",
            overwrite=overwrite,
        )
    except (LookupError, FileExistsError, ValueError) as err:
        _fail(err)
    finally:
        store.close()
    for root in roots:
        _say(f"wrote {root}")
    _say(f"read back: behaviorlab.data.load_opera({str(out)!r})")


@collect_app.command("shop")
def shop(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Run the demo shop to try the capture on."""
    from behaviorlab.collect._shop import serve_shop

    _say(f"demo shop on http://{host}:{port}")
    serve_shop(host, port)
