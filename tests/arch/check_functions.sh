#!/usr/bin/env bash
# check_functions.sh SRCROOT [MAX]: fails when a function of the project's own
# sources (the folders of tests/arch/layers.txt) is longer than MAX lines (60),
# counted from its opening brace to its closing one. Functions are found the
# way .clang-format lays them out: the body opens with "{" alone at column 0
# and closes with "}" at column 0.
set -euo pipefail
root=${1:?usage: check_functions.sh SRCROOT [MAX]}
max=${2:-60}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mapfile -t folders < <(sed 's/#.*//' "$here/layers.txt" | awk 'NF {print $1}')
files=()
for d in "${folders[@]}"; do
    for f in "$root/$d"/*.c; do [ -e "$f" ] && files+=("$f"); done
done
[ ${#files[@]} -gt 0 ] || { echo "check_functions: no sources under $root" >&2; exit 2; }
out=$(awk -v max="$max" -v root="$root/" '
    FNR == 1 { start = 0; prev = "" }
    /^\{/ { start = FNR; name = prev }
    /^\}/ && start { n = FNR - start - 1
        if (n > max) { f = FILENAME; sub(root, "", f); printf "%s:%d: %d lines: %s\n", f, start, n, name }
        start = 0 }
    NF { prev = $0 }
' "${files[@]}")
if [ -n "$out" ]; then
    echo "$out"
    echo "check_functions: $(echo "$out" | wc -l) function(s) longer than $max lines" >&2
    exit 1
fi
echo "functions: ${#files[@]} files, none longer than $max lines"
