// Polls the brief's state until it is final; the page itself is complete without this.
(function () {
  "use strict";
  var box = document.getElementById("state");
  if (!box || box.dataset.final === "true") return;
  var phase = document.getElementById("phase");
  var detail = document.getElementById("detail");
  var shown = phase.textContent;
  function poll() {
    fetch(box.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (!s) { setTimeout(poll, 5000); return; }
        phase.textContent = s.phase;
        phase.className = "phase phase-" + s.phase.replace(/ /g, "-");
        detail.textContent = s.detail;
        if (s.final && s.phase !== shown) { window.location.reload(); return; }
        shown = s.phase;
        if (!s.final) setTimeout(poll, 2000);
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  setTimeout(poll, 2000);
})();
