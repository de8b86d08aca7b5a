#!/usr/bin/env bash
# Scrapes a real server's /metrics after some traffic and has Prometheus's own
# checker (promtool, Debian package prometheus) judge it: what a Prometheus
# server would accept as is, lint included.
#   promtool_check.sh path/to/iocpu
set -euo pipefail
bin=$1
command -v promtool >/dev/null || { echo "promtool missing: run scripts/deps --test" >&2; exit 1; }
log=$(mktemp)
"$bin" --port 0 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$log"' EXIT
port=
for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log")
    [[ -n $port ]] && break
    sleep 0.05
done
[[ -n $port ]] || { echo "server did not start" >&2; cat "$log" >&2; exit 1; }
base="http://127.0.0.1:$port"
# traffic on every kind of route, so every family has samples
for path in /healthz "/io/job?delay=0" "/io/job?delay=x" /nope "/cpu/executor?iterations=1000" \
    "/cpu/blocking?iterations=1000" "/io/as_completed?delays=0,0" /loop; do
    curl -s -o /dev/null "$base$path"
done
curl -s -o /dev/null -X POST "$base/io/job"
curl -s -o /dev/null "$base/tasks" -H 'Content-Type: application/json' -d '{"kind":"io","delay":0}'
metrics=$(curl -sf "$base/metrics")
grep -q '^iocpu_http_requests_total{' <<<"$metrics" || { echo "no request counter" >&2; exit 1; }
promtool check metrics <<<"$metrics"
echo "promtool accepted $(grep -vc '^#' <<<"$metrics") samples"
