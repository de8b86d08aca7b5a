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
# shellcheck source=tests/npm_workdir.sh
source "$here/../npm_workdir.sh"


npm_workdir openapi "$here" "$work" validate.mjs

"$dump" >"$work/openapi.json"
node "$work/validate.mjs" "$work/openapi.json"
