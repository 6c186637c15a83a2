// Plateau — shared page helpers: screen-reader announcements, message templates, JSON API calls.
(function () {
  "use strict";
  const token = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  /** Say something to screen readers without moving focus.
   *  Each message is its own node, kept a while: two events a few milliseconds
   *  apart are both read, instead of the second erasing the first. */
  function announce(text, urgent) {
    const region = document.getElementById(urgent ? "live-assertive" : "live-polite");
    if (!region || !text) return;
    const line = document.createElement("p");
    line.textContent = text;
    region.append(line);
    while (region.childElementCount > 5) region.firstElementChild.remove();
    window.setTimeout(() => line.remove(), 20000);
  }

  /** A translated message template from ``root``'s data-msg-* attributes, filled. */
  function message(root, name, params) {
    let text = root.dataset["msg" + name.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase())] || "";
    for (const [key, value] of Object.entries(params || {})) text = text.split("%(" + key + ")s").join(value ?? "");
    return text;
  }

  /** POST JSON to the API with the CSRF header; resolves to {ok, status, data}. */
  async function api(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": token(), "Accept": "application/json" },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { /* empty body */ }
    return { ok: response.ok, status: response.status, data };
  }

  function clearFieldErrors(form) {
    form.querySelectorAll("[data-error-for]").forEach((el) => { el.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    const summary = form.querySelector("[role=alert]");
    if (summary) summary.hidden = true;
  }

  /** Put an API refusal next to its fields (``data-error-for`` slots) and mark them
   *  invalid. With an alert summary in the form, the message goes there; otherwise it
   *  is returned for the caller to announce. */
  function showFieldErrors(form, data) {
    clearFieldErrors(form);
    const errors = data.errors && Object.keys(data.errors).length ? data.errors : { [data.field || "_"]: data.detail };
    for (const [field, text] of Object.entries(errors)) {
      const slot = form.querySelector(`[data-error-for="${field}"]`);
      if (!slot) continue;
      slot.textContent = text;
      form.querySelector(`[aria-describedby~="${slot.id}"]`)?.setAttribute("aria-invalid", "true");
    }
    const all = Object.values(errors).join(" ");
    const summary = form.querySelector("[role=alert]");
    if (summary) { summary.hidden = false; summary.textContent = all; return null; }
    return all;
  }

  /** Append one transcript line once (events and responses may both bring it). */
  function appendLine(list, line) {
    if (!list || list.querySelector(`li[data-id="${line.id}"]`)) return;
    const li = document.createElement("li");
    li.dataset.id = line.id;
    const who = document.createElement("span");
    who.className = "speaker";
    who.textContent = line.speaker;
    const time = document.createElement("time");
    time.dateTime = line.at;
    time.textContent = new Date(line.at).toLocaleTimeString();
    const said = document.createElement("bdi"); // what was said keeps its own direction (French in an Arabic page)
    said.textContent = line.text;
    li.append(who, " ", time, " : ", said);
    list.append(li);
    list.scrollTop = list.scrollHeight;
  }

  window.Plateau = { announce, token, message, api, clearFieldErrors, showFieldErrors, appendLine };

  // Announce what htmx swaps in when the fragment asks for it (data-announce).
  document.addEventListener("htmx:afterSwap", (event) => {
    const el = event.detail.target?.querySelector?.("[data-announce]") || (event.detail.target?.dataset?.announce ? event.detail.target : null);
    if (el) announce(el.dataset.announce, el.dataset.urgent === "1");
  });
  // htmx does not swap error responses by default: show refusals where asked.
  document.addEventListener("htmx:beforeSwap", (event) => {
    if (event.detail.xhr.status === 422 || event.detail.xhr.status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
