// iocpu live page, part 3 of 4: the lessons. Each card is a form with
// labelled inputs and a real button; pressing it sends one request and shows
// its status, the Server-Timing phases (read from the response header), and
// the JSON, the streamed lines (as_completed: read from the body as it comes)
// or a timeline (the semaphore). Each run is recorded in ui.runs, which the
// charts draw as a band.
'use strict';

const Lessons = (() => {
  const { KEEP_MS, ui, h, svg, fmtMs } = Core;
  const secs = (s) => fmtMs(s * 1000); // the API's seconds, shown like the charts' times

  // /cpu/gather runs one job per item of ns: a burst of n is n times cpu_heavy(3, ...)
  const ids = (n) => Array.from({ length: n }, () => 3).join(',');
  const LESSONS = [
    { group: 'CPU-bound work' },
    {
      id: 'blocking', kind: 'loop', title: 'Block the loop', path: '/cpu/blocking',
      button: 'Block the loop',
      params: [{ name: 'ms', label: 'CPU time (ms)', value: 800, min: 0, step: 50 }],
      caption: 'cpu_heavy runs on the loop thread itself. Lag and the probe jump to the ' +
        'length of the job, and the charts freeze: nothing is served until it ends, not ' +
        'even the stream that feeds them.',
      band: (p) => `blocking ${p.ms} ms`,
      summary: (j) => `blocked the loop for ${secs(j.blocked_loop_for)}`,
    },
    {
      id: 'executor', kind: 'executor', title: 'The same work on the executor',
      path: '/cpu/executor', button: 'Run on the executor',
      params: [{ name: 'ms', label: 'CPU time (ms)', value: 800, min: 0, step: 50 }],
      caption: 'run_in_executor: the same job on a worker thread. Lag and the probe stay ' +
        'flat; one worker is busy for the length of the job.',
      band: (p) => `executor ${p.ms} ms`,
      summary: (j) => `${secs(j.cpu_time ?? j.elapsed)} of CPU on worker ${j.worker}, ` +
        `queued ${secs(j.queued)}`,
    },
    {
      id: 'burst', kind: 'executor', title: 'A burst of parallel jobs', path: '/cpu/gather',
      button: 'Start the burst',
      params: [
        { name: 'jobs', label: 'jobs', value: 6, min: 1, step: 1 },
        { name: 'ms', label: 'CPU ms each', value: 400, min: 0, step: 50 },
      ],
      query: (p) => ({ ns: ids(Number(p.jobs) || 0), ms: p.ms }),
      caption: 'All jobs at once on the pool: busy workers climb to the pool size and the ' +
        'rest queue. The loop stays free; elapsed ≈ jobs ÷ workers × ms, speedup ≈ cores.',
      band: (p) => `burst ${p.jobs}×${p.ms} ms`,
      summary: (j) => `${secs(j.sum_of_job_times)} of CPU in ${secs(j.elapsed)}: ` +
        `speedup ${j.speedup}×`,
    },
    { group: 'IO-bound work: timers on the loop' },
    {
      id: 'gather', kind: 'io', title: 'gather', path: '/io/gather', button: 'gather',
      params: [{ name: 'delays', label: 'delays (s)', value: '1.0,0.5,0.2', text: true }],
      caption: 'All the waits at once: elapsed ≈ the longest delay, not the sum. results ' +
        'keep submission order; finish_order follows the delays.',
      band: () => 'gather',
      summary: (j) => `elapsed ${secs(j.elapsed)} (delays add up to ${secs(j.sum_of_delays)}), ` +
        `finished ${j.finish_order.join(' → ')}`,
    },
    {
      id: 'as_completed', kind: 'io', title: 'as_completed', path: '/io/as_completed',
      button: 'as_completed', stream: true,
      params: [{ name: 'delays', label: 'delays (s)', value: '0.3,0.1,0.2', text: true }],
      caption: 'One chunked response, one line the moment each job finishes: shortest ' +
        'first. On the left, when each line reached this page.',
      band: () => 'as_completed',
      summary: (lines) => `finished ${lines.filter((o) => o && o.name).map((o) => o.name).join(' → ')}`,
    },
    {
      id: 'wait_for', kind: 'io', title: 'wait_for', path: '/io/wait_for', button: 'wait_for',
      params: [
        { name: 'delay', label: 'job delay (s)', value: 2.0, min: 0, step: 0.1 },
        { name: 'timeout', label: 'timeout (s)', value: 0.8, min: 0, step: 0.1 },
      ],
      caption: 'The answer comes at the timeout and the slow job\u2019s timer is cancelled. ' +
        'Make the timeout longer than the delay and the job finishes in time.',
      band: () => 'wait_for',
      summary: (j) => j.timed_out ? `timed out after ${secs(j.elapsed)}` : `done in ${secs(j.elapsed)}`,
    },
    {
      id: 'cancel', kind: 'io', title: 'cancel', path: '/io/cancel', button: 'cancel',
      params: [
        { name: 'delay', label: 'job delay (s)', value: 5, min: 0, step: 0.1 },
        { name: 'after', label: 'cancel after (s)', value: 0.7, min: 0, step: 0.1 },
      ],
      caption: 'task.cancel() after the given time: elapsed ≈ after, and the long timer is ' +
        'gone (the timer count in the top right drops back).',
      band: () => 'cancel',
      summary: (j) => j.cancelled
        ? `cancelled after ${secs(j.elapsed)}`
        : `finished first, after ${secs(j.elapsed)}`,
    },
    {
      id: 'semaphore', kind: 'io', title: 'Semaphore', path: '/io/semaphore', button: 'semaphore',
      timeline: true,
      params: [
        { name: 'jobs', label: 'jobs', value: 6, min: 1, step: 1 },
        { name: 'limit', label: 'limit', value: 2, min: 1, step: 1 },
      ],
      caption: 'At most limit jobs in flight: each row is a job, and a bar starts only when ' +
        'another one ends and frees its slot.',
      band: (p) => `semaphore ${p.limit}`,
      summary: (j) => `max in flight ${j.max_in_flight} (limit ${j.limit}), ` +
        `elapsed ${secs(j.elapsed)}`,
    },
  ];

  function buildLesson(L) {
    L.defaults = Object.fromEntries(L.params.map((p) => [p.name, String(p.value)]));
    const card = h('article', {
      class: `lesson ${L.kind}`, id: `lesson-${L.id}`, 'aria-labelledby': `${L.id}-title`,
      'data-state': 'idle',
    });
    const names = L.query ? Object.keys(L.query(L.defaults)) : L.params.map((p) => p.name);
    card.append(
      h('h4', { id: `${L.id}-title`, text: L.title }),
      h('code', { class: 'endpoint', text: `GET ${L.path}?${names.map((n) => n + '=').join('&')}` }),
      h('p', { class: 'caption', id: `${L.id}-caption`, text: L.caption }),
    );
    const form = h('form', { 'aria-describedby': `${L.id}-caption`, novalidate: true });
    for (const p of L.params) {
      const id = `${L.id}-${p.name}`;
      const input = h('input', {
        id, name: p.name, value: String(p.value), class: p.text ? 'wide' : null,
        type: p.text ? 'text' : 'number', inputmode: p.text ? 'decimal' : null,
        min: p.min, step: p.step, spellcheck: p.text ? 'false' : null, autocomplete: 'off',
      });
      form.append(h('div', { class: 'field' }, h('label', { for: id, text: p.label }), input));
    }
    const button = h('button', { type: 'submit', text: L.button });
    form.append(button);
    // the status line is the card's live region: it stays, the rest is redrawn per run
    const status = h('p', { class: 'status', role: 'status' });
    const out = h('div', { class: 'out', hidden: true }, status);
    card.append(form, out);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (card.dataset.state !== 'running') run(L, { form, button, card, out, status });
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
    box.append(h('span', { class: 'phase', text: 'Server-Timing:' }));
    for (const p of phases) {
      box.append(h('span', { class: 'phase' }, `${p.name} `, h('b', { text: fmtMs(p.dur) })));
    }
    box.append(h('span', { class: 'phase' }, 'round trip ', h('b', { text: fmtMs(rtt) })));
    if (streamed) {
      box.append(h('span', {
        class: 'note',
        text: 'A stream\u2019s header leaves before the work is done; the final timings ' +
          'follow in an HTTP trailer (fetch cannot read it: try curl -v --raw).',
      }));
    }
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
      li.append(h('span', { class: 'done', text: `done, elapsed ${o.elapsed} s` }));
    } else if (o) {
      li.dataset.name = o.name;
      li.append(h('span', { text: `${o.name}  ${o.result}  (server: at ${o.at} s)` }));
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
      'aria-label': `Semaphore timeline: ${rows.length} jobs, at most ${j.max_in_flight} at once`,
    });
    const x = (t) => L + (t / total) * (W - L - R);
    rows.forEach((r, i) => {
      const y = i * rowH + 4;
      const label = svg('text', { x: 4, y: y + 12 });
      label.textContent = `job ${r.job}`;
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

  async function run(L, { form, button, card, out, status }) {
    const values = Object.fromEntries(new FormData(form));
    const query = L.query ? L.query(values) : values;
    const url = `${L.path}?${new URLSearchParams(query)}`;
    const entry = { id: L.id, kind: L.kind, label: L.band(values), t0: performance.now(), t1: null, status: 0 };
    ui.runs.push(entry);
    const cut = entry.t0 - KEEP_MS;
    ui.runs = ui.runs.filter((r) => r.t1 === null || r.t1 >= cut);
    button.setAttribute('aria-disabled', 'true'); // not disabled: it keeps the focus
    card.dataset.state = 'running';
    card.setAttribute('aria-busy', 'true');
    status.textContent = `GET ${url} …`;
    const timing = h('div', { class: 'timing' });
    out.replaceChildren(status, timing);
    out.hidden = false;
    try {
      const res = await fetch(url, { cache: 'no-store' });
      entry.status = res.status;
      const header = res.headers.get('Server-Timing');
      const badge = h('span', { class: res.ok ? 'badge' : 'badge bad', text: String(res.status) });
      let body;
      let lines = null;
      if (L.stream && res.ok) {
        const list = h('ol', { class: 'lines', 'aria-label': 'streamed lines' });
        out.append(list);
        status.replaceChildren(badge, `streaming ${url}`);
        lines = await readLines(res, list, entry.t0);
        body = lines.join('\n');
      } else {
        body = await res.text();
      }
      const rtt = performance.now() - entry.t0;
      const json = lines ? null : tryJson(body); // not JSON: shown as text
      const parsed = json || (lines && res.ok ? lines.map(tryJson) : null);
      const summary = parsed && res.ok && L.summary ? L.summary(parsed) : res.ok ? 'done' : 'refused';
      status.replaceChildren(badge, `${summary} · ${fmtMs(rtt)} round trip`);
      showTiming(timing, header, rtt, !!L.stream);
      if (L.timeline && json && res.ok) out.append(drawTimeline(json));
      out.append(h('pre', {
        class: 'json', text: json ? JSON.stringify(json, null, 1) : body,
        'aria-label': 'response body',
      }));
    } catch (err) {
      entry.status = -1;
      status.replaceChildren(h('span', { class: 'badge bad', text: 'error' }), String(err.message || err));
    } finally {
      entry.t1 = performance.now();
      button.removeAttribute('aria-disabled');
      card.dataset.state = 'done';
      card.removeAttribute('aria-busy');
    }
  }

  // Builds every card into the element list.
  function mount(list) {
    for (const L of LESSONS) {
      if (L.group) list.append(h('h3', { class: 'group-title', text: L.group }));
      else list.append(buildLesson(L));
    }
  }

  return { mount };
})();
