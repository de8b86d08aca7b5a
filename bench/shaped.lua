-- bench/shaped.lua: wrk script for a latency-shaped, error-injected load (docs/shaping.md).
--
--   wrk -t2 -c50 -d10s --latency -s bench/shaped.lua http://127.0.0.1:8080
--
-- Every request asks /io/job for a delay drawn from a lognormal distribution (median 20 ms,
-- sigma 0.8) and for an injected answer now and then (4 % 503, 1 % 429, the rest 200).
-- SHAPED_PATH replaces that path (for example /io/job?delay=0 against a server started with
-- --inject-error and --inject-delay). The request is built once (wrk's fast path); a
-- response() callback counts the answers by status and by their X-Iocpu-Injected header.
-- done() prints what wrk measured next to what the shape predicts:
--   the latency percentiles, and for the lognormal path the percentiles of the distribution
--   (median * exp(sigma * z)), so that the two columns can be compared;
--   the answers by status, the injected ones by source, and their shares.

local median, sigma = 0.02, 0.8
local default_path = string.format(
  "/io/job?dist=lognormal&median=%g&sigma=%g&status=200:0.95,503:0.04,429:0.01", median, sigma)
local path = os.getenv("SHAPED_PATH") or default_path
wrk.path = path

local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  statuses, injected = {}, {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local src = headers["X-Iocpu-Injected"]
  if src then injected[src] = (injected[src] or 0) + 1 end
end

-- z of the standard normal at the percentiles printed below
local Z = {[50] = 0, [90] = 1.2816, [99] = 2.3263, [99.9] = 3.0902}

local function sum_tables(name)
  local total = {}
  for _, t in ipairs(threads) do
    for k, n in pairs(t:get(name) or {}) do total[k] = (total[k] or 0) + n end
  end
  return total
end

function done(summary, latency, requests)
  io.write(string.format("path %s\n", path))
  io.write(string.format("requests %d in %.1f s (%.1f/s)\n", summary.requests,
    summary.duration / 1e6, summary.requests / (summary.duration / 1e6)))
  local shaped = path == default_path
  io.write(shaped and "percentile  measured_ms  lognormal_ms\n" or "percentile  measured_ms\n")
  for _, p in ipairs({50, 90, 99, 99.9}) do
    local line = string.format("p%-10s %11.1f", p, latency:percentile(p) / 1000)
    if shaped then line = line .. string.format("  %12.1f", 1000 * median * math.exp(sigma * Z[p])) end
    io.write(line .. "\n")
  end
  if shaped then
    io.write(string.format("mean        %11.1f  %12.1f\n", latency.mean / 1000,
      1000 * median * math.exp(sigma * sigma / 2)))
  end
  local st, n = sum_tables("statuses"), summary.requests
  local codes = {}
  for code in pairs(st) do codes[#codes + 1] = code end
  table.sort(codes)
  for _, code in ipairs(codes) do
    io.write(string.format("status %d: %d (%.2f %%)\n", code, st[code], 100 * st[code] / n))
  end
  for src, k in pairs(sum_tables("injected")) do
    io.write(string.format("injected by %s: %d (%.2f %%)\n", src, k, 100 * k / n))
  end
  io.write(string.format("wrk's non-2xx count (status > 399): %d\n", summary.errors.status))
end
