"use strict";
(function () {
  const data = JSON.parse(document.getElementById("chat-data").textContent);
  const status = document.getElementById("message");

  function say(text, bad) {
    status.textContent = text;
    status.className = bad ? "missing" : "";
  }

  async function call(method, url, body) {
    const init = { method: method, headers: { "Accept": "application/json" } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const res = await fetch(url, init);
    const payload = await res.json().catch(function () { return {}; });
    if (!res.ok) {
      const detail = payload.detail;
      throw new Error(typeof detail === "string" ? detail : JSON.stringify(detail || res.status));
    }
    return payload;
  }

  function parsed(id) {
    const raw = document.getElementById(id).value.trim();
    if (!raw) { return {}; }
    return JSON.parse(raw);
  }

  // --- the start page ---------------------------------------------------------------
  const form = document.getElementById("start-form");
  if (form) {
    const source = document.getElementById("source");
    const person = document.getElementById("person");
    const persona = document.getElementById("persona");
    const query = document.getElementById("people-query");
    let people = [];
    let timer = null;
    let asked = 0;

    function showPersona() {
      const found = people.find(function (p) { return p.person_id === person.value; });
      persona.textContent = found ? found.persona : "";
    }

    async function loadPeople() {
      const mine = ++asked;  // only the latest answer fills the list
      let options;
      try { options = parsed("source-options"); } catch (err) { say("source options: " + err.message, true); return; }
      const url = "/api/chat/people?source=" + encodeURIComponent(source.value) +
        "&q=" + encodeURIComponent(query.value) +
        "&options=" + encodeURIComponent(JSON.stringify(options));
      try {
        const found = await call("GET", url);
        if (mine !== asked) { return; }
        person.replaceChildren();
        people = found.people;
        for (const p of people) {
          const opt = document.createElement("option");
          opt.value = p.person_id;
          opt.textContent = p.person_id;
          person.appendChild(opt);
        }
        say(found.matched + " of " + found.total + " people" +
          (found.matched > people.length ? " (the first " + people.length + " listed; narrow with find)" : ""), false);
        showPersona();
      } catch (err) {
        if (mine !== asked) { return; }
        person.replaceChildren();
        persona.textContent = "";
        people = [];
        say(err.message, true);
      }
    }

    source.addEventListener("change", loadPeople);
    document.getElementById("source-options").addEventListener("change", loadPeople);
    query.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(loadPeople, 250); });
    person.addEventListener("change", showPersona);
    const task = document.getElementById("task");
    const role = document.getElementById("role");
    async function loadRoles() {
      role.replaceChildren();
      if (!task.value) { return; }
      try {
        const url = "/api/chat/roles?task=" + encodeURIComponent(task.value) +
          "&options=" + encodeURIComponent(JSON.stringify(parsed("task-options")));
        const found = await call("GET", url);
        for (const r of found.roles) {
          const opt = document.createElement("option");
          opt.value = r;
          opt.textContent = r;
          role.appendChild(opt);
        }
      } catch (err) {
        say(err.message, true);
      }
    }
    task.addEventListener("change", loadRoles);
    document.getElementById("task-options").addEventListener("change", loadRoles);
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      try {
        const body = {
          source: source.value,
          source_options: parsed("source-options"),
          person_id: person.value,
          backend: document.getElementById("backend").value,
          options: parsed("backend-options"),
          max_tokens: Number(document.getElementById("max-tokens").value || 200),
        };
        const task = document.getElementById("task").value;
        if (task) {
          body.task = task;
          body.task_options = parsed("task-options");
          body.role = document.getElementById("role").value;
        }
        const model = document.getElementById("model").value.trim();
        const base = document.getElementById("base-url").value.trim();
        if (model) { body.model = model; }
        if (base) { body.base_url = base; }
        const made = await call("POST", "/api/chat", body);
        window.location.assign(made.url);
      } catch (err) {
        say(err.message, true);
      }
    });
    loadPeople();
  }

  // --- one conversation ---------------------------------------------------------------
  const sayForm = document.getElementById("say-form");
  if (sayForm) {
    const transcript = document.getElementById("transcript");
    const box = document.getElementById("say");
    const send = document.getElementById("send");

    let waitingNow = data.waiting;  // the question answered by the next reply

    function showWaiting(waiting) {
      waitingNow = waiting;
      const box = document.getElementById("waiting");
      if (!box) { return; }
      box.hidden = !waiting;
      document.getElementById("seen").textContent = waiting ? waiting.seen : "";
      const list = document.getElementById("options");
      list.replaceChildren();
      for (const o of (waiting ? waiting.options : [])) {
        const li = document.createElement("li");
        const code = document.createElement("code");
        code.textContent = o.code;
        li.append(code, " " + o.label);
        list.appendChild(li);
      }
      send.disabled = !waiting;
    }

    function shown() {
      let last = -1;
      for (const li of transcript.querySelectorAll("li[data-index]")) {
        last = Math.max(last, Number(li.dataset.index));
      }
      return last;
    }

    let polling = null;
    function showPhase(waiting, phase) {
      showWaiting(waiting);
      const statusBox = document.getElementById("status");
      clearTimeout(polling);
      if (waiting) { return; }
      if (phase === "thinking") {
        say("the model is answering\u2026", false);
        polling = setTimeout(poll, 1000);  // until a question for you or the end
      } else if (phase && phase.indexOf("paused") === 0) {
        if (statusBox) { statusBox.textContent = phase; }
        say(phase + " (reload the page to try that turn again)", true);
      } else {
        if (statusBox && phase) { statusBox.textContent = phase; }
        say("the trial is over (" + (phase || "ended") + "; reload for its scores)", false);
      }
    }

    async function poll() {
      try {
        const now = await call("GET", "/api/chat/" + data.chat_id);
        const last = shown();
        for (const m of now.messages) { if (m.index > last) { bubble(m, false); } }
        if (now.waiting) { say("", false); }
        showPhase(now.waiting, now.phase);
      } catch (err) {
        say(err.message, true);
      }
    }

    function bubble(m, pending) {
      const li = document.createElement("li");
      li.className = "msg " + (m.human ? "mine" : "theirs") + (pending ? " pending" : "");
      if (m.index !== undefined) { li.dataset.index = String(m.index); }
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = m.speaker;
      const text = document.createElement("span");
      text.className = "text";
      text.textContent = m.content;
      li.append(who, text);
      transcript.appendChild(li);
      li.scrollIntoView({ block: "end" });
      return li;
    }

    if (data.kind === "dialogue") { showPhase(data.waiting, data.phase); }

    sayForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      const text = box.value.trim();
      if (!text) { return; }
      send.disabled = true;
      const pending = bubble({ human: true, speaker: "you", content: text }, true);
      say("waiting for the reply...", false);
      try {
        const body = { text: text };
        if (data.kind === "dialogue" && waitingNow) { body.turn = waitingNow.turn; }
        const done = await call("POST", "/api/chat/" + data.chat_id + "/messages", body);
        pending.remove();
        for (const m of done.messages) { bubble(m, false); }
        box.value = "";
        say("", false);
        send.disabled = false;
        if (data.kind === "dialogue") { showPhase(done.waiting, done.phase); }
      } catch (err) {
        pending.remove();
        say(err.message, true);
        send.disabled = false;
      } finally {
        box.focus();
      }
    });
  }
})();
