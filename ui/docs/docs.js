// docs.js - the interactive API page (GET /docs), built from this server's
// /openapi.json in the browser: one section per operation with its
// parameters and their bounds, and a form whose "Try it" sends the request
// to this server and shows the status, the body and the Server-Timing
// phases. Nothing is fetched from anywhere else (the page's CSP: 'self').
'use strict';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const STREAM_MS = 2000; // an event stream is read this long, then let go
const BODY_MAX = 64 * 1024; // characters of a response shown

// window.iocpuDocs: what the page built and the last result of each form
// (the browser test reads it).
const state = { ready: false, paths: [], ops: [], results: {} };
window.iocpuDocs = state;

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}

// Follows a local "$ref" ("#/components/..."); anything else is left as is.
function deref(doc, v, depth = 0) {
  if (!v || typeof v !== 'object' || typeof v.$ref !== 'string' || depth > 16) return v;
  if (!v.$ref.startsWith('#/')) return v;
  let at = doc;
  for (const part of v.$ref.slice(2).split('/')) at = at && at[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return deref(doc, at, depth + 1);
}

// The bounds of a schema as text: "number, 0 ≤ x ≤ 60, default 1"; an
// object lists its fields ("{kind*: one of io; delay: number, ...}"), a
// oneOf its alternatives.
function bounds(doc, schema, depth = 0) {
  const s = deref(doc, schema) || {};
  const alts = s.oneOf || s.anyOf;
  if (alts && depth < 4) return `one of: ${alts.map((a) => bounds(doc, a, depth + 1)).join(' | ')}`;
  if ((s.type === 'object' || s.properties) && s.properties && depth < 4) {
    const req = s.required || [];
    const fields = Object.entries(s.properties).map(([k, v]) =>
      `${k}${req.includes(k) ? '*' : ''}: ${bounds(doc, v, depth + 1)}`);
    return `object {${fields.join('; ')}}`;
  }
  const parts = [];
  let type = s.type || 'any';
  if (s.type === 'array' && s.items) type = `array of ${deref(doc, s.items).type || 'any'}`;
  parts.push(type);
  const lo = s.minimum, hi = s.maximum;
  if (lo !== undefined || hi !== undefined) {
    const l = lo === undefined ? '' : `${lo} ${s.exclusiveMinimum ? '<' : '≤'} `;
    const h = hi === undefined ? '' : ` ${s.exclusiveMaximum ? '<' : '≤'} ${hi}`;
    parts.push(`${l}x${h}`);
  }
  if (s.minLength !== undefined || s.maxLength !== undefined)
    parts.push(`length ${s.minLength ?? 0}..${s.maxLength ?? '∞'}`);
  if (s.minItems !== undefined || s.maxItems !== undefined)
    parts.push(`items ${s.minItems ?? 0}..${s.maxItems ?? '∞'}`);
  if (s.type === 'array' && s.items) {
    const it = deref(doc, s.items);
    if (it.minimum !== undefined || it.maximum !== undefined)
      parts.push(`each ${it.minimum ?? '-∞'}..${it.maximum ?? '∞'}`);
  }
  if (s.enum) parts.push(`one of ${s.enum.join(', ')}`);
  if (s.pattern) parts.push(`pattern ${s.pattern}`);
  if (s.default !== undefined) parts.push(`default ${Array.isArray(s.default) ? s.default.join(',') : s.default}`);
  if (s['x-iocpu-limit']) parts.push(`(--${s['x-iocpu-limit']})`);
  return parts.join(', ');
}

// A starting JSON body from a schema's example, defaults and required fields.
function sampleBody(doc, schema) {
  const s = deref(doc, schema) || {};
  if (s.example !== undefined) return s.example;
  if (s.oneOf || s.anyOf) return sampleBody(doc, (s.oneOf || s.anyOf)[0]);
  if (s.default !== undefined) return s.default;
  if (s.type === 'object' || s.properties) {
    const o = {};
    for (const [k, v] of Object.entries(s.properties || {})) {
      const p = deref(doc, v);
      if ((s.required || []).includes(k) || p.default !== undefined || p.example !== undefined)
        o[k] = sampleBody(doc, p);
    }
    return o;
  }
  if (s.enum) return s.enum[0];
  if (s.type === 'number' || s.type === 'integer') return s.minimum ?? 0;
  if (s.type === 'boolean') return false;
  if (s.type === 'array') return [];
  return '';
}

// "queue;dur=0.1, total;dur=50.2" as [{name, ms}].
function parseTiming(h) {
  if (!h) return [];
  return h.split(',').map((p) => p.trim()).filter(Boolean).map((p) => {
    const [name, ...params] = p.split(';').map((x) => x.trim());
    const dur = params.find((x) => x.startsWith('dur='));
    return { name, ms: dur ? Number(dur.slice(4)) : null };
  });
}

function opSection(doc, path, method, op) {
  const id = op.operationId || `${method}_${path}`.replace(/[^A-Za-z0-9_]/g, '_');
  const params = (op.parameters || []).map((p) => deref(doc, p));
  const rows = params.map((p) => {
    const input = el('input', { name: p.name, 'data-in': p.in, id: `${id}-${p.name}`,
      placeholder: p.schema && p.schema.default !== undefined ? String(p.schema.default) : '',
      'aria-label': p.name });
    return el('tr', {},
      el('td', {}, el('code', { text: p.name }), p.required ? el('span', { class: 'req', text: ' *' }) : null),
      el('td', { text: p.in }),
      el('td', {}, el('div', { class: 'bounds', text: bounds(doc, p.schema) }),
        p.description ? el('div', { text: p.description }) : null),
      el('td', {}, input));
  });
  const table = rows.length ? el('table', {},
    el('thead', {}, el('tr', {}, el('th', { text: 'parameter' }), el('th', { text: 'in' }),
      el('th', { text: 'type and bounds' }), el('th', { text: 'value' }))),
    el('tbody', {}, ...rows)) : el('p', { class: 'desc', text: 'No parameters.' });
  const json = op.requestBody && deref(doc, op.requestBody).content &&
    deref(doc, op.requestBody).content['application/json'];
  const body = json ? el('textarea', { name: 'body', id: `${id}-body`, 'aria-label': 'request body',
    text: JSON.stringify(sampleBody(doc, json.schema), null, 2) }) : null;
  const auth = op.security && op.security.length ? el('input', { name: 'token', id: `${id}-token`,
    placeholder: 'owner or admin token', 'aria-label': 'bearer token', autocomplete: 'off' }) : null;
  const result = el('div', { class: 'result', 'aria-live': 'polite' });
  const form = el('form', { 'data-op': id },
    table,
    body ? el('div', {}, el('div', { class: 'bounds', text: `body: ${bounds(doc, json.schema)}` }), body) : null,
    auth ? el('label', {}, 'Authorization: Bearer ', auth) : null,
    el('p', {}, el('button', { type: 'submit', class: 'try', text: 'Try it' })),
    result);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    tryIt({ id, path, method, params, form, result, body, auth });
  });
  return el('section', { class: 'op', id: `op-${id}`, 'data-path': path, 'data-method': method },
    el('h2', {}, el('span', { class: `method ${method}`, text: method.toUpperCase() }), path),
    op.summary ? el('p', { class: 'summary', text: op.summary }) : null,
    op.description ? el('p', { class: 'desc', text: op.description }) : null,
    form);
}

// The URL of a filled form: path parameters substituted, query appended.
function buildUrl(path, params, form) {
  let p = path;
  const q = new URLSearchParams();
  for (const prm of params) {
    const v = form.elements[prm.name].value;
    if (prm.in === 'path') p = p.replace(`{${prm.name}}`, encodeURIComponent(v));
    else if (prm.in === 'query' && v !== '') q.append(prm.name, v);
  }
  const qs = q.toString();
  return qs ? `${p}?${qs}` : p;
}

// Reads a response body: whole, or for an event stream what comes within STREAM_MS.
async function readBody(res) {
  const ctype = res.headers.get('content-type') || '';
  if (!ctype.startsWith('text/event-stream')) return res.text();
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let text = '';
  const stop = setTimeout(() => reader.cancel(), STREAM_MS);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += dec.decode(value, { stream: true });
      if (text.length > BODY_MAX) { reader.cancel(); break; }
    }
  } catch { /* cancelled */ }
  clearTimeout(stop);
  return `${text}\n… (an event stream: the first ${STREAM_MS / 1000} s shown)`;
}

function pretty(text, ctype) {
  if (ctype.includes('json')) {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch { /* as it came */ }
  }
  return text.length > BODY_MAX ? `${text.slice(0, BODY_MAX)}\n… (${text.length} characters)` : text;
}

function showResult(r, out) {
  const timing = r.timing.length ? el('table', { class: 'timing' },
    el('thead', {}, el('tr', {}, el('th', { text: 'Server-Timing phase' }), el('th', { text: 'ms' }))),
    el('tbody', {}, ...r.timing.map((t) => el('tr', {}, el('td', { text: t.name }),
      el('td', { text: t.ms === null ? '' : t.ms.toFixed(3) })))))
    : null;
  out.replaceChildren(
    el('p', {}, el('span', { class: `status${r.status >= 400 || r.status === 0 ? ' bad' : ''}`,
      text: r.status ? `${r.status} ${r.statusText}` : 'no answer' }), ' ',
    el('span', { class: 'url', text: `${r.method} ${r.url} · ${r.ms.toFixed(1)} ms` })),
    r.traceparent ? el('p', { class: 'bounds', text: `traceparent: ${r.traceparent}` }) : null,
    timing,
    el('pre', { class: 'body', text: r.body }));
}

async function tryIt({ id, path, method, params, form, result, body, auth }) {
  const url = buildUrl(path, params, form);
  const init = { method: method.toUpperCase(), headers: {}, cache: 'no-store' };
  if (body) {
    init.body = body.value;
    init.headers['Content-Type'] = 'application/json';
  }
  if (auth && auth.value) init.headers.Authorization = `Bearer ${auth.value}`;
  const t0 = performance.now();
  const r = { id, method: init.method, url, status: 0, statusText: '', body: '', timing: [],
    traceparent: null, ms: 0, done: false };
  result.replaceChildren(el('p', { class: 'bounds', text: `${init.method} ${url} …` }));
  try {
    const res = await fetch(url, init);
    r.status = res.status;
    r.statusText = res.statusText;
    r.traceparent = res.headers.get('traceparent');
    const text = await readBody(res);
    const ctype = res.headers.get('content-type') || '';
    r.body = pretty(text, ctype);
    // Server-Timing of a stream comes last, in a trailer the browser hides: the header's
    r.timing = parseTiming(res.headers.get('server-timing'));
  } catch (e) {
    r.body = String(e);
  }
  r.ms = performance.now() - t0;
  r.done = true;
  state.results[id] = r;
  showResult(r, result);
}

function render(doc) {
  const main = document.getElementById('ops');
  const toc = document.getElementById('toc');
  for (const [path, item] of Object.entries(doc.paths || {})) {
    state.paths.push(path);
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const sec = opSection(doc, path, method, { ...op, parameters: [...(item.parameters || []), ...(op.parameters || [])] });
      main.append(sec);
      state.ops.push({ path, method, id: sec.id });
      toc.append(el('a', { href: `#${sec.id}`, text: `${method.toUpperCase()} ${path}` }));
    }
  }
  const info = doc.info || {};
  document.getElementById('info').textContent =
    `${info.title || 'API'} ${info.version || ''}: ${state.ops.length} operations on ${state.paths.length} paths`;
  state.ready = true;
}

async function start() {
  const info = document.getElementById('info');
  try {
    const res = await fetch('/openapi.json', { cache: 'no-store' });
    if (!res.ok) throw new Error(`/openapi.json answered ${res.status}`);
    render(await res.json());
  } catch (e) {
    info.textContent = `cannot load /openapi.json: ${e.message}`;
    info.classList.add('error');
    state.error = String(e);
  }
}

start();
