// riptide report: the hover readout of the charts and the paged, searchable
// operation table. Data comes from the JSON blocks of the page; every value
// reaches the DOM through textContent, never as markup.
(function () {
  "use strict";

  function byId(id) { return document.getElementById(id); }
  function data(id) {
    var el = byId(id);
    if (!el) { return null; }
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function fmtUs(us) {
    if (us >= 1e6) { return (us / 1e6).toFixed(us >= 6e7 ? 0 : 2) + "s"; }
    if (us >= 1e3) { return (us / 1e3).toFixed(us >= 1e5 ? 0 : 1) + "ms"; }
    return us + "µs";
  }
  function fmtTime(us) { return (us / 1e6).toFixed(3) + "s"; }
  // fmtOpTime writes an operation's time as formatOpTime does in Go (Go's
  // Duration.String): to the nanosecond below a millisecond, to the
  // microsecond above, so that the table and the anomaly sections agree.
  function trimZeros(s) { return s.indexOf(".") < 0 ? s : s.replace(/0+$/, "").replace(/\.$/, ""); }
  function fmtOpTime(ns) {
    if (ns < 0) { return "-" + fmtOpTime(-ns); }
    if (ns === 0) { return "0s"; }
    if (ns < 1e3) { return ns + "ns"; }
    if (ns < 1e6) { return trimZeros((ns / 1e3).toFixed(3)) + "µs"; }
    var us = Math.round(ns / 1e3);
    if (us < 1e6) { return trimZeros((us / 1e3).toFixed(3)) + "ms"; }
    var h = Math.floor(us / 3.6e9), m = Math.floor((us - h * 3.6e9) / 6e7), s = "";
    us -= h * 3.6e9 + m * 6e7;
    if (h) { s += h + "h"; }
    if (h || m) { s += m + "m"; }
    return s + trimZeros((us / 1e6).toFixed(6)) + "s";
  }

  // Hover readout: one cursor across every track, values of the bucket.
  var series = data("series-data");
  var tracks = byId("tracks");
  var readout = byId("readout");
  if (series && tracks && readout) {
    var cursors = tracks.querySelectorAll(".cursor");
    var plots = tracks.querySelectorAll(".plot");
    var show = function (ev) {
      var rect = ev.currentTarget.getBoundingClientRect();
      var frac = Math.min(Math.max((ev.clientX - rect.left) / rect.width, 0), 1);
      var t = frac * series.end_us;
      var b = Math.min(Math.floor(t / series.bucket_us), series.acked.length - 1);
      for (var i = 0; i < cursors.length; i++) { cursors[i].style.left = (frac * 100) + "%"; }
      tracks.classList.add("hover");
      var active = [];
      for (var j = 0; j < series.faults.length; j++) {
        var f = series.faults[j];
        if (t >= f.start_us && t < f.stop_us) { active.push(f.label); }
      }
      readout.textContent = "";
      var parts = [
        ["t", fmtTime(t)],
        ["acked", series.acked[b] + "/s"],
        ["read", series.reads[b] + "/s"],
        ["failed/unknown", series.failed[b] + "/s"],
        ["p50", series.p50_us[b] ? fmtUs(series.p50_us[b]) : "–"],
        ["p99", series.p99_us[b] ? fmtUs(series.p99_us[b]) : "–"],
        ["faults", active.length ? active.join(", ") : "none"]
      ];
      for (var k = 0; k < parts.length; k++) {
        if (k) { readout.appendChild(document.createTextNode("  ·  ")); }
        readout.appendChild(document.createTextNode(parts[k][0] + " "));
        readout.appendChild(el("b", "", parts[k][1]));
      }
    };
    for (var p = 0; p < plots.length; p++) {
      plots[p].addEventListener("mousemove", show);
      plots[p].addEventListener("mouseleave", function () { tracks.classList.remove("hover"); });
    }
  }

  // Operation table. A row is [index, process, type, f, stream, value,
  // offset, node, error, time_ns, reads]; reads is null or
  // [count, [offset, value]...].
  var rows = data("ops-data");
  var body = byId("op-rows");
  if (!rows || !body) { return; }
  var dataEl = byId("ops-data");
  var showStream = dataEl.getAttribute("data-streams") > 1;
  var PAGE = 100;
  var search = byId("op-search"), typeSel = byId("op-type"), fSel = byId("op-f");
  var note = byId("op-note"), pageLabel = byId("op-page");
  var view = rows, page = 0, highlight = -1, filtered = false;
  var haystack = new Array(rows.length);

  var fs = {};
  for (var i = 0; i < rows.length; i++) { fs[rows[i][3].split(" ")[0]] = true; }
  Object.keys(fs).sort().forEach(function (f) { fSel.appendChild(el("option", "", f)); });

  function text(r) {
    var s = "#" + r[0] + " " + (r[1] < 0 ? "nemesis" : "p" + r[1]) + " " + r[2] + " " + r[3] + " " + r[4] + " " + r[5] + " " + r[7] + " " + r[8];
    if (r[6] >= 0) { s += " @" + r[6]; }
    if (r[10]) { for (var k = 1; k < r[10].length; k++) { s += " " + r[10][k][1]; } }
    return s.toLowerCase();
  }
  function readsText(reads) {
    if (!reads) { return ""; }
    var n = reads[0], parts = [];
    for (var k = 1; k < reads.length; k++) { parts.push(reads[k][1] + "@" + reads[k][0]); }
    var s = n + (n === 1 ? " read: " : " reads: ") + parts.join(", ");
    if (n > reads.length - 1) { s += ", …"; }
    return s;
  }
  function gapRow(n) {
    var tr = el("tr", "gap");
    var td = el("td", "", "⋯ " + n + (n === 1 ? " operation" : " operations") + " not in this sample (see history.jsonl)");
    td.colSpan = showStream ? 10 : 9;
    tr.appendChild(td);
    return tr;
  }
  function render() {
    var pages = Math.max(1, Math.ceil(view.length / PAGE));
    page = Math.min(Math.max(page, 0), pages - 1);
    var frag = document.createDocumentFragment();
    var start = page * PAGE, end = Math.min(start + PAGE, view.length);
    for (var k = start; k < end; k++) {
      var r = view[k];
      if (!filtered && k > start && view[k - 1][0] + 1 < r[0]) { frag.appendChild(gapRow(r[0] - view[k - 1][0] - 1)); }
      var tr = el("tr", r[1] < 0 ? "nemesis" : "");
      if (r[0] === highlight) { tr.className += " hl"; }
      tr.appendChild(el("td", "", "#" + r[0]));
      tr.appendChild(el("td", "num", fmtOpTime(r[9])));
      tr.appendChild(el("td", "", r[1] < 0 ? "nemesis" : r[1]));
      tr.appendChild(el("td", "t-" + r[2], r[2]));
      tr.appendChild(el("td", "", r[3]));
      if (showStream) { tr.appendChild(el("td", "", r[4])); }
      var v = el("td", ""); v.appendChild(el("code", "", r[5])); tr.appendChild(v);
      tr.appendChild(el("td", "num", r[6] >= 0 ? r[6] : ""));
      tr.appendChild(el("td", "", r[7]));
      var last = el("td", "", readsText(r[10]));
      if (r[8]) { last.appendChild(el("span", "fail", (r[10] ? " " : "") + r[8])); }
      last.title = last.textContent;
      tr.appendChild(last);
      frag.appendChild(tr);
    }
    body.textContent = "";
    body.appendChild(frag);
    pageLabel.textContent = "page " + (page + 1) + " of " + pages;
    note.textContent = filtered ? view.length + " of " + rows.length + " embedded operations match" : "";
  }
  function applyFilter() {
    var q = search.value.trim().toLowerCase(), t = typeSel.value, f = fSel.value;
    filtered = q !== "" || t !== "" || f !== "";
    if (!filtered) { view = rows; page = 0; render(); return; }
    view = rows.filter(function (r, k) {
      if (t && r[2] !== t) { return false; }
      if (f && r[3].split(" ")[0] !== f) { return false; }
      if (!q) { return true; }
      if (haystack[k] === undefined) { haystack[k] = text(r); }
      return haystack[k].indexOf(q) >= 0;
    });
    page = 0;
    render();
  }
  // find is a binary search: rows are in history order.
  function find(index) {
    var lo = 0, hi = rows.length - 1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (rows[mid][0] === index) { return mid; }
      if (rows[mid][0] < index) { lo = mid + 1; } else { hi = mid - 1; }
    }
    return -1;
  }
  function jump() {
    var m = /^#op-(\d+)$/.exec(location.hash);
    if (!m) { return; }
    var index = parseInt(m[1], 10), k = find(index);
    search.value = ""; typeSel.value = ""; fSel.value = "";
    filtered = false; view = rows; highlight = index;
    if (k < 0) {
      render();
      note.textContent = "Operation #" + index + " is not embedded in this report; history.jsonl has it.";
    } else {
      page = Math.floor(k / PAGE);
      render();
      var hl = body.querySelector("tr.hl");
      if (hl) { hl.scrollIntoView({ block: "center" }); }
    }
  }

  var timer = 0;
  search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(applyFilter, 150); });
  typeSel.addEventListener("change", applyFilter);
  fSel.addEventListener("change", applyFilter);
  byId("op-first").addEventListener("click", function () { page = 0; render(); });
  byId("op-prev").addEventListener("click", function () { page--; render(); });
  byId("op-next").addEventListener("click", function () { page++; render(); });
  byId("op-last").addEventListener("click", function () { page = 1e9; render(); });
  window.addEventListener("hashchange", jump);
  // A second click on the same link changes no hash: jump anyway.
  var links = document.querySelectorAll("a.oplink");
  for (var n = 0; n < links.length; n++) {
    links[n].addEventListener("click", function (ev) {
      if (ev.currentTarget.getAttribute("href") === location.hash) { jump(); }
    });
  }
  render();
  jump();
})();
