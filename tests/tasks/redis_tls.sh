#!/usr/bin/env bash
# The TLS recipe of docs/redis.md, run for real: Debian's hiredis 0.14 has no TLS,
# so iocpu reaches a TLS-only Redis through a local stunnel (client mode) that
# verifies the server's certificate. Everything is made here, in a temp dir:
#   - a throwaway CA and a server certificate for "localhost" (openssl),
#   - redis-server with only a TLS port and a password (requirepass),
#   - stunnel: 127.0.0.1:L (plain) -> 127.0.0.1:P (TLS, chain and host checked),
#   - iocpu --tasks-backend redis://127.0.0.1:L, the password in IOCPU_REDIS_PASSWORD.
# Checks: /readyz 200, a task runs to "done" and is stored in that Redis; a plain
# connection to the TLS port gets no answer from Redis; a tunnel that trusts another
# CA refuses the server, and an iocpu behind it keeps /readyz at 503.
#   redis_tls.sh path/to/iocpu      (or IOCPU_BIN=path/to/iocpu redis_tls.sh)
set -euo pipefail
export LC_ALL=C
bin=${1:-${IOCPU_BIN:-}}
[[ -x $bin ]] || { echo "redis_tls: pass the iocpu binary (or set IOCPU_BIN)" >&2; exit 2; }
bin=$(realpath "$bin") # the script works in its temp dir
for tool in redis-server redis-cli stunnel openssl curl; do
    command -v "$tool" >/dev/null || { echo "redis_tls: $tool missing: run scripts/deps --test" >&2; exit 1; }
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/iocpu-redis-tls.XXXXXX")
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() {
    echo "redis_tls: FAIL: $*" >&2
    local f
    for f in "$dir"/*.log; do
        [[ -s $f ]] && { echo "--- ${f##*/}" >&2; tail -n 20 "$f" >&2; }
    done
    exit 1
}

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; } # port
free_port() { # a loopback TCP port nobody listens on now, below the ephemeral
    local p     # range (32768-60999), so no outgoing connection holds it meanwhile
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 12000))
        listening "$p" || { echo "$p"; return; }
    done
    fail "no free port"
}

# --- certificates (a throwaway CA, a server cert it signs, and a second CA) -----
cd "$dir"
newkey=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${newkey[@]}" -keyout ca.key -out ca.pem -days 1 \
    -subj "/CN=iocpu test CA" 2>/dev/null
openssl req "${newkey[@]}" -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
    -extfile server.ext -out server.pem 2>/dev/null
openssl req -x509 "${newkey[@]}" -keyout other-ca.key -out other-ca.pem -days 1 \
    -subj "/CN=some other CA" 2>/dev/null
chmod 600 ./*.key

# --- redis-server: a TLS port only, with a password --------------------------------
password="tls-test-$RANDOM$RANDOM"
for attempt in 1 2 3 4 5; do # another process may take the port between pick and bind
    rport=$(free_port)
    redis-server --port 0 --bind 127.0.0.1 --tls-port "$rport" --tls-cert-file server.pem \
        --tls-key-file server.key --tls-ca-cert-file ca.pem --tls-auth-clients no \
        --requirepass "$password" --dir "$dir" --save '' --appendonly no >redis.log 2>&1 &
    rpid=$!
    pids+=("$rpid")
    rcli=(redis-cli -h 127.0.0.1 -p "$rport" --tls --cacert ca.pem --no-auth-warning -a "$password")
    for _ in $(seq 100); do
        [[ $("${rcli[@]}" ping 2>/dev/null) == PONG ]] && break 2
        kill -0 "$rpid" 2>/dev/null || break # it exited: the bind failed
        sleep 0.1
    done
    grep -q 'Address already in use' redis.log || break
    echo "redis_tls: port $rport was taken before redis-server bound it (attempt $attempt)"
done
[[ $("${rcli[@]}" ping 2>/dev/null) == PONG ]] || fail "redis-server did not answer over TLS"

# A plain connection to the TLS port: Redis does not speak RESP there (the handshake
# fails and it closes), so the only way in is TLS.
plain=$(redis-cli -h 127.0.0.1 -p "$rport" --no-auth-warning -a "$password" ping 2>&1 || true)
[[ $plain != *PONG* ]] || fail "redis answered a plain connection on its TLS port"
plain=$(tr -s '\n' ' ' <<<"$plain")
plain=${plain# } plain=${plain% }
echo "redis_tls: a plain connection to the TLS port: ${plain:-(closed, no answer)}"

# --- stunnel (client mode) and iocpu behind it -------------------------------------
# (they set globals, not print: a process started in $(...) would escape the trap's list)
start_tunnel() { # name, CA file -> tport: the tunnel's loopback port
    local name=$1 cafile=$2 lport pid attempt
    for attempt in 1 2 3 4 5; do # another process may take the port between pick and bind
        lport=$(free_port)
        cat >"$name.conf" <<EOF
foreground = yes
pid =
debug = info
[redis]
client = yes
accept = 127.0.0.1:$lport
connect = 127.0.0.1:$rport
verifyChain = yes
CAfile = $cafile
checkHost = localhost
EOF
        stunnel "$name.conf" >"$name.log" 2>&1 &
        pid=$!
        pids+=("$pid")
        for _ in $(seq 100); do
            listening "$lport" && { tport=$lport; return; }
            kill -0 "$pid" 2>/dev/null || break # it exited: the bind failed
            grep -q 'Address already in use' "$name.log" && break
            sleep 0.1
        done
        grep -q 'Address already in use' "$name.log" || break
        echo "redis_tls: port $lport was taken before stunnel bound it (attempt $attempt)"
    done
    fail "stunnel ($name) did not listen on $lport"
}
start_iocpu() { # name, backend URL -> ibase: http://127.0.0.1:PORT
    local name=$1 url=$2 port=
    IOCPU_REDIS_PASSWORD=$password "$bin" --port 0 --tasks-backend "$url" 2>"$name.log" &
    pids+=($!)
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$name.log")
        [[ -n $port ]] && { ibase="http://127.0.0.1:$port"; return; }
        sleep 0.05
    done
    fail "iocpu ($name) did not start"
}
readyz() { curl -s -o /dev/null -w '%{http_code}' "$1/readyz" || true; }

# The tunnel as documented: it trusts the CA that signed the server's certificate.
start_tunnel tunnel ca.pem
lport=$tport
start_iocpu iocpu "redis://127.0.0.1:$lport"
base=$ibase
code=
for _ in $(seq 100); do
    code=$(readyz "$base")
    [[ $code == 200 ]] && break
    sleep 0.1
done
[[ $code == 200 ]] || fail "/readyz answered $code through the tunnel, not 200"
echo "redis_tls: /readyz 200 through the tunnel (127.0.0.1:$lport -> TLS 127.0.0.1:$rport)"

created=$(curl -sf --json '{"kind":"io","delay":0.1}' "$base/tasks") || fail "POST /tasks failed"
id=$(sed -n 's/.*"id":"\([^"]*\)".*/\1/p' <<<"$created")
[[ $id =~ ^[A-Za-z0-9_-]+$ ]] || fail "no task id in: $created"
task=$(curl -sf "$base/tasks/$id?wait=5") || fail "GET /tasks/$id failed"
[[ $task == *'"status":"done"'* ]] || fail "task not done: $task"
echo "redis_tls: task $id: $task"
# ... and it is in that Redis (the backend is the TLS Redis, not memory)
[[ $("${rcli[@]}" hget "iocpu:task:$id" status 2>/dev/null) == "done" ]] ||
    fail "task $id is not stored as done in the TLS Redis"

# A tunnel that trusts another CA: stunnel refuses the server's certificate and
# iocpu behind it never becomes ready.
start_tunnel badtunnel other-ca.pem
start_iocpu badiocpu "redis://127.0.0.1:$tport"
badbase=$ibase
for _ in $(seq 30); do
    code=$(readyz "$badbase")
    [[ $code == 200 ]] && fail "/readyz 200 through a tunnel that trusts another CA"
    sleep 0.1
done
[[ $code == 503 ]] || fail "/readyz answered $code behind the wrong-CA tunnel, not 503"
grep -qi 'certificate verify failed\|verify error\|Rejected by CERT' badtunnel.log ||
    fail "stunnel logged no certificate refusal"
echo "redis_tls: a tunnel trusting another CA: $(grep -i -m1 'verify error\|certificate verify failed' \
    badtunnel.log | sed 's/^.*LOG[0-9]\[[0-9]*\]: //'); /readyz $code"
echo "redis_tls: ok"
