// Runs the extension's service worker (background.js + lib.js) under node with a fake
// `chrome` (storage in memory, messages, tabs, alarms), a scripted `fetch` and manual timers,
// then a scenario (the body of an async function, read from stdin) that drives it.
// Usage: node worker_harness.js EXTENSION_DIR < scenario.js ; prints the scenario's result.
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const nodeCrypto = require("crypto");

const dir = process.argv[2];
const EXT = "chrome-extension://extid/";
const storage = {};
const listeners = [];
const requests = [];
const copy = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
let server = async () => ({ status: 503, body: {} });

const chrome = {
  runtime: {
    id: "extid",
    lastError: undefined,
    getURL: (p) => EXT + (p || ""),
    onMessage: { addListener: (f) => listeners.push(f) },
  },
  storage: {
    local: {
      get: async (keys) => {
        const out = {};
        for (const k of typeof keys === "string" ? [keys] : keys) {
          if (k in storage) out[k] = copy(storage[k]);
        }
        return out;
      },
      set: async (items) => {
        for (const [k, v] of Object.entries(items)) storage[k] = copy(v);
      },
      clear: async () => {
        for (const k of Object.keys(storage)) delete storage[k];
      },
    },
  },
  tabs: {
    query: async () => [],
    sendMessage: async () => undefined,
    onActivated: { addListener: () => undefined },
  },
  alarms: { create: () => undefined, onAlarm: { addListener: () => undefined } },
};

async function fetch(url, init) {
  const req = { url: String(url), method: (init && init.method) || "GET",
                headers: (init && init.headers) || {}, body: init && init.body };
  requests.push(req);
  const r = await server(req);
  if (r.throws) throw new TypeError("Failed to fetch");
  const text = JSON.stringify(r.body || {});
  return {
    ok: r.status >= 200 && r.status < 300,
    status: r.status,
    headers: { get: (h) => (r.headers || {})[h] || null },
    json: async () => JSON.parse(text),
    text: async () => text,
  };
}

const timers = new Map();
let timerId = 0;
const context = {
  chrome, fetch, URL, TextEncoder, AbortController, console,
  crypto: { randomUUID: () => nodeCrypto.randomUUID() },
  setTimeout: (f, ms) => { timers.set(++timerId, { f, ms }); return timerId; },
  clearTimeout: (id) => { timers.delete(id); },
  Promise, Date, Math, JSON, Number, String, Object, Array, Set, Map, RegExp, Boolean, Error,
};
context.self = context;
context.importScripts = (name) => {
  vm.runInContext(fs.readFileSync(path.join(dir, name), "utf8"), context, { filename: name });
};
vm.createContext(context);
vm.runInContext(fs.readFileSync(path.join(dir, "background.js"), "utf8"), context,
  { filename: "background.js" });

// What the scenario gets.
const page = (url) => ({ id: "extid", url: url, origin: new URL(url).origin, tab: { id: 1, url: url } });
const options = { id: "extid", url: EXT + "options.html", origin: "chrome-extension://extid" };
function send(message, sender) {
  return new Promise((resolve) => {
    let async = false;
    for (const f of listeners) async = f(message, sender, resolve) === true || async;
    if (!async) resolve(undefined);
  });
}
function event(i, url) {
  return { event_id: "evt-" + String(i).padStart(8, "0"), timestamp: "2026-01-10T12:00:00.000Z",
           action_type: "click", click_type: "other", url: url, simplified_html: "<p>x</p>" };
}
const api = {
  storage, requests, send, page, options, event,
  serve: (f) => { server = f; },
  // run the timers scheduled so far (flushes), then let their promises settle
  settle: async () => {
    for (let round = 0; round < 50; round++) {
      await new Promise((r) => setImmediate(r));
      // flushes are due; fetch timeouts (>= 30 s) and long backoffs are not
      const due = [...timers].filter(([, t]) => t.ms < 30000);
      if (!due.length) return;
      for (const [id, t] of due) {
        timers.delete(id);
        t.f();
      }
    }
  },
};

(async () => {
  const body = fs.readFileSync(0, "utf8");
  const scenario = new Function("h", "return (async () => {" + body + "})();");
  const result = await scenario(api);
  process.stdout.write(JSON.stringify(result === undefined ? null : result));
  process.exit(0);
})().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
