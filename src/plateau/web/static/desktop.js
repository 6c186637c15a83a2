// Plateau — agent desktop: event stream, call actions, shortcuts, timers, ring sound.
// Announcements go to the page's live regions and never move keyboard focus.
(function () {
  "use strict";
  const root = document.getElementById("desktop");
  if (!root) return;
  const msg = (name, params) => window.Plateau.message(root, name, params);
  const announce = (text, urgent) => window.Plateau.announce(text, urgent);

  // --- panels ------------------------------------------------------------
  const PANELS = { presence: "presence-panel", status: "status-panel", conversation: "conversation-panel",
                   wrapup: "wrapup-panel", contact: "contact-panel", campaign: "campaign-panel", work: "work-panel" };

  /** Re-fetch panels, keeping focus on the element with the same id if it survives. */
  async function refresh(names) {
    for (const name of names) {
      if (name === "script") { refreshScript(); continue; }
      const target = document.getElementById(PANELS[name]);
      if (!target) continue;
      const focusedId = target.contains(document.activeElement) ? document.activeElement.id : null;
      const response = await fetch("/desktop/fragment/" + name, { credentials: "same-origin" });
      if (!response.ok) continue;
      const html = await response.text();
      if (name === "work") {
        // the campaign work panel of the same call stays as it is: what is typed there is kept
        const callId = (html.match(/data-call-id="(\d+)"/) || [])[1];
        if (callId && callId === target.querySelector("#campaign-work")?.dataset.callId) continue;
      }
      target.innerHTML = html;
      if (window.htmx) window.htmx.process(target);
      if (name === "wrapup") target.hidden = !target.querySelector("#wrapup-form");
      if (focusedId) {
        const again = document.getElementById(focusedId);
        if (again && !again.disabled) again.focus();
        else {
          // the control is gone (e.g. "Décrocher" after answering): land on the panel heading
          const heading = target.querySelector("h2[tabindex]");
          if (heading) heading.focus();
        }
      }
    }
    syncTimers();
  }

  function currentCallId() {
    const status = document.getElementById("call-status");
    return status ? status.dataset.callId : null;
  }

  async function refreshScript() {
    const panel = document.getElementById("script-panel");
    const callId = currentCallId();
    const state = document.getElementById("call-status")?.dataset.state;
    if (!panel) return;
    if (!callId || state === "ringing") {
      panel.innerHTML = panel.dataset.emptyHtml || panel.innerHTML;
      return;
    }
    const response = await fetch("/desktop/script/" + callId, { credentials: "same-origin" });
    if (response.ok) {
      panel.innerHTML = await response.text();
      if (window.htmx) window.htmx.process(panel);
    }
  }

  // --- actions -------------------------------------------------------------
  const api = window.Plateau.api;

  const formBody = (form) => {
    const body = {};
    for (const [key, value] of new FormData(form).entries()) body[key] = value;
    return body;
  };

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-api]");
    if (!button || !root.contains(button)) return;
    event.preventDefault();
    if (button.dataset.busy) return; // a double click sends once
    button.dataset.busy = "1";
    try {
      const result = await api(button.dataset.api);
      if (!result.ok) announce(msg("error", { detail: result.data.detail || result.status }), true);
      else if (button.id === "call-answer") { stopRing(); await refresh(["status", "conversation", "contact", "script"]); }
      else await refresh(["status"]);
    } finally { delete button.dataset.busy; }
  });

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!root.contains(form) || !form.dataset.api) return;
    event.preventDefault();
    window.Plateau.clearFieldErrors(form);
    const body = formBody(form);
    if (form.id === "transfer-form") {
      body.queue_id = body.queue_id ? Number(body.queue_id) : null;
      body.agent_id = body.agent_id ? Number(body.agent_id) : null;
    }
    if (form.id === "wrapup-form") body.disposition_id = body.disposition_id ? Number(body.disposition_id) : null;
    const submit = form.querySelector("[type=submit]");
    if (submit) submit.disabled = true;
    try {
      const result = await api(form.dataset.api, body);
      if (!result.ok) {
        const refusal = window.Plateau.showFieldErrors(form, result.data);
        if (refusal) announce(msg("error", { detail: refusal }), true);
        if (form.dataset.refresh?.includes("campaign")) await refresh(["campaign"]); // e.g. the reasons of a blocked dial
        return;
      }
      if (form.id === "say-form") {
        form.querySelector("textarea").value = "";
        appendUtterance({ id: result.data.id, speaker: result.data.speaker, text: result.data.text, at: result.data.at });
      } else if (form.id === "presence-form") {
        await refresh(["presence", "status", "campaign"]);
      } else if (form.dataset.refresh) {
        // the dialer's forms (panel "Campagne"): the panels they change, then the record now shown
        await refresh(form.dataset.refresh.split(" "));
        if (/\/dialer\/(skip|preview\/next|join)/.test(form.dataset.api)) announceCard(true);
      } else {
        await refresh(["status", "conversation", "wrapup", "contact", "script", "presence"]);
      }
    } finally { if (submit && document.body.contains(submit)) submit.disabled = false; }
  });

  /** Say which record the preview shows now (and the calling rules' verdict), or that none is due. */
  function announceCard(sayNone) {
    const card = document.getElementById("dialer-card");
    if (card) announce(card.dataset.announce);
    else if (sayNone && document.getElementById("dialer-next")) announce(msg("no-card"));
  }

  // Enter sends a line; Shift+Enter makes a new line.
  document.addEventListener("keydown", (event) => {
    if (event.target.id === "say-text" && event.key === "Enter" && !event.shiftKey && !event.altKey) {
      event.preventDefault();
      event.target.form.requestSubmit();
    }
  });

  // --- transcript ----------------------------------------------------------------
  function appendUtterance(u) {
    const form = document.getElementById("say-form");
    window.Plateau.appendLine(document.getElementById("transcript"),
      { ...u, speaker: u.speaker === "agent" ? form?.dataset.speakerSelf
                     : u.speaker === "system" ? form?.dataset.speakerSystem : form?.dataset.speakerOther });
    if (u.speaker === "system") document.querySelector(`#transcript li[data-id="${u.id}"]`)?.classList.add("system-line");
  }

  // --- event stream -----------------------------------------------------------------
  const REFRESH = {
    ring: ["status", "presence", "conversation", "contact", "script", "wrapup"],
    answer: ["status", "conversation", "contact", "script"],
    hold: ["status", "conversation"], resume: ["status", "conversation"],
    hang_up: ["status", "conversation", "wrapup", "presence"],
    close: ["status", "conversation", "wrapup", "contact", "script", "presence", "campaign", "work"],
    abandon: ["status", "conversation", "contact", "script", "presence"],
    ring_timeout: ["status", "conversation", "contact", "script", "presence"],
    transfer: ["status", "conversation", "contact", "script", "presence", "wrapup", "work"],
    contact: ["contact", "script"],
    // outbound (campaign) calls: dialing, then connected, or not reached / dropped
    dial: ["status", "presence", "conversation", "contact", "script", "campaign", "wrapup"],
    connect: ["status", "conversation", "contact", "script", "work"],
    fail: ["status", "conversation", "contact", "script", "presence", "campaign", "work"],
    drop: ["status", "conversation", "contact", "script", "presence", "campaign", "work"],
  };
  const ANNOUNCE = { answer: "answer", hold: "hold", resume: "resume", hang_up: "hang-up", close: "close",
                     abandon: "abandon", ring_timeout: "ring-timeout", transfer: "transfer",
                     dial: "dial", connect: "connect", fail: "fail", drop: "drop" };
  const URGENT = ["hang_up", "abandon", "ring_timeout", "connect", "fail", "drop"];
  const outcomeLabels = JSON.parse(root.dataset.outcomeLabels || "{}");
  let lastId = Number(root.dataset.lastEventId || 0);
  let ringingCallId = document.getElementById("call-status")?.dataset.state === "ringing"
    ? document.getElementById("call-status").dataset.callId : null;
  let source = null;

  function connect() {
    source = new EventSource("/events?after=" + lastId);
    const status = document.getElementById("connection-status");
    source.onopen = () => { if (status && !status.hidden) { status.hidden = true; announce(msg("online")); } };
    source.onerror = () => { if (status && status.hidden) { status.hidden = false; announce(msg("offline")); } };
    source.addEventListener("call", async (event) => {
      lastId = Number(event.lastEventId) || lastId;
      const data = JSON.parse(event.data);
      const mine = data.agent_id === Number(root.dataset.userId);
      // a call a supervisor only listens to (écoute discrète) is none of this desktop's business
      if (!mine && String(data.call_id) !== String(currentCallId())) return;
      if (data.action === "ring" && mine) {
        // the banner and its button first: whoever hears the alert can answer at once
        ringingCallId = data.call_id;
        await refresh(["status"]);
        announce(data.caller ? msg("ring", data) : msg("ring-unknown", data), true);
        startRing();
      } else if (data.action === "offer") {
        return;
      } else {
        if (["answer", "abandon", "ring_timeout", "transfer", "close"].includes(data.action)) stopRing();
        if (data.action === "connect" && mine) beep(); // the called person is on the line
        const params = { ...data, caller: data.caller || data.number, outcome: outcomeLabels[data.outcome] || data.outcome };
        if (ANNOUNCE[data.action]) announce(msg(ANNOUNCE[data.action], params), URGENT.includes(data.action));
      }
      await refresh(REFRESH[data.action] || ["status"]);
      // "Ma journée" (htmx, hx-trigger="plateau:my-day from:body") counts a call once it is closed or passed on
      if (["close", "transfer"].includes(data.action)) document.body.dispatchEvent(new CustomEvent("plateau:my-day"));
    });
    source.addEventListener("utterance", (event) => {
      lastId = Number(event.lastEventId) || lastId;
      const u = JSON.parse(event.data);
      if (String(u.call_id) !== String(currentCallId())) return;
      appendUtterance(u);
      if (u.speaker === "caller") announce(msg("caller-said", { text: u.text }));
    });
    // a callback taken, closed or moved (by me or a colleague): the callbacks panel reloads itself
    source.addEventListener("callback", (event) => {
      lastId = Number(event.lastEventId) || lastId;
      document.body.dispatchEvent(new CustomEvent("plateau-callbacks"));
    });
    // the dialer: logged into or out of a campaign, a record the calling rules refused
    source.addEventListener("dialer", async (event) => {
      lastId = Number(event.lastEventId) || lastId;
      const data = JSON.parse(event.data);
      await refresh(["campaign", "presence", "status"]);
      if (data.action === "join") announce(msg("campaign-join", data));
      else if (data.action === "leave") announce(msg("campaign-leave"));
      else if (data.action === "blocked") announce(msg("blocked", data), true);
    });
    source.addEventListener("agent_state", async (event) => {
      lastId = Number(event.lastEventId) || lastId;
      const data = JSON.parse(event.data);
      const labels = JSON.parse(root.dataset.stateLabels || "{}");
      await refresh(["presence", "status", "campaign"]);
      // a change the call made is already said by the call's own announcement
      if (!data.call_id) announce(msg("state", { state: labels[data.state] || data.state }));
    });
    // a supervisor's private message ("chuchotement"): shown in its panel, read out politely; the
    // caller's console never gets this event. A take-over empties the desktop the call left.
    source.addEventListener("whisper", (event) => {
      lastId = Number(event.lastEventId) || lastId;
      const w = JSON.parse(event.data);
      const panel = document.getElementById("whisper-panel");
      const list = document.getElementById("whisper-list");
      if (!panel || !list || list.querySelector(`li[data-id="${w.id}"]`)) return;
      const [before, after] = (panel.dataset.msgWhisper || "%(text)s").split("%(text)s");
      const li = document.createElement("li");
      li.dataset.id = w.id;
      const time = document.createElement("time");
      time.dateTime = w.at;
      time.textContent = new Date(w.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      const said = document.createElement("bdi");
      said.textContent = w.text;
      li.append(time, " ", before, said, after || "", w.from ? ` (${w.from})` : "");
      list.append(li);
      while (list.childElementCount > 10) list.firstElementChild.remove();
      announce(window.Plateau.message(panel, "whisper", { text: w.text }));
    });
    source.addEventListener("call", async (event) => {
      const data = JSON.parse(event.data);
      if (data.action !== "take_over" || data.agent_id === Number(root.dataset.userId)) return;
      if (String(data.call_id) !== String(currentCallId())) return; // a call I was not on
      await refresh(["status", "conversation", "contact", "script", "presence", "wrapup"]);
      announce(window.Plateau.message(document.getElementById("whisper-panel") || root, "taken"));
    });
  }

  // --- timers (never announced every second: role=timer, aria-live=off) ---------------
  let timerBase = null;
  let wrapupWarned = false;
  function syncTimers() {
    const status = document.getElementById("call-status");
    timerBase = status ? { state: status.dataset.state, talk: Number(status.dataset.talk), hold: Number(status.dataset.hold),
                           wrapup: Number(status.dataset.wrapup), at: Date.now() } : null;
    if (!status || status.dataset.state !== "wrap_up") { wrapupWarned = false; }
  }
  const fmt = (s) => { s = Math.max(0, Math.round(s)); const m = Math.floor(s / 60); return String(m).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0"); };
  window.setInterval(() => {
    if (!timerBase) return;
    const elapsed = (Date.now() - timerBase.at) / 1000;
    const talk = document.getElementById("call-timer");
    const hold = document.getElementById("hold-timer");
    const wrap = document.getElementById("wrapup-timer");
    if (talk) talk.textContent = fmt(timerBase.talk + (timerBase.state === "connected" ? elapsed : 0));
    if (hold) hold.textContent = fmt(timerBase.hold + (timerBase.state === "on_hold" ? elapsed : 0));
    if (wrap) {
      const spent = timerBase.wrapup + (timerBase.state === "wrap_up" ? elapsed : 0);
      wrap.textContent = fmt(spent);
      if (!wrapupWarned && spent > Number(root.dataset.wrapupLimit)) { wrapupWarned = true; announce(msg("wrapup-limit")); }
    }
  }, 1000);

  // --- ring sound (Web Audio; silent if the browser refuses) ---------------------------
  let ringTimer = null;
  let audio = null;
  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 440;
      gain.gain.value = 0.08;
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.4);
    } catch (e) { /* no audio available */ }
  }
  function startRing() { stopRing(); beep(); ringTimer = window.setInterval(beep, 1500); }
  function stopRing() { if (ringTimer) window.clearInterval(ringTimer); ringTimer = null; }

  // --- keyboard shortcuts: Alt+Shift+key, remappable (WCAG 2.1.4) ----------------------
  const shortcuts = JSON.parse(document.body.dataset.shortcuts || "{}");
  const ACTIONS = {
    answer: () => {
      const button = document.getElementById("call-answer");
      if (button) button.click();
      else if (ringingCallId) api(`/api/calls/${ringingCallId}/answer`).then(() => refresh(["status", "conversation", "contact", "script"]));
    },
    hold: () => document.getElementById("call-hold")?.click(),
    hangup: () => document.getElementById("call-hangup")?.click(),
    transfer: () => {
      const box = document.getElementById("transfer-box");
      if (box) { box.open = true; document.getElementById("transfer-queue")?.focus(); }
    },
    next_step: () => {
      // ask htmx directly: the button may have just been swapped in and not yet processed
      const next = document.getElementById("script-next");
      if (next && window.htmx) window.htmx.ajax("GET", next.getAttribute("hx-get"), { target: "#script-panel", swap: "innerHTML" });
      else next?.click();
    },
    save: () => document.getElementById("contact-save")?.click(),
    dial: () => {
      const dial = document.getElementById("dialer-dial");
      if (dial && !dial.disabled) dial.click();
      else if (dial) announce(document.getElementById("dialer-verdict")?.textContent.replace(/\s+/g, " ").trim(), true);
      else document.getElementById("dialer-next")?.click();
    },
    skip: () => document.getElementById("dialer-skip")?.click(),
    controls: () => (document.getElementById("call-answer") || document.getElementById("call-hold") ||
                     document.getElementById("wrapup-disposition") || document.getElementById("call-title"))?.focus(),
    help: () => document.getElementById("help-dialog")?.showModal(),
  };
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey) return;
    // the printed key first (AZERTY and QWERTY users press what they read), the physical key
    // when Alt turns the letter into another character
    const key = (/^[a-z0-9]$/i.test(event.key) ? event.key :
                 event.code.startsWith("Key") ? event.code.slice(3) :
                 event.code.startsWith("Digit") ? event.code.slice(5) : event.key).toUpperCase();
    const action = Object.keys(shortcuts).find((name) => shortcuts[name] === key);
    if (action && ACTIONS[action]) { event.preventDefault(); ACTIONS[action](); }
  });
  document.getElementById("help-open")?.addEventListener("click", () => document.getElementById("help-dialog").showModal());

  // A ringing call found at page load (reload while ringing) rings again.
  const status = document.getElementById("call-status");
  if (status && status.dataset.state === "ringing") startRing();
  const scriptPanel = document.getElementById("script-panel");
  if (scriptPanel) scriptPanel.dataset.emptyHtml = scriptPanel.innerHTML;
  syncTimers();
  connect();
})();
