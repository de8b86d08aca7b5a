-- bench/waits.lua: wrk script for "N requests at once, one per connection" (scenario 6).
--
--   BENCH_N=1000 wrk -t1 -c1000 -d120s --timeout 60s -s bench/waits.lua \
--       'http://127.0.0.1:8080/io/job?delay=1'
--
-- wrk opens -c connections and sends one request on each (the first BENCH_N delay() calls
-- return 0 ms); after its answer a connection stays idle (later delay() calls return an
-- hour), so exactly BENCH_N requests are sent, all at once. When the BENCH_N-th answer is
-- in, the thread stops and wrk is sent SIGINT, which ends its run there instead of after -d
-- (wrk's main thread sleeps -d, and SIGINT cuts that sleep short). Use -t1 and -c BENCH_N.
--
-- Timestamps come from CLOCK_MONOTONIC through LuaJIT's ffi, taken inside wrk's event loop:
--   wall_us    from the first request sent to the last answer received: the figure, with
--              the client's process start and connection set-up left out
--   send_us    from the first request sent to the last one sent (the client's own spread)
-- and, like bench/latency.lua, `BENCH <key> <value>` lines:
--   answered ok other (answers with a 2xx status / any other status), requests,
--   latency_p50 latency_max (each request's own send-to-answer time, µs), errors_*.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *ts);
  int kill(int pid, int sig);
  int getpid(void);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local n = tonumber(os.getenv("BENCH_N") or "") or 1
-- globals, not locals: done() reads them from the thread with thread:get()
sent, answered, ok, other = 0, 0, 0, 0
first_send, last_send, last_answer = nil, nil, nil

function delay()
  if sent < n then
    sent = sent + 1
    local t = now_us()
    first_send = first_send or t
    last_send = t
    return 0
  end
  return 3600 * 1000 -- an hour: this connection has had its request
end

function response(status, headers, body)
  answered = answered + 1
  if status >= 200 and status < 300 then ok = ok + 1 else other = other + 1 end
  if answered == n then
    last_answer = now_us()
    wrk.thread:stop()
    ffi.C.kill(ffi.C.getpid(), 2) -- SIGINT: wrk's main thread stops sleeping and reports
  end
end

local function out(key, value)
  io.write(string.format("BENCH %s %s\n", key, value))
end

local function int(x)
  return string.format("%d", math.floor((x or 0) + 0.5))
end

-- done() runs in wrk's main Lua state, not the thread's: the thread's counters are read
-- through thread:get().
local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local t = threads[1]
  local a, fs, ls, la = t:get("answered"), t:get("first_send"), t:get("last_send"), t:get("last_answer")
  out("answered", int(a))
  out("ok", int(t:get("ok")))
  out("other", int(t:get("other")))
  out("requests", int(summary.requests))
  if fs and la then out("wall_us", int(la - fs)) else out("wall_us", "nan") end
  if fs and ls then out("send_us", int(ls - fs)) else out("send_us", "nan") end
  out("latency_p50", int(latency:percentile(50)))
  out("latency_max", int(latency.max))
  local e = summary.errors
  out("errors_connect", int(e.connect))
  out("errors_read", int(e.read))
  out("errors_write", int(e.write))
  out("errors_timeout", int(e.timeout))
end
