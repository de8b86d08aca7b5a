#!/usr/bin/env bash
# The live page's end-to-end tests (registered with ctest):
#   check.sh <iocpu binary> <work dir> [test file, default ui.test.mjs]
# ui.test.mjs drives the page; crosssite.test.mjs attacks the server from
# pages on other sites (docs/security.md).
# Installs playwright-core with `npm ci` into the work dir when it is missing or
# its lockfile changed, then drives the system's Chromium (Debian package
# `chromium`, headless) against a server the test starts itself. Screenshots
# land in the work dir. Without chromium, node or npm it fails: a browser test
# that cannot run must not look like a pass.
set -euo pipefail
iocpu=$1
work=$2
suite=${3:-ui.test.mjs}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/npm_workdir.sh
source "$here/../npm_workdir.sh"

chromium=$(command -v chromium || command -v chromium-browser || true)
if [[ -z "$chromium" ]]; then
    echo "ui check: FAILED: 'chromium' is not installed (scripts/deps --test installs it)" >&2
    exit 1
fi

npm_workdir ui "$here" "$work" "$suite"

cd "$work"
exec node "$suite" "$iocpu" "$chromium" "$work"
