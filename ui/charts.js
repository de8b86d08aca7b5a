// iocpu live page, part 3 of 6: the three charts, hand-drawn on canvas.
//
// Each frame redraws the last 30 s: the bands of the requests the buttons
// sent, a grid, then the data. Lag and probe samples are drawn as blocks as
// wide as the wait they measured, so an 800 ms stall is an 800 ms-wide block
// under the band of the request that caused it.
'use strict';

const Charts = (() => {
  const { WINDOW_MS, PERIOD_MS, ui, $, cssVar, fmtMs } = Core;
  const STALL_MS = 400; // no event for this long: the loop is not turning
  const FRAME_MS = 66; // ~15 frames a second: smooth, and cheap for a shared machine
  const PAD = { l: 46, r: 8, t: 16, b: 18 }; // a labelled chart has a second label row on top
  const LABEL_ROW = 13;
  const BAND = { loop: '--band-loop', executor: '--band-executor', io: '--band-io' };
  const BAND_INK = { loop: '--ink-loop', executor: '--ink-executor', io: '--ink-io' };

  // The smallest round number >= v (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of
  // ten): close enough above a peak that the peak fills most of the chart.
  const STEPS = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8];
  function niceCeil(v) {
    let p = Math.pow(10, Math.floor(Math.log10(Math.max(v, 1e-9))));
    for (;;) {
      for (const m of STEPS) if (m * p >= v) return m * p;
      p *= 10;
    }
  }

  function peak(list, from) {
    let best = null;
    for (const s of list) if (s.t >= from && (best === null || s.v > best.v)) best = s;
    return best;
  }

  // Sizes the canvas to its box in device pixels; draws in CSS pixels.
  function frame(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth;
    const ht = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(ht * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(ht * dpr);
    }
    const g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.direction = 'ltr'; // time runs left to right in both languages
    g.clearRect(0, 0, w, ht);
    return { g, w, h: ht };
  }

  // Request bands. Labels go in two rows above the plot, CPU runs first, then
  // newest first; one that fits in neither row is left out.
  const RANK = { loop: 0, executor: 0, io: 1 };
  function drawBands(ctx, labels) {
    const { g, x0, x1, y0, y1, from, now } = ctx;
    const shown = [];
    for (const r of ui.runs) {
      const end = r.t1 === null ? now : r.t1;
      if (end < from) continue;
      const a = Math.max(ctx.x(r.t0), x0);
      const b = Math.max(ctx.x(end), a + 2);
      g.fillStyle = cssVar(BAND[r.kind]);
      g.fillRect(a, y1, b - a, y0 - y1);
      shown.push({ r, a });
    }
    if (!labels) return;
    shown.sort((p, q) => RANK[p.r.kind] - RANK[q.r.kind] || q.r.t0 - p.r.t0);
    const rows = [[], []];
    for (const { r, a } of shown) {
      const w = g.measureText(r.label).width + 6;
      const la = Math.min(a, x1 - w);
      const row = rows.findIndex((taken) => !taken.some(([pa, pb]) => la < pb && la + w > pa));
      if (row < 0) continue;
      rows[row].push([la, la + w]);
      g.fillStyle = cssVar(BAND_INK[r.kind]);
      g.fillText(r.label, la + 3, y1 - 4 - row * LABEL_ROW);
    }
  }

  function drawAxes(ctx, unit, ht) {
    const { g, x0, x1, now } = ctx;
    g.strokeStyle = cssVar('--grid');
    g.fillStyle = cssVar('--muted');
    g.lineWidth = 1;
    g.textAlign = 'right';
    for (const f of [0, 0.5, 1]) { // y: 0, half, top
      const v = ctx.ymax * f;
      const y = Math.round(ctx.y(v)) + 0.5;
      g.beginPath();
      g.moveTo(x0, y);
      g.lineTo(x1, y);
      g.stroke();
      const label = unit === 'ms' ? (v >= 1000 ? v / 1000 + ' s' : v + ' ms') : String(v);
      g.fillText(label, x0 - 6, y + 4);
    }
    for (let s = 30; s >= 0; s -= 10) { // x: seconds ago
      g.textAlign = s === 0 ? 'right' : s === 30 ? 'left' : 'center';
      g.fillText(s === 0 ? Lang.t('chart.now') : Lang.t('chart.ago', { s }), ctx.x(now - s * 1000), ht - 4);
    }
    g.textAlign = 'left';
  }

  // One chart: bands, axes, then spec.draw(ctx) clipped to the plot area.
  function chart(canvas, now, ymax, unit, spec) {
    const { g, w, h: ht } = frame(canvas);
    const x0 = PAD.l;
    const x1 = w - PAD.r;
    const y0 = ht - PAD.b;
    const y1 = PAD.t + (spec.labels ? LABEL_ROW : 0);
    const from = now - WINDOW_MS;
    const ctx = {
      g, x0, x1, y0, y1, from, now, ymax,
      x: (t) => x0 + ((t - from) / WINDOW_MS) * (x1 - x0),
      y: (v) => y0 - (Math.min(v, ymax) / ymax) * (y0 - y1),
    };
    g.font = '11px ' + cssVar('--mono');
    drawBands(ctx, spec.labels);
    drawAxes(ctx, unit, ht);
    g.save();
    g.beginPath();
    g.rect(x0, 0, x1 - x0, ht);
    g.clip();
    spec.draw(ctx);
    g.restore();
  }

  // Blocks: each sample covers span(s) = [start, end] at height v.
  function drawBlocks(ctx, list, color, span) {
    const { g } = ctx;
    g.fillStyle = color;
    g.globalAlpha = 0.28;
    for (const s of list) {
      const [a, b] = span(s);
      if (b < ctx.from) continue;
      g.fillRect(ctx.x(a), ctx.y(s.v), Math.max(ctx.x(b) - ctx.x(a), 1), ctx.y0 - ctx.y(s.v));
    }
    g.globalAlpha = 1;
    g.strokeStyle = color;
    g.lineWidth = 1.75;
    g.beginPath();
    for (const s of list) {
      const [a, b] = span(s);
      if (b < ctx.from) continue;
      g.moveTo(ctx.x(a), ctx.y(s.v));
      g.lineTo(Math.max(ctx.x(b), ctx.x(a) + 1), ctx.y(s.v));
    }
    g.stroke();
  }

  function drawPeak(ctx, p, color) {
    if (!p || p.v < ctx.ymax * 0.2) return;
    const { g } = ctx;
    const x = Math.min(Math.max(ctx.x(p.t), ctx.x0 + 30), ctx.x1 - 30);
    g.fillStyle = color;
    g.font = '600 11.5px ' + cssVar('--mono');
    g.textAlign = 'center';
    g.fillText(fmtMs(p.v), x, Math.max(ctx.y(p.v) - 5, ctx.y1 + 10));
    g.textAlign = 'left';
  }

  // Steps: a value holds until the next sample; fill shades the area below.
  function drawSteps(ctx, list, color, fill) {
    if (!list.length) return;
    const { g } = ctx;
    const path = new Path2D();
    let py = null;
    for (const s of list) {
      const x = ctx.x(s.t);
      if (py === null) path.moveTo(x, ctx.y(s.v));
      else path.lineTo(x, py);
      py = ctx.y(s.v);
      path.lineTo(x, py);
    }
    path.lineTo(ctx.x(ctx.now), py);
    if (fill) {
      const area = new Path2D(path);
      area.lineTo(ctx.x(ctx.now), ctx.y0);
      area.lineTo(ctx.x(list[0].t), ctx.y0);
      area.closePath();
      g.globalAlpha = 0.25;
      g.fillStyle = color;
      g.fill(area);
      g.globalAlpha = 1;
    }
    g.strokeStyle = color;
    g.lineWidth = 1.75;
    g.stroke(path);
  }

  function renderLag(now, from) {
    const lagPeak = peak(ui.samples.lag, from);
    const ymax = niceCeil(Math.max(10, (lagPeak ? lagPeak.v : 0) * 1.15));
    chart($('chart-lag'), now, ymax, 'ms', {
      labels: true,
      draw(ctx) { // a sample reports the stall that ended when it arrived
        const color = cssVar('--lag');
        drawBlocks(ctx, ui.samples.lag, color, (s) => [s.t - Math.max(s.v, PERIOD_MS), s.t]);
        drawPeak(ctx, lagPeak, color);
      },
    });
    const last = ui.samples.lag[ui.samples.lag.length - 1];
    $('lag-value').textContent = last
      ? Lang.t('chart.value', { now: fmtMs(last.v), peak: fmtMs(lagPeak.v) }) : '–';
  }

  function renderProbe(now, from) {
    const probes = ui.samples.probe;
    const sent = ui.probe.pendingSince;
    const pending = sent === null ? null : { t: sent, v: now - sent };
    let top = peak(probes, from);
    if (pending && (!top || pending.v > top.v)) top = pending;
    const ymax = niceCeil(Math.max(10, (top ? top.v : 0) * 1.15));
    chart($('chart-probe'), now, ymax, 'ms', {
      draw(ctx) { // a sample covers its own round trip; a pending one grows live
        const color = cssVar('--probe');
        drawBlocks(ctx, probes, color, (s) => [s.t, s.t + Math.max(s.v, PERIOD_MS)]);
        if (pending && pending.v > PERIOD_MS) {
          drawBlocks(ctx, [pending], cssVar('--pending'), (s) => [s.t, s.t + s.v]);
        }
        drawPeak(ctx, top, color);
      },
    });
    const last = probes[probes.length - 1];
    $('probe-value').textContent = pending && pending.v > 250
      ? Lang.t('chart.waiting', { t: fmtMs(pending.v) })
      : last ? Lang.t('chart.value', { now: fmtMs(last.v), peak: fmtMs(top.v) }) : '–';
  }

  function renderExecutor(now, from) {
    const { busy, queued } = ui.samples;
    const workers = ui.workers;
    const pb = peak(busy, from);
    const pq = peak(queued, from);
    const top = Math.max(workers, pb ? pb.v : 0, pq ? pq.v : 0, 2);
    const ymax = Math.ceil((top <= 20 ? top : niceCeil(top)) / 2) * 2; // even: whole halves
    chart($('chart-exec'), now, ymax, 'count', {
      draw(ctx) {
        const { g } = ctx;
        if (workers) { // the pool size, dashed
          const y = Math.round(ctx.y(workers)) + 0.5;
          g.strokeStyle = cssVar('--cap');
          g.setLineDash([5, 4]);
          g.lineWidth = 1.25;
          g.beginPath();
          g.moveTo(ctx.x0, y);
          g.lineTo(ctx.x1, y);
          g.stroke();
          g.setLineDash([]);
        }
        drawSteps(ctx, busy, cssVar('--busy'), true);
        drawSteps(ctx, queued, cssVar('--queued'), false);
      },
    });
    const d = ui.stream.last;
    $('exec-value').textContent = d
      ? Lang.t('chart.exec.value',
        { busy: d.executor.busy, workers: d.executor.workers, queued: d.executor.queued })
      : '–';
    const io = d && d.io_pool;
    $('io-value').textContent = io
      ? Lang.t('chart.io.value', { busy: io.busy, threads: io.threads, queued: io.queued })
      : '–';
  }

  // A stream that goes quiet means the loop is not turning: say so while it lasts.
  function renderStall(now) {
    if (!ui.stream.open || !ui.stream.lastAt) return;
    const quiet = now - ui.stream.lastAt;
    if (quiet > STALL_MS) {
      Core.setConn('stalled', 'conn.stalled');
      $('conn-detail').textContent = Lang.t('conn.for', { s: (quiet / 1000).toFixed(1) });
    } else {
      Core.setConn('live', 'conn.live');
    }
  }

  function render() {
    const now = performance.now();
    const from = now - WINDOW_MS;
    renderLag(now, from);
    renderProbe(now, from);
    renderExecutor(now, from);
    renderStall(now);
  }

  let lastFrame = 0;
  function start() {
    requestAnimationFrame((ts) => {
      if (ts - lastFrame >= FRAME_MS - 4) {
        lastFrame = ts;
        render();
      }
      start();
    });
  }

  return { start };
})();
