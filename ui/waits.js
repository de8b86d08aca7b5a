// iocpu live page: the "200 waits of 1 s, four ways" card. A browser keeps
// at most 6 connections to one server, so the page cannot hold 200 requests
// itself: each row is one GET /io/fetch/gather?url=U&n=N, the server fetching
// U from itself N times at once on its loop (libcurl multi). The rows run one
// after another:
//   /io/job?delay=1         asyncio.sleep in `async def`: a timer, no thread
//   /io/threadpool?delay=1  time.sleep in a plain `def`: one IO thread each
//   /io/blocking?delay=1    time.sleep in `async def`: the loop stalls (5 only)
//   /io/fetch?url=/io/job   httpx in `async def`: a real fetch, no thread
// Each row shows the gather's elapsed, the most IO threads busy and the worst
// loop lag that /loop/stream reported while it ran (ui.samples.ioBusy and
// ui.samples.lag, app.js). The rows live in ui.waits for the end-to-end test.
'use strict';

const Waits = (() => {
  const { ui, h, fmtMs } = Core;
  const T = Lang.t;
  const BLOCKING_MAX = 5; // 200 would hold the loop 200 s
  const SETTLE_MS = 500; // a lag sample reports a stall after it ended: wait for it
  const ROWS = [
    { id: 'job', path: '/io/job', kind: 'io' },
    { id: 'threadpool', path: '/io/threadpool', kind: 'io' },
    { id: 'blocking', path: '/io/blocking', kind: 'loop' },
    { id: 'fetch', path: '/io/fetch', kind: 'io' },
  ];

  let els = null;

  // The URL the server fetches for a row: itself, by the origin this page came from.
  function target(row) {
    const self = `${location.origin}/io/job?delay=1`;
    if (row.id === 'fetch') return `${location.origin}/io/fetch?${new URLSearchParams({ url: self, mode: 'loop' })}`;
    return `${location.origin}${row.path}?delay=1`;
  }

  const peak = (list, t0, t1) => Math.max(0, ...list.filter((x) => x.t >= t0 && x.t <= t1).map((x) => x.v));

  function cells(tr, values) {
    tr.replaceChildren(...values.map((v, i) => h(i ? 'td' : 'th', { scope: i ? null : 'row', text: v })));
  }

  async function runRow(row, n) {
    const count = row.id === 'blocking' ? Math.min(n, BLOCKING_MAX) : n;
    const rec = { id: row.id, n: count, status: 0, elapsed: null, ioBusy: null, lagMs: null, t0: 0, t1: null };
    ui.waits.push(rec);
    const tr = h('tr', { 'data-row': row.id });
    els.body.append(tr);
    const label = `${count} × ${row.path}`;
    cells(tr, [label, '…', '', '']);
    const entry = Lessons.startRun(`waits-${row.id}`, row.kind, label, { card: els.card });
    rec.t0 = entry.t0;
    const q = new URLSearchParams({ url: target(row), n: String(count), timeout: '60' });
    try {
      const res = await fetch(`/io/fetch/gather?${q}`, { cache: 'no-store' });
      const j = Lessons.tryJson(await res.text());
      rec.status = res.status;
      if (res.ok && j) {
        rec.elapsed = j.elapsed;
        rec.failed = j.results.filter((r) => r.status !== 200).length;
      } else {
        rec.detail = j && j.detail;
      }
    } catch (err) {
      rec.status = -1;
      rec.detail = String(err.message || err);
    }
    Lessons.endRun(entry, { card: els.card });
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    rec.t1 = entry.t1;
    rec.ioBusy = peak(ui.samples.ioBusy, entry.t0, entry.t1 + SETTLE_MS);
    rec.lagMs = peak(ui.samples.lag, entry.t0, entry.t1 + SETTLE_MS);
    if (rec.elapsed === null) {
      cells(tr, [label, T('waits.failed', { code: rec.status }), '', '']);
      if (rec.detail) tr.title = typeof rec.detail === 'string' ? rec.detail : JSON.stringify(rec.detail);
    } else {
      cells(tr, [label, fmtMs(rec.elapsed * 1000), String(rec.ioBusy), fmtMs(rec.lagMs)]);
    }
    return rec;
  }

  async function runAll() {
    if (els.button.getAttribute('aria-disabled') === 'true') return;
    const n = Math.round(Number(els.n.value));
    if (!(n >= 1)) {
      els.status.textContent = T('waits.bad_n');
      return;
    }
    els.button.setAttribute('aria-disabled', 'true');
    ui.waits = [];
    els.body.replaceChildren();
    els.out.hidden = false;
    try {
      for (const row of ROWS) {
        els.status.textContent = T('waits.running', { path: row.path });
        await runRow(row, n);
      }
      els.status.textContent = T('waits.done');
    } finally {
      els.button.removeAttribute('aria-disabled');
    }
  }

  function build() {
    const { tx } = Lessons;
    const card = h('article', {
      class: 'lesson io waits', id: 'lesson-waits', 'aria-labelledby': 'waits-title', 'data-state': 'idle',
    });
    const wanted = Number(new URLSearchParams(location.search).get('waits'));
    const n = h('input', {
      type: 'number', id: 'waits-n', name: 'n', min: 1, step: 1, dir: 'ltr', autocomplete: 'off',
      value: String(Number.isInteger(wanted) && wanted > 0 ? wanted : 200),
    });
    const button = tx('button', 'waits.button', { type: 'button', id: 'waits-run' });
    const head = h('tr', {}, ...['waits.col.way', 'waits.col.wall', 'waits.col.threads', 'waits.col.lag']
      .map((k) => tx('th', k, { scope: 'col' })));
    const body = h('tbody');
    const status = h('p', { class: 'status', role: 'status' });
    const table = h('table', { class: 'waits-table', dir: 'ltr' },
      tx('caption', 'waits.table'), h('thead', {}, head), body);
    const out = h('div', { class: 'out', hidden: true }, status, table);
    card.append(
      tx('h4', 'waits.title', { id: 'waits-title' }),
      h('code', { class: 'endpoint', text: 'GET /io/fetch/gather?url=…&n=…' }),
      tx('p', 'waits.caption', { class: 'caption', id: 'waits-caption' }),
      tx('p', 'waits.blocking', { class: 'caption' }),
      h('div', { class: 'controls' },
        h('div', { class: 'field' }, tx('label', 'waits.n', { for: 'waits-n' }), n), button),
      out);
    els = { card, n, button, body, status, out };
    button.addEventListener('click', () => runAll());
    return card;
  }

  function mount(list) {
    ui.waits = [];
    list.append(Lessons.tx('h3', 'group.waits', { class: 'group-title' }), build());
  }

  return { mount };
})();
