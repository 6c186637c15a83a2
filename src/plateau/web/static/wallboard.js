// Plateau — supervision: the live wallboard and the listening page ("écoute discrète").
// Floor events refresh the tables in place, keeping keyboard focus; only alerts that start or
// end and the supervisor's own action results are announced (a screen reader user can read the
// board in peace); elapsed times tick every second and are never read out.
(function () {
  "use strict";
  const P = window.Plateau;
  const board = document.getElementById("wallboard");
  const listen = document.getElementById("listen");
  const root = board || listen;
  if (!root || !P) return;
  const msg = (name, params) => P.message(root, name, params);

  // --- elapsed times ---------------------------------------------------------------------
  let offset = 0; // the server's clock minus this browser's, from the last rendering
  function syncClock() {
    const at = document.querySelector("[data-rendered-at]")?.dataset.renderedAt;
    if (at) offset = Date.parse(at) - Date.now();
  }
  const fmt = (seconds) => {
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600);
    const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
    const ss = String(s % 60).padStart(2, "0");
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  };
  let talk = null; // the listening page's talk timer: {seconds, running, at}
  function syncTalk() {
    const timer = document.getElementById("listen-timer");
    const state = document.getElementById("listen-call")?.dataset.state;
    talk = timer ? { seconds: Number(timer.dataset.talk || 0), running: state === "connected", at: Date.now() } : null;
  }
  window.setInterval(() => {
    const now = Date.now() + offset;
    document.querySelectorAll("[data-since]").forEach((el) => {
      el.textContent = fmt((now - Date.parse(el.dataset.since)) / 1000);
    });
    const timer = document.getElementById("listen-timer");
    if (timer && talk) timer.textContent = fmt(talk.seconds + (talk.running ? (Date.now() - talk.at) / 1000 : 0));
  }, 1000);

  // --- results of the supervisor's own actions ------------------------------------------------
  const resultSlot = document.getElementById(board ? "wallboard-result" : "listen-result");
  function showResult(text) {
    if (!resultSlot || !text) return;
    const line = document.createElement("p");
    line.className = "notice";
    line.textContent = text;
    resultSlot.replaceChildren(line);
    P.announce(text);
  }
  const flash = resultSlot?.querySelector("[data-announce]");
  if (flash) P.announce(flash.dataset.announce);

  // --- dialogs: whisper, forced pause, log off (wallboard) ---------------------------------------
  let openerId = null;
  function openDialog(button) {
    const dialog = document.getElementById(button.dataset.dialog);
    if (!dialog) return;
    const form = dialog.querySelector("form");
    const id = button.dataset.agentId;
    form.action = form.dataset.action.replace("{id}", id);
    form.dataset.url = form.dataset.api.replace("{id}", id);
    dialog.querySelectorAll("[data-fill=agent-name]").forEach((el) => { el.textContent = button.dataset.agentName; });
    const call = form.querySelector("[name=call_id]");
    if (call) call.value = button.dataset.callId || "";
    const text = form.querySelector("textarea");
    if (text) text.value = "";
    P.clearFieldErrors(form);
    openerId = button.id;
    dialog.showModal();
    (form.querySelector("textarea, select") || form.querySelector("[type=submit]")).focus();
  }
  document.querySelectorAll("dialog.wallboard-dialog").forEach((dialog) => {
    // back to the button that opened it (found again by id: the table may have been refreshed)
    dialog.addEventListener("close", () => { if (openerId) document.getElementById(openerId)?.focus(); });
  });
  document.addEventListener("click", (event) => {
    const opener = event.target.closest("button[data-dialog]");
    if (opener) { event.preventDefault(); openDialog(opener); return; }
    const cancel = event.target.closest("dialog [data-close]");
    if (cancel) cancel.closest("dialog").close();
  });

  // Forms with an API address are sent with fetch; the others (listen, take over, stop) navigate.
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    const url = form.dataset.url || form.dataset.api;
    if (!root.contains(form) && !form.closest("dialog.wallboard-dialog")) return;
    if (!url || url.includes("{id}")) return;
    event.preventDefault();
    const body = Object.fromEntries(new FormData(form).entries());
    delete body.csrf_token;
    delete body.back;
    if ("call_id" in body) body.call_id = body.call_id ? Number(body.call_id) : null;
    const submit = form.querySelector("[type=submit]");
    if (submit) submit.disabled = true;
    try {
      const result = await P.api(url, body);
      if (!result.ok) {
        const refusal = P.showFieldErrors(form, result.data);
        if (refusal) P.announce(msg("error", { detail: refusal }), true);
        return;
      }
      P.clearFieldErrors(form);
      const text = form.querySelector("textarea");
      if (text) text.value = "";
      form.closest("dialog")?.close();
      showResult(result.data.message);
    } finally { if (submit) submit.disabled = false; }
  });

  // --- the wallboard's live tables ------------------------------------------------------------------
  function alertsOf() {
    const alerts = new Map();
    document.querySelectorAll("#queues-region [data-alert-key]").forEach((li) => {
      alerts.set(li.dataset.alertKey, { queue: li.dataset.alertQueue, label: li.dataset.alertLabel, text: li.dataset.alertText });
    });
    return alerts;
  }

  let pending = null;
  let running = false;
  let again = false;
  function schedule() {
    if (pending) return;
    pending = window.setTimeout(() => { pending = null; refreshTables(); }, 200); // one fetch per burst of events
  }
  async function refreshTables() {
    if (running) { again = true; return; }
    running = true;
    try {
      const response = await fetch("/wallboard/fragment/tables", { credentials: "same-origin" });
      if (!response.ok) return;
      const fresh = document.createElement("template");
      fresh.innerHTML = await response.text();
      const before = alertsOf();
      for (const id of ["queues-region", "agents-region"]) {
        const target = document.getElementById(id);
        const source = fresh.content.getElementById(id);
        if (!target || !source) continue;
        const focusedId = target.contains(document.activeElement) ? document.activeElement.id : null;
        target.replaceChildren(...source.childNodes);
        for (const name of Object.keys(target.dataset)) delete target.dataset[name];
        Object.assign(target.dataset, source.dataset);
        if (focusedId) document.getElementById(focusedId)?.focus();
      }
      syncClock();
      const after = alertsOf();
      for (const [key, alert] of after) if (!before.has(key)) P.announce(msg("alert", alert));
      for (const [key, alert] of before) if (!after.has(key)) P.announce(msg("alert-over", alert));
    } finally {
      running = false;
      if (again) { again = false; schedule(); }
    }
  }

  // --- the listening page -------------------------------------------------------------------------------
  const callId = listen ? listen.dataset.callId : null;
  async function refreshStatus() {
    const target = document.getElementById("listen-status");
    if (!target) return;
    const focusedId = target.contains(document.activeElement) ? document.activeElement.id : null;
    const drafts = {};
    target.querySelectorAll("textarea").forEach((t) => { if (t.value) drafts[t.id] = t.value; });
    const before = document.getElementById("listen-call")?.dataset.state;
    const response = await fetch(`/wallboard/calls/${callId}/status`, { credentials: "same-origin" });
    if (!response.ok) return;
    target.innerHTML = await response.text();
    for (const [id, value] of Object.entries(drafts)) { const t = document.getElementById(id); if (t) t.value = value; }
    if (focusedId) document.getElementById(focusedId)?.focus();
    syncTalk();
    const state = document.getElementById("listen-state");
    if (state && document.getElementById("listen-call")?.dataset.state !== before) P.announce(state.textContent.trim());
  }
  function appendUtterance(u) {
    const labels = { agent: listen.dataset.speakerAgent, caller: listen.dataset.speakerCaller, system: listen.dataset.speakerSystem };
    P.appendLine(document.getElementById("listen-transcript"), { ...u, speaker: labels[u.speaker] || u.speaker });
  }

  // --- event stream ------------------------------------------------------------------------------------------
  let lastId = Number(root.dataset.lastEventId || 0);
  const source = new EventSource(board ? `/events?floor=1&after=${lastId}` : `/events?after=${lastId}`);
  const status = document.getElementById("connection-status");
  source.onopen = () => { if (status && !status.hidden) { status.hidden = true; P.announce(msg("online")); } };
  source.onerror = () => { if (status && status.hidden) { status.hidden = false; P.announce(msg("offline")); } };
  const seen = (event) => { lastId = Number(event.lastEventId) || lastId; };
  if (board) {
    for (const type of ["agent_state", "call", "supervision", "callback"]) {
      source.addEventListener(type, (event) => { seen(event); schedule(); });
    }
    // a waiting call crosses its queue's longest-wait threshold without any event: look again now and then
    window.setInterval(() => { if (document.querySelector("#queues-region [data-since]")) schedule(); }, 10000);
  } else {
    source.addEventListener("utterance", (event) => {
      seen(event);
      const u = JSON.parse(event.data);
      if (String(u.call_id) === String(callId)) appendUtterance(u);
    });
    source.addEventListener("call", (event) => {
      seen(event);
      if (String(JSON.parse(event.data).call_id) === String(callId)) refreshStatus();
    });
  }
  syncClock();
  syncTalk();
})();
