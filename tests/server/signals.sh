#!/usr/bin/env bash
# SIGTERM and SIGINT go to one thread only. main blocks them before any thread
# starts, every thread inherits the mask, and the thread "iocpu-signals" takes
# them with sigwait(): a signal never lands on a worker, an IO thread or a
# loop, where it would cut a blocking call short (EINTR). Checked on the real
# binary with several loops, through each thread's SigBlk in /proc; then a
# SIGTERM must still drain and exit 0, and SIGTERM twice must stop with exit 1.
#   signals.sh path/to/iocpu
set -euo pipefail
bin=${1:?pass the iocpu binary}
dir=$(mktemp -d "${TMPDIR:-/tmp}/iocpu-signals.XXXXXX")
pid=
cleanup() { [[ -n $pid ]] && kill -9 "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "signals: FAIL: $*" >&2; [[ -s $dir/log ]] && cat "$dir/log" >&2; exit 1; }

start() { # extra flags -> pid, base
    "$bin" --port 0 --loops 2 --workers 2 "$@" 2>"$dir/log" &
    pid=$!
    local port=
    for _ in $(seq 200); do
        port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$dir/log")
        [[ -n $port ]] && { base="http://127.0.0.1:$port"; return; }
        sleep 0.05
    done
    fail "iocpu did not start"
}
blocks() { # status file, signal number: is it in the thread's SigBlk mask?
    local mask
    mask=$(awk '/^SigBlk:/ {print $2}' "$1")
    (( (16#$mask >> ($2 - 1)) & 1 ))
}

start
threads=0 takers=()
for st in /proc/"$pid"/task/*/status; do
    name=$(awk '/^Name:/ {print $2}' "$st")
    threads=$((threads + 1))
    if blocks "$st" 15 && blocks "$st" 2; then continue; fi
    takers+=("$name")
done
((threads >= 4)) || fail "only $threads threads: expected two loops and two workers at least"
[[ ${#takers[@]} == 1 && ${takers[0]} == iocpu-signals ]] ||
    fail "threads that may take SIGTERM/SIGINT: ${takers[*]:-none} (want only iocpu-signals)"
echo "signals: $threads threads; only iocpu-signals takes SIGTERM and SIGINT"

curl -sf "$base/healthz" >/dev/null || fail "/healthz"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
pid=
((rc == 0)) || fail "SIGTERM: exit $rc, not 0"
grep -q 'stopping' "$dir/log" || fail "SIGTERM: no 'stopping' in the log"
echo "signals: SIGTERM drained and exited 0"

# A second signal stops at once: a request holds the drain open (a 30 s wait)
start --grace 60
curl -s -o /dev/null "$base/io/job?delay=30" &
cpid=$!
sleep 0.5
kill -TERM "$pid"
sleep 0.5
kill -0 "$pid" 2>/dev/null || fail "the first SIGTERM did not wait for the 30 s request"
kill -INT "$pid"
rc=0
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
wait "$pid" || rc=$?
pid=
kill "$cpid" 2>/dev/null || true
wait "$cpid" 2>/dev/null || true
((rc == 1)) || fail "SIGTERM then SIGINT: exit $rc, not 1"
echo "signals: a second signal stopped at once (exit 1)"
echo "signals: ok"
