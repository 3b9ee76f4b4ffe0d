// behaviorlab capture: the settings page (server URL, participant token, status).
"use strict";

function ask(message) {
  return new Promise((resolve) => chrome.runtime.sendMessage(message, (r) => resolve(r || {})));
}

async function refresh() {
  const s = await ask({ type: "state" });
  const settings = s.settings || {};
  const server = document.getElementById("server");
  const token = document.getElementById("token");
  if (!server.value) server.value = settings.server || "";
  if (!token.value) token.value = settings.token || "";
  const queue = s.queue || { events: [], rationales: [] };
  const send = s.sendState || {};
  const lines = [
    s.config
      ? "Recording for study " + s.config.study_id + " on: " + s.config.allowed_hosts.join(", ")
      : "Not recording (no token, consent not recorded yet, or the server refused).",
    s.config ? "Asking why on a share of " + s.config.rationale_share + " of actions." : "",
    s.configError ? "Server said: " + s.configError : "",
    "Buffered: " + queue.events.length + " events, " + queue.rationales.length + " rationales.",
    "Sent so far: " + (send.sent || 0) + (send.lastOk ? " (last at " + send.lastOk + ")" : ""),
    send.lastError ? "Last error: " + send.lastError : "",
  ];
  document.getElementById("status").textContent = lines.filter(Boolean).join("\n");
}

document.getElementById("settings").addEventListener("submit", async (e) => {
  e.preventDefault();
  await ask({
    type: "saveSettings",
    server: document.getElementById("server").value.trim(),
    token: document.getElementById("token").value.trim(),
  });
  refresh();
});
document.getElementById("flush").addEventListener("click", async () => {
  await ask({ type: "flush" });
  refresh();
});
document.getElementById("forget").addEventListener("click", async () => {
  await ask({ type: "forget" });
  document.getElementById("server").value = "";
  document.getElementById("token").value = "";
  refresh();
});
refresh();
setInterval(refresh, 2000);
