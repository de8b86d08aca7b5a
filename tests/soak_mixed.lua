-- tests/soak_mixed.lua: the soak's wrk script. Each connection sends a
-- rotating mix of sleepers, streams, executor jobs and tasks, and every
-- response is judged: 200/202 are expected, and so is a 503 that says the
-- executor queue or the task store is full (load shedding, with Retry-After).
-- Anything else is counted as unexpected; done() prints one line per status:
--   SOAK status <code> <count>   and   SOAK unexpected <count>
-- SOAK_MIX=sleepers sends only /io/job?delay=1 (many idle, suspended connections).

local mixes = {
  mixed = {
    {"GET", "/io/job?delay=0.05"},
    {"GET", "/io/gather?delays=0.02,0.05,0.01"},
    {"GET", "/io/as_completed?delays=0.03,0.01,0.02"},
    {"GET", "/cpu/executor?ms=2"},
    {"GET", "/cpu/gather?ns=3,5&iterations=20000"},
    {"POST", "/tasks", '{"kind":"io","delay":0.02}'},
    {"POST", "/tasks", '{"kind":"cpu","ms":1}'},
    {"GET", "/tasks?limit=5", nil, "admin"}, -- IOCPU_ADMIN_TOKEN, as the server has it
    {"GET", "/io/semaphore?jobs=4&limit=2&delays=0.01,0.02,0.01,0.02"},
    {"GET", "/io/wait_for?delay=0.2&timeout=0.03"},
    {"GET", "/io/cancel?delay=1&after=0.02"},
    {"GET", "/healthz"},
    {"GET", "/io/job?delay=abc"}, -- a 422 is a correct answer too
    {"GET", "/loop"},
  },
  sleepers = {
    {"GET", "/io/job?delay=1"},
  },
}
local mix = mixes[os.getenv("SOAK_MIX") or "mixed"]

local threads = {}
local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local built = {}
local i = 0
function init(args)
  i = (offset or 0) % #mix
  for k, r in ipairs(mix) do
    local headers = nil
    if r[3] then headers = {["Content-Type"] = "application/json"} end
    if r[4] == "admin" then
      headers = {["Authorization"] = "Bearer " .. (os.getenv("IOCPU_ADMIN_TOKEN") or "")}
    end
    built[k] = wrk.format(r[1], r[2], headers, r[3])
  end
  statuses = {}
  unexpected = 0
end

function request()
  i = i % #mix + 1
  return built[i]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local ok = status == 200 or status == 202 or status == 422
  if status == 503 and body and (body:find("executor queue full", 1, true) or
                                 body:find("too many tasks", 1, true)) then
    ok = true
  end
  if status == 422 and not (body and body:find('"loc"', 1, true)) then ok = false end
  if not ok then
    unexpected = unexpected + 1
    if unexpected <= 3 then io.stderr:write("SOAK unexpected answer ", status, ": ", body or "", "\n") end
  end
end

function done(summary, latency, requests)
  local all, bad = {}, 0
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do all[code] = (all[code] or 0) + n end
    bad = bad + t:get("unexpected")
  end
  for code, n in pairs(all) do io.write(string.format("SOAK status %d %d\n", code, n)) end
  local e = summary.errors
  io.write(string.format("SOAK requests %d\n", summary.requests))
  io.write(string.format("SOAK unexpected %d\n", bad))
  io.write(string.format("SOAK socket_errors %d %d %d %d\n", e.connect, e.read, e.write, e.timeout))
  io.write(string.format("SOAK p99_ms %.2f\n", latency:percentile(99) / 1000))
end
