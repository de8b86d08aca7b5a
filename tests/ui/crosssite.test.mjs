// crosssite.test.mjs - what a web page on another site can make a local
// iocpu do, in a real browser (headless Chromium driven by playwright-core):
//   node crosssite.test.mjs <iocpu binary> <chromium binary> <work dir>
// iocpu runs on 127.0.0.1 with its default --allowed-hosts (loopback names
// only). A small static server on another port serves the attacker's pages;
// Chromium maps the name evil.test to 127.0.0.1 (--host-resolver-rules), so
// a page from http://evil.test:PORT is truly cross-site to
// http://127.0.0.1:PORT (127.0.0.1 on another port would only be
// same-site), and http://evil.test:<iocpu's port> is a DNS rebinding: the
// browser thinks it talks to evil.test, the bytes reach iocpu. What the
// server did is read from its /metrics and /tasks, asked by node itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [iocpuBin, chromiumBin, workDir] = process.argv.slice(2);
if (!iocpuBin || !chromiumBin || !workDir) {
  console.error('usage: node crosssite.test.mjs <iocpu> <chromium> <work dir>');
  process.exit(2);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const BLOCK_MS = 4000; // what the <img> asks the loop to burn (counted in /metrics if it ran)

let server; // { proc, origin, port, stderr }
let attacker; // the static server of the attacker's pages
let attackerPort;
let context;
let profile;
const seen = []; // every request the browser made: "METHOD url" (for failure messages)

// The admin token the server is given: only it lists the tasks (docs/tasks.md).
const ADMIN_TOKEN = 'crosssite-admin-token-0123456789';

// Starts iocpu on port 0 with its defaults (bound to 127.0.0.1).
function startServer() {
  return new Promise((resolve, reject) => {
    const proc = spawn(iocpuBin, ['--port', '0', '--workers', '2', '--grace', '1'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, IOCPU_ADMIN_TOKEN: ADMIN_TOKEN }, // lists the tasks created
    });
    const s = { proc, origin: null, port: 0, stderr: '' };
    const timer = setTimeout(() => reject(new Error(`no "listening on" line: ${s.stderr}`)), 10000);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      s.stderr += chunk;
      const m = s.stderr.match(/listening on (http:\/\/127\.0\.0\.1:(\d+))/);
      if (m && !s.origin) {
        s.origin = m[1];
        s.port = Number(m[2]);
        clearTimeout(timer);
        resolve(s);
      }
    });
    proc.on('error', reject);
  });
}

// The attacker's pages; `target` is iocpu's origin as the page names it.
const PAGES = {
  // Everything a page can send without a CORS preflight, at once. Each
  // attempt records when it settled in window.done.
  '/attack.html': (target) => `<!doctype html><meta charset="utf-8"><title>attack</title>
<iframe name="sink" style="display:none"></iframe>
<form id="form" method="post" action="${target}/tasks" enctype="text/plain" target="sink">
  <input type="hidden" name='{"kind":"cpu","ms":1000,"x":"' value='"}'>
</form>
<script>
window.done = [];
const mark = (what) => () => window.done.push(what);
const body = '{"kind":"cpu","ms":1000}';
fetch('${target}/tasks', { method: 'POST', mode: 'no-cors', body,
  headers: { 'Content-Type': 'text/plain' } }).then(mark('text'), mark('text'));
fetch('${target}/tasks', { method: 'POST', mode: 'no-cors', body: new Blob([body]) })
  .then(mark('blob'), mark('blob'));
const fd = new URLSearchParams({ kind: 'cpu', ms: '1000' });
fetch('${target}/tasks', { method: 'POST', mode: 'no-cors', body: fd })
  .then(mark('urlencoded'), mark('urlencoded'));
document.querySelector('iframe').addEventListener('load', mark('form'), { once: true });
document.getElementById('form').submit();
const img = new Image();
img.onload = img.onerror = mark('img');
img.src = '${target}/cpu/blocking?ms=${BLOCK_MS}';
</script>`,
  // A link to the page, and a form posted in the top-level window.
  '/link.html': (target) => `<!doctype html><meta charset="utf-8"><title>link</title>
<a id="ui" href="${target}/ui">the live page</a>
<form id="top" method="post" action="${target}/tasks" enctype="text/plain">
  <input type="hidden" name='{"kind":"io","delay":1,"x":"' value='"}'>
  <button>post</button>
</form>`,
};

function startAttacker() {
  return new Promise((resolve) => {
    const srv = createServer((req, res) => {
      const url = new URL(req.url, 'http://x');
      const page = PAGES[url.pathname];
      const target = url.searchParams.get('target');
      if (!page || !target) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(page(target));
    });
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

// iocpu's request counters, read by node (no Sec-Fetch-*, Host 127.0.0.1).
async function counters() {
  const text = await (await fetch(`${server.origin}/metrics`)).text();
  const out = {};
  for (const m of text.matchAll(/^iocpu_http_requests_total\{method="(\w+)",route="([^"]+)",code="(\d+)"\} (\d+)$/gm)) {
    out[`${m[1]} ${m[2]} ${m[3]}`] = Number(m[4]);
  }
  return out;
}

async function tasksTotal() {
  const auth = { headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } };
  return (await (await fetch(`${server.origin}/tasks`, auth)).json()).total;
}

// Polls the counters until want(c) holds, or fails after ms with what it saw.
async function waitCounters(want, what, ms = 15000) {
  const t0 = Date.now();
  let c;
  while (Date.now() - t0 < ms) {
    c = await counters();
    if (want(c)) return c;
    await sleep(100);
  }
  assert.fail(`${what}: counters ${JSON.stringify(c)}; the browser asked ${JSON.stringify(seen)}`);
}

before(async () => {
  server = await startServer();
  attacker = await startAttacker();
  attackerPort = attacker.address().port;
  profile = mkdtempSync(join(workDir, 'profile-crosssite-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumBin,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--host-resolver-rules=MAP evil.test 127.0.0.1',
    ],
  });
  context.on('request', (r) => seen.push(`${r.method()} ${r.url()}`));
});

after(async () => {
  await context?.close();
  attacker?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (server && server.proc.exitCode === null && server.proc.signalCode === null) {
    server.proc.kill('SIGKILL');
  }
});

test('a cross-site page can neither post tasks nor block the loop', async () => {
  const page = await context.newPage();
  const url = `http://evil.test:${attackerPort}/attack.html?target=${encodeURIComponent(server.origin)}`;
  await page.goto(url);
  await page.waitForFunction(() => window.done.length === 5, null, { timeout: 20000 });
  const c = await waitCounters(
    (x) => (x['POST /tasks 403'] || 0) >= 4 && (x['GET /cpu/blocking 403'] || 0) >= 1,
    'four posts and the <img> refused');
  assert.equal(c['POST /tasks 403'], 4, 'text/plain, Blob, urlencoded fetches and the framed form');
  assert.equal(c['GET /cpu/blocking 403'], 1);
  assert.equal(c['GET /cpu/blocking 200'], undefined, 'the blocking handler never ran');
  assert.equal(c['POST /tasks 202'], undefined, 'no task was created');
  assert.equal(await tasksTotal(), 0);
  await page.close();
});

test('a link from another site opens the page; a top-level form post does not pass', async () => {
  const page = await context.newPage();
  await page.goto(`http://evil.test:${attackerPort}/link.html?target=${encodeURIComponent(server.origin)}`);
  const [res] = await Promise.all([page.waitForNavigation(), page.click('#ui')]);
  assert.equal(res.status(), 200, 'a top-level navigation to /ui');
  assert.equal(new URL(page.url()).pathname, '/ui');
  // the page works once opened: its own requests are same-origin
  await page.waitForFunction(() => window.iocpuUi && window.iocpuUi.stream.events >= 2, null,
    { timeout: 10000 });
  await page.goto(`http://evil.test:${attackerPort}/link.html?target=${encodeURIComponent(server.origin)}`);
  const [post] = await Promise.all([page.waitForNavigation(), page.click('#top button')]);
  assert.equal(post.status(), 403, 'a form posted in the top-level window');
  assert.match(await post.text(), /cross-site/);
  const c = await counters();
  assert.ok(c['GET /ui 200'] >= 1, JSON.stringify(c));
  assert.equal(c['POST /tasks 403'], 5);
  assert.equal(await tasksTotal(), 0);
  await page.close();
});

test('a page on another port of 127.0.0.1 (same-site) cannot post a body that is not JSON', async () => {
  const page = await context.newPage();
  const before = await counters();
  await page.goto(`http://127.0.0.1:${attackerPort}/attack.html?target=${encodeURIComponent(server.origin)}`);
  await page.waitForFunction(() => window.done.length === 5, null, { timeout: 20000 });
  const c = await waitCounters((x) => (x['POST /tasks 415'] || 0) >= 4, 'four posts refused with 415');
  assert.equal(c['POST /tasks 415'], 4, 'text/plain, no type, urlencoded, text/plain form');
  assert.equal(c['POST /tasks 403'], before['POST /tasks 403'], 'same-site passes Fetch Metadata');
  assert.equal(await tasksTotal(), 0);
  // same-site may use the server: the <img> ran (and blocked the loop, the lesson's point)
  await waitCounters((x) => x['GET /cpu/blocking 200'] === 1, 'the same-site <img> ran');
  await page.close();
});

test('DNS rebinding: a page whose name now points at 127.0.0.1 gets 400', async () => {
  const page = await context.newPage();
  const rebound = `http://evil.test:${server.port}`;
  const res = await page.goto(`${rebound}/healthz`);
  assert.equal(res.status(), 400);
  assert.deepEqual(await res.json(), { detail: 'Invalid host header' });
  // to the browser this is the page's own origin: no CORS, JSON allowed, answer readable
  const answer = await page.evaluate(async () => {
    const r = await fetch('/tasks', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: '{"kind":"io","delay":0}' });
    return { status: r.status, body: await r.text() };
  });
  assert.equal(answer.status, 400, answer.body);
  const c = await counters();
  assert.equal(c['GET /healthz 400'], 1);
  assert.equal(c['POST /tasks 400'], 1);
  assert.equal(await tasksTotal(), 0);
  await page.close();
});
