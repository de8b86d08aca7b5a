#!/usr/bin/env bash
# The Kubernetes manifest test (registered with ctest):
#   check.sh <manifest dir> <work dir>
# Installs the validator (kubernetes-models + yaml, pinned in
# package-lock.json) with `npm ci` into the work dir when it is missing or
# its lockfile changed; nothing is fetched at test time but npm packages.
# Then: the manifests must be valid, and broken copies of them must not be
# (a validator that cannot fail proves nothing). Without node or npm it
# fails: a validator that cannot run must not look like a pass.
set -euo pipefail
manifests=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/npm_workdir.sh
source "$here/../npm_workdir.sh"


npm_workdir k8s "$here" "$work" validate.mjs

files=("$manifests"/*.yaml)
node "$work/validate.mjs" "${files[@]}"

# Each broken copy must be refused: a schema error, iocpu rules, Redis rules.
broken() { # name, file, sed expression applied to that file
    local dir="$work/broken-$1"
    rm -rf "$dir" && mkdir -p "$dir" && cp "${files[@]}" "$dir/"
    sed -i "$3" "$dir/$2"
    cmp -s "$dir/$2" "$manifests/$2" && {
        echo "k8s check: FAILED: '$1' changed nothing" >&2
        exit 1
    }
    if node "$work/validate.mjs" "$dir"/*.yaml >/dev/null 2>&1; then
        echo "k8s check: FAILED: a broken manifest ($1) passed" >&2
        exit 1
    fi
}
n=0
b() { broken "$@" && n=$((n + 1)); }
b schema-type deployment.yaml 's/^\(\s*replicas:\) .*/\1 two/'
b liveness-path deployment.yaml 's|path: /healthz|path: /livez|'
b probe-on-main-port deployment.yaml 's|port: admin|port: http|'
b admin-on-loopback deployment.yaml '/IOCPU_ADMIN_HOST/{n;s|"0.0.0.0"|"127.0.0.1"|}'
b admin-port-mismatch deployment.yaml '/IOCPU_ADMIN_PORT/{n;s|"8081"|"9091"|}'
b admin-off deployment.yaml '/IOCPU_ADMIN_PORT/{n;s|"8081"|"0"|}'
b short-grace-period deployment.yaml 's/terminationGracePeriodSeconds: .*/terminationGracePeriodSeconds: 12/'
b redis-unknown-host deployment.yaml 's|redis://iocpu-redis:|redis://redis:|'
b redis-wrong-port deployment.yaml 's|redis://iocpu-redis:6379|redis://iocpu-redis:6380|'
b redis-two-replicas redis.yaml 's/^\(\s*replicas:\) 1$/\1 2/'
b redis-no-volume redis.yaml 's/^\(\s*\)- name: data$/\1- name: scratch/'
b redis-selects-iocpu redis.yaml '/^  selector:$/{n;s/iocpu-redis$/iocpu/}'
echo "k8s check: $n broken copies refused"
