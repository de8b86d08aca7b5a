-- bench/little.lua: an offered load with think time, for Little's law on the executor.
--
--   BENCH_PATH='/cpu/executor?ms=20' BENCH_THINK_MS=2000 \
--     wrk -t1 -c256 -d8s -s bench/little.lua http://127.0.0.1:8080
--
-- Before every request (the first one too) each connection waits a think time drawn from
-- an exponential distribution with mean BENCH_THINK_MS, so c connections offer about
-- c / (think + response time) requests/s: with many connections, close to a Poisson stream
-- that does not slow down when the server does (a 503 comes back at once and the client
-- simply thinks again). wrk's latency clock starts after the think time.
--
-- Prints the `BENCH key value` lines of bench/latency.lua (wrk's latency: every status
-- mixed) and, read from each response:
--   ok rejected other         counts of 200, 503 and anything else
--   queued_{mean,p50,p99,max}_us    the body's "queued" (time waiting for a worker), 200s only
--   elapsed_{mean,p50,p99,max}_us   the body's "elapsed" (queue + run, server side), 200s only

local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or ""
dofile(here .. "latency.lua")

local path = os.getenv("BENCH_PATH") or "/cpu/executor?ms=20"
local think_ms = tonumber(os.getenv("BENCH_THINK_MS") or "1000")

local base_setup = setup
local nthreads = 0
function setup(thread)
  nthreads = nthreads + 1
  thread:set("seed", nthreads)
  base_setup(thread)
end

ok, rejected, other = 0, 0, 0
queued, elapsed = {}, {}

function init(args)
  math.randomseed(os.time() * 1000 + (seed or 0))
  wrk.path = path
end

function delay()
  -- exponential think time; 1 - random() is in (0, 1]
  return math.floor(-think_ms * math.log(1 - math.random()) + 0.5)
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
    local q = tonumber(body:match('"queued":([-+%d.eE]+)'))
    local e = tonumber(body:match('"elapsed":([-+%d.eE]+)'))
    if q then queued[#queued + 1] = q end
    if e then elapsed[#elapsed + 1] = e end
  elseif status == 503 then
    rejected = rejected + 1
  else
    other = other + 1
  end
end

local function out(key, value)
  io.write(string.format("BENCH %s %s\n", key, value))
end

-- mean, p50, p99, max of a list of seconds, in integer microseconds (nearest rank)
local function summary(prefix, xs)
  table.sort(xs)
  local n, sum = #xs, 0
  for _, x in ipairs(xs) do sum = sum + x end
  local function rank(p)
    if n == 0 then return 0 end
    local k = math.max(1, math.ceil(p / 100 * n))
    return xs[k]
  end
  local function us(x) return string.format("%d", math.floor(x * 1e6 + 0.5)) end
  out(prefix .. "_mean_us", us(n > 0 and sum / n or 0))
  out(prefix .. "_p50_us", us(rank(50)))
  out(prefix .. "_p99_us", us(rank(99)))
  out(prefix .. "_max_us", us(n > 0 and xs[n] or 0))
end

local threads = {}
local base_setup2 = setup
function setup(thread)
  threads[#threads + 1] = thread
  base_setup2(thread)
end

local base_done = done
function done(summary_, latency, requests)
  base_done(summary_, latency, requests)
  local o, r, x, qs, es = 0, 0, 0, {}, {}
  for _, t in ipairs(threads) do
    o = o + (t:get("ok") or 0)
    r = r + (t:get("rejected") or 0)
    x = x + (t:get("other") or 0)
    for _, v in ipairs(t:get("queued") or {}) do qs[#qs + 1] = v end
    for _, v in ipairs(t:get("elapsed") or {}) do es[#es + 1] = v end
  end
  out("ok", o)
  out("rejected", r)
  out("other", x)
  summary("queued", qs)
  summary("elapsed", es)
end
