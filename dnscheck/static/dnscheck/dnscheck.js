// Copy buttons for the records snippet (a static file: the CSP forbids inline scripts).
(function () {
  function copyBySelection(source) {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    selection.removeAllRanges();
    return copied;
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (!button) return;
    var source = document.getElementById(button.dataset.copyTarget);
    if (!source) return;
    var label = button.textContent;
    var done = function () {
      button.textContent = button.dataset.copiedLabel || "Copied";
      button.classList.add("copied");
      setTimeout(function () { button.textContent = label; button.classList.remove("copied"); }, 2000);
    };
    var fallback = function () { if (copyBySelection(source)) done(); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(source.textContent).then(done, fallback);
    } else {
      fallback();
    }
  });
})();
