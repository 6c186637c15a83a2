// Review page (progressive enhancement only: the page works without it).
// A save comes back as a new page with a notice (role=status): a notice present at
// load is not read by every screen reader, so its text is also said through the
// page's polite live region, without moving focus.
(function () {
  "use strict";
  function start() {
    const done = document.querySelector("[data-announce]");
    if (done && window.Plateau && window.Plateau.announce) {
      window.setTimeout(() => window.Plateau.announce(done.textContent.trim()), 400);
    }
    // Evidence links and "Preuve : critère N" links: land on the target, focused,
    // so that the next Tab continues from there and the screen reader reads it.
    document.addEventListener("click", (event) => {
      const link = event.target.closest('a[href^="#turn-"], a[href^="#criterion-"]');
      if (!link) return;
      const target = document.getElementById(link.getAttribute("href").slice(1));
      if (target) window.setTimeout(() => target.focus(), 0);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
