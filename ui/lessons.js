// iocpu live page, part 4 of 6: the lessons. Each card is a form with
// labelled inputs and a real button; pressing it sends one request and shows
// its status, the Server-Timing phases (read from the response header), and
// the JSON, the streamed lines (as_completed: read from the body as it comes)
// or a timeline (the semaphore). Each run is recorded in ui.runs, which the
// charts draw as a band.
'use strict';

const Lessons = (() => {
  const { KEEP_MS, ui, h, svg, fmtMs } = Core;
  // an element whose text is the key's, refilled when the language changes
  const tx = (tag, key, attrs) => {
    const e = h(tag, { ...attrs, 'data-i18n': key });
    Lang.fill(e, key);
    return e;
  };
  const secs = (s) => fmtMs(s * 1000); // the API's seconds, shown like the charts' times

  // /cpu/gather runs one job per item of ns: a burst of n is n times cpu_heavy(3, ...)
  const ids = (n) => Array.from({ length: n }, () => 3).join(',');
  // Each card's words are keys in lang.js: ID.title, ID.button, ID.caption, ID.band
  // (the chart band's label) and what its summary uses; param labels are param.*.
  const T = Lang.t;
  const LESSONS = [
    { group: 'group.cpu' },
    {
      id: 'blocking', kind: 'loop', path: '/cpu/blocking',
      params: [{ name: 'ms', label: 'param.cpu_ms', value: 800, min: 0, step: 50 }],
      band: (p) => T('blocking.band', { ms: p.ms }),
      summary: (j) => T('blocking.summary', { t: secs(j.blocked_loop_for) }),
    },
    {
      id: 'executor', kind: 'executor', path: '/cpu/executor',
      params: [{ name: 'ms', label: 'param.cpu_ms', value: 800, min: 0, step: 50 }],
      band: (p) => T('executor.band', { ms: p.ms }),
      summary: (j) => T('executor.summary',
        { cpu: secs(j.cpu_time ?? j.elapsed), worker: j.worker, queued: secs(j.queued) }),
    },
    {
      id: 'burst', kind: 'executor', path: '/cpu/gather',
      params: [
        { name: 'jobs', label: 'param.jobs', value: 6, min: 1, step: 1 },
        { name: 'ms', label: 'param.ms_each', value: 400, min: 0, step: 50 },
      ],
      query: (p) => ({ ns: ids(Number(p.jobs) || 0), ms: p.ms }),
      band: (p) => T('burst.band', { jobs: p.jobs, ms: p.ms }),
      summary: (j) => T('burst.summary',
        { cpu: secs(j.sum_of_job_times), elapsed: secs(j.elapsed), speedup: j.speedup }),
    },
    { group: 'group.io' },
    {
      id: 'gather', kind: 'io', path: '/io/gather',
      params: [{ name: 'delays', label: 'param.delays', value: '1.0,0.5,0.2', text: true }],
      band: () => T('gather.band'),
      summary: (j) => T('gather.summary', {
        elapsed: secs(j.elapsed), sum: secs(j.sum_of_delays), order: j.finish_order.join(' → '),
      }),
    },
    {
      // exercise 1: both requests at once, their elapsed times side by side
      id: 'compare', kind: 'io', path: '/io/gather', also: '/io/sequential',
      params: [{ name: 'delays', label: 'param.delays', value: '0.6,0.4,0.2', text: true }],
      band: () => T('compare.band'),
    },
    {
      id: 'as_completed', kind: 'io', path: '/io/as_completed', stream: true,
      params: [{ name: 'delays', label: 'param.delays', value: '0.3,0.1,0.2', text: true }],
      band: () => T('as_completed.band'),
      summary: (lines) => T('as_completed.summary',
        { order: lines.filter((o) => o && o.name).map((o) => o.name).join(' → ') }),
    },
    {
      id: 'wait_for', kind: 'io', path: '/io/wait_for',
      params: [
        { name: 'delay', label: 'param.delay', value: 2.0, min: 0, step: 0.1 },
        { name: 'timeout', label: 'param.timeout', value: 0.8, min: 0, step: 0.1 },
      ],
      band: () => T('wait_for.band'),
      summary: (j) => T(j.timed_out ? 'wait_for.timed_out' : 'wait_for.done', { t: secs(j.elapsed) }),
    },
    {
      id: 'cancel', kind: 'io', path: '/io/cancel',
      params: [
        { name: 'delay', label: 'param.delay', value: 5, min: 0, step: 0.1 },
        { name: 'after', label: 'param.after', value: 0.7, min: 0, step: 0.1 },
      ],
      band: () => T('cancel.band'),
      summary: (j) => T(j.cancelled ? 'cancel.cancelled' : 'cancel.finished', { t: secs(j.elapsed) }),
    },
    {
      id: 'semaphore', kind: 'io', path: '/io/semaphore', timeline: true,
      params: [
        { name: 'jobs', label: 'param.jobs', value: 6, min: 1, step: 1 },
        { name: 'limit', label: 'param.limit', value: 2, min: 1, step: 1 },
      ],
      band: (p) => T('semaphore.band', { limit: p.limit }),
      summary: (j) => T('semaphore.summary',
        { max: j.max_in_flight, limit: j.limit, elapsed: secs(j.elapsed) }),
    },
  ];

  function buildLesson(L) {
    L.defaults = Object.fromEntries(L.params.map((p) => [p.name, String(p.value)]));
    const card = h('article', {
      class: `lesson ${L.kind}`, id: `lesson-${L.id}`, 'aria-labelledby': `${L.id}-title`,
      'data-state': 'idle',
    });
    const names = L.query ? Object.keys(L.query(L.defaults)) : L.params.map((p) => p.name);
    const query = names.map((n) => n + '=').join('&');
    card.append(
      tx('h4', `${L.id}.title`, { id: `${L.id}-title` }),
      h('code', {
        class: 'endpoint',
        text: [L.path, L.also].filter(Boolean).map((p) => `GET ${p}?${query}`).join(' · '),
      }),
      tx('p', `${L.id}.caption`, { class: 'caption', id: `${L.id}-caption` }),
    );
    const form = h('form', { 'aria-describedby': `${L.id}-caption`, novalidate: true });
    for (const p of L.params) {
      const id = `${L.id}-${p.name}`;
      const input = h('input', {
        id, name: p.name, value: String(p.value), class: p.text ? 'wide' : null,
        type: p.text ? 'text' : 'number', inputmode: p.text ? 'decimal' : null,
        min: p.min, step: p.step, spellcheck: p.text ? 'false' : null, autocomplete: 'off',
      });
      input.dir = 'ltr';
      form.append(h('div', { class: 'field' }, tx('label', p.label, { for: id }), input));
    }
    const button = tx('button', L.also ? 'compare.button' : `${L.id}.button`, { type: 'submit' });
    form.append(button);
    // the status line is the card's live region: it stays, the rest is redrawn per run
    const status = h('p', { class: 'status', role: 'status' });
    const out = h('div', { class: 'out', hidden: true }, status);
    card.append(form, out);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (card.dataset.state === 'running') return;
      (L.also ? runCompare : run)(L, { form, button, card, out, status });
    });
    return card;
  }

  // "queue;dur=0.1, cpu;dur=800.2, total;dur=801.0" -> [{name, dur}]
  function parseTiming(header) {
    if (!header) return [];
    return header.split(',').map((part) => {
      const [name, ...params] = part.trim().split(';');
      const dur = params.map((p) => p.trim()).find((p) => p.startsWith('dur='));
      return { name: name.trim(), dur: dur ? Number(dur.slice(4)) : null };
    }).filter((p) => p.name);
  }

  function showTiming(box, header, rtt, streamed) {
    const phases = parseTiming(header);
    const total = phases.find((p) => p.name === 'total');
    const parts = phases.filter((p) => p.name !== 'total' && p.dur !== null);
    const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
    // phases of parallel jobs can add up to more than the total: then scale to their sum
    const sum = parts.reduce((acc, p) => acc + p.dur, 0);
    const scale = Math.max(total ? total.dur : 0, sum, 1e-9);
    for (const p of parts) {
      const cls = ['queue', 'cpu', 'wait'].includes(p.name) ? `ph-${p.name}` : 'ph-other';
      bar.append(h('i', { class: cls, style: `width:${(100 * p.dur) / scale}%` }));
    }
    box.replaceChildren();
    if (parts.length) box.append(bar); // a bar of the total alone says nothing
    box.append(h('span', { class: 'phase', dir: 'ltr', text: 'Server-Timing:' }));
    for (const p of phases) {
      box.append(h('span', { class: 'phase', dir: 'ltr' }, `${p.name} `, h('b', { text: fmtMs(p.dur) })));
    }
    box.append(h('span', { class: 'phase' }, `${T('run.round_trip')} `, h('b', { text: fmtMs(rtt) })));
    if (streamed) box.append(tx('span', 'run.trailer', { class: 'note' }));
  }

  function tryJson(text) {
    try {
      return JSON.parse(text);
    } catch (e) {
      return null;
    }
  }

  function addLine(list, text, at) {
    const o = tryJson(text); // not JSON: shown as it came
    const li = h('li', { 'data-at': at.toFixed(1) });
    li.append(h('span', { class: 'at', text: `+${at.toFixed(0)} ms` }));
    if (o && o.done) {
      li.dataset.done = 'true';
      li.append(h('span', { class: 'done', text: T('run.line_done', { t: o.elapsed }) }));
    } else if (o) {
      li.dataset.name = o.name;
      li.append(h('span', { text: T('run.line', { name: o.name, result: o.result, at: o.at }) }));
    } else {
      li.append(h('span', { text }));
    }
    list.append(li);
  }

  async function readLines(res, list, t0) {
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let pending = '';
    const lines = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += dec.decode(value, { stream: true });
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (!line.trim()) continue;
        addLine(list, line, performance.now() - t0);
        lines.push(line);
      }
    }
    if (pending.trim()) {
      addLine(list, pending, performance.now() - t0);
      lines.push(pending);
    }
    return lines;
  }

  function drawTimeline(j) {
    const rows = j.timeline || [];
    const total = Math.max(j.elapsed || 0, ...rows.map((r) => r.end), 1e-6);
    const W = 560;
    const L = 52;
    const R = 44;
    const rowH = 18;
    const H = rows.length * rowH + 22;
    const s = svg('svg', {
      class: 'timeline', viewBox: `0 0 ${W} ${H}`, role: 'img',
      'aria-label': T('semaphore.aria', { jobs: rows.length, max: j.max_in_flight }),
    });
    const x = (t) => L + (t / total) * (W - L - R);
    rows.forEach((r, i) => {
      const y = i * rowH + 4;
      const label = svg('text', { x: 4, y: y + 12 });
      label.textContent = T('semaphore.job', { job: r.job });
      const bar = svg('rect', {
        class: 'bar', x: x(r.start), y, width: Math.max(x(r.end) - x(r.start), 2),
        height: rowH - 5, rx: 3,
      });
      const dur = svg('text', { x: x(r.end) + 4, y: y + 12 });
      dur.textContent = `${(r.end - r.start).toFixed(2)} s`;
      s.append(label, bar, dur);
    });
    const axisY = rows.length * rowH + 6;
    s.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: axisY, y2: axisY }));
    for (const f of [0, 0.5, 1]) {
      const t = svg('text', { x: x(total * f), y: axisY + 13, 'text-anchor': f ? (f === 1 ? 'end' : 'middle') : 'start' });
      t.textContent = `${(total * f).toFixed(2)} s`;
      s.append(t);
    }
    return s;
  }

  // A run begins: a band on the charts (kind, label), the card busy, the button
  // still focusable (aria-disabled, not disabled). Returns the ui.runs entry.
  function startRun(id, kind, label, { button, card }) {
    const entry = { id, kind, label, t0: performance.now(), t1: null, status: 0 };
    ui.runs.push(entry);
    const cut = entry.t0 - KEEP_MS;
    ui.runs = ui.runs.filter((r) => r.t1 === null || r.t1 >= cut);
    if (button) button.setAttribute('aria-disabled', 'true');
    card.dataset.state = 'running';
    card.setAttribute('aria-busy', 'true');
    return entry;
  }

  function endRun(entry, { button, card }) {
    entry.t1 = performance.now();
    if (button) button.removeAttribute('aria-disabled');
    card.dataset.state = 'done';
    card.removeAttribute('aria-busy');
  }

  function jsonBox(json, body) {
    return h('pre', {
      class: 'json', dir: 'ltr', text: json ? JSON.stringify(json, null, 1) : body,
      'aria-label': T('run.body'),
    });
  }

  async function run(L, els) {
    const { form, out, status } = els;
    const values = Object.fromEntries(new FormData(form));
    const query = L.query ? L.query(values) : values;
    const url = `${L.path}?${new URLSearchParams(query)}`;
    const entry = startRun(L.id, L.kind, L.band(values), els);
    status.textContent = `GET ${url} …`;
    const timing = h('div', { class: 'timing', dir: 'ltr' });
    out.replaceChildren(status, timing);
    out.hidden = false;
    Lang.mark(out);
    try {
      const res = await fetch(url, { cache: 'no-store' });
      entry.status = res.status;
      const header = res.headers.get('Server-Timing');
      const badge = h('span', { class: res.ok ? 'badge' : 'badge bad', text: String(res.status) });
      let body;
      let lines = null;
      if (L.stream && res.ok) {
        const list = h('ol', { class: 'lines', dir: 'ltr', 'aria-label': T('run.lines') });
        out.append(list);
        status.replaceChildren(badge, T('run.streaming', { url }));
        lines = await readLines(res, list, entry.t0);
        body = lines.join('\n');
      } else {
        body = await res.text();
      }
      const rtt = performance.now() - entry.t0;
      const json = lines ? null : tryJson(body); // not JSON: shown as text
      const parsed = json || (lines && res.ok ? lines.map(tryJson) : null);
      const summary = parsed && res.ok && L.summary ? L.summary(parsed)
        : T(res.ok ? 'run.done' : 'run.refused');
      status.replaceChildren(badge, T('run.summary', { summary, rtt: fmtMs(rtt) }));
      showTiming(timing, header, rtt, !!L.stream);
      if (L.timeline && json && res.ok) out.append(drawTimeline(json));
      out.append(jsonBox(json, body));
    } catch (err) {
      entry.status = -1;
      status.replaceChildren(h('span', { class: 'badge bad', text: T('run.error') }), String(err.message || err));
    } finally {
      endRun(entry, els);
    }
  }

  // Two bars on one scale: gather's elapsed beside sequential's. Their labels
  // carry the run's numbers, so they stay in the language of the run.
  function compareBars(g, q) {
    const delays = g.results.map((r) => Number(String(r).match(/after ([\d.]+)s/)?.[1]));
    const longest = Math.max(0, ...delays.filter(isFinite));
    const scale = Math.max(q.elapsed, g.elapsed, 1e-6);
    const bar = (name, j, key, vars) => {
      const label = h('span', { class: 'cmp-label' });
      Lang.fill(label, key, vars);
      return h('div', { class: `cmp ${name}`, 'data-elapsed': String(j.elapsed) },
        h('span', { class: 'cmp-bar', style: `width:${(100 * j.elapsed) / scale}%` }), label);
    };
    return h('div', { class: 'compare', role: 'img', 'aria-label': T('compare.aria') },
      bar('gather', g, 'compare.gather', { t: secs(g.elapsed), max: secs(longest) }),
      bar('sequential', q, 'compare.sequential', { t: secs(q.elapsed), sum: secs(q.sum_of_delays) }));
  }

  // exercise 1 side by side: /io/gather and /io/sequential sent together
  async function runCompare(L, els) {
    const { form, out, status } = els;
    const values = Object.fromEntries(new FormData(form));
    const q = `?${new URLSearchParams(values)}`;
    const entry = startRun(L.id, L.kind, L.band(values), els);
    status.textContent = `GET ${L.path}${q} · GET ${L.also}${q} …`;
    out.replaceChildren(status);
    out.hidden = false;
    Lang.mark(out);
    try {
      const [rg, rq] = await Promise.all([L.path, L.also].map((p) => fetch(p + q, { cache: 'no-store' })));
      const [bg, bq] = await Promise.all([rg.text(), rq.text()]);
      entry.status = rg.ok ? rq.status : rg.status;
      const ok = rg.ok && rq.ok;
      const badge = h('span', { class: ok ? 'badge' : 'badge bad', text: String(entry.status) });
      const g = tryJson(bg);
      const sq = tryJson(bq);
      if (ok && g && sq) {
        status.replaceChildren(badge, T('compare.summary', {
          gather: secs(g.elapsed), sequential: secs(sq.elapsed),
          x: (sq.elapsed / Math.max(g.elapsed, 1e-6)).toFixed(1),
        }));
        out.append(compareBars(g, sq), jsonBox(g, bg), jsonBox(sq, bq));
      } else {
        status.replaceChildren(badge, T('run.refused'));
        out.append(jsonBox(ok ? g : (rg.ok ? sq : g), rg.ok ? bq : bg));
      }
    } catch (err) {
      entry.status = -1;
      status.replaceChildren(h('span', { class: 'badge bad', text: T('run.error') }), String(err.message || err));
    } finally {
      endRun(entry, els);
    }
  }

  // Builds every card into the element list.
  function mount(list) {
    for (const L of LESSONS) {
      if (L.group) list.append(tx('h3', L.group, { class: 'group-title' }));
      else list.append(buildLesson(L));
    }
  }

  return { mount, tx, startRun, endRun, jsonBox, showTiming, tryJson };
})();
