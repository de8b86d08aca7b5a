#!/usr/bin/env node
// Node.js peer for the iocpu benchmarks (bench/run): the plain `http` module, one event
// loop, timers for IO waits.  Same URLs and JSON shapes as iocpu's contract (API.md) for:
//
//   GET /healthz                 {"status":"ok"}
//   GET /io/job?name=&delay=     setTimeout(delay s), then
//                                {"name","delay","result":"<name> done after <delay>s","elapsed"}
//
// Defaults name=job, delay=1.0; delay must be a finite number in [0, 60] (else 422 in
// FastAPI's shape).  Delays are printed the way Python's str(float) prints them (1.0, 0.1,
// 1e-07) so the bodies match the other servers byte for byte in shape.
// Unknown path 404 {"detail":"Not Found"}, wrong method 405 with Allow.
//
// Usage: node bench/peers/node_server.js [PORT]     (or env PORT; default 8002)
// Keep-alive is on; the listen backlog is 16384 (the kernel caps it at net.core.somaxconn)
// and there is no connection cap, so 10k concurrent sleepers fit (raise `ulimit -n` first).
'use strict';

const http = require('http');

const port = Number(process.argv[2] || process.env.PORT || 8002);
const host = process.env.HOST || '127.0.0.1';
const MAX_DELAY = 60;

// Python repr(float): shortest round-trip digits; fixed notation for 1e-4 <= |x| < 1e16,
// else scientific with a 2-digit-minimum exponent; always a '.' or an exponent.
function pyFloat(x) {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e');
  const exp = Number(expStr);
  const neg = mant[0] === '-';
  const digits = mant.replace('-', '').replace('.', '');
  const sign = neg ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
    const e = Math.abs(exp);
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' + e : e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}

function send(res, status, body, extra) {
  const headers = {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...extra,
  };
  res.writeHead(status, headers);
  res.end(body);
}

function unprocessable(res, loc, msg, type) {
  send(res, 422, JSON.stringify({ detail: [{ loc: ['query', loc], msg, type }] }));
}

const HEALTH = '{"status":"ok"}';

const server = http.createServer((req, res) => {
  const t0 = process.hrtime.bigint();
  const q = req.url.indexOf('?');
  const path = q === -1 ? req.url : req.url.slice(0, q);

  if (path !== '/healthz' && path !== '/io/job') {
    send(res, 404, '{"detail":"Not Found"}');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, '{"detail":"Method Not Allowed"}', { Allow: 'GET' });
    return;
  }
  if (path === '/healthz') {
    send(res, 200, HEALTH, { 'Server-Timing': 'total;dur=0' });
    return;
  }

  // /io/job
  const params = new URLSearchParams(q === -1 ? '' : req.url.slice(q + 1));
  const name = params.has('name') ? params.get('name') : 'job';
  let delay = 1.0;
  if (params.has('delay')) {
    const raw = params.get('delay').trim();
    delay = raw === '' ? NaN : Number(raw);
    if (!Number.isFinite(delay)) {
      unprocessable(res, 'delay', 'value is not a valid float', 'type_error.float');
      return;
    }
    if (delay < 0) {
      unprocessable(res, 'delay', 'ensure this value is greater than or equal to 0',
        'value_error.number.not_ge');
      return;
    }
    if (delay > MAX_DELAY) {
      unprocessable(res, 'delay', `ensure this value is less than or equal to ${MAX_DELAY}`,
        'value_error.number.not_le');
      return;
    }
  }
  const timer = setTimeout(() => {
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
    const d = pyFloat(delay);
    const body = `{"name":${JSON.stringify(name)},"delay":${d},` +
      `"result":${JSON.stringify(`${name} done after ${d}s`)},"elapsed":${elapsed}}`;
    send(res, 200, body, { 'Server-Timing': `total;dur=${(elapsed * 1000).toFixed(3)}` });
  }, delay * 1000);
  // A client that goes away cancels its timer.
  res.on('close', () => clearTimeout(timer));
});

server.keepAliveTimeout = 120 * 1000; // idle keep-alive connections live 2 min (wrk reuses them)
server.headersTimeout = 125 * 1000; // must exceed keepAliveTimeout
server.requestTimeout = 0; // no per-request cap: sleepers may wait up to 60 s
server.maxHeadersCount = 0; // no limit on header lines per request
server.maxRequestsPerSocket = 0; // never close a keep-alive socket after N requests
server.maxConnections = Infinity;

server.on('clientError', (err, socket) => {
  if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
  else socket.destroy();
});

server.listen({ port, host, backlog: 16384 }, () => {
  console.error(`node peer listening on http://${host}:${server.address().port}`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
