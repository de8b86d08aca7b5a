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

# Each broken copy must be refused: a schema error and two iocpu rules.
broken() { # name, sed expression applied to deployment.yaml
    local dir="$work/broken-$1"
    rm -rf "$dir" && mkdir -p "$dir" && cp "${files[@]}" "$dir/"
    sed -i "$2" "$dir/deployment.yaml"
    cmp -s "$dir/deployment.yaml" "$manifests/deployment.yaml" && {
        echo "k8s check: FAILED: '$1' changed nothing" >&2
        exit 1
    }
    if node "$work/validate.mjs" "$dir"/*.yaml >/dev/null 2>&1; then
        echo "k8s check: FAILED: a broken manifest ($1) passed" >&2
        exit 1
    fi
}
broken schema-type 's/^\(\s*replicas:\) .*/\1 two/'
broken liveness-path 's|path: /healthz|path: /livez|'
broken short-grace-period 's/terminationGracePeriodSeconds: .*/terminationGracePeriodSeconds: 12/'
echo "k8s check: 3 broken copies refused"
