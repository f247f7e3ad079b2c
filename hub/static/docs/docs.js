// Starts Swagger UI on /docs. An external file because the hub's Content-Security-Policy
// (script-src 'self') refuses inline scripts. The document is this hub's own /openapi.json;
// the online validator badge is off (connect-src 'self': the page talks to nobody else).
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: document.body.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    displayOperationId: true,
    defaultModelsExpandDepth: 0,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
