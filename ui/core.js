// iocpu live page, part 1 of 6: the page's state and small helpers.
//
// The page draws the loop's lag (GET /loop/stream, Server-Sent Events), a
// /healthz round-trip probe it sends itself, and the executor's busy workers
// and queue over the last 30 s (charts.js); the lesson buttons send the
// requests whose effect the charts show (lessons.js, tasks.js for the job
// queue, waits.js for the four ways to wait); lang.js holds every word in
// English and Persian; app.js wires it up. The seven scripts are inlined
// into one page at build time and share the page's global scope: each one
// declares one const (Core, Lang, Charts, Lessons, Tasks, Waits).
//
// window.iocpuUi is the data behind the charts (samples, runs, stream and
// probe state), so an end-to-end test reads what the page shows.
'use strict';

const Core = (() => {
  const WINDOW_MS = 30000; // what the charts show
  const KEEP_MS = 90000; // what the page keeps (a test may look further back)
  const PERIOD_MS = 100; // the stream's and the probe's period

  const ui = {
    samples: { lag: [], probe: [], busy: [], queued: [], ioBusy: [] }, // {t: performance.now() ms, v}
    runs: [], // requests sent by the buttons: {id, kind, label, t0, t1, status}
    task: null, // the job-queue card's task: {id, status, history: [{status, at}], ...}
    stream: { open: false, events: 0, ended: false, last: null, lastAt: 0 },
    probe: { pendingSince: null, errors: 0 },
    workers: 0,
  };
  window.iocpuUi = ui;

  const $ = (id) => document.getElementById(id);

  // h('p', {class: 'x', text: 'hi'}, child...): an element; false/null attributes are left out.
  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else e.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
    return e;
  }

  function svg(tag, attrs) {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  }

  const rootStyle = getComputedStyle(document.documentElement); // live: follows dark mode
  const cssVar = (name) => rootStyle.getPropertyValue(name).trim();

  function fmtMs(ms) {
    if (ms === null || ms === undefined || !isFinite(ms)) return '–';
    if (ms >= 1000) return (ms / 1000).toFixed(2) + ' s';
    if (ms >= 100) return ms.toFixed(0) + ' ms';
    if (ms >= 10) return ms.toFixed(1) + ' ms';
    return ms.toFixed(2) + ' ms';
  }

  // Appends a sample and drops the ones older than KEEP_MS.
  function push(list, item) {
    list.push(item);
    const cut = item.t - KEEP_MS;
    let i = 0;
    while (i < list.length && list[i].t < cut) i++;
    if (i) list.splice(0, i);
  }

  // The connection pill: its text is a live region, so it changes only with the state.
  // key names its words (lang.js): a language switch refills it.
  let connState = '';
  function setConn(state, key) {
    if (state === connState) return;
    connState = state;
    $('conn').dataset.state = state;
    $('conn-text').dataset.i18n = key;
    Lang.fill($('conn-text'), key);
  }

  return { WINDOW_MS, KEEP_MS, PERIOD_MS, ui, $, h, svg, cssVar, fmtMs, push, setConn };
})();
