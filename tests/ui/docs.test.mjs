// docs.test.mjs - the API page (GET /docs) in a real browser: headless
// Chromium driven by playwright-core, against an iocpu the test starts on
// port 0 (with an admin token, so that GET /tasks answers).
//   node docs.test.mjs <iocpu binary> <chromium binary> <work dir>
// The page must list every operation of the server's own /openapi.json with
// its parameters and bounds, load nothing from anywhere else, and its forms
// must send real requests: the status, body and Server-Timing phases shown
// are the server's. Screenshots go to the work dir.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [iocpuBin, chromiumBin, workDir] = process.argv.slice(2);
if (!iocpuBin || !chromiumBin || !workDir) {
  console.error('usage: node docs.test.mjs <iocpu> <chromium> <work dir>');
  process.exit(2);
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
let server; // { proc, origin, stderr }
let context;
let page;
let profile;
let spec; // /openapi.json as node fetched it
const consoleErrors = [];
const external = [];

function startServer() {
  return new Promise((resolve, reject) => {
    const proc = spawn(iocpuBin, ['--port', '0', '--workers', '2', '--grace', '1', '--max-delay', '7'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, IOCPU_ADMIN_TOKEN: 'docs-test-admin-token-0123456789' },
    });
    const s = { proc, origin: null, stderr: '' };
    const timer = setTimeout(() => reject(new Error(`no "listening on" line: ${s.stderr}`)), 10000);
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (chunk) => {
      s.stderr += chunk;
      const m = s.stderr.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m && !s.origin) {
        s.origin = m[1];
        clearTimeout(timer);
        resolve(s);
      }
    });
    proc.on('error', reject);
  });
}

before(async () => {
  server = await startServer();
  spec = await (await fetch(`${server.origin}/openapi.json`)).json();
  profile = mkdtempSync(join(workDir, 'profile-docs-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumBin,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === server.origin) return route.continue();
    external.push(url);
    return route.abort();
  });
  page = context.pages()[0] || (await context.newPage());
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
});

after(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (server && server.proc.exitCode === null) server.proc.kill('SIGKILL');
});

// Fills the form of operation id (values by parameter name; body: the JSON
// text), presses Try it, and waits for its result.
async function tryOp(id, values = {}, body = null) {
  const form = page.locator(`#op-${id} form`);
  for (const [name, v] of Object.entries(values)) await form.locator(`[name="${name}"]`).fill(String(v));
  if (body !== null) await form.locator('textarea[name="body"]').fill(body);
  const before = await page.evaluate((i) => window.iocpuDocs.results[i]?.ms ?? null, id);
  await form.locator('button.try').click();
  await page.waitForFunction(([i, b]) => {
    const r = window.iocpuDocs.results[i];
    return r && r.done && r.ms !== b;
  }, [id, before], { timeout: 20000 });
  return page.evaluate((i) => window.iocpuDocs.results[i], id);
}

test('the page lists every path and operation of /openapi.json, from this server alone', async () => {
  const res = await page.goto(`${server.origin}/docs`);
  assert.equal(res.status(), 200);
  await page.waitForFunction(() => window.iocpuDocs && (window.iocpuDocs.ready || window.iocpuDocs.error));
  const built = await page.evaluate(() => ({ paths: window.iocpuDocs.paths, ops: window.iocpuDocs.ops,
    error: window.iocpuDocs.error }));
  assert.equal(built.error, undefined);
  assert.deepEqual(built.paths, Object.keys(spec.paths), 'every path, in the document\'s order');
  const want = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const m of METHODS) if (item[m]) want.push(`${m} ${path}`);
  }
  assert.deepEqual(built.ops.map((o) => `${o.method} ${o.path}`), want);
  for (const o of built.ops) {
    const shown = await page.locator(`#${o.id} h2`).innerText();
    assert.ok(shown.includes(o.path), `${o.id} shows ${o.path}: ${shown}`);
  }
  assert.ok(want.includes('get /docs') && want.includes('get /version'));
  await page.screenshot({ path: join(workDir, 'docs.png'), fullPage: false });
  assert.deepEqual(external, [], 'nothing is asked of any other origin');
  assert.deepEqual(consoleErrors, []);
});

test('parameters show their bounds, with this server\'s limits', async () => {
  const row = page.locator('#op-io_job tr', { has: page.locator('code', { hasText: /^delay$/ }) });
  const text = await row.innerText();
  assert.match(text, /number/);
  assert.match(text, /0 ≤ x ≤ 7/, `the --max-delay of this server: ${text}`);
  assert.match(text, /--max-delay/);
  const body = await page.locator('#op-tasks_create .bounds').first().innerText();
  assert.match(body, /body: one of: object \{kind\*: string, one of io; delay: number, 0 ≤ x ≤ 7/);
  assert.match(body, /\| object \{kind\*: string, one of cpu/);
});

test('try it: a real answer, its status, body and Server-Timing phases', async () => {
  const r = await tryOp('io_job', { delay: '0.2', name: 'docs' });
  assert.equal(r.status, 200);
  assert.equal(r.url, '/io/job?name=docs&delay=0.2');
  const body = JSON.parse(r.body);
  assert.equal(body.name, 'docs');
  const phases = r.timing.map((t) => t.name);
  assert.ok(phases.includes('wait') && phases.includes('total'), phases.join(','));
  assert.ok(r.timing.find((t) => t.name === 'wait').ms >= 150, JSON.stringify(r.timing));
  assert.match(r.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const shown = await page.locator('#op-io_job .result').innerText();
  assert.match(shown, /200 OK/);
  assert.match(shown, /wait/);
  assert.match(shown, /"name": "docs"/);
});

test('try it: a bound broken shows the 422 the server gives', async () => {
  const r = await tryOp('io_job', { delay: '8' });
  assert.equal(r.status, 422);
  assert.match(r.body, /less than or equal to 7/);
  assert.match(await page.locator('#op-io_job .status').innerText(), /422/);
  // the browser logs a failed resource (the 422) as a console error: expected here
  consoleErrors.splice(0, consoleErrors.length);
});

test('try it: a JSON body and a path parameter', async () => {
  const created = await tryOp('tasks_create', {}, '{"kind": "io", "delay": 0.1}');
  assert.equal(created.status, 202, created.body);
  const task = JSON.parse(created.body);
  assert.match(task.id, /^[0-9a-f]{32}$/);
  const got = await tryOp('tasks_get', { id: task.id, wait: '5' });
  assert.equal(got.status, 200, got.body);
  assert.equal(JSON.parse(got.body).status, 'done');
  assert.equal(got.url, `/tasks/${task.id}?wait=5`);
});

test('an event stream is read for a while, then let go', async () => {
  const r = await tryOp('loop_stream');
  assert.equal(r.status, 200);
  assert.match(r.body, /data: \{"seq":0/);
  assert.match(r.body, /an event stream/);
  assert.deepEqual(external, []);
});
