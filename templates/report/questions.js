/* The per-question view of a toolkit report: search and filters over the JSON in #questions-data.
   Inline in the page (no downloads, works from file://); renders 200 matching rows at a time, so a
   run of tens of thousands of questions opens at once. Every text goes in through textContent. */
(function () {
  "use strict";
  var section = document.getElementById("questions");
  var source = document.getElementById("questions-data");
  if (!section || !source) { return; }
  var started = performance.now();
  var data = JSON.parse(source.textContent);
  var rows = data.rows, models = data.models, subjects = data.subjects;
  var PAGE = 200;
  function el(id) { return document.getElementById(id); }
  var search = el("q-search"), subject = el("q-subject"), show = el("q-show"), disagree = el("q-disagree"),
      flagged = el("q-flagged"), count = el("q-count"), body = el("q-body"), more = el("q-more"), all = el("q-all");
  subjects.forEach(function (s, i) {
    var option = document.createElement("option");
    option.value = String(i);
    option.textContent = s.abbr;
    subject.appendChild(option);
  });
  var haystacks = null;
  function haystack(i) {
    if (haystacks === null) {
      haystacks = rows.map(function (r) {
        var parts = [r[2] || "", r[3] || ""].concat(r[4]);
        r[6].forEach(function (a) { if (a) { parts.push(a[0], a[1] || ""); } });
        return parts.join("\n").toLowerCase();
      });
    }
    return haystacks[i];
  }
  function wrong(a) { return a !== null && a[2] === 0; }
  function keep(r, i, f) {
    if (f.subject !== null && r[0] !== f.subject) { return false; }
    var answers = r[6];
    if (f.show === "any" && !answers.some(wrong)) { return false; }
    if (f.show === "all" && !(answers.length && answers.every(wrong))) { return false; }
    if (f.show === "right" && !(answers.length && answers.every(function (a) { return a !== null && a[2] === 1; }))) { return false; }
    if (f.show.charAt(0) === "m" && !wrong(answers[Number(f.show.slice(1))])) { return false; }
    if (f.disagree) {
      var seen = {}, n = 0;
      answers.forEach(function (a) { if (a && !seen.hasOwnProperty("k" + a[0])) { seen["k" + a[0]] = 1; n += 1; } });
      if (n < 2) { return false; }
    }
    if (f.flagged && !r[7]) { return false; }
    for (var t = 0; t < f.terms.length; t++) {
      if (haystack(i).indexOf(f.terms[t]) < 0) { return false; }
    }
    return true;
  }
  var matched = [], shown = 0;
  function cell(tr, className) {
    var td = document.createElement("td");
    if (className) { td.className = className; }
    tr.appendChild(td);
    return td;
  }
  function add(parent, tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    if (className) { node.className = className; }
    parent.appendChild(node);
    return node;
  }
  function render(r) {
    var s = subjects[r[0]];
    var tr = document.createElement("tr");
    tr.setAttribute("data-key", s.abbr + "#" + r[1]);
    var question = cell(tr, "q");
    var where = add(question, "div", s.abbr + " #" + r[1] + (r[2] !== null ? " · id " + r[2] : "") + " ", "where");
    if (r[7]) { add(where, "span", "check key", "badge"); }
    if (r[3] === null) {
      add(question, "span", s.note || "question text unavailable", "muted");
    } else {
      add(question, "div", r[3]);
      var list = add(question, "ol");
      r[4].forEach(function (text) { add(list, "li", text); });
    }
    cell(tr).textContent = r[5] === null ? "–" : r[5];
    r[6].forEach(function (a) {
      if (a === null) { add(cell(tr, "muted"), "span", "–"); return; }
      var td = cell(tr, a[2] === 1 ? "right" : a[2] === 0 ? "wrong" : "");
      add(td, "span", (a[0] === "" ? "(empty)" : a[0]) + (a[2] === 1 ? " ✓" : a[2] === 0 ? " ✗" : ""));
      if (a[1] !== null) {
        var details = add(td, "details");
        add(details, "summary", "output");
        add(details, "pre", a[1]);
      }
    });
    return tr;
  }
  function renderUpTo(end) {
    var fragment = document.createDocumentFragment();
    for (; shown < end; shown++) { fragment.appendChild(render(rows[matched[shown]])); }
    body.appendChild(fragment);
    count.textContent = "Showing " + shown.toLocaleString("en") + " of " + matched.length.toLocaleString("en") +
      " matching questions (" + rows.length.toLocaleString("en") + " in all).";
    more.hidden = all.hidden = shown >= matched.length;
  }
  function apply() {
    var f = {
      subject: subject.value === "" ? null : Number(subject.value),
      show: show ? show.value : "",
      disagree: Boolean(disagree && disagree.checked),
      flagged: Boolean(flagged && flagged.checked),
      terms: search.value.toLowerCase().split(/\s+/).filter(function (t) { return t.length > 0; })
    };
    matched = [];
    for (var i = 0; i < rows.length; i++) { if (keep(rows[i], i, f)) { matched.push(i); } }
    shown = 0;
    body.textContent = "";
    renderUpTo(Math.min(matched.length, PAGE));
  }
  var timer = null;
  search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(apply, 120); });
  [subject, show, disagree, flagged].forEach(function (control) {
    if (control) { control.addEventListener("change", apply); }
  });
  more.addEventListener("click", function () { renderUpTo(Math.min(matched.length, shown + PAGE)); });
  all.addEventListener("click", function () { renderUpTo(matched.length); });
  apply();
  section.setAttribute("data-ready-ms", String(Math.round(performance.now() - started)));
  section.setAttribute("data-models", String(models.length));
}());
