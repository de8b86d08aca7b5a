# docker/lib.sh - shared by docker/smoke and docker/compose-smoke (sourced).
#
# engine_or_skip NAME: makes sure a Docker-API engine answers (docker/engine
# starts one when none does), or ends the script:
#   - IOCPU_SKIP_DOCKER=1                  -> "SKIPPED: NAME: ..." and exit 77
#   - inside a container that lacks the privileges nested containers need
#     (no CAP_SYS_ADMIN, or no new mount namespace) and no engine answers
#                                          -> "SKIPPED: NAME: ..." and exit 77
#   - the engine cannot start otherwise    -> "FAILED: NAME: ..." and exit 1
# Exit code 77 is "skipped" for scripts/test and ctest: never counted as passed.

SKIP_CODE=77

say() { echo "$SMOKE_NAME: $*" >&2; }
elapsed() { echo "$((SECONDS - ${1:-0}))"; }

in_container() {
    [[ -e /.dockerenv || -e /run/.containerenv ]] && return 0
    grep -qE '/(docker|kubepods|containerd|libpod|lxc)' /proc/1/cgroup 2>/dev/null && return 0
    command -v systemd-detect-virt >/dev/null && systemd-detect-virt -c -q 2>/dev/null
}

# Nested containers need CAP_SYS_ADMIN (bit 21 of CapEff) and new namespaces.
privileged_enough() {
    local capeff
    capeff=$(awk '/^CapEff:/ {print $2}' /proc/self/status 2>/dev/null) || return 1
    (((16#${capeff:-0} >> 21) & 1)) || return 1
    command -v unshare >/dev/null || return 0
    unshare --mount --pid --fork true 2>/dev/null
}

engine_or_skip() {
    SMOKE_NAME=$1
    if [[ ${IOCPU_SKIP_DOCKER:-0} == 1 ]]; then
        echo "SKIPPED: $SMOKE_NAME: IOCPU_SKIP_DOCKER=1 (not run, not passed)"
        exit $SKIP_CODE
    fi
    if ! command -v docker >/dev/null && [[ $(id -u) != 0 ]]; then
        echo "FAILED: $SMOKE_NAME: no docker CLI, and installing an engine needs root"
        exit 1
    fi
    if ! timeout 20 docker info >/dev/null 2>&1 && in_container && ! privileged_enough; then
        echo "SKIPPED: $SMOKE_NAME: running inside a container without the privileges" \
            "nested containers need (CAP_SYS_ADMIN, new namespaces); run it on a host or a" \
            "privileged container (not run, not passed)"
        exit $SKIP_CODE
    fi
    local t0=$SECONDS line
    if ! line=$(docker/engine); then
        echo "FAILED: $SMOKE_NAME: no Docker-API engine answers and docker/engine could not start one"
        exit 1
    fi
    eval "$line"
    export DOCKER_HOST
    say "engine ready in $(elapsed "$t0") s ($DOCKER_HOST)"
}

# wait_http URL SECS: until URL answers 2xx, or fail.
wait_http() {
    local url=$1 secs=$2 t0=$SECONDS
    until curl -fsS -m 2 -o /dev/null "$url" 2>/dev/null; do
        if ((SECONDS - t0 >= secs)); then
            say "no answer from $url within $secs s"
            return 1
        fi
        sleep 0.3
    done
}

fail() {
    echo "FAILED: $SMOKE_NAME: $*"
    exit 1
}
