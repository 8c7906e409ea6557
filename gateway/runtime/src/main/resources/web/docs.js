// Swagger UI over the gateway's own /openapi.json; no validator badge (it would call out to the internet).
// Where the gateway wants a bearer token, the one entered on the console (kept for this tab) is sent
// with the document request and with every "Try it out" call.
(function () {
  'use strict';

  const TOKEN_KEY = 'mlserver.token';
  const token = sessionStorage.getItem(TOKEN_KEY) || '';

  function withToken(request) {
    if (token) request.headers['Authorization'] = 'Bearer ' + token;
    return request;
  }

  function note(text) {
    const box = document.getElementById('token-note');
    box.hidden = false;
    box.querySelector('span').textContent = text;
  }

  fetch('/openapi.json', {cache: 'no-store', headers: token ? {'Authorization': 'Bearer ' + token} : {}})
    .then((response) => {
      if (response.status === 401) {
        note(token ? 'The gateway refused the token entered on the console; enter another there.'
          : 'This gateway wants a bearer token: enter it on the console first.');
        return;
      }
      window.ui = SwaggerUIBundle({
        url: '/openapi.json',
        dom_id: '#swagger-ui',
        deepLinking: true,
        validatorUrl: null,
        tryItOutEnabled: true,
        displayRequestDuration: true,
        requestInterceptor: withToken,
        presets: [SwaggerUIBundle.presets.apis],
        layout: 'BaseLayout'
      });
    })
    .catch((e) => note('Cannot read /openapi.json: ' + e.message));
})();
