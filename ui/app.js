// iocpu live page, part 6 of 6: the data feeds and the start.
//   - GET /loop/stream (Server-Sent Events): lag, timers, connections and the
//     executor every 100 ms; "end" means the server drains (no reconnect).
//   - GET /healthz every 100 ms, one at a time: the round trip a client sees.
'use strict';

(() => {
  const { PERIOD_MS, ui, $, push, setConn } = Core;

  function connectStream() {
    const es = new EventSource('/loop/stream');
    es.onopen = () => {
      ui.stream.open = true;
      setConn('live', 'conn.live');
    };
    es.onmessage = (e) => {
      const d = JSON.parse(e.data);
      const t = performance.now();
      ui.stream.events++;
      ui.stream.last = d;
      ui.stream.lastAt = t;
      push(ui.samples.lag, { t, v: d.lag_ms });
      push(ui.samples.busy, { t, v: d.executor.busy });
      push(ui.samples.queued, { t, v: d.executor.queued });
      if (d.io_pool) push(ui.samples.ioBusy, { t, v: d.io_pool.busy });
      ui.workers = d.executor.workers;
      $('conn-detail').textContent = Lang.t('conn.detail',
        { conn: d.connections, timers: d.active_timers, workers: d.executor.workers });
    };
    es.addEventListener('end', () => { // the server is going away: do not reconnect
      es.close();
      ui.stream.open = false;
      ui.stream.ended = true;
      setConn('down', 'conn.draining');
      $('conn-detail').textContent = '';
    });
    es.onerror = () => {
      ui.stream.open = false;
      if (ui.stream.ended) return;
      setConn('down', 'conn.reconnecting');
      // EventSource retries by itself, except after an answer that is not a stream
      if (es.readyState === EventSource.CLOSED) setTimeout(connectStream, 2000);
    };
  }

  async function probeOnce() {
    const sent = performance.now();
    ui.probe.pendingSince = sent;
    try {
      const res = await fetch('/healthz', { cache: 'no-store' });
      await res.arrayBuffer();
      push(ui.samples.probe, { t: sent, v: performance.now() - sent, status: res.status });
      ui.probe.errors = 0;
    } catch (err) {
      ui.probe.errors++;
    } finally {
      ui.probe.pendingSince = null;
    }
  }

  let lastProbe = 0;
  function probeTick() {
    const now = performance.now();
    const every = ui.probe.errors ? 2000 : PERIOD_MS; // back off while the server is away
    if (ui.probe.pendingSince === null && now - lastProbe >= every - 5) {
      lastProbe = now;
      probeOnce();
    }
  }

  Lang.mount($('langs'));
  Lessons.mount($('lesson-list'));
  Tasks.mount($('lesson-list'));
  Waits.mount($('lesson-list'));
  connectStream();
  setInterval(probeTick, PERIOD_MS);
  Charts.start();
})();
