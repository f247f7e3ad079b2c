// Console glue, loaded from the hub's own origin (no inline script: CSP script-src 'self').
// htmx requests carry the CSRF token in a header, read from <body data-csrf-token>.
(function () {
  "use strict";
  var body = document.body;
  if (body && body.dataset.csrfToken) {
    body.setAttribute("hx-headers", JSON.stringify({ "X-CSRFToken": body.dataset.csrfToken }));
  }
})();
