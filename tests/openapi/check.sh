#!/usr/bin/env bash
# The OpenAPI validator test (registered with ctest):
#   check.sh <openapi_dump binary> <work dir>
# Installs the validator with `npm ci` into the work dir when it is missing or
# its lockfile changed, fetches the document a real server serves, and
# validates it. Without node or npm it fails: a validator that cannot run must
# not look like a pass.
set -euo pipefail
dump=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)

for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "openapi check: FAILED: '$tool' is not installed (scripts/deps --test installs it)" >&2
        exit 1
    fi
done

mkdir -p "$work"
cp "$here/validate.mjs" "$work/"
# .installed holds the lockfile of the last successful install
if [[ ! -d "$work/node_modules" ]] || ! cmp -s "$here/package-lock.json" "$work/.installed"; then
    rm -f "$work/.installed"
    cp "$here/package.json" "$here/package-lock.json" "$work/"
    echo "openapi check: npm ci in $work"
    if ! (cd "$work" && npm ci --no-audit --no-fund); then
        echo "openapi check: FAILED: npm ci could not install the validator" >&2
        exit 1
    fi
    cp "$here/package-lock.json" "$work/.installed"
fi

"$dump" >"$work/openapi.json"
node "$work/validate.mjs" "$work/openapi.json"
