// Plateau — call script editor: "Aller à la ligne N" next to each error.
// Finding line 87 of a long text area is hard with a screen reader or a
// magnifier; this puts the caret at the start of the line and selects it.
(function () {
  "use strict";
  const area = document.getElementById("script-content");
  const list = document.getElementById("script-errors");
  if (!area || !list) return;
  const label = list.dataset.goLabel || "Aller à la ligne %(line)s";
  list.querySelectorAll("li[data-line]").forEach((item) => {
    const line = Number(item.dataset.line);
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = label.replace("%(line)s", String(line));
    button.addEventListener("click", () => {
      const lines = area.value.split("\n");
      const start = lines.slice(0, line - 1).reduce((sum, text) => sum + text.length + 1, 0);
      const end = start + (lines[line - 1] || "").length;
      area.focus();
      area.setSelectionRange(start, end);
      // scroll the selected line into view (about one line height per line)
      const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 20;
      area.scrollTop = Math.max(0, (line - 3) * lineHeight);
    });
    item.append(" ", button);
  });
})();
