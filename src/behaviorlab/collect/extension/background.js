// behaviorlab capture: the service worker. It keeps the approved server, the participant's
// token and config, numbers events within browsing sessions, buffers them in
// chrome.storage.local (unlimitedStorage) and sends them to the ingest server as EventBatch
// (POST /api/v1/events) in batches capped by count and bytes, retrying with backoff while the
// server is unreachable. Nothing is recorded before GET /api/v1/config succeeds (the server
// refuses it until the participant has consented). Only the extension's own pages (options)
// change the server; a web page can only offer a token, which is taken only from the
// configured server's origin (BL.handoverDecision); there is no offer to approve.
importScripts("lib.js");
const BL = self.BehaviorLab;

const API = "/api/v1";
const MAX_BATCH = 200; // collect/_events.py MAX_BATCH_EVENTS
const SESSION_IDLE_MS = 30 * 60 * 1000; // a new browsing session after 30 idle minutes
const CONFIG_MAX_AGE_MS = 60 * 1000;
const PROMPT_MAX_AGE_MS = 2 * 60 * 1000;
// A loaded server answers a batch in tens of seconds (p99 23 s in bench/ingest_burst.py);
// a batch cut off early is sent again (harmless: the server is idempotent, but wasteful).
const CONFIG_TIMEOUT_MS = 30000;
const SEND_TIMEOUT_MS = 90000;
const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024; // the server's default; config says its own
const MIN_BATCH_BYTES = 1024;

// Storage keys: settings {server, token} (server: the origin the participant approved),
// lastOffer {origin, action, reason, at} (the last page that offered a token, shown in the
// options page; only the configured server's origin is ever accepted),
// config (ParticipantConfig) + configAt, queue {events, rationales}, session {id, seq, last},
// prompt {event_id, label, at}, sendState {failures, nextAt, lastError, lastOk, sent,
// byteLimit}.
const get = (keys) => chrome.storage.local.get(keys);
const set = (items) => chrome.storage.local.set(items);

// One change to the stored state at a time (messages arrive concurrently).
let chain = Promise.resolve();
function locked(fn) {
  const run = chain.then(fn, fn);
  chain = run.catch(() => undefined);
  return run;
}

async function timedFetch(url, init, timeoutMs) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetch(url, Object.assign({ signal: controller.signal }, init));
  } finally {
    clearTimeout(timer);
  }
}

async function fetchConfig() {
  const { settings } = await get("settings");
  if (!settings || !settings.server || !settings.token) return null;
  try {
    const r = await timedFetch(settings.server + API + "/config", {
      headers: { Authorization: "Bearer " + settings.token },
    }, CONFIG_TIMEOUT_MS);
    if (r.ok) {
      const config = await r.json();
      await set({ config: config, configAt: Date.now(), configError: null });
      return config;
    }
    // 403 before consent, 401 for an unknown (withdrawn) token: record nothing
    const body = await r.text();
    await set({ config: null, configAt: Date.now(), configError: r.status + " " + body.slice(0, 300) });
    return null;
  } catch (e) {
    // server unreachable: keep the last config (recording goes on, events are buffered) and
    // ask again only after CONFIG_MAX_AGE_MS (not at every event)
    const { config } = await get("config");
    await set({ configAt: Date.now(), configError: "server unreachable: " + e });
    return config || null;
  }
}

async function currentConfig() {
  const { config, configAt } = await get(["config", "configAt"]);
  if (configAt && Date.now() - configAt < CONFIG_MAX_AGE_MS) return config || null;
  return fetchConfig();
}

// Link to a server and participant; when either changes, everything buffered or cached for
// the previous one is dropped (it must not be sent with the new token, nor to a new server).
async function link(server, token) {
  const next = { server: String(server || "").replace(/\/+$/, ""), token: String(token || "").trim() };
  await locked(async () => {
    const { settings } = await get("settings");
    if (!BL.participantChanged(settings, next)) return;
    await set({
      settings: next,
      config: null,
      configAt: 0,
      configError: null,
      queue: { events: [], rationales: [] },
      session: null,
      prompt: null,
      sendState: { failures: 0, nextAt: 0, sent: 0 },
    });
  });
  const config = next.token ? await fetchConfig() : null;
  broadcast({ type: "config_changed" });
  return config;
}

// The extension's own pages (options / popup): the only senders that may change settings.
function fromExtensionPage(sender) {
  const base = chrome.runtime.getURL("");
  return Boolean(sender && sender.id === chrome.runtime.id && sender.url && sender.url.startsWith(base));
}

function allowed(config, url) {
  try {
    const u = new URL(url);
    return Boolean(config) && BL.hostAllowed(u.hostname, u.port, config.allowed_hosts);
  } catch (e) {
    return false;
  }
}

async function broadcast(message) {
  const tabs = await chrome.tabs.query({});
  for (const tab of tabs) {
    chrome.tabs.sendMessage(tab.id, message).catch(() => undefined);
  }
}

// Takes the lock at once (before any await), so events are numbered in arrival order and a
// page loaded right after a click sees that click's rationale prompt.
function enqueue(event, label) {
  return locked(async () => {
    const config = await currentConfig();
    if (!allowed(config, event && event.url)) return false;
    const now = Date.now();
    let { session, queue, prompt } = await get(["session", "queue", "prompt"]);
    if (!session || now - session.last > SESSION_IDLE_MS) {
      session = { id: "s" + now.toString(36) + "-" + crypto.randomUUID().slice(0, 8), seq: 0, last: now };
    }
    event.session_id = session.id;
    event.seq = session.seq;
    session.seq += 1;
    session.last = now;
    queue = queue || { events: [], rationales: [] };
    queue.events.push(event);
    const askable = event.action_type === "click" || event.action_type === "input";
    const ask = askable && Math.random() < (config.rationale_share || 0);
    if (ask) prompt = { event_id: event.event_id, label: label || "", at: now };
    await set({ session: session, queue: queue, prompt: prompt || null });
    return ask;
  });
}

function addRationale(eventId, text) {
  return locked(async () => {
    let { queue } = await get("queue");
    queue = queue || { events: [], rationales: [] };
    queue.rationales.push({ event_id: eventId, rationale: text, timestamp: new Date().toISOString() });
    await set({ queue: queue, prompt: null });
  });
}

// Sending. One flush at a time; a batch is at most MAX_BATCH items and at most the server's
// body limit (config.max_body_bytes, and the smaller limit learned from a 413) in bytes.
// Acknowledged items leave the queue; a 413 splits the batch (half the bytes next time) and
// drops only a single item that is over the limit by itself; a batch the server rejects for
// good (400/422, or 403 naming events from hosts it does not record) drops the items it
// names (all of the batch when it names none); network errors, 5xx and 429 are retried after
// BL.backoffSeconds(failures) (or the server's Retry-After).
let flushing = false;
let flushTimer = null;

function scheduleFlush(seconds) {
  if (flushTimer) clearTimeout(flushTimer);
  flushTimer = setTimeout(() => {
    flushTimer = null;
    flush();
  }, Math.max(0, seconds) * 1000);
}

function indexesNamed(problems, field) {
  const out = new Set();
  for (const p of problems || []) {
    const m = new RegExp("^" + field + "\\[(\\d+)\\]").exec(p.location || "");
    if (m) out.add(Number(m[1]));
  }
  return out;
}

async function flush() {
  if (flushing) return;
  flushing = true;
  try {
    const { settings, queue, sendState, config } = await get(["settings", "queue", "sendState", "config"]);
    const state = Object.assign({ failures: 0, nextAt: 0, sent: 0 }, sendState || {});
    if (!settings || !settings.token || !queue) return;
    if (!queue.events.length && !queue.rationales.length) return;
    if (Date.now() < state.nextAt) {
      scheduleFlush((state.nextAt - Date.now()) / 1000);
      return;
    }
    const serverLimit = Math.floor(0.95 * ((config && config.max_body_bytes) || DEFAULT_MAX_BODY_BYTES));
    const byteLimit = Math.min(serverLimit, state.byteLimit || Infinity);
    const { events, rationales, bytes } = BL.takeBatch(queue, MAX_BATCH, byteLimit);
    let drop = null;
    let retryAfter = null;
    let again = false;
    try {
      const r = await timedFetch(settings.server + API + "/events", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + settings.token },
        body: JSON.stringify({ events: events, rationales: rationales }),
      }, SEND_TIMEOUT_MS);
      if (r.ok) {
        drop = { events: events, rationales: rationales };
        state.failures = 0;
        state.lastOk = new Date().toISOString();
        state.sent = (state.sent || 0) + events.length;
        state.lastError = null;
      } else {
        const body = await r.json().catch(() => ({}));
        state.lastError = r.status + " " + (body.error || "") + " " + JSON.stringify(body.problems || []).slice(0, 500);
        const named = indexesNamed(body.problems, "events");
        const namedWhys = indexesNamed(body.problems, "rationales");
        if (r.status === 401) {
          // the token is unknown: the participant withdrew; their data must not be sent
          await locked(() => set({ queue: { events: [], rationales: [] }, config: null }));
          return;
        } else if (r.status === 413) {
          if (events.length + rationales.length > 1) {
            state.byteLimit = Math.max(MIN_BATCH_BYTES, Math.floor(bytes / 2)); // split
            again = true;
          } else {
            drop = { events: events, rationales: rationales }; // over the limit by itself
          }
        } else if ([400, 422].includes(r.status) || (r.status === 403 && named.size)) {
          const all = !named.size && !namedWhys.size;
          drop = {
            events: events.filter((_, i) => all || named.has(i)),
            rationales: rationales.filter((_, i) => all || namedWhys.has(i)),
          };
        } else {
          if (r.status === 403) await set({ config: null }); // consent missing
          state.failures = (state.failures || 0) + 1;
          const ra = Number(r.headers.get("Retry-After"));
          if (ra > 0) retryAfter = ra;
        }
      }
    } catch (e) {
      state.failures = (state.failures || 0) + 1;
      state.lastError = "server unreachable: " + e;
    }
    if (drop) {
      const ids = new Set(drop.events.map((e) => e.event_id));
      await locked(async () => {
        const { queue: q } = await get("queue");
        if (!q) return;
        q.events = q.events.filter((e) => !ids.has(e.event_id));
        q.rationales = q.rationales.filter(
          (w) => !drop.rationales.some((d) => d.event_id === w.event_id && d.timestamp === w.timestamp),
        );
        await set({ queue: q });
      });
    }
    const wait = state.failures ? (retryAfter || BL.backoffSeconds(state.failures)) : 0;
    state.nextAt = Date.now() + wait * 1000;
    await locked(async () => {
      const { settings: now } = await get("settings");
      if (!BL.participantChanged(settings, now)) await set({ sendState: state });
    });
    const { queue: left } = await get("queue");
    if (left && (left.events.length || left.rationales.length)) scheduleFlush(again ? 0 : wait || 0.2);
  } finally {
    flushing = false;
  }
}

async function flushSoon() {
  const { config } = await get("config");
  scheduleFlush(config && config.flush_interval_s !== undefined ? config.flush_interval_s : 2);
}

chrome.runtime.onMessage.addListener((message, sender, reply) => {
  handle(message, sender).then(reply, (e) => reply({ ok: false, error: String(e) }));
  return true; // the reply is asynchronous
});

// Messages any content script may send (it runs on every http(s) page, so a hostile page
// controls what they carry): offer, status, event, rationale, dismiss_prompt. Messages only
// the extension's own pages may send: saveSettings, dismissOffer, flush, forget, state.
const PRIVILEGED = new Set(["saveSettings", "dismissOffer", "flush", "forget", "state"]);

async function handle(message, sender) {
  const type = message && message.type;
  if (PRIVILEGED.has(type) && !fromExtensionPage(sender)) {
    return { ok: false, error: "only the extension's options page may do this" };
  }
  switch (type) {
    case "offer": {
      const { settings } = await get("settings");
      const pageOrigin = (sender && (sender.origin || sender.url)) || "";
      const decision = BL.handoverDecision(settings, pageOrigin, message);
      if (decision.origin) {
        // shown in the options page: which origin offered, and what was done with it
        await set({ lastOffer: { origin: decision.origin, action: decision.action,
                                 reason: decision.reason, at: Date.now() } });
      }
      if (decision.action === "accept") {
        const config = await link(decision.server, decision.token);
        return { ok: true, linked: true, config: config };
      }
      return { ok: false, reason: decision.reason };
    }
    case "saveSettings": {
      const server = BL.httpOrigin(message.server);
      if (!server) return { ok: false, error: "the server must be an http(s) address" };
      const config = await link(server, message.token);
      return { ok: true, config: config };
    }
    case "dismissOffer":
      await set({ lastOffer: null });
      return { ok: true };
    case "status": {
      const config = await currentConfig();
      const url = sender && sender.tab ? sender.tab.url : "";
      const recording = allowed(config, url);
      let { prompt } = await locked(() => get("prompt"));
      if (prompt && Date.now() - prompt.at > PROMPT_MAX_AGE_MS) prompt = null;
      return { recording: recording, prompt: recording ? prompt : null };
    }
    case "event": {
      const ask = await enqueue(message.event, message.label);
      flushSoon();
      return { ask: ask, label: message.label };
    }
    case "rationale":
      await addRationale(message.event_id, String(message.rationale || ""));
      scheduleFlush(0);
      return { ok: true };
    case "dismiss_prompt":
      await locked(() => set({ prompt: null }));
      return { ok: true };
    case "flush": {
      const { sendState } = await get("sendState");
      await set({ sendState: Object.assign({}, sendState || {}, { failures: 0, nextAt: 0 }) });
      await flush();
      return { ok: true };
    }
    case "forget":
      await locked(() => chrome.storage.local.clear());
      broadcast({ type: "config_changed" });
      return { ok: true };
    case "state":
      return get(["settings", "lastOffer", "config", "configError", "queue", "sendState", "session"]);
    default:
      return { ok: false, error: "unknown message" };
  }
}

// Tab activation: the page's content script records it (it has the page's snapshot).
chrome.tabs.onActivated.addListener(({ tabId }) => {
  chrome.tabs.sendMessage(tabId, { type: "tab_activated" }).catch(() => undefined);
});

// A backstop when the worker was stopped with events still buffered.
chrome.alarms.create("flush", { periodInMinutes: 0.5 });
chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === "flush") flush();
});
flush();
