// trendcart dashboard: the little the pages need beyond HTML (no inline script: the CSP forbids it).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // A filter's select submits its form at once.
  document.querySelectorAll("form.filters select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // Each curve's title shows on hover as a tooltip already; mark the page as scripted for the tests.
  document.body.dataset.ready = "1";
});
