// iocpu live page, part 5 of 6: the job queue's card. It watches one task at a time:
//   Create  POST /tasks {"kind":"io","delay":S} or {"kind":"cpu","ms":MS} -> 202
//   watch   GET /tasks/{id} every 250 ms until it ends (each new status is
//           listed with the time this page first saw it)
//   Await   GET /tasks/{id}?wait=S: the request waits on the server's loop
//   Cancel  DELETE /tasks/{id}, with "Authorization: Bearer <owner_token>"
//           when the create answer carried an owner token
// It never asks for GET /tasks (the list): that is for the server's admin.
// The task lives in ui.task (core.js) for the end-to-end test; its band on
// the charts runs from the create to the end the page observed.
'use strict';

const Tasks = (() => {
  const { ui, h, fmtMs } = Core;
  const T = Lang.t;
  const POLL_MS = 250;
  const ENDED = ['done', 'cancelled', 'failed'];

  let els = null; // the card's elements
  let poller = null;

  function field(id, key, input) {
    input.id = `tasks-${id}`;
    input.name = id;
    return h('div', { class: 'field', id: `tasks-field-${id}` },
      Lessons.tx('label', key, { for: input.id }), input);
  }

  function numberInput(value, step) {
    return h('input', { type: 'number', value: String(value), min: 0, step, autocomplete: 'off', dir: 'ltr' });
  }

  function build() {
    const { tx } = Lessons;
    const card = h('article', {
      class: 'lesson executor', id: 'lesson-tasks', 'aria-labelledby': 'tasks-title', 'data-state': 'idle',
    });
    const kind = h('select', {},
      tx('option', 'tasks.kind.io', { value: 'io' }), tx('option', 'tasks.kind.cpu', { value: 'cpu' }));
    const delay = numberInput(3, 0.1);
    const ms = numberInput(3000, 100);
    const wait = numberInput(5, 0.5);
    const form = h('form', { 'aria-describedby': 'tasks-caption', novalidate: true },
      field('kind', 'tasks.kind', kind), field('delay', 'tasks.delay', delay), field('ms', 'tasks.ms', ms),
      tx('button', 'tasks.create', { type: 'submit', id: 'tasks-create' }));
    const awaitBtn = tx('button', 'tasks.await', { type: 'button', id: 'tasks-await', 'aria-disabled': 'true' });
    const cancelBtn = tx('button', 'tasks.cancel', {
      type: 'button', id: 'tasks-cancel', class: 'secondary', 'aria-disabled': 'true',
    });
    const controls = h('div', { class: 'controls' }, field('wait', 'tasks.wait', wait), awaitBtn, cancelBtn);
    const status = h('p', { class: 'status', role: 'status' });
    const history = h('ol', { class: 'history', dir: 'ltr', 'aria-label': T('tasks.history') });
    const body = h('pre', { class: 'json', dir: 'ltr', 'aria-label': T('run.body') });
    const out = h('div', { class: 'out', hidden: true }, status, history, body);
    card.append(
      tx('h4', 'tasks.title', { id: 'tasks-title' }),
      h('code', { class: 'endpoint', text: 'POST /tasks · GET /tasks/{id}?wait= · DELETE /tasks/{id}' }),
      tx('p', 'tasks.caption', { class: 'caption', id: 'tasks-caption' }),
      form, controls, out);
    els = { card, form, kind, delay, ms, wait, awaitBtn, cancelBtn, status, history, body, out };
    const showKind = () => {
      card.querySelector('#tasks-field-delay').hidden = kind.value !== 'io';
      card.querySelector('#tasks-field-ms').hidden = kind.value !== 'cpu';
    };
    kind.addEventListener('change', showKind);
    showKind();
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      create();
    });
    awaitBtn.addEventListener('click', () => awaitTask());
    cancelBtn.addEventListener('click', () => cancelTask());
    return card;
  }

  const badge = (code) => h('span', { class: code >= 200 && code < 300 ? 'badge' : 'badge bad', text: String(code) });
  const statusWord = (s) => T(`status.${s}`);
  const shortId = (id) => `${String(id).slice(0, 8)}…`;

  // Records what an answer says about the task: its status (a new one joins the
  // history), the body, and the end of its band once it ended.
  function observe(j) {
    const task = ui.task;
    if (!task || !j || j.id !== task.id) return;
    if (j.status !== task.status) {
      task.status = j.status;
      const at = performance.now() - task.t0;
      task.history.push({ status: j.status, at });
      els.history.append(h('li', { 'data-status': j.status },
        h('span', { class: 'at', text: `+${at.toFixed(0)} ms` }), h('span', { text: statusWord(j.status) })));
    }
    task.last = j;
    els.body.textContent = JSON.stringify(j, null, 1);
    if (ENDED.includes(j.status)) {
      if (task.run.t1 === null) Lessons.endRun(task.run, { card: els.card });
      els.cancelBtn.setAttribute('aria-disabled', 'true');
      stopPolling();
    }
  }

  function stopPolling() {
    if (poller !== null) clearInterval(poller);
    poller = null;
  }

  async function poll() {
    const task = ui.task;
    if (!task || task.polling) return;
    task.polling = true;
    try {
      const res = await fetch(`/tasks/${encodeURIComponent(task.id)}`, { cache: 'no-store' });
      const j = Lessons.tryJson(await res.text());
      if (res.ok) observe(j);
      else if (res.status === 404) stopPolling(); // forgotten by the server
    } catch (err) {
      // the server is away: the next tick tries again
    } finally {
      task.polling = false;
    }
  }

  // A new task replaces the one the card watched (that one goes on on the server;
  // its band ends here).
  async function create() {
    if (els.form.dataset.busy) return;
    els.form.dataset.busy = '1';
    stopPolling();
    if (ui.task && ui.task.run.t1 === null) Lessons.endRun(ui.task.run, { card: els.card });
    ui.task = null;
    try {
      await createTask();
    } finally {
      delete els.form.dataset.busy;
    }
  }

  async function createTask() {
    const kind = els.kind.value;
    const spec = kind === 'io' ? { kind, delay: Number(els.delay.value) } : { kind, ms: Number(els.ms.value) };
    els.out.hidden = false;
    Lang.mark(els.out);
    els.history.replaceChildren();
    els.body.textContent = '';
    els.status.textContent = `POST /tasks ${JSON.stringify(spec)} …`;
    const run = Lessons.startRun('tasks', kind === 'io' ? 'io' : 'executor', T('tasks.band', { kind }),
      { card: els.card });
    try {
      const res = await fetch('/tasks', {
        method: 'POST', cache: 'no-store', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(spec),
      });
      const j = Lessons.tryJson(await res.text());
      run.status = res.status;
      if (res.status !== 202 || !j || !j.id) {
        Lessons.endRun(run, { card: els.card });
        els.status.replaceChildren(badge(res.status), T('run.refused'));
        els.body.textContent = j ? JSON.stringify(j, null, 1) : '';
        return;
      }
      ui.task = {
        id: j.id, kind, status: null, history: [], t0: run.t0, run, last: null, polling: false,
        token: typeof j.owner_token === 'string' ? j.owner_token : null, awaited: null, cancelled: null,
      };
      observe(j);
      els.status.replaceChildren(badge(res.status), T('tasks.created', { id: shortId(j.id), status: statusWord(j.status) }));
      els.awaitBtn.removeAttribute('aria-disabled');
      if (!ENDED.includes(j.status)) {
        els.cancelBtn.removeAttribute('aria-disabled');
        poller = setInterval(poll, POLL_MS);
      }
    } catch (err) {
      run.status = -1;
      Lessons.endRun(run, { card: els.card });
      els.status.replaceChildren(badge(0), String(err.message || err));
    }
  }

  async function awaitTask() {
    const task = ui.task;
    if (!task) {
      els.status.textContent = T('tasks.none');
      return;
    }
    if (els.awaitBtn.dataset.busy) return;
    els.awaitBtn.dataset.busy = '1';
    els.awaitBtn.setAttribute('aria-disabled', 'true');
    const wait = els.wait.value;
    els.status.textContent = T('tasks.awaiting', { id: shortId(task.id), wait });
    const t0 = performance.now();
    try {
      const res = await fetch(`/tasks/${encodeURIComponent(task.id)}?wait=${encodeURIComponent(wait)}`,
        { cache: 'no-store' });
      const j = Lessons.tryJson(await res.text());
      const took = performance.now() - t0;
      task.awaited = { code: res.status, status: j && j.status, ms: took };
      if (res.ok && j) {
        observe(j);
        const key = ENDED.includes(j.status) ? 'tasks.awaited' : 'tasks.still';
        els.status.replaceChildren(badge(res.status), T(key, { t: fmtMs(took), status: statusWord(j.status) }));
      } else {
        els.status.replaceChildren(badge(res.status), T('run.refused'));
        if (j) els.body.textContent = JSON.stringify(j, null, 1);
      }
    } catch (err) {
      els.status.replaceChildren(badge(0), String(err.message || err));
    } finally {
      delete els.awaitBtn.dataset.busy;
      els.awaitBtn.removeAttribute('aria-disabled');
    }
  }

  async function cancelTask() {
    const task = ui.task;
    if (!task) {
      els.status.textContent = T('tasks.none');
      return;
    }
    const headers = task.token ? { Authorization: `Bearer ${task.token}` } : {};
    try {
      const res = await fetch(`/tasks/${encodeURIComponent(task.id)}`, { method: 'DELETE', cache: 'no-store', headers });
      const j = Lessons.tryJson(await res.text());
      task.cancelled = { code: res.status, status: j && j.status };
      if (res.ok && j) {
        observe(j);
        els.status.replaceChildren(badge(res.status), T('tasks.cancelled', { code: res.status, status: statusWord(j.status) }));
      } else if (res.status === 409) {
        els.status.replaceChildren(badge(res.status), T('tasks.too_late', { code: res.status }));
        poll();
      } else {
        els.status.replaceChildren(badge(res.status), T('run.refused'));
        if (j) els.body.textContent = JSON.stringify(j, null, 1);
      }
    } catch (err) {
      els.status.replaceChildren(badge(0), String(err.message || err));
    }
  }

  function mount(list) {
    list.append(Lessons.tx('h3', 'group.tasks', { class: 'group-title' }), build());
  }

  return { mount };
})();
