// behaviorlab capture: the content script. It offers the participant token of the server's
// enrolment "done" page to the service worker (which takes it only from the server the
// participant approved), and on the study's allowed hosts (only once the service worker holds
// a config, i.e. after consent) records the user's own clicks, inputs, scrolls, navigation and
// tab activation, and shows the rationale prompt. The rules live in lib.js (BehaviorLab).
(function () {
  "use strict";
  const BL = self.BehaviorLab;
  const INPUT_DEBOUNCE_MS = 1500;
  const SCROLL_QUIET_MS = 400;
  const SCROLL_MIN_GAP_MS = 1000;

  let recording = false;
  let lastMouse = null;
  const lastValue = new WeakMap(); // element → last recorded input value
  const pendingInputs = new Map(); // element → timer

  function send(message) {
    return new Promise((resolve) => {
      try {
        chrome.runtime.sendMessage(message, (reply) => {
          void chrome.runtime.lastError; // the worker may be restarting: nothing to do
          resolve(reply || null);
        });
      } catch (e) {
        resolve(null); // the extension was reloaded: this page's script is orphaned
      }
    });
  }

  // 1. The token handover: the server's "done" page carries
  // <meta name="behaviorlab-participant-token" content="..."> (and optionally
  // <meta name="behaviorlab-server" content="http://host:port">, which must be the page's own
  // origin). The worker learns the page's origin from the browser, not from the page, and
  // takes the token only when that origin is the server approved in the options page (see
  // BL.handoverDecision); from any other page the offer is ignored (the options page shows
  // which origin offered).
  function offerToken() {
    const meta = document.querySelector('meta[name="behaviorlab-participant-token"]');
    if (!meta || !meta.content) return;
    const server = document.querySelector('meta[name="behaviorlab-server"]');
    send({
      type: "offer",
      token: meta.content.trim(),
      server: (server && server.content) || location.origin,
    }).then((reply) => {
      if (reply && reply.linked) document.documentElement.setAttribute("data-behaviorlab", "linked");
    });
  }

  // Hidden with layout: the rules of lib.js plus the computed style.
  function isHidden(el) {
    if (BL.defaultHidden(el)) return true;
    const style = getComputedStyle(el);
    return style.display === "none" || style.visibility === "hidden";
  }

  function snapshot() {
    return BL.simplify(document.body || document.documentElement, { isHidden: isHidden });
  }

  function pageMeta() {
    const kind = document.querySelector('meta[name="behaviorlab-page"]');
    const meta = { title: document.title };
    if (kind && kind.content) meta.page_kind = kind.content;
    return meta;
  }

  function baseEvent(actionType) {
    return {
      event_id: crypto.randomUUID(),
      timestamp: new Date().toISOString(),
      action_type: actionType,
      url: location.href.slice(0, 8192),
      window_size: { width: window.innerWidth, height: window.innerHeight },
      mouse_position: lastMouse,
      page_meta: pageMeta(),
    };
  }

  function withPage(event, target) {
    const snap = snapshot();
    event.simplified_html = snap.html;
    event.products = BL.productsOf(document.body || document.documentElement);
    if (target) {
      const sid = snap.names.get(target) || BL.leafSegment(target);
      event.semantic_id = sid.slice(0, 512);
      event.element_meta = BL.elementMeta(target, sid);
    }
    return event;
  }

  function describe(event) {
    const meta = event.element_meta || {};
    const label = (meta.text || meta.aria_label || event.semantic_id || "").slice(0, 60);
    if (event.action_type === "input") return "You typed “" + (event.input_text || "") + "”";
    return label ? "You clicked “" + label + "”" : "You clicked something";
  }

  async function record(event) {
    const reply = await send({ type: "event", event: event, label: describe(event) });
    if (reply && reply.ask) showPrompt(event.event_id, reply.label || describe(event));
  }

  // Only the user's own events (isTrusted: not synthesised by the page's scripts), never
  // those on the extension's own prompt.
  const fromUser = (event) => BL.fromUser(event);

  // 2. Clicks (capture phase: before the page reacts or navigates).
  let lastClick = { target: null, at: 0 };
  function onClick(event) {
    if (!recording || !fromUser(event) || !(event.target instanceof Element)) return;
    const target = BL.actionTarget(event.target);
    const now = Date.now();
    // a click on a <label> also clicks its control: record the label's click only
    if (lastClick.target && lastClick.target.tagName === "LABEL" && now - lastClick.at < 100 &&
        (lastClick.target.control === target || lastClick.target.contains(target))) {
      return;
    }
    lastClick = { target: target, at: now };
    flushInputs();
    lastMouse = { x: event.clientX, y: event.clientY };
    const e = withPage(baseEvent("click"), target);
    e.click_type = BL.classifyClick(e.semantic_id, BL.clickInfo(target));
    record(e);
  }

  // 3. Inputs: on change / blur, or after INPUT_DEBOUNCE_MS without typing; once per value.
  // Sensitive fields (passwords, payment, contact and identity fields: BL.sensitiveField) are
  // never recorded; checkboxes and radio buttons are clicks.
  function inputTarget(el) {
    if (!(el instanceof Element)) return null;
    const tag = el.tagName;
    const type = (el.getAttribute("type") || "").toLowerCase();
    if (BL.sensitiveField(el)) return null;
    if (tag === "TEXTAREA" || tag === "SELECT") return el;
    if (tag === "INPUT" && !["password", "checkbox", "radio", "submit", "button", "hidden",
      "reset", "file", "image"].includes(type)) {
      return el;
    }
    if (el.isContentEditable) return el;
    return null;
  }

  function recordInput(el) {
    const timer = pendingInputs.get(el);
    if (timer) clearTimeout(timer);
    pendingInputs.delete(el);
    const value = el.isContentEditable ? el.innerText : String(el.value || "");
    if (lastValue.get(el) === value) return;
    lastValue.set(el, value);
    const e = withPage(baseEvent("input"), el);
    e.input_text = value.slice(0, 10000);
    record(e);
  }

  function flushInputs() {
    for (const el of Array.from(pendingInputs.keys())) recordInput(el);
  }

  function onInput(event) {
    if (!recording || !fromUser(event)) return;
    const el = inputTarget(event.target);
    if (!el) return;
    const timer = pendingInputs.get(el);
    if (timer) clearTimeout(timer);
    pendingInputs.set(el, setTimeout(() => recordInput(el), INPUT_DEBOUNCE_MS));
  }

  function onChange(event) {
    if (!recording || !fromUser(event)) return;
    const el = inputTarget(event.target);
    if (el) recordInput(el);
  }

  function onBlur(event) {
    if (!recording || !pendingInputs.has(event.target)) return; // a pending value: flush it
    recordInput(event.target);
  }

  // 4. Scrolls: one event when scrolling pauses, at most one per SCROLL_MIN_GAP_MS.
  let scrollTimer = null;
  let lastScrollAt = 0;
  let lastScrollY = window.scrollY;
  function onScroll(event) {
    if (!recording || !fromUser(event)) return;
    if (scrollTimer) clearTimeout(scrollTimer);
    const wait = Math.max(SCROLL_QUIET_MS, SCROLL_MIN_GAP_MS - (Date.now() - lastScrollAt));
    scrollTimer = setTimeout(() => {
      lastScrollAt = Date.now();
      const e = baseEvent("scroll");
      e.scroll_detail = {
        x: window.scrollX,
        y: window.scrollY,
        delta_y: window.scrollY - lastScrollY,
        page_height: document.documentElement.scrollHeight,
        viewport_height: window.innerHeight,
      };
      lastScrollY = window.scrollY;
      send({ type: "event", event: e });
    }, wait);
  }

  function onMouseMove(event) {
    if (!event.isTrusted) return;
    lastMouse = { x: event.clientX, y: event.clientY };
  }

  // 5. Navigation (page load: navigate / reload / back_forward; in-page: history / hash).
  function recordNavigation(kind) {
    const e = withPage(baseEvent("navigation"), null);
    e.navigation_type = kind;
    send({ type: "event", event: e });
  }

  function navigationKind() {
    const entry = performance.getEntriesByType("navigation")[0];
    return entry ? entry.type : "navigate";
  }

  // 6. The rationale prompt: a small box in the page's corner (a closed shadow root: the
  // page's styles do not leak in, and its scripts can neither read nor fill it);
  // non-blocking, dismissible, never recorded as an action.
  let promptHost = null;
  function showPrompt(eventId, label) {
    if (promptHost) promptHost.remove();
    const host = document.createElement("div");
    host.setAttribute(BL.UI_MARKER, "rationale-prompt");
    host.setAttribute("data-event-id", eventId);
    host.style.cssText = "position:fixed;right:16px;bottom:16px;z-index:2147483647;";
    const root = host.attachShadow({ mode: "closed" });
    root.innerHTML =
      "<style>.box{font:14px system-ui,sans-serif;background:#fff;border:1px solid #888;" +
      "border-radius:8px;padding:10px;width:280px;box-shadow:0 2px 10px #0003}" +
      "textarea{width:100%;box-sizing:border-box;height:60px;margin:6px 0}" +
      ".row{display:flex;justify-content:space-between;gap:6px}" +
      ".what{color:#555;font-size:12px}button{cursor:pointer}</style>" +
      '<div class="box" role="dialog" aria-label="Why did you do that?">' +
      '<div class="row"><b>Why did you do that?</b>' +
      '<button class="dismiss" aria-label="Dismiss">×</button></div>' +
      '<div class="what"></div>' +
      '<textarea class="why" placeholder="Optional: a few words on why"></textarea>' +
      '<div class="row"><span class="what">Sent to the study with this action.</span>' +
      '<button class="send">Send</button></div></div>';
    root.querySelector(".what").textContent = label;
    const close = () => {
      host.remove();
      if (promptHost === host) promptHost = null;
    };
    root.querySelector(".dismiss").addEventListener("click", (event) => {
      if (!event.isTrusted) return;
      send({ type: "dismiss_prompt", event_id: eventId });
      close();
    });
    root.querySelector(".send").addEventListener("click", (event) => {
      if (!event.isTrusted) return;
      const text = root.querySelector(".why").value.trim();
      if (text) send({ type: "rationale", event_id: eventId, rationale: text.slice(0, 5000) });
      else send({ type: "dismiss_prompt", event_id: eventId });
      close();
    });
    (document.body || document.documentElement).appendChild(host);
    promptHost = host;
  }

  function start(status) {
    if (recording) return;
    recording = true;
    document.documentElement.setAttribute("data-behaviorlab-recording", "on");
    window.addEventListener("click", onClick, true);
    window.addEventListener("input", onInput, true);
    window.addEventListener("change", onChange, true);
    window.addEventListener("blur", onBlur, true);
    window.addEventListener("submit", (e) => e.isTrusted && flushInputs(), true);
    window.addEventListener("pagehide", flushInputs, true);
    window.addEventListener("scroll", onScroll, { passive: true, capture: true });
    window.addEventListener("mousemove", onMouseMove, { passive: true, capture: true });
    window.addEventListener("popstate", (e) => e.isTrusted && recordNavigation("history"));
    window.addEventListener("hashchange", (e) => e.isTrusted && recordNavigation("hash"));
    recordNavigation(navigationKind());
    if (status.prompt) showPrompt(status.prompt.event_id, status.prompt.label);
  }

  chrome.runtime.onMessage.addListener((message, _sender, reply) => {
    if (message && message.type === "tab_activated" && recording) {
      send({ type: "event", event: withPage(baseEvent("tab_activate"), null) });
    } else if (message && message.type === "config_changed") {
      checkStatus();
    }
    reply({ ok: true });
  });

  async function checkStatus() {
    const status = await send({ type: "status", host: location.hostname, port: location.port });
    if (status && status.recording) start(status);
  }

  if (location.protocol === "http:" || location.protocol === "https:") {
    offerToken();
    checkStatus();
  }
})();
