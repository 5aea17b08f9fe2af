// Live builder feedback and redirect check for the new-link form (no framework).
(function () {
  "use strict";
  var form = document.getElementById("new-link");
  if (!form) return;
  var csrf = form.getAttribute("data-csrf");
  var fields = ["url", "preset", "source", "medium", "campaign", "content", "term"];
  var timer = null;

  function values() {
    var out = {};
    fields.forEach(function (name) { out[name] = form.elements[name].value; });
    return out;
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json(); });
  }

  function text(id, value) { document.getElementById(id).textContent = value; }

  function show(result) {
    text("build-status", result.status || "—");
    text("build-channel", result.channel || "—");
    text("build-url", result.tracked_url || "");
    var list = document.getElementById("build-issues");
    list.textContent = "";
    (result.issues || []).forEach(function (issue) {
      var li = document.createElement("li");
      li.className = issue.level || "";
      li.textContent = (issue.level || "") + (issue.field ? " (" + issue.field + ")" : "") +
        ": " + issue.message + (issue.suggestion ? " — " + issue.suggestion : "");
      list.appendChild(li);
    });
  }

  function build() {
    post("/ui/build.json", values()).then(show).catch(function () {
      text("build-status", "could not reach the server");
    });
  }

  form.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(build, 250);
  });

  document.getElementById("check-button").addEventListener("click", function () {
    text("check-result", "Checking…");
    post("/ui/check.json", { url: form.elements.url.value }).then(function (report) {
      if (report.ok === false) { text("check-result", report.error); return; }
      var hops = (report.hops || []).length;
      var verdict = report.valid ? "valid" : "problems found";
      var failed = (report.checks || []).filter(function (c) { return c.status !== "pass"; });
      text("check-result", "Result: " + verdict + " after " + hops + " hop(s)" +
        (report.final_url ? ", lands on " + report.final_url : "") +
        (failed.length ? ". " + failed.map(function (c) { return c.message; }).join("; ") : ""));
    }).catch(function () { text("check-result", "The check failed."); });
  });

  if (form.elements.url.value) build();
})();
