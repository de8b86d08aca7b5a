#!/usr/bin/env bash
# check_layers_selftest.sh SRCROOT - does check_layers.sh catch what it should?
# (ctest: layers_selftest)
#
# Copies the layer folders of SRCROOT (those of layers.txt) into a temp dir and
# runs the checker on copies of that copy:
#   (a) as it is: must pass (so SRCROOT itself must be clean);
#   (b) with an include of a higher layer's header appended to a file of a
#       low layer (e.g. `#include "http.h"` in loop/loop.c): must fail naming it;
#   (c) with two new headers of one folder including each other: must fail
#       and name the circle;
#   (d) with a .c file in a folder the table does not rank: must fail naming it;
#   (e) with a folder of the table missing: must fail naming it;
#   (f) with an include of a header that exists nowhere: must fail naming it.
# Exits non-zero when any expectation fails.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
checker=$here/check_layers.sh
layers_file=${LAYERS_FILE:-$here/layers.txt}

if [[ $# -ne 1 || ! -d ${1:-} ]]; then
    echo "usage: $0 SRCROOT" >&2
    exit 2
fi
root=$(cd "$1" && pwd)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C

# the table, comments dropped, lowest rank first
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$layers_file" | awk '{ print $2, $1 }' |
    sort -n -k1,1 -s >"$tmp/table"

# --- the clean copy: every top folder holding a layer folder ------------------
base=$tmp/base
mkdir -p "$base"
awk '{ split($2, a, "/"); print a[1] }' "$tmp/table" | sort -u | while read -r top; do
    if [[ -d $root/$top ]]; then
        cp -a "$root/$top" "$base/"
    fi
done

failures=0
pass() { echo "selftest: ok   $*"; }
fail() { echo "selftest: FAIL $*" >&2; failures=$((failures + 1)); }

# fresh ID: a fresh copy of the base at $tmp/NAME, printed
fresh() {
    rm -rf "${tmp:?}/$1"
    cp -a "$base" "$tmp/$1"
    echo "$tmp/$1"
}
# check DIR OUTFILE: runs the checker, output to OUTFILE, returns its status
check() {
    local rc=0
    bash "$checker" "$1" >"$2" 2>&1 || rc=$?
    return $rc
}
# expect_fail ID NAME DIR PATTERN...: the checker must fail (status 1) and
# print every PATTERN (a fixed string)
expect_fail() {
    local out=$tmp/$1.out name=$2 dir=$3 rc=0 pat missing=0
    shift 3
    check "$dir" "$out" || rc=$?
    if ((rc == 0)); then
        fail "$name: the checker passed, it should have failed; its output:"
        sed 's/^/    /' "$out" >&2
        return
    fi
    if ((rc != 1)); then
        fail "$name: the checker exited $rc (want 1); its output:"
        sed 's/^/    /' "$out" >&2
        return
    fi
    for pat in "$@"; do
        if ! grep -qF -- "$pat" "$out"; then
            fail "$name: the checker failed but did not say: $pat"
            missing=1
        fi
    done
    if ((missing)); then
        echo "    its output was:" >&2
        sed 's/^/    /' "$out" >&2
    else
        pass "$name"
    fi
}

# (a) the clean copy passes -----------------------------------------------------
out=$tmp/a.out
if check "$base" "$out"; then
    pass "(a) clean copy: $(tail -n 1 "$out")"
else
    fail "(a) the copy of $root does not pass the checker (fix the tree first, see ctest -R '^layers\$'):"
    sed 's/^/    /' "$out" >&2
fi

# (b) an upward include ---------------------------------------------------------
# a file of a low layer (loop if ranked) and a header of a strictly higher one
# (http.h if there)
low_dir="" low_rank=""
if grep -q ' loop$' "$tmp/table"; then
    low_rank=$(awk '$2 == "loop" { print $1 }' "$tmp/table"); low_dir=loop
fi
if [[ -z $low_dir || -z $(find "$base/$low_dir" -maxdepth 1 -name '*.[ch]' -print -quit) ]]; then
    low_dir="" low_rank=""
    while read -r r f; do
        if [[ -d $base/$f && -n $(find "$base/$f" -maxdepth 1 -name '*.[ch]' -print -quit) ]]; then
            low_dir=$f low_rank=$r; break
        fi
    done <"$tmp/table"
fi
high_hdr="" high_dir="" high_rank=""
if [[ -n $low_dir ]]; then
    if [[ -f $base/http/http.h ]] && awk -v r="$low_rank" '$2 == "http" && $1 > r { f = 1 } END { exit !f }' "$tmp/table"; then
        high_hdr=http.h high_dir=http
        high_rank=$(awk '$2 == "http" { print $1 }' "$tmp/table")
    else
        while read -r r f; do
            ((r > low_rank)) || continue
            h=$(find "$base/$f" -maxdepth 1 -name '*.h' -print 2>/dev/null | sort | head -n 1)
            if [[ -n $h ]]; then high_hdr=$(basename "$h") high_dir=$f high_rank=$r; fi
        done <"$tmp/table"
    fi
fi
if [[ -z $low_dir || -z $high_hdr ]]; then
    fail "(b) found no pair of layers to plant an upward include between"
else
    dir=$(fresh b)
    target=$(find "$dir/$low_dir" -maxdepth 1 -name '*.c' | sort | head -n 1)
    [[ -n $target ]] || target=$(find "$dir/$low_dir" -maxdepth 1 -name '*.h' | sort | head -n 1)
    rel=${target#"$dir"/}
    printf '#include "%s"\n' "$high_hdr" >>"$target"
    line=$(wc -l <"$target")
    expect_fail b "(b) upward include $rel:$line -> $high_hdr" "$dir" \
        "$rel:$line: includes $high_hdr (layer $high_dir rank $high_rank) from layer $low_dir rank $low_rank"
fi

# (c) a circle between two files of one folder ----------------------------------
cdir=$(awk 'NR == 1 { print $2 }' "$tmp/table") # a lowest layer (base)
dir=$(fresh c)
mkdir -p "$dir/$cdir"
printf '#ifndef SELFTEST_A_H\n#define SELFTEST_A_H\n#include "selftest_circle_b.h"\n#endif\n' \
    >"$dir/$cdir/selftest_circle_a.h"
printf '#ifndef SELFTEST_B_H\n#define SELFTEST_B_H\n#include "selftest_circle_a.h"\n#endif\n' \
    >"$dir/$cdir/selftest_circle_b.h"
expect_fail c "(c) circle $cdir/selftest_circle_a.h <-> $cdir/selftest_circle_b.h" "$dir" \
    "$cdir/selftest_circle_a.h:3 includes selftest_circle_b.h" \
    "$cdir/selftest_circle_b.h:3 includes selftest_circle_a.h" \
    "circle"

# (d) a file in a folder nobody ranked ------------------------------------------
dir=$(fresh d)
mkdir -p "$dir/selftest_unranked"
printf 'int selftest_unranked(void) { return 0; }\n' >"$dir/selftest_unranked/orphan.c"
expect_fail d "(d) file in unranked folder selftest_unranked/" "$dir" \
    "selftest_unranked/orphan.c: in unranked folder selftest_unranked" \
    "folder selftest_unranked holds .c/.h files but has no rank"

# (e) a folder of the table missing ---------------------------------------------
efolder=$(awk 'END { print $2 }' "$tmp/table") # a highest layer (main)
dir=$(fresh e)
rm -rf "${dir:?}/$efolder"
expect_fail e "(e) folder $efolder/ missing" "$dir" "folder $efolder (rank"

# (f) an include that resolves nowhere ------------------------------------------
dir=$(fresh f)
ffile=$(find "$dir/$cdir" -maxdepth 1 -name '*.[ch]' | sort | head -n 1)
if [[ -z $ffile ]]; then
    ffile=$dir/$cdir/selftest_lonely.c
    : >"$ffile"
fi
printf '#include "selftest_no_such_header.h"\n' >>"$ffile"
line=$(wc -l <"$ffile")
expect_fail f "(f) include of a header found nowhere" "$dir" \
    "${ffile#"$dir"/}:$line: includes selftest_no_such_header.h, which is in no layer folder"

if ((failures > 0)); then
    echo "layers_selftest: FAILED: $failures expectation(s) not met" >&2
    exit 1
fi
echo "layers_selftest: all 6 cases behave"
