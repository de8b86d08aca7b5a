#!/usr/bin/env bash
# check_layers.sh SRCROOT - the include rules of the source tree (ctest: layers).
#
# The layers are the folders of tests/arch/layers.txt, each with a rank. A .c/.h
# file may include (with quotes) a header of its own folder or of a folder of
# strictly lower rank. This fails on:
#   - an include upward or sideways (another folder of equal or higher rank);
#   - a circle of includes between files (foo.c and foo.h are one unit);
#   - a quoted include found in no layer folder (and not in known_includes.txt),
#     or found in more than one (includes are written bare: "loop.h");
#   - a folder of the table that does not exist, or a .c/.h outside tests/ and
#     build trees that sits in a folder the table does not rank.
# System includes (<...>) are ignored. Needs bash, coreutils, find, grep, awk.
#
# Environment: LAYERS_FILE, KNOWN_INCLUDES_FILE override the two data files
# beside this script.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
layers_file=${LAYERS_FILE:-$here/layers.txt}
known_file=${KNOWN_INCLUDES_FILE:-$here/known_includes.txt}

if [[ $# -ne 1 ]]; then
    echo "usage: $0 SRCROOT   (checks the includes of SRCROOT against $layers_file)" >&2
    exit 2
fi
if [[ ! -d $1 ]]; then
    echo "check_layers: $1 is not a directory" >&2
    exit 2
fi
root=$(cd "$1" && pwd)
if [[ ! -f $layers_file ]]; then
    echo "check_layers: no layer table at $layers_file" >&2
    exit 2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C

# --- the table: "folder rank" lines, comments and blank lines dropped -------
if ! awk -v tf="$layers_file" '
    { sub(/#.*/, "") }
    NF == 0 { next }
    NF != 2 || $2 !~ /^[0-9]+$/ {
        printf "%s:%d: want `folder rank` (rank a whole number), got: %s\n", tf, FNR, $0 > "/dev/stderr"
        bad = 1; next
    }
    {
        f = $1; sub(/^\.\//, "", f); sub(/\/+$/, "", f)
        if (f in seen) {
            printf "%s:%d: folder %s is listed twice\n", tf, FNR, f > "/dev/stderr"
            bad = 1; next
        }
        seen[f] = 1; print f, $2
    }
    END { exit bad }' "$layers_file" >"$tmp/layers"; then
    echo "layers: FAILED: the layer table $layers_file is malformed" >&2
    exit 1
fi
if [[ ! -s $tmp/layers ]]; then
    echo "layers: FAILED: the layer table $layers_file lists no folder" >&2
    exit 1
fi

: >"$tmp/problems"
problem() { printf '%s\n' "$*" >>"$tmp/problems"; }

# --- every folder of the table exists -----------------------------------------
while read -r folder rank; do
    [[ -d $root/$folder ]] ||
        problem "layers.txt: folder $folder (rank $rank) does not exist under $root"
done <"$tmp/layers"

# --- every .c/.h outside tests/ and build trees, and the folder it sits in ----
# Pruned: tests/, hidden folders (.git), node_modules, folders named build,
# build-*, build_*, cmake-build-*, CMakeFiles, and any folder holding a
# CMakeCache.txt (a build tree of any name).
prune=(-path "$root/tests" -o -name '.*' -o -name node_modules -o -name CMakeFiles
       -o -name build -o -name 'build-*' -o -name 'build_*' -o -name 'cmake-build-*')
while IFS= read -r cache; do
    d=$(dirname "$cache")
    [[ $d == "$root" ]] || prune+=(-o -path "$d")
done < <(find "$root" -mindepth 2 -name CMakeCache.txt -not -path '*/CMakeFiles/*' 2>/dev/null)

find "$root" -mindepth 1 \( "${prune[@]}" \) -prune -o \
    -type f \( -name '*.c' -o -name '*.h' \) -print >"$tmp/found"
# an in-source build writes generated .c files at the top: not sources
in_source_build=0
[[ -f $root/CMakeCache.txt ]] && in_source_build=1

sed "s|^$root/||" "$tmp/found" | sort | awk -v lf="$tmp/layers" -v insrc="$in_source_build" \
    -v files="$tmp/files" -v probs="$tmp/problems" '
    BEGIN { while ((getline l < lf) > 0) { split(l, a, " "); rank[a[1]] = a[2] } }
    {
        d = $0
        if (d !~ /\//) {
            if (insrc) next
            printf "%s: a source file at the top of the tree, in no layer folder of layers.txt\n", $0 >> probs
            next
        }
        sub(/\/[^\/]*$/, "", d)
        if (d in rank) { print $0 >> files; next }
        if (!(d in told)) {
            told[d] = 1
            printf "%s/: folder %s holds .c/.h files but has no rank in layers.txt (rank it there, or move its files into a ranked folder)\n", d, d >> probs
        }
        printf "%s: in unranked folder %s\n", $0, d >> probs
    }'
touch "$tmp/files"

# --- the quoted includes of those files ---------------------------------------
mapfile -t files <"$tmp/files"
: >"$tmp/includes"
if ((${#files[@]} > 0)); then
    rc=0
    (cd "$root" && grep -nH -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]+"' -- "${files[@]}") \
        >"$tmp/includes" || rc=$?
    if ((rc > 1)); then
        echo "layers: FAILED: grep could not read the sources under $root" >&2
        exit 1
    fi
fi

known=/dev/null
[[ -f $known_file ]] && known=$known_file

# --- resolve, check ranks, build the unit graph and look for circles ----------
# Input, tagged: L folder rank / K name / F path / I path:line:text
{
    sed 's/^/L /' "$tmp/layers"
    sed -e 's/#.*//' -e '/^[[:space:]]*$/d' -e 's/^[[:space:]]*/K /' "$known"
    sed 's/^/F /' "$tmp/files"
    sed 's/^/I /' "$tmp/includes"
} | awk -v counts="$tmp/counts" -v probs="$tmp/problems" '
    function dirof(p) { if (p !~ /\//) return "."; sub(/\/[^\/]*$/, "", p); return p }
    function baseof(p) { sub(/^.*\//, "", p); return p }
    function unitof(p) { sub(/\.[^.\/]*$/, "", p); return p }
    function normpath(p,    n, i, parts, out, k, o) {
        n = split(p, parts, "/"); k = 0
        for (i = 1; i <= n; i++) {
            if (parts[i] == "" || parts[i] == ".") continue
            if (parts[i] == "..") { if (k > 0) k--; continue }
            out[++k] = parts[i]
        }
        o = ""
        for (i = 1; i <= k; i++) o = o (i > 1 ? "/" : "") out[i]
        return o
    }
    function dfs(u,    i, v, k, cyc, nxt) {
        color[u] = 1; stk[++sp] = u; pos[u] = sp
        for (i = 1; i <= deg[u]; i++) {
            v = adj[u, i]
            if (color[v] == 1) {
                ncyc++
                cyc = ""
                for (k = pos[v]; k <= sp; k++) cyc = cyc stk[k] " -> "
                printf "circle %d: %s%s\n", ncyc, cyc, v >> probs
                for (k = pos[v]; k <= sp; k++) {
                    nxt = (k < sp) ? stk[k + 1] : v
                    printf "  %s -> %s: %s\n", stk[k], nxt, ev[stk[k], nxt] >> probs
                }
            } else if (color[v] == 0) {
                dfs(v)
            }
        }
        sp--; color[u] = 2
    }
    $1 == "L" { rank[$2] = $3; next }
    $1 == "K" { known[$2] = 1; next }
    $1 == "F" {
        p = substr($0, 3); isfile[p] = 1; nfiles++
        b = baseof(p); d = dirof(p)
        if (b in where) where[b] = where[b] " and " d; else where[b] = d
        nwhere[b]++
        next
    }
    $1 == "I" {
        s = substr($0, 3)
        c = index(s, ":"); file = substr(s, 1, c - 1); s = substr(s, c + 1)
        c = index(s, ":"); line = substr(s, 1, c - 1); text = substr(s, c + 1)
        if (!match(text, /"[^"]+"/)) next
        name = substr(text, RSTART + 1, RLENGTH - 2)
        ninc++
        if (name in known) next
        fdir = dirof(file)
        if (name ~ /\//) {
            t = normpath(fdir "/" name)
            if (!(t in isfile)) t = normpath(name)
            if (!(t in isfile)) {
                printf "%s:%d: includes %s, which is in no layer folder of layers.txt (nor in known_includes.txt)\n", file, line, name >> probs
                nother++; next
            }
        } else if (nwhere[name] == 0) {
            printf "%s:%d: includes %s, which is in no layer folder of layers.txt (nor in known_includes.txt)\n", file, line, name >> probs
            nother++; next
        } else if (nwhere[name] > 1) {
            printf "%s:%d: includes %s, which is in more than one layer folder: %s\n", file, line, name, where[name] >> probs
            nother++; next
        } else {
            t = where[name] "/" name
        }
        tdir = dirof(t)
        if (tdir != fdir && rank[tdir] + 0 >= rank[fdir] + 0) {
            printf "%s:%d: includes %s (layer %s rank %d) from layer %s rank %d\n", file, line, name, tdir, rank[tdir], fdir, rank[fdir] >> probs
            nviol++
        }
        u = unitof(file); v = unitof(t)
        if (u == v) next
        if (!((u, v) in ev)) {
            ev[u, v] = file ":" line " includes " name
            if (!(u in hasnode)) { hasnode[u] = 1; nodes[++nn] = u }
            adj[u, ++deg[u]] = v
        }
        next
    }
    END {
        for (i = 1; i <= nn; i++) if (color[nodes[i]] == 0) dfs(nodes[i])
        printf "%d %d %d %d %d\n", nfiles, ninc, nviol, ncyc, nother > counts
    }'

read -r nfiles ninc nviol ncyc nother <"$tmp/counts"

if [[ -s $tmp/problems ]]; then
    cat "$tmp/problems" >&2
    nall=$(grep -c -v "^  " "$tmp/problems" || true)
    echo "layers: FAILED ($nfiles files, $ninc includes): $nviol upward/sideways include(s)," \
         "$ncyc circle(s), $nother unresolved include(s), $((nall - nviol - ncyc - nother)) folder problem(s);" \
         "the layers are in $layers_file" >&2
    exit 1
fi
echo "layers: $nfiles files, $ninc includes, no upward include, no circle"
