// Plateau — caller console: place calls, talk as the customer, follow each call's state.
(function () {
  "use strict";
  const root = document.getElementById("console");
  if (!root) return;
  const msg = (name, params) => window.Plateau.message(root, name, params);
  const announce = (text, urgent) => window.Plateau.announce(text, urgent);

  const api = window.Plateau.api;

  async function refreshList() {
    const target = document.getElementById("console-calls");
    const focusedId = target.contains(document.activeElement) ? document.activeElement.id : null;
    const drafts = {};
    target.querySelectorAll("textarea").forEach((t) => { if (t.value) drafts[t.id] = t.value; });
    const response = await fetch("/console/calls", { credentials: "same-origin" });
    if (!response.ok) return;
    target.innerHTML = await response.text();
    for (const [id, value] of Object.entries(drafts)) { const t = document.getElementById(id); if (t) t.value = value; }
    if (focusedId) document.getElementById(focusedId)?.focus();
  }

  async function refreshStatus(callId) {
    const slot = document.getElementById("console-status-" + callId);
    if (!slot) return refreshList();
    const focusedId = slot.contains(document.activeElement) ? document.activeElement.id : null;
    const response = await fetch(`/console/calls/${callId}/status`, { credentials: "same-origin" });
    if (!response.ok) return;
    slot.innerHTML = await response.text();
    if (focusedId) document.getElementById(focusedId)?.focus();
  }

  function appendUtterance(u) {
    const form = document.getElementById("console-say-" + u.call_id);
    window.Plateau.appendLine(document.getElementById("console-transcript-" + u.call_id),
      { ...u, speaker: u.speaker === "caller" ? form?.dataset.speakerSelf : form?.dataset.speakerOther });
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!root.contains(form) || !form.dataset.api) return;
    event.preventDefault();
    const body = Object.fromEntries(new FormData(form).entries());
    if (form.id === "place-form") {
      body.queue_id = Number(body.queue_id);
      body.contact_id = body.contact_id ? Number(body.contact_id) : null;
      if (body.contact_id) body.number = null;
    }
    const result = await api(form.dataset.api, body);
    if (!result.ok) {
      const refusal = window.Plateau.showFieldErrors(form, result.data);
      if (refusal) announce(msg("error", { detail: refusal }), true);
      return;
    }
    window.Plateau.clearFieldErrors(form);
    if (form.id === "place-form") {
      await refreshList();
      announce(result.data.state === "ringing" ? msg("ring", { call_id: result.data.id, agent: "" }) : "");
    } else {
      form.querySelector("textarea").value = "";
      appendUtterance({ ...result.data, call_id: form.dataset.callId });
    }
  });

  document.addEventListener("keydown", (event) => {
    const t = event.target;
    if (t.tagName === "TEXTAREA" && t.closest(".console-say") && event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      t.form.requestSubmit();
    }
  });

  document.addEventListener("click", async (event) => {
    const pick = event.target.closest(".console-pick");
    if (pick) {
      document.getElementById("console-contact-id").value = pick.dataset.contactId;
      document.getElementById("console-number").value = "";
      const chosen = document.getElementById("console-contact-chosen");
      chosen.textContent = pick.dataset.contactLabel;
      return;
    }
    const button = event.target.closest("button[data-api]");
    if (!button || !root.contains(button) || button.dataset.busy) return;
    button.dataset.busy = "1";
    const result = await api(button.dataset.api);
    delete button.dataset.busy;
    if (!result.ok) announce(msg("error", { detail: result.data.detail }), true);
  });
  document.getElementById("console-number")?.addEventListener("input", () => {
    document.getElementById("console-contact-id").value = "";
    document.getElementById("console-contact-chosen").textContent = "";
  });

  let lastId = Number(root.dataset.lastEventId || 0);
  const source = new EventSource("/events?after=" + lastId);
  const ANNOUNCE = { ring: "ring", answer: "answer", hold: "hold", resume: "resume", transfer: "transfer",
                     hang_up: "hang-up", abandon: "abandon", ring_timeout: "ring-timeout" };
  source.addEventListener("call", async (event) => {
    lastId = Number(event.lastEventId) || lastId;
    const data = JSON.parse(event.data);
    if (["offer", "hang_up", "abandon", "close"].includes(data.action) || !document.getElementById("console-call-" + data.call_id)) {
      await refreshList();
    } else {
      await refreshStatus(data.call_id);
    }
    if (ANNOUNCE[data.action]) announce(msg(ANNOUNCE[data.action], data));
  });
  source.addEventListener("utterance", (event) => {
    lastId = Number(event.lastEventId) || lastId;
    const u = JSON.parse(event.data);
    appendUtterance(u);
    if (u.speaker === "agent") announce(msg("agent-said", u));
  });
})();
