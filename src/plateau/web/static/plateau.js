// Plateau — shared page helpers: screen-reader announcements and CSRF for fetch.
(function () {
  "use strict";
  const token = () => document.querySelector('meta[name="csrf-token"]')?.content || "";

  /** Say something to screen readers without moving focus. */
  function announce(text, urgent) {
    const region = document.getElementById(urgent ? "live-assertive" : "live-polite");
    if (!region || !text) return;
    region.textContent = "";
    // A fresh text node after a tick makes repeated messages announced again.
    window.setTimeout(() => { region.textContent = text; }, 50);
  }

  /** POST a form-encoded body with the CSRF header; returns the Response. */
  function post(url, data) {
    const body = data instanceof FormData ? new URLSearchParams(data) : new URLSearchParams(data || {});
    return fetch(url, { method: "POST", body, headers: { "X-CSRF-Token": token(), "Accept": "application/json" }, credentials: "same-origin" });
  }

  window.Plateau = { announce, post, token };

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
