-- bench/mixed.lua: wrk script that sends a round-robin mix of GET paths, with the same
-- `BENCH key value` output as bench/latency.lua (it loads that file from its own folder).
--
--   BENCH_PATHS='/cpu/executor?ms=20,/cpu/executor?ms=20,/io/job?delay=0.1' \
--     wrk -t2 -c8 -d10s -s bench/mixed.lua http://127.0.0.1:8080
--
-- BENCH_PATHS: comma-separated paths (repeat one to weight it); default "/healthz".
-- Each wrk thread starts at a different offset; all connections of a thread share the rotation.
-- The latency figures are for the whole mix. For scenario 3 (latency of /io/job while CPU
-- jobs run) prefer two wrk processes side by side: the CPU load (`/cpu/executor?ms=...` or
-- `/cpu/blocking?ms=...`, plain wrk or this script) and a probe wrk on
-- `/io/job?delay=0.1` with bench/latency.lua, whose percentiles are then the probe's alone.
-- Defining request() turns off wrk's pre-built request, so peak req/s is a bit lower.

local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or ""
dofile(here .. "latency.lua")

local paths = {}
for p in string.gmatch(os.getenv("BENCH_PATHS") or "/healthz", "[^,]+") do
  paths[#paths + 1] = p
end

local counter = 0
local base_setup = setup
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
  base_setup(thread)
end

local requests_built = {}
local i = 0

function init(args)
  i = (offset or 0) % #paths
  for k, p in ipairs(paths) do
    requests_built[k] = wrk.format("GET", p)
  end
end

function request()
  i = i % #paths + 1
  return requests_built[i]
end
