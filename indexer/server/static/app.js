// trendcart dashboard: the little the pages need beyond HTML (no inline script: the CSP forbids it).
"use strict";

// The server's token for writes, asked once per tab and kept in sessionStorage (never in a URL or a cookie).
var TOKEN_KEY = "trendcart.token";
// A message to show after the page reloads (what a write did), kept in sessionStorage across the reload.
var FLASH_KEY = "trendcart.flash";

function storage() {
  try { return window.sessionStorage; } catch (e) { return null; }  // storage off: ask each time
}

function stored(key) {
  var s = storage();
  return s ? s.getItem(key) : null;
}

function keep(key, value) {
  var s = storage();
  if (!s) { return; }
  if (value === null) { s.removeItem(key); } else { s.setItem(key, value); }
}

// Show `text` in the page's message line; kind "error" or "ok". Always text, never markup.
function say(text, kind) {
  var box = document.getElementById("message");
  if (!box) { return; }
  box.textContent = text;
  box.className = "message " + (kind || "ok");
  box.hidden = false;
}

// One API call with the token: the answer's JSON, or an Error whose message is the server's one line
// ({"error": ...}), with `status` set (0 when the server did not answer).
function call(method, url, token, body) {
  var headers = {"Accept": "application/json", "Authorization": "Bearer " + token};
  var init = {method: method, headers: headers, credentials: "same-origin"};
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return fetch(url, init).then(function (response) {
    return response.text().then(function (text) {
      var data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
      if (response.ok) { return data; }
      var reason = data && typeof data.error === "string" ? data.error : "HTTP " + response.status;
      var failed = new Error(reason);
      failed.status = response.status;
      throw failed;
    });
  }, function (e) {
    var failed = new Error("the server did not answer (" + e.message + "): is trendcart serve still running?");
    failed.status = 0;
    throw failed;
  });
}

function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

function setUpWatches() {
  var section = document.getElementById("watch-add");
  if (!section || section.dataset.writes !== "on") { return; }
  var form = document.getElementById("watch-form");
  var field = document.getElementById("token-field");
  var tokenInput = form.elements.namedItem("token");
  var state = document.getElementById("token-state");

  function showToken() {
    var have = stored(TOKEN_KEY) !== null;
    field.hidden = have;
    state.hidden = !have;
  }

  // The stored token, else the one typed into the form; null (and the field shown, focused) when neither.
  function token() {
    var t = stored(TOKEN_KEY) || (tokenInput.value || "").trim();
    if (t) { return t; }
    showToken();
    tokenInput.focus();
    say("This server needs its token for writes: enter it in the Token field (it is asked once per tab).", "error");
    return null;
  }

  // The page's write buttons, off while a write is under way (one at a time, no double submit).
  function busy(on) {
    document.querySelectorAll("#watch-submit, button.watch-rm, #watch-check").forEach(function (b) {
      b.disabled = on;
    });
  }

  // Run one write; on success keep the token and reload with `done(answer)` as the message.
  function write(method, url, body, done) {
    var t = token();
    if (t === null) { return; }
    busy(true);
    call(method, url, t, body).then(function (answer) {
      keep(TOKEN_KEY, t);
      var text;
      try { text = done(answer); } catch (e) { text = "Done (the answer was not the expected one: " + e.message + ")."; }
      keep(FLASH_KEY, text);
      window.location.reload();
    }, function (e) {
      busy(false);
      if (e.status === 401) {
        keep(TOKEN_KEY, null);
        tokenInput.value = "";
        showToken();
        tokenInput.focus();
        say("The server refused the token (" + e.message + "): enter it again.", "error");
        return;
      }
      say(e.message, "error");
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var f = form.elements;
    var value = function (name) { return (f.namedItem(name).value || "").trim(); };
    var body = {query: value("query"), by: value("by")};
    if (!body.query) {
      say("Enter a query: what the watch looks for (e.g. portable blender).", "error");
      f.namedItem("query").focus();
      return;
    }
    var top = value("top");
    if (top || f.namedItem("top").validity.badInput) {
      if (!/^[0-9]+$/.test(top)) { say("Top must be a whole number (1 or more), not " + JSON.stringify(top) + ".", "error"); return; }
      body.top = parseInt(top, 10);
    }
    var minScore = value("min_score");
    if (minScore || f.namedItem("min_score").validity.badInput) {
      if (!isFinite(Number(minScore))) { say("Min score must be a number, not " + JSON.stringify(minScore) + ".", "error"); return; }
      body.min_score = Number(minScore);
    }
    if (value("window")) { body.window = value("window"); }
    if (value("name")) { body.name = value("name"); }
    if (value("platform")) { body.platform = value("platform"); }
    write("POST", "/api/watches", body, function (answer) {
      var rows = answer.baseline ? answer.baseline.rows.filter(function (r) { return r.qualifies; }).length : 0;
      return "Added watch '" + answer.watch.name + "': " + plural(rows, "row", "rows") +
        " in its top now (its baseline: noted, not alerted).";
    });
  });

  document.querySelectorAll("button.watch-rm").forEach(function (button) {
    button.addEventListener("click", function () {
      var name = button.dataset.name;
      write("DELETE", "/api/watches/" + encodeURIComponent(name), undefined, function () {
        return "Removed watch '" + name + "' (its past alerts stay in the history).";
      });
    });
  });

  var check = document.getElementById("watch-check");
  if (check) {
    check.addEventListener("click", function () {
      write("POST", "/api/watches/check", undefined, function (answer) {
        var text = "Checked " + plural(answer.watches.length, "watch", "watches") + " as of " + answer.at + ": " +
          plural(answer.alerts.length, "new alert", "new alerts") + ".";
        if (answer.delivery && answer.delivery.failed) { text += " " + answer.delivery.failed + " failed to deliver."; }
        return text;
      });
    });
  }

  document.getElementById("token-forget").addEventListener("click", function () {
    keep(TOKEN_KEY, null);
    showToken();
    say("The token is forgotten: the next write asks for it again.", "ok");
  });
  showToken();
}

document.addEventListener("DOMContentLoaded", function () {
  // A filter's select submits its form at once.
  document.querySelectorAll("form.filters select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  var flash = stored(FLASH_KEY);
  if (flash !== null) {
    keep(FLASH_KEY, null);
    say(flash, "ok");
  }
  setUpWatches();
  // Each curve's title shows on hover as a tooltip already; mark the page as scripted for the tests.
  document.body.dataset.ready = "1";
});
