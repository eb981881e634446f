// The console's only script, served from the jar (the CSP allows no inline script). Everything
// works without it; it adds folder collapsing in the tree and a confirmation before destructive forms.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  }
  for (const toggle of document.querySelectorAll("button.toggle")) {
    toggle.addEventListener("click", () => {
      const folder = toggle.dataset.folder;
      const collapse = toggle.textContent === "▾";
      toggle.textContent = collapse ? "▸" : "▾";
      for (const row of document.querySelectorAll("#secret-tree tbody tr")) {
        const name = row.dataset.name || row.dataset.folder;
        if (name !== folder && name.startsWith(folder)) {
          row.classList.toggle("hidden", collapse);
        }
      }
    });
  }
});
