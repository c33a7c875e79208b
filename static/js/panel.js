// The panel's small behaviours (a static file: the CSP forbids inline scripts).
document.documentElement.classList.add("js-enabled");
(function () {
  // The phone menu: the button shows only when JavaScript runs, so without it the menu stays open.
  function setUpMenu() {
    var bar = document.getElementById("topbar");
    var button = bar && bar.querySelector(".menu-toggle");
    if (!button) return;
    button.hidden = false;
    bar.classList.add("collapsible");
    button.addEventListener("click", function () {
      var open = bar.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Confirmation before a change that stops mail: a button with data-confirm asks first,
  // whether it submits a form or posts through htmx (htmx reads hx-confirm itself).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-confirm]:not([hx-confirm])");
    if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
  });

  // Bulk selection: "select all on this page", and the count of selected rows.
  function updateBulk(form) {
    var boxes = form.querySelectorAll("input[name=pk]");
    var checked = form.querySelectorAll("input[name=pk]:checked").length;
    var all = form.querySelector("input[data-select-page]");
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
    var count = form.querySelector("[data-selected-count]");
    if (count) count.textContent = count.dataset.template.replace("{n}", checked);
    var bar = form.querySelector(".bulk-bar");
    var matching = form.querySelector("input[name=scope][value=matching]");
    if (bar) bar.classList.toggle("active", checked > 0 || (matching && matching.checked));
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest("form.bulk");
    if (!form) return;
    if (event.target.matches("input[data-select-page]")) {
      form.querySelectorAll("input[name=pk]").forEach(function (box) { box.checked = event.target.checked; });
    }
    updateBulk(form);
  });
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll("form.bulk").forEach(updateBulk);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpMenu);
  } else {
    setUpMenu();
  }
})();

// Selects that apply at once (the rows-per-page choice); their button is for no-JavaScript use.
document.addEventListener("change", function (event) {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.submit();
});
