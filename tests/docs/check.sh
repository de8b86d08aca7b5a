#!/usr/bin/env bash
# The documentation check (registered with ctest):
#   check.sh <repository root> <work dir>
# Over README.md, CONTRIBUTING.md and docs/*.md: markdownlint-cli2 with the
# repository's .markdownlint-cli2.jsonc (headings, lists, in-page #anchors),
# then links.mjs (every code fence closed, every relative link, image and
# #anchor resolves), and README.md stays a page a newcomer reads: at most
# 250 lines, the rest lives in docs/. The tools are pinned in
# package-lock.json and installed with `npm ci` into the work dir; without
# node or npm the check fails rather than pass unseen.
set -euo pipefail
root=$(cd "$1" && pwd)
work=$2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/npm_workdir.sh
source "$here/../npm_workdir.sh"

npm_workdir docs "$here" "$work" links.mjs

cd "$root"
files=(README.md CONTRIBUTING.md docs/*.md)
status=0
"$work/node_modules/.bin/markdownlint-cli2" "${files[@]}" || status=1
node "$work/links.mjs" "${files[@]}" || status=1
lines=$(wc -l <README.md)
if ((lines > 250)); then
    echo "README.md: $lines lines, the limit is 250: move a section into docs/ and link it" >&2
    status=1
fi
if ((status != 0)); then
    echo "docs check: FAILED" >&2
fi
exit "$status"
