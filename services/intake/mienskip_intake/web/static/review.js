// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // "Select all" for bulk approval: shown only when script runs.
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    var label = box.closest(".js-only");
    if (label) { label.hidden = false; }
    var name = box.getAttribute("data-select-all");
    box.addEventListener("change", function () {
      document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (item) {
        item.checked = box.checked;
      });
    });
  });
  // Opening "reject" moves focus to the reason field, so keyboard users can type at once.
  document.querySelectorAll("details.reject").forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (details.open) {
        var input = details.querySelector("input[name=reason]");
        if (input) { input.focus(); }
      }
    });
  });
  // "Print this week": a button for what the browser's own print already does.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
})();
