(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");
  var table = document.getElementById("findings");
  if (!table) { return; }
  var bodies = Array.prototype.slice.call(table.querySelectorAll("tbody.finding"));
  var form = document.getElementById("filters");
  var shown = document.getElementById("shown");
  var search = document.getElementById("f-text");
  var severity = document.getElementById("f-severity");
  var area = document.getElementById("f-area");
  var platform = document.getElementById("f-platform");
  var statusBoxes = Array.prototype.slice.call(form.querySelectorAll("input[name=status]"));

  function apply() {
    var wanted = {};
    statusBoxes.forEach(function (b) { wanted[b.value] = b.checked; });
    var minSev = severity.value === "" ? -1 : parseInt(severity.value, 10);
    var a = area.value;
    var pl = platform.value;
    var words = search.value.toLowerCase().split(/\s+/).filter(function (w) { return w !== ""; });
    var n = 0;
    bodies.forEach(function (tb) {
      var d = tb.dataset;
      var ok = wanted[d.status] === true &&
        parseInt(d.sevRank, 10) >= minSev &&
        (a === "" || d.area === a) &&
        (pl === "" || d.platform === pl) &&
        words.every(function (w) { return d.search.indexOf(w) !== -1; });
      tb.hidden = !ok;
      if (ok) { n++; }
    });
    shown.textContent = "Showing " + n + " of " + bodies.length + " findings";
  }
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (e) { e.preventDefault(); });

  function setOpen(tb, open) {
    tb.classList.toggle("open", open);
    var b = tb.querySelector("button.toggle");
    if (b) { b.setAttribute("aria-expanded", open ? "true" : "false"); }
  }
  table.addEventListener("click", function (e) {
    var b = e.target.closest("button.toggle");
    if (!b) { return; }
    var tb = b.closest("tbody.finding");
    setOpen(tb, !tb.classList.contains("open"));
  });
  document.getElementById("expand-all").addEventListener("click", function () {
    bodies.forEach(function (tb) { if (!tb.hidden) { setOpen(tb, true); } });
  });
  document.getElementById("collapse-all").addEventListener("click", function () {
    bodies.forEach(function (tb) { setOpen(tb, false); });
  });

  // Sorting: every sortable header names a data-* key of the finding rows;
  // keys ending in "Rank" or "Order" are numeric. A second click reverses;
  // ties keep the report's order. Printing needs no script: the print
  // stylesheet shows every visible finding's detail.
  var heads = Array.prototype.slice.call(table.querySelectorAll("th[data-key]"));
  bodies.forEach(function (tb, i) { tb.dataset.order = String(i); });
  heads.forEach(function (th) {
    th.querySelector("button.sort").addEventListener("click", function () {
      var key = th.dataset.key;
      var asc = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var numeric = /(Rank|Order)$/.test(key);
      var sorted = bodies.slice().sort(function (x, y) {
        var a = x.dataset[key], b = y.dataset[key], c;
        if (numeric) { c = parseInt(a, 10) - parseInt(b, 10); }
        else { c = a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" }); }
        if (!asc) { c = -c; }
        return c !== 0 ? c : parseInt(x.dataset.order, 10) - parseInt(y.dataset.order, 10);
      });
      sorted.forEach(function (tb) { table.appendChild(tb); });
    });
  });

  apply();
  // One line for tests that open the page in a browser: the script ran to
  // the end (an empty console then means no errors, not no logging).
  if (window.console && console.info) { console.info("hvaudit-report-ready"); }
}());
