// Swagger UI over the gateway's own /openapi.json; no validator badge (it would call out to the internet).
// The token field above it is shared with the console (same session storage): with tokens on,
// every call Swagger UI makes, the document itself included, carries it.
(function () {
  'use strict';

  const TOKEN_KEY = 'mlserver.token';
  const token = sessionStorage.getItem(TOKEN_KEY) || '';
  const field = document.getElementById('token');
  field.value = token;
  document.getElementById('token-state').textContent = token ? 'token set for this tab' : 'no token';
  document.getElementById('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const typed = field.value.trim();
    if (typed) sessionStorage.setItem(TOKEN_KEY, typed); else sessionStorage.removeItem(TOKEN_KEY);
    // the document lists only what the token may see: read it again with the new one
    window.location.reload();
  });

  window.ui = SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    tryItOutEnabled: true,
    displayRequestDuration: true,
    requestInterceptor: (request) => {
      if (token && !request.headers['Authorization']) request.headers['Authorization'] = 'Bearer ' + token;
      return request;
    },
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout'
  });
})();
