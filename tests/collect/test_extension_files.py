"""The extension loads unpacked: a valid Manifest V3 whose files exist, parse, and are packaged."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from behaviorlab.collect._events import API_PREFIX, MAX_BATCH_EVENTS

EXT = Path(__file__).resolve().parents[2] / "src/behaviorlab/collect/extension"


def test_manifest_is_mv3_and_names_existing_files() -> None:
    manifest = json.loads((EXT / "manifest.json").read_text())
    assert manifest["manifest_version"] == 3
    named = [manifest["background"]["service_worker"], manifest["options_ui"]["page"]]
    for script in manifest["content_scripts"]:
        named += script["js"]
        assert all(m.startswith(("http://", "https://")) for m in script["matches"])
    assert named == ["background.js", "options.html", "lib.js", "content.js"]
    for name in named:
        assert (EXT / name).is_file(), name
    # the buffer may outgrow chrome.storage.local's 10 MB default while offline
    assert "unlimitedStorage" in manifest["permissions"]
    # package data covers extension/* and extension/*/*: nothing deeper
    assert all(len(p.relative_to(EXT).parts) <= 2 for p in EXT.rglob("*") if p.is_file())


def test_service_worker_speaks_the_wire_contract() -> None:
    worker = (EXT / "background.js").read_text()
    assert f'const API = "{API_PREFIX}";' in worker
    assert f"const MAX_BATCH = {MAX_BATCH_EVENTS};" in worker
    assert 'importScripts("lib.js")' in worker
    # a batch may take the server tens of seconds under a burst (docs/collect.md: p99 23 s)
    timeout = re.search(r"const SEND_TIMEOUT_MS = (\d+);", worker)
    assert timeout and int(timeout[1]) >= 60_000


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_every_script_parses() -> None:
    for script in sorted(EXT.glob("*.js")):
        done = subprocess.run(
            ["node", "--check", str(script)], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"{script.name}: {done.stderr}"
