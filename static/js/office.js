// The office's search while typing: the same form the page works with without a script, sent
// as a POST body (never in a URL: what is typed is a child's name or PESEL), answered with the
// results alone, which replace the list. A request that is overtaken by a newer one is dropped.
(function () {
  "use strict";
  var form = document.getElementById("office-search");
  if (!form || !window.fetch) { return; }
  var input = form.querySelector("input[name=q]");
  var results = document.getElementById("search-results");
  var timer = null;
  var sent = 0;

  function ask() {
    var mine = ++sent;
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin",
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html !== null && mine === sent) {
        results.innerHTML = html;
        results.setAttribute("data-query", input.value);
      }
    }).catch(function () { /* the form still works: Enter sends it */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 150);
  });
  // Typed before this script arrived (a slow line, the field has autofocus): those keys fired no
  // listener, so ask once now rather than wait for a key that may not come.
  if (input.value !== input.defaultValue) { ask(); }
})();
