// Copy buttons of the sample queries (served from the same origin: the CSP allows no inline script).
document.querySelectorAll("button.copy").forEach(function (b) {
  b.addEventListener("click", function () {
    var el = document.getElementById(b.getAttribute("data-target"));
    if (!el) { return; }
    var done = function () { b.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(el.textContent).then(done, function () { b.textContent = "Select and copy"; });
      return;
    }
    var r = document.createRange();
    r.selectNodeContents(el);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
    b.textContent = "Selected: press Ctrl+C";
  });
});
