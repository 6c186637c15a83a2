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
    if (focusedId) refocus(focusedId);
  }

  /** Focus the element that had it before a refresh; if it is gone (the keypad once the call
   *  leaves the voice menu), the transcript of its call, rather than the page's start. */
  function refocus(id) {
    const again = document.getElementById(id);
    if (again) { again.focus(); return; }
    const callId = (id.match(/-(\d+)(-\d+)?$/) || [])[1];
    document.getElementById("console-transcript-" + callId)?.focus();
  }

  async function refreshStatus(callId) {
    const slot = document.getElementById("console-status-" + callId);
    if (!slot) return refreshList();
    const focusedId = slot.contains(document.activeElement) ? document.activeElement.id : null;
    const response = await fetch(`/console/calls/${callId}/status`, { credentials: "same-origin" });
    if (!response.ok) return;
    slot.innerHTML = await response.text();
    if (focusedId) refocus(focusedId);
  }

  function appendUtterance(u) {
    const list = document.getElementById("console-transcript-" + u.call_id);
    const labels = list?.dataset || {};
    const speaker = u.speaker === "caller" ? labels.speakerSelf : u.speaker === "system" ? labels.speakerSystem : labels.speakerOther;
    window.Plateau.appendLine(list, { ...u, speaker });
    if (u.speaker === "system") list?.querySelector(`li[data-id="${u.id}"]`)?.classList.add("system-line");
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!root.contains(form) || !form.dataset.api) return;
    event.preventDefault();
    const body = Object.fromEntries(new FormData(form).entries());
    let url = form.dataset.api;
    if (form.id === "place-form") {
      body.queue_id = Number(body.queue_id);
      body.contact_id = body.contact_id ? Number(body.contact_id) : null;
      if (body.contact_id) body.number = null;
      // "Appeler le serveur vocal" dials the chosen menu instead of a queue
      if (event.submitter?.id === "console-call-ivr") url = event.submitter.dataset.api.replace("%(ivr_id)s", body.ivr_id);
    }
    const result = await api(url, body);
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
    const key = event.target.closest(".keypad button[data-key]");
    if (key) { press(key.closest(".keypad"), key.dataset.key); return; }
    const button = event.target.closest("button[data-api]");
    if (!button || !root.contains(button) || button.dataset.busy) return;
    button.dataset.busy = "1";
    const result = await api(button.dataset.api);
    delete button.dataset.busy;
    if (!result.ok) announce(msg("error", { detail: result.data.detail }), true);
    else if (button.dataset.done) announce(button.dataset.done);
    if (button.id.startsWith("console-play-")) {
      // the trainer now plays the called party: the call gets its panel, the list of calls to play shrinks
      await refreshList();
      document.body.dispatchEvent(new CustomEvent("plateau-outbound"));
      if (result.ok) document.getElementById("console-say-text-" + result.data.call_id)?.focus();
    }
  });

  // --- the voice menu's keypad: keys go out one after the other, in the order pressed ---
  let keys = Promise.resolve();
  function press(keypad, key) {
    const button = keypad.querySelector(`button[data-key="${CSS.escape(key)}"]`);
    button?.classList.add("pressed");
    window.setTimeout(() => button?.classList.remove("pressed"), 200);
    keys = keys.then(async () => {
      const result = await api(keypad.dataset.api, { key });
      if (!result.ok) announce(msg("error", { detail: result.data.detail }), true);
      else if (result.data.state !== "ivr") await refreshList();
    });
  }
  document.addEventListener("keydown", (event) => {
    const keypad = event.target.closest?.(".keypad");
    if (!keypad || event.ctrlKey || event.altKey || event.metaKey || !/^[0-9*#]$/.test(event.key)) return;
    event.preventDefault();
    press(keypad, event.key);
  });
  document.getElementById("console-number")?.addEventListener("input", () => {
    document.getElementById("console-contact-id").value = "";
    document.getElementById("console-contact-chosen").textContent = "";
  });

  let lastId = Number(root.dataset.lastEventId || 0);
  const source = new EventSource("/events?after=" + lastId);
  const ANNOUNCE = { ring: "ring", answer: "answer", hold: "hold", resume: "resume", transfer: "transfer",
                     hang_up: "hang-up", abandon: "abandon", ring_timeout: "ring-timeout", enqueue: "enqueue",
                     deflect: "deflect", connect: "connect", fail: "fail", drop: "drop" };
  source.addEventListener("call", async (event) => {
    lastId = Number(event.lastEventId) || lastId;
    const data = JSON.parse(event.data);
    if (["offer", "hang_up", "abandon", "close", "enqueue", "deflect", "connect", "fail", "drop"].includes(data.action) || !document.getElementById("console-call-" + data.call_id)) {
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
    if (u.speaker === "system") announce(msg("system-said", u));
  });
  // a waiting call's position and estimated wait (and the callback offer): said politely
  source.addEventListener("queue_status", async (event) => {
    lastId = Number(event.lastEventId) || lastId;
    const data = JSON.parse(event.data);
    await refreshStatus(data.call_id);
    const text = document.getElementById("console-wait-" + data.call_id)?.textContent.replace(/\s+/g, " ").trim();
    if (text) announce(text);
  });
})();
