// The mlserver console: reads /status every few seconds and lets you send the example to a classifier.
(function () {
  'use strict';

  const REFRESH_MS = 2000;
  const TOKEN_KEY = 'mlserver.token';
  const $ = (id) => document.getElementById(id);

  let token = sessionStorage.getItem(TOKEN_KEY) || '';
  let routes = {};
  let exampleLoadedFor = null;
  // counts the user's edits of the body: an example that arrives after an edit never replaces it
  let edits = 0;
  let timer = null;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === 'class') node.className = v; else node.setAttribute(k, v);
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function api(path, options) {
    const opts = Object.assign({cache: 'no-store'}, options || {});
    opts.headers = Object.assign({}, opts.headers || {});
    if (token) opts.headers['Authorization'] = 'Bearer ' + token;
    const response = await fetch(path, opts);
    if (response.status === 401) askForToken(token ? 'That token was refused; enter another:' : null);
    return response;
  }

  function askForToken(message) {
    const box = $('token-box');
    if (message) box.querySelector('label').textContent = message;
    box.hidden = false;
    $('token').focus();
  }

  function banner(text) {
    const b = $('banner');
    b.hidden = !text;
    b.textContent = text || '';
  }

  function ms(value) {
    if (value === null || value === undefined) return '–';
    return (value < 1 ? value.toFixed(3) : value.toFixed(1)) + ' ms';
  }

  function stateBadge(state) {
    return el('span', {class: 'state state-' + state}, state);
  }

  function cell(row, text, cls) {
    const td = el('td', cls ? {class: cls} : {}, text);
    row.appendChild(td);
    return td;
  }

  // a version's role beside it, unless it is the default: canary share, shadow sample and agreement
  function role(c, shadows) {
    if (!c.role || c.role === 'default') return '';
    if (c.role === 'canary') return ' (canary ' + c.weight + ' %)';
    if (c.role === 'shadow') {
      const compared = shadows.filter((s) => s.classifier === c.name && s.shadow === c.version);
      const agree = compared.reduce((n, s) => n + s.agree, 0);
      const total = compared.reduce((n, s) => n + s.agree + s.disagree, 0);
      return ' (shadow ' + c.sample + ' %' + (total ? ', agrees ' + (100 * agree / total).toFixed(1) + ' %' : '') + ')';
    }
    return ' (pinned)';
  }

  function renderTable(status) {
    const body = $('classifiers').querySelector('tbody');
    body.replaceChildren();
    routes = {};
    status.classifiers.forEach((c) => {
      if (!c.role || c.role === 'default') routes[c.name] = c.routes;
      const row = el('tr', {class: 'classifier-row', 'data-classifier': c.name, 'data-role': c.role || 'default'});
      cell(row, c.name, 'name');
      cell(row, c.version + role(c, status.shadows || []), 'version');
      cell(row, c.git_tag || '–', 'git-tag');
      cell(row, c.git_commit || '–', 'git-commit');
      cell(row, '', 'state').appendChild(stateBadge(c.state));
      cell(row, c.in_flight + ' / ' + c.limits.max_concurrent_predictions, 'num in-flight');
      cell(row, c.queued + ' / ' + c.limits.max_queue, 'num queued');
      cell(row, c.last_minute.rate_per_second.toFixed(2), 'num rate');
      cell(row, ms(c.last_minute.p50_ms), 'num p50');
      cell(row, ms(c.last_minute.p99_ms), 'num p99');
      cell(row, c.last_minute.client_errors + ' / ' + c.last_minute.server_errors, 'num errors');
      body.appendChild(row);
    });
    status.plugins.filter((p) => p.state !== 'ready').forEach((p) => {
      const row = el('tr', {class: 'plugin-' + p.state, 'data-jar': p.jar});
      cell(row, p.classifier || p.jar, 'name');
      cell(row, p.version || '–', 'version');
      cell(row, p.jar, 'jar').colSpan = 2;
      cell(row, '', 'state').appendChild(stateBadge(p.state));
      const reason = cell(row, p.reason || (p.state === 'loading' ? 'opening and warming up…' : ''), 'reason');
      reason.colSpan = 6;
      body.appendChild(row);
    });
    $('empty').hidden = status.classifiers.length > 0 || status.plugins.length > 0;
    $('gateway-version').textContent = status.gateway.version + (status.gateway.draining ? ' (draining)' : '');
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  }

  function renderChoices() {
    const select = $('try-classifier');
    const names = Object.keys(routes).sort();
    const current = select.value;
    const have = Array.from(select.options).map((o) => o.value);
    if (have.join() !== names.join()) {
      select.replaceChildren(...names.map((n) => el('option', {value: n}, n)));
      if (names.includes(current)) select.value = current;
    }
    $('try-send').disabled = names.length === 0;
    if (select.value && exampleLoadedFor !== select.value) loadExample(select.value);
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const response = await api('/status');
      if (response.status === 401) return;
      if (!response.ok) throw new Error('/status answered ' + response.status);
      const status = await response.json();
      banner(null);
      renderTable(status);
      renderChoices();
    } catch (e) {
      banner('Cannot read /status: ' + e.message + '. Retrying…');
    }
    timer = setTimeout(refresh, REFRESH_MS);
  }

  async function loadExample(name) {
    exampleLoadedFor = name;
    const r = routes[name];
    if (!r) return;
    const editsBefore = edits;
    try {
      const response = await api(r.describe);
      if (!response.ok) return;
      const describe = await response.json();
      if ($('try-classifier').value === name && edits === editsBefore) {
        $('try-body').value = JSON.stringify(describe.example, null, 2);
      }
    } catch (e) {
      $('try-status').textContent = 'cannot load the example: ' + e.message;
    }
  }

  function route() {
    return document.querySelector('input[name="try-route"]:checked').value;
  }

  async function send() {
    const name = $('try-classifier').value;
    const r = routes[name];
    if (!r) return;
    const path = r[route()];
    $('try-send').disabled = true;
    $('try-status').textContent = 'POST ' + path + ' …';
    const started = performance.now();
    try {
      const response = await api(path, {
        method: 'POST', headers: {'Content-Type': 'application/json'}, body: $('try-body').value});
      const text = await response.text();
      const elapsed = performance.now() - started;
      let body = null;
      try { body = JSON.parse(text); } catch (e) { body = null; }
      $('try-status').textContent = 'POST ' + path + ' → ' + response.status + ' in ' + elapsed.toFixed(1) + ' ms';
      $('try-status').dataset.status = String(response.status);
      showAnswer(response.status, body, text);
    } catch (e) {
      $('try-status').textContent = 'request failed: ' + e.message;
    } finally {
      $('try-send').disabled = false;
    }
  }

  function showAnswer(status, body, text) {
    const predictions = $('try-predictions');
    predictions.replaceChildren();
    if (body && status === 200 && Array.isArray(body.predictions)) {
      body.predictions.forEach((p) => {
        if (typeof p === 'string') {
          predictions.appendChild(el('span', {class: 'label'}, p));
        } else {
          const best = Object.entries(p).sort((a, b) => b[1] - a[1]);
          predictions.appendChild(el('span', {class: 'label'},
            best.map(([label, prob]) => label + ' ' + prob.toFixed(3)).join(' · ')));
        }
      });
    } else if (body && body.error) {
      predictions.appendChild(el('span', {class: 'error'}, status + ' ' + body.error.code + ': ' + body.error.message));
    } else {
      predictions.appendChild(el('span', {class: 'error'}, 'HTTP ' + status));
    }
    const meta = $('try-metadata').querySelector('tbody');
    meta.replaceChildren();
    if (body && body.metadata) {
      Object.entries(body.metadata).forEach(([k, v]) => {
        const row = el('tr', {'data-key': k});
        cell(row, k);
        cell(row, v !== null && typeof v === 'object' ? JSON.stringify(v) : (v === null ? '–' : v));
        meta.appendChild(row);
      });
      if (body.time_ms !== undefined) {
        const row = el('tr', {'data-key': 'time_ms'});
        cell(row, 'time_ms');
        cell(row, body.time_ms);
        meta.appendChild(row);
      }
    }
    $('try-result').textContent = body ? JSON.stringify(body, null, 2) : text;
  }

  $('try-send').addEventListener('click', send);
  $('try-body').addEventListener('input', () => { edits++; });
  $('try-classifier').addEventListener('change', () => loadExample($('try-classifier').value));
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    token = $('token').value.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
    $('token-box').hidden = true;
    exampleLoadedFor = null;
    refresh();
  });

  refresh();
})();
