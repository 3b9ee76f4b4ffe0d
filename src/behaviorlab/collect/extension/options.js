// behaviorlab capture: the settings page (the approved server, the participant token, the
// origin of the last page that offered a token and what was done with it, status). Opened with ?server=URL it proposes that server; nothing
// changes until the participant clicks a button here (web pages cannot script this page).
"use strict";

function ask(message) {
  return new Promise((resolve) => chrome.runtime.sendMessage(message, (r) => resolve(r || {})));
}

let proposed = new URLSearchParams(location.search).get("server") || "";
let edited = false;

async function refresh() {
  const s = await ask({ type: "state" });
  const settings = s.settings || {};
  const server = document.getElementById("server");
  const token = document.getElementById("token");
  if (!edited) {
    server.value = proposed || settings.server || "";
    token.value = proposed && proposed !== settings.server ? "" : settings.token || "";
  }
  const info = document.getElementById("linkinfo");
  info.hidden = !proposed || proposed === settings.server;
  info.textContent = "Proposed server: " + proposed + ". Check it is your study's, then click " +
    "“Approve server and save”.";
  const notice = self.BehaviorLab.offerNotice(s.lastOffer, settings);
  const box = document.getElementById("offer");
  box.hidden = !notice;
  box.classList.toggle("warning", Boolean(notice && notice.warning));
  document.getElementById("offer-origin").textContent = notice ? notice.origin : "";
  document.getElementById("offer-text").textContent = notice ? notice.text : "";
  const queue = s.queue || { events: [], rationales: [] };
  const send = s.sendState || {};
  const lines = [
    settings.server ? "Approved server: " + settings.server : "No server approved yet.",
    settings.token ? "Linked (participant token set)." : "Not linked to a participant yet.",
    s.config
      ? "Recording for study " + s.config.study_id + " on: " + s.config.allowed_hosts.join(", ")
      : "Not recording (no token, consent not recorded yet, or the server refused).",
    s.config ? "Asking why on a share of " + s.config.rationale_share + " of actions." : "",
    s.configError ? "Server said: " + s.configError : "",
    "Buffered: " + queue.events.length + " events, " + queue.rationales.length + " rationales.",
    "Sent so far: " + (send.sent || 0) + (send.lastOk ? " (last at " + send.lastOk + ")" : ""),
    send.lastError ? "Last error: " + send.lastError : "",
  ];
  const status = document.getElementById("status");
  status.textContent = lines.filter(Boolean).join("\n");
  status.setAttribute("data-server", settings.server || "");
  status.setAttribute("data-linked", settings.token ? "yes" : "no");
}

for (const id of ["server", "token"]) {
  document.getElementById(id).addEventListener("input", () => (edited = true));
}
document.getElementById("settings").addEventListener("submit", async (e) => {
  e.preventDefault();
  const r = await ask({
    type: "saveSettings",
    server: document.getElementById("server").value.trim(),
    token: document.getElementById("token").value.trim(),
  });
  if (!r.ok && r.error) document.getElementById("status").textContent = r.error;
  edited = false;
  proposed = "";
  history.replaceState(null, "", location.pathname);
  refresh();
});
document.getElementById("offer-dismiss").addEventListener("click", async () => {
  await ask({ type: "dismissOffer" });
  refresh();
});
document.getElementById("flush").addEventListener("click", async () => {
  await ask({ type: "flush" });
  refresh();
});
document.getElementById("forget").addEventListener("click", async () => {
  await ask({ type: "forget" });
  edited = false;
  document.getElementById("server").value = "";
  document.getElementById("token").value = "";
  refresh();
});
refresh();
setInterval(refresh, 2000);
