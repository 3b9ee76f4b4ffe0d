"""``behaviorlab collect study / participant / retention`` on a SQLite store."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from behaviorlab.cli import app
from behaviorlab.collect._store import TABLES, open_store
from behaviorlab.collect._study import Participant

runner = CliRunner()


def test_study_create_list_withdraw_and_purge(tmp_path: Path) -> None:
    db = str(tmp_path / "c.sqlite")
    made = runner.invoke(
        app,
        [
            "collect",
            "study",
            "create",
            "shoes",
            "--name",
            "Shoe study",
            "--allow",
            "127.0.0.1:8000",
            "--allow",
            "shop.test",
            "--retention-days",
            "10",
            "--pii",
            "email,card",
            "--db",
            db,
        ],
    )
    assert made.exit_code == 0, made.output
    link = re.search(r"/join/shoes\?t=(\S+)", made.output)
    assert link
    store = open_store(db)
    study = store.get_study("shoes")
    assert study is not None and study.token == link[1]
    assert study.allowed_hosts == ["127.0.0.1:8000", "shop.test"]
    assert study.pii.kinds == ("email", "card") and study.retention_days == 10

    dup = runner.invoke(app, ["collect", "study", "create", "shoes", "--db", db])
    assert dup.exit_code == 2 and "already exists" in dup.output
    bad = runner.invoke(
        app, ["collect", "study", "create", "x2", "--allow", "http://x/", "--db", db]
    )
    assert bad.exit_code == 2 and "allowed_hosts" in bad.output and "host:port" in bad.output

    old = datetime.now(UTC) - timedelta(days=11)
    who = Participant(
        participant_id="pq1", study_id="shoes", token="pt-qqqqqqqqqqqqqqqq", enrolled_at=old
    )
    store.add_participant(who)
    store.record_consent(who, "text", old, old)
    rows = [(f"e{i}", "s", i, old.isoformat(), "click", "{}") for i in range(3)]
    store.add_batch(who, rows[:2], [], old)
    store.add_batch(who, rows[2:], [("e2", "why", "t")], datetime.now(UTC))

    listed = runner.invoke(app, ["collect", "study", "list", "--db", db])
    assert listed.exit_code == 0 and "Shoe study" in listed.output
    assert re.search(r"shoes .*10 d .*1 .*3", listed.output)

    purged = runner.invoke(app, ["collect", "retention", "purge", "--db", db])
    assert purged.exit_code == 0 and "purged 2 events (shoes: 2)" in purged.output
    assert [r.event_id for r in store.events_of("shoes")] == ["e2"]

    gone = runner.invoke(app, ["collect", "participant", "withdraw", "pq1", "--db", db])
    assert gone.exit_code == 0, gone.output
    assert "1 participants" in gone.output and "1 events" in gone.output
    assert store.rows_of("pq1") == {t: 0 for t in TABLES}
    again = runner.invoke(app, ["collect", "participant", "withdraw", "pq1", "--db", db])
    assert again.exit_code == 2 and "no participant 'pq1'" in again.output
    store.close()
