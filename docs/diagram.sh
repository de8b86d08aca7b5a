#!/usr/bin/env bash
# docs/diagram.sh - regenerates docs/architecture.svg from docs/architecture.dot
# (the layer diagram of docs/architecture.md). Needs graphviz's `dot`
# (Debian: apt-get install -y graphviz). Run it from anywhere; commit both files.
# tests/arch/check_diagram.sh (ctest: architecture_diagram) checks the .dot
# against the tree; it does not need graphviz.
set -euo pipefail
docs=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if ! command -v dot >/dev/null 2>&1; then
    echo "diagram.sh: graphviz's dot is not installed (apt-get install -y graphviz)" >&2
    exit 1
fi
tmp=$(mktemp "$docs/.architecture.svg.XXXXXX")
trap 'rm -f "$tmp"' EXIT
dot -Tsvg "$docs/architecture.dot" -o "$tmp"
chmod 644 "$tmp"
mv "$tmp" "$docs/architecture.svg"
trap - EXIT
echo "diagram.sh: wrote $docs/architecture.svg"
