"""The extension's service worker (background.js) under node, with a fake ``chrome`` and a
scripted server (tests/collect/worker_harness.js): who may link it to a server, what a
change of participant does to the buffer, batches capped by bytes and split on 413, and the
config cache while offline."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
EXT = HERE.parents[1] / "src/behaviorlab/collect/extension"
NODE = shutil.which("node") or "/usr/bin/node"

pytestmark = pytest.mark.skipif(not Path(NODE).exists(), reason="node is not installed")

SERVER = "http://127.0.0.1:8765"
# a config for hosts shop.test; the server accepts every batch unless a scenario says otherwise
PRELUDE = """
const SERVER = "http://127.0.0.1:8765";
const config = (extra) => Object.assign({study_id: "s1", participant_id: "p1",
  allowed_hosts: ["shop.test"], rationale_share: 0, flush_interval_s: 0}, extra || {});
const received = [];
const accept = async (req) => {
  if (req.url.endsWith("/config")) return {status: 200, body: config()};
  const body = JSON.parse(req.body);
  received.push(...body.events.map((e) => e.event_id));
  return {status: 200, body: {accepted: body.events.length, duplicates: 0, rationales: 0}};
};
h.serve(accept);
const shop = h.page("http://shop.test/search?q=x");
const record = (i) => h.send({type: "event", event: h.event(i, shop.url)}, shop);
"""


def scenario(body: str) -> Any:
    done = subprocess.run(
        [NODE, str(HERE / "worker_harness.js"), str(EXT)],
        input=PRELUDE + body,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_a_page_cannot_relink_the_extension_or_receive_its_buffer() -> None:
    out = scenario("""
      await h.send({type: "saveSettings", server: SERVER}, h.options);  // approved by hand
      const done = h.page(SERVER + "/p/pt-good-token-1/done");
      const linked = await h.send({type: "offer", token: "pt-good-token-1", server: SERVER}, done);
      h.serve(async () => ({throws: true}));  // offline: the events wait in the buffer
      await record(1); await record(2);
      const evil = h.page("https://evil.test/landing");
      const offers = [
        await h.send({type: "offer", token: "pt-evil-token-1", server: "https://evil.test"}, evil),
        await h.send({type: "offer", token: "pt-evil-token-1"}, evil),
        // a page naming the approved server, served from elsewhere
        await h.send({type: "offer", token: "pt-evil-token-1", server: SERVER}, evil),
      ];
      const privileged = [
        await h.send({type: "saveSettings", server: "https://evil.test", token: "pt-x"}, evil),
        await h.send({type: "forget"}, evil),
        await h.send({type: "state"}, evil),
      ];
      h.serve(accept);
      await h.send({type: "flush"}, h.options);
      return {linked, offers, privileged, settings: h.storage.settings, received,
              shown: h.storage.lastOffer || null,
              hosts: [...new Set(h.requests.map((r) => new URL(r.url).host))]};
    """)
    assert out["linked"]["linked"] is True
    assert [o.get("linked") for o in out["offers"]] == [None, None, None]
    assert [p["ok"] for p in out["privileged"]] == [False, False, False]
    assert out["settings"] == {"server": SERVER, "token": "pt-good-token-1"}
    # the options page shows the hostile origin's ignored offer
    assert out["shown"]["origin"] == "https://evil.test" and out["shown"]["action"] == "ignore"
    assert out["hosts"] == ["127.0.0.1:8765"]  # nothing ever went to evil.test
    assert out["received"] == ["evt-00000001", "evt-00000002"]


def test_offers_are_taken_only_from_the_configured_server_and_their_origin_is_shown() -> None:
    out = scenario("""
      const done = h.page(SERVER + "/p/pt-good-token-1/done");
      const evil = h.page("https://evil.test/p/pt-evil-token-1/done");
      // nothing configured yet: an offer, even from the real server, is not kept to approve
      const early = await h.send({type: "offer", token: "pt-good-token-1"}, done);
      const hostile = await h.send({type: "offer", token: "pt-evil-token-1"}, evil);
      const approve = await h.send({type: "approveOffer", server: "https://evil.test"}, h.options);
      const before = {settings: h.storage.settings || null, configs: h.requests.length,
                      shown: h.storage.lastOffer};
      await h.send({type: "saveSettings", server: SERVER}, h.options);  // configured by hand
      const again = await h.send({type: "offer", token: "pt-evil-token-1"}, evil);
      const shownEvil = h.storage.lastOffer;
      const linked = await h.send({type: "offer", token: "pt-good-token-1"}, done);
      return {early, hostile, approve, before, again, shownEvil, linked,
              shown: h.storage.lastOffer, settings: h.storage.settings,
              state: await h.send({type: "state"}, h.options)};
    """)
    assert out["early"]["ok"] is False and "no study server is configured" in out["early"]["reason"]
    assert out["hostile"]["ok"] is False and out["approve"]["ok"] is False
    assert out["before"]["settings"] is None and out["before"]["configs"] == 0
    assert out["before"]["shown"]["origin"] == "https://evil.test"
    assert out["before"]["shown"]["action"] == "ignore"
    assert out["again"]["ok"] is False and SERVER in out["again"]["reason"]
    assert out["shownEvil"]["origin"] == "https://evil.test"
    assert out["linked"]["linked"] is True
    assert out["shown"]["origin"] == SERVER and out["shown"]["action"] == "accept"
    assert out["settings"] == {"server": SERVER, "token": "pt-good-token-1"}
    assert out["state"]["lastOffer"]["origin"] == SERVER  # what the options page renders


def test_a_new_participant_or_server_empties_the_buffer() -> None:
    out = scenario("""
      await h.send({type: "saveSettings", server: SERVER, token: "pt-first-token"}, h.options);
      h.serve(async () => ({throws: true}));
      await record(1); await record(2);
      const buffered = h.storage.queue.events.length;
      h.serve(accept);
      const done = h.page(SERVER + "/p/pt-second-token/done");
      await h.send({type: "offer", token: "pt-second-token"}, done);  // same server, new token
      const afterToken = {events: h.storage.queue.events.length, session: h.storage.session};
      await record(3);
      const same = await h.send({type: "offer", token: "pt-second-token"}, done);  // no change
      const kept = h.storage.queue.events.length;
      await h.send({type: "saveSettings", server: "http://10.0.0.2:9000"}, h.options);
      return {buffered, afterToken, kept, same,
              afterServer: h.storage.queue.events.length, settings: h.storage.settings};
    """)
    assert out["buffered"] == 2
    assert out["afterToken"] == {"events": 0, "session": None}
    assert out["same"]["linked"] is True and out["kept"] == 1
    assert out["afterServer"] == 0
    assert out["settings"] == {"server": "http://10.0.0.2:9000", "token": ""}


def test_batches_are_capped_by_bytes_and_split_on_413() -> None:
    out = scenario("""
      const big = (i, n) => Object.assign(h.event(i, shop.url), {simplified_html: "é".repeat(n)});
      const bodies = [];
      let limit = 0;
      h.serve(async (req) => {
        const small = config({max_body_bytes: 20000});
        if (req.url.endsWith("/config")) return {status: 200, body: small};
        const bytes = Buffer.byteLength(req.body);
        bodies.push(bytes);
        if (limit && bytes > limit) return {status: 413, body: {error: "too big"}};
        return accept(req);
      });
      await h.send({type: "saveSettings", server: SERVER, token: "pt-first-token"}, h.options);
      // 1. the config's body limit (20000 bytes): batches stay under it, no 413
      for (let i = 0; i < 12; i++) {
        await h.send({type: "event", event: big(i, 2000)}, shop);  // about 4 kB each
      }
      await h.settle();
      const capped = {bodies: bodies.splice(0), received: received.splice(0)};
      // 2. a server whose limit is smaller than it says: 413 splits the batch
      limit = 9000;
      h.serve(async (req) => {
        const bytes = Buffer.byteLength(req.body);
        bodies.push(bytes);
        if (bytes > limit) return {status: 413, body: {error: "too big"}};
        return accept(req);
      });
      for (let i = 20; i < 30; i++) await h.send({type: "event", event: big(i, 2000)}, shop);
      await h.send({type: "event", event: big(99, 6000)}, shop);  // over the limit by itself
      await h.send({type: "flush"}, h.options);
      await h.settle();
      return {capped, split: {bodies, received}, left: h.storage.queue.events.length,
              byteLimit: h.storage.sendState.byteLimit};
    """)
    capped = out["capped"]
    assert len(capped["received"]) == 12 and len(set(capped["received"])) == 12
    assert all(b <= 19000 for b in capped["bodies"]) and len(capped["bodies"]) >= 3
    split = out["split"]
    assert sorted(split["received"]) == [f"evt-{i:08d}" for i in range(20, 30)]
    assert "evt-00000099" not in split["received"]  # dropped alone, after its own 413
    assert out["left"] == 0
    assert out["byteLimit"] < 9000


def test_offline_the_config_is_asked_once_not_at_every_event() -> None:
    out = scenario("""
      await h.send({type: "saveSettings", server: SERVER, token: "pt-first-token"}, h.options);
      h.storage.configAt = 1;  // the cached config is old
      h.serve(async () => ({throws: true}));
      const before = h.requests.length;
      for (let i = 0; i < 5; i++) await record(i);
      const configs = h.requests.slice(before).filter((r) => r.url.endsWith("/config")).length;
      return {configs, buffered: h.storage.queue.events.length,
              error: h.storage.configError};
    """)
    assert out["configs"] == 1
    assert out["buffered"] == 5  # recording goes on with the last config
    assert out["error"].startswith("server unreachable")
