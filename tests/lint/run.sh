#!/usr/bin/env bash
# Static analysis of iocpu's own C sources: clang-tidy with the checks in the
# checked-in SRCROOT/.clang-tidy, over every .c file of the build except tests/
# and generated files, with the headers they include from SRCROOT. Any finding
# fails the run; the last line is a one-line summary.
#   tests/lint/run.sh BUILD_DIR SRCROOT
# The compilation database is BUILD_DIR/compile_commands.json when the build
# exports one; otherwise a private one is configured in BUILD_DIR/static_analysis
# (cmake only, nothing is compiled). asserts are kept (-UNDEBUG) so the analyzer
# learns the invariants they state.
# Environment: CLANG_TIDY (the binary), STATIC_ANALYSIS_JOBS (default: nproc).
# Needs Debian's clang-tidy package (bookworm: clang-tidy 14).
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 BUILD_DIR SRCROOT" >&2
    exit 2
fi
mkdir -p "$1"
build=$(cd "$1" && pwd -P)
src=$(cd "$2" && pwd -P)
config=$src/.clang-tidy

tidy=${CLANG_TIDY:-}
if [[ -z $tidy ]]; then
    for t in clang-tidy clang-tidy-14 clang-tidy-15 clang-tidy-16; do
        if command -v "$t" >/dev/null 2>&1; then
            tidy=$(command -v "$t")
            break
        fi
    done
fi
if [[ -z $tidy ]] || ! "$tidy" --version >/dev/null 2>&1; then
    echo "static_analysis: FAILED: clang-tidy ${tidy:+($tidy) }not found or not runnable;" \
        "install the Debian package 'clang-tidy' (apt-get install clang-tidy;" \
        "scripts/deps --test should list it)" >&2
    exit 1
fi
if [[ ! -f $config ]]; then
    echo "static_analysis: FAILED: no $config (the checked-in configuration)" >&2
    exit 1
fi
version=$("$tidy" --version | sed -n 's/.*LLVM version \([0-9.]*\).*/\1/p' | head -n1)

# The compilation database.
cdb_dir=$build
if [[ ! -f $cdb_dir/compile_commands.json ]]; then
    cdb_dir=$build/static_analysis
    if ! cmake -S "$src" -B "$cdb_dir" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
        -DIOCPU_BUILD_TESTS=OFF >"$build/static_analysis.configure.log" 2>&1; then
        cat "$build/static_analysis.configure.log" >&2
        echo "static_analysis: FAILED: cannot configure $src for a compilation database" >&2
        exit 1
    fi
fi

# The project's own translation units: under SRCROOT, not tests/, not in a build
# directory (generated sources such as openapi_json.c), each once.
mapfile -t files < <(
    sed -n 's/^[[:space:]]*"file":[[:space:]]*"\(.*\)",\{0,1\}[[:space:]]*$/\1/p' \
        "$cdb_dir/compile_commands.json" | while IFS= read -r f; do
        [[ $f == /* ]] || continue
        [[ $f == *.c ]] || continue
        [[ $f == "$src"/* ]] || continue
        [[ $f == "$src"/tests/* ]] && continue
        [[ $f == "$build"/* ]] && continue
        [[ -f $f ]] || continue
        d=${f%/*}
        while [[ $d != "$src" && $d == "$src"/* ]]; do # inside some other build tree
            [[ -f $d/CMakeCache.txt ]] && continue 2
            d=${d%/*}
        done
        printf '%s\n' "$f"
    done | sort -u
)
if [[ ${#files[@]} -eq 0 ]]; then
    echo "static_analysis: FAILED: no project sources in $cdb_dir/compile_commands.json" >&2
    exit 1
fi

jobs=${STATIC_ANALYSIS_JOBS:-$(nproc 2>/dev/null || echo 2)}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# shellcheck disable=SC2016 # sed's own $ (an anchor character to escape)
src_re=$(printf '%s' "$src" | sed 's/[][\.*^$()+?{}|]/\\&/g')
export tidy cdb_dir config src src_re out

t0=$SECONDS
# shellcheck disable=SC2016 # expanded by the inner bash
printf '%s\0' "${files[@]}" | xargs -0 -n1 -P"$jobs" bash -c '
    f=$1
    log=$out/$(printf "%s" "$f" | tr "/" "_").log
    printf "%s\n" "${f#"$src"/}" >"$log.tu"
    rc=0
    "$tidy" -p "$cdb_dir" --config-file="$config" --quiet \
        --header-filter="^$src_re/" \
        --extra-arg=-UNDEBUG --extra-arg=-Wno-unknown-warning-option \
        "$f" >"$log" 2>&1 || rc=$?
    echo "$rc" >"$log.rc"
' _
elapsed=$((SECONDS - t0))

# Findings, each once: one in a header is seen from every file that includes it,
# and those files are named after it (the analyzer's path starts in one of them).
findings=$(for log in "$out"/*.log; do
    tu=$(cat "$log.tu")
    { grep -E '^/[^ ]*:[0-9]+:[0-9]+: (warning|error): ' "$log" || true; } |
        { grep -vE "^$src_re/tests/" || true; } | sed "s|^$src/||" |
        while IFS= read -r line; do printf '%s\t%s\n' "$line" "$tu"; done
done | sort -t: -k1,1 -k2,2n -k3,3n -k4 | awk -F'\t' '
    function flush() { if (cur != "") print cur (via != "" ? " (from " via ")" : "") }
    $1 != cur { flush(); cur = $1; via = "" }
    { split($1, p, ":"); if (p[1] != $2 && index(", " via ", ", ", " $2 ", ") == 0) via = via (via != "" ? ", " : "") $2 }
    END { flush() }')
n=0
[[ -n $findings ]] && n=$(printf '%s\n' "$findings" | wc -l)

# clang-tidy failing without a finding to show (a crash, a bad database entry).
broken=()
for rcf in "$out"/*.rc; do
    [[ $(cat "$rcf") == 0 ]] && continue
    log=${rcf%.rc}
    grep -qE '^/[^ ]*:[0-9]+:[0-9]+: (warning|error): ' "$log" && continue
    broken+=("$log")
done

if [[ $n -gt 0 ]]; then
    printf '%s\n' "$findings"
    echo
    echo "each with its path: $tidy -p $cdb_dir --config-file=$config FILE"
    echo "a justified exception: // NOLINT(check-name) on the line, NOLINTNEXTLINE above it"
fi
for log in "${broken[@]}"; do
    echo "== clang-tidy failed:"
    cat "$log"
done
nfiles=${#files[@]}
if [[ $n -gt 0 || ${#broken[@]} -gt 0 ]]; then
    echo "static_analysis: FAILED: $n findings, ${#broken[@]} clang-tidy failures in $nfiles files (clang-tidy $version, $elapsed s)"
    exit 1
fi
echo "static_analysis: passed: 0 findings in $nfiles files (clang-tidy $version, $elapsed s)"
