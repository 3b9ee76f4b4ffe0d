// behaviorlab capture: the service worker. It keeps the participant's token and config,
// numbers events within browsing sessions, buffers them in chrome.storage.local and sends
// them to the ingest server as EventBatch (POST /api/v1/events), retrying with backoff while
// the server is unreachable. Nothing is recorded before GET /api/v1/config succeeds (the
// server refuses it until the participant has consented).
importScripts("lib.js");
const BL = self.BehaviorLab;

const API = "/api/v1";
const MAX_BATCH = 200; // collect/_events.py MAX_BATCH_EVENTS
const SESSION_IDLE_MS = 30 * 60 * 1000; // a new browsing session after 30 idle minutes
const CONFIG_MAX_AGE_MS = 60 * 1000;
const PROMPT_MAX_AGE_MS = 2 * 60 * 1000;
const FETCH_TIMEOUT_MS = 10000;

// Storage keys: settings {server, token}, config (ParticipantConfig) + configAt, queue
// {events, rationales}, session {id, seq, last}, prompt {event_id, label, at}, sendState
// {failures, nextAt, lastError, lastOk, sent}.
const get = (keys) => chrome.storage.local.get(keys);
const set = (items) => chrome.storage.local.set(items);

// One change to the stored state at a time (messages arrive concurrently).
let chain = Promise.resolve();
function locked(fn) {
  const run = chain.then(fn, fn);
  chain = run.catch(() => undefined);
  return run;
}

async function timedFetch(url, init) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
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
    });
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
    // server unreachable: keep the last config (recording goes on, events are buffered)
    const { config } = await get("config");
    await set({ configError: "server unreachable: " + e });
    return config || null;
  }
}

async function currentConfig() {
  const { config, configAt } = await get(["config", "configAt"]);
  if (config && configAt && Date.now() - configAt < CONFIG_MAX_AGE_MS) return config;
  return fetchConfig();
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

// Sending. One flush at a time; acknowledged items leave the queue; a batch the server
// rejects for good (400/413/422, or 403 naming events from hosts it does not record) drops
// the items it names (all of the batch when it names none); network errors, 5xx and 429
// are retried after BL.backoffSeconds(failures) (or the server's Retry-After).
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
    const { settings, queue, sendState } = await get(["settings", "queue", "sendState"]);
    const state = sendState || { failures: 0, nextAt: 0, sent: 0 };
    if (!settings || !settings.token || !queue) return;
    if (!queue.events.length && !queue.rationales.length) return;
    if (Date.now() < state.nextAt) {
      scheduleFlush((state.nextAt - Date.now()) / 1000);
      return;
    }
    const events = queue.events.slice(0, MAX_BATCH);
    const rationales = queue.rationales.slice(0, MAX_BATCH);
    let drop = null;
    let retryAfter = null;
    try {
      const r = await timedFetch(settings.server + API + "/events", {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: "Bearer " + settings.token },
        body: JSON.stringify({ events: events, rationales: rationales }),
      });
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
        } else if ([400, 413, 422].includes(r.status) || (r.status === 403 && named.size)) {
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
        q.events = q.events.filter((e) => !ids.has(e.event_id));
        q.rationales = q.rationales.filter(
          (w) => !drop.rationales.some((d) => d.event_id === w.event_id && d.timestamp === w.timestamp),
        );
        await set({ queue: q });
      });
    }
    const wait = state.failures ? (retryAfter || BL.backoffSeconds(state.failures)) : 0;
    state.nextAt = Date.now() + wait * 1000;
    await set({ sendState: state });
    const { queue: left } = await get("queue");
    if (left && (left.events.length || left.rationales.length)) scheduleFlush(wait || 0.2);
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

async function handle(message, sender) {
  switch (message && message.type) {
    case "token":
    case "saveSettings": {
      const server = String(message.server || "").replace(/\/+$/, "");
      const token = String(message.token || "").trim();
      const { settings } = await get("settings");
      if (!settings || settings.server !== server || settings.token !== token) {
        await set({ settings: { server: server, token: token }, config: null, configAt: 0 });
      }
      const config = await fetchConfig();
      broadcast({ type: "config_changed" });
      return { ok: true, config: config };
    }
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
    case "flush":
      await set({ sendState: { failures: 0, nextAt: 0 } });
      await flush();
      return { ok: true };
    case "forget":
      await locked(() => chrome.storage.local.clear());
      return { ok: true };
    case "state":
      return get(["settings", "config", "configError", "queue", "sendState", "session"]);
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
