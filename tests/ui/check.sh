#!/usr/bin/env bash
# The live page's end-to-end test (registered with ctest):
#   check.sh <iocpu binary> <work dir>
# Installs playwright-core with `npm ci` into the work dir when it is missing or
# its lockfile changed, then drives the system's Chromium (Debian package
# `chromium`, headless) against a server the test starts itself. Screenshots
# land in the work dir. Without chromium, node or npm it fails: a browser test
# that cannot run must not look like a pass.
set -euo pipefail
iocpu=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)

for tool in node npm; do
    if ! command -v "$tool" >/dev/null; then
        echo "ui check: FAILED: '$tool' is not installed (scripts/deps --test installs it)" >&2
        exit 1
    fi
done
chromium=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$chromium" ]]; then
    echo "ui check: FAILED: 'chromium' is not installed (scripts/deps --test installs it)" >&2
    exit 1
fi

mkdir -p "$work"
cp "$here/ui.test.mjs" "$work/"
# .installed holds the lockfile of the last successful install
if [[ ! -d "$work/node_modules" ]] || ! cmp -s "$here/package-lock.json" "$work/.installed"; then
    rm -f "$work/.installed"
    cp "$here/package.json" "$here/package-lock.json" "$work/"
    echo "ui check: npm ci in $work"
    if ! (cd "$work" && npm ci --no-audit --no-fund); then
        echo "ui check: FAILED: npm ci could not install playwright-core" >&2
        exit 1
    fi
    cp "$here/package-lock.json" "$work/.installed"
fi

cd "$work"
exec node ui.test.mjs "$iocpu" "$chromium" "$work"
