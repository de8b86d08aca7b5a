-- bench/latency.lua: wrk script that prints machine-readable results.
--
--   wrk -t2 -c64 -d10s --latency -s bench/latency.lua http://127.0.0.1:8080/healthz
--
-- It does not change the request (wrk's fast path stays on). After the run, done() prints
-- one `BENCH <key> <value>` line per figure, so a shell script can do
--   wrk ... | awk '$1=="BENCH"{print $2, $3}'
-- Keys (times in integer microseconds):
--   requests duration_us bytes rps
--   errors_connect errors_read errors_write errors_status errors_timeout
--   non2xx          = errors_status: wrk counts every response with status > 399 there
--                     (so 503s from a full executor queue land here)
--   latency_min latency_mean latency_stdev latency_p50 latency_p90 latency_p99
--   latency_p999 (p99.9) latency_max
--   status_<code>   only with env BENCH_STATUS=1: a count per HTTP status (this defines a
--                   Lua response() callback, which costs some wrk throughput)
--   cdf <p> <us>    only with env BENCH_CDF=1: the latency distribution, one line per
--                   percentile p (0 = min, 100 = max), for CDF plots
--   timeline <s> <n>  only with env BENCH_TIMELINE=1: responses received in each
--                   wall-clock second s (0 = the first one), from a Lua response()
--                   callback like BENCH_STATUS (the first and last are partial seconds)
-- wrk's latency is per request, from send to full response, measured by wrk itself.

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

local want_status = os.getenv("BENCH_STATUS") == "1"
local want_timeline = os.getenv("BENCH_TIMELINE") == "1"
if want_status or want_timeline then
  statuses, seconds = {}, {}
  function response(status, headers, body)
    if want_status then statuses[status] = (statuses[status] or 0) + 1 end
    if want_timeline then
      local t = os.time()
      seconds[t] = (seconds[t] or 0) + 1
    end
  end
end

local function out(key, value)
  io.write(string.format("BENCH %s %s\n", key, value))
end

local function int(x)
  return string.format("%d", math.floor((x or 0) + 0.5))
end

function done(summary, latency, requests)
  local e = summary.errors
  out("requests", int(summary.requests))
  out("duration_us", int(summary.duration))
  out("bytes", int(summary.bytes))
  if summary.duration > 0 then
    out("rps", string.format("%.1f", summary.requests / (summary.duration / 1e6)))
  else
    out("rps", "0")
  end
  out("errors_connect", int(e.connect))
  out("errors_read", int(e.read))
  out("errors_write", int(e.write))
  out("errors_status", int(e.status))
  out("errors_timeout", int(e.timeout))
  out("non2xx", int(e.status))
  out("latency_min", int(latency.min))
  out("latency_mean", int(latency.mean))
  out("latency_stdev", int(latency.stdev))
  out("latency_p50", int(latency:percentile(50)))
  out("latency_p90", int(latency:percentile(90)))
  out("latency_p99", int(latency:percentile(99)))
  out("latency_p999", int(latency:percentile(99.9)))
  out("latency_max", int(latency.max))
  if os.getenv("BENCH_CDF") == "1" then
    local ps = {0, 0.1, 0.5, 1, 2, 3, 5, 7.5}
    for p = 10, 90, 5 do ps[#ps + 1] = p end
    for _, p in ipairs({92.5, 95, 96, 97, 98, 99, 99.5, 99.9, 99.99, 100}) do ps[#ps + 1] = p end
    for _, p in ipairs(ps) do
      local v
      if p == 0 then v = latency.min elseif p == 100 then v = latency.max
      else v = latency:percentile(p) end
      io.write(string.format("BENCH cdf %g %s\n", p, int(v)))
    end
  end
  if want_timeline then
    local total, first, last = {}, nil, nil
    for _, t in ipairs(threads) do
      for sec, n in pairs(t:get("seconds") or {}) do
        total[sec] = (total[sec] or 0) + n
        if not first or sec < first then first = sec end
        if not last or sec > last then last = sec end
      end
    end
    if first then
      for sec = first, last do
        io.write(string.format("BENCH timeline %d %s\n", sec - first, int(total[sec])))
      end
    end
  end
  if want_status then
    local total = {}
    for _, t in ipairs(threads) do
      local s = t:get("statuses")
      if s then
        for code, n in pairs(s) do
          total[code] = (total[code] or 0) + n
        end
      end
    end
    local codes = {}
    for code in pairs(total) do codes[#codes + 1] = code end
    table.sort(codes)
    for _, code in ipairs(codes) do
      out("status_" .. code, int(total[code]))
    end
  end
end
