#!/usr/bin/env bash
# check_diagram.sh SRCROOT - is docs/architecture.dot true to the tree?
# (ctest: architecture_diagram)
#
# The diagram has one node per folder of tests/arch/layers.txt and one edge
# A -> B per CMake link between the layers' libraries ("A's library links B's",
# read from the target_link_libraries() of each layer folder's CMakeLists.txt).
# This fails unless:
#   1. the nodes are exactly the folders of layers.txt;
#   2. the edges are exactly the links between the layers' libraries in the
#      CMakeLists.txt files, each going from a higher rank to a lower one;
#   3. every edge A -> B is used: some .c/.h file of A includes ("quoted") a
#      header that lives in B;
#   4. every include of a header of another folder (A includes B) is covered
#      by the diagram: B is reachable from A along its edges. The rule for
#      transitive dependencies: the diagram draws the links, not every include,
#      so A may use B's headers without an edge A -> B when A -> ... -> B is a
#      path (CMake gives A those headers through the PUBLIC links on that path).
# Includes are resolved as check_layers.sh does (a bare name is the one layer
# file of that name); one it cannot resolve is left to check_layers.sh.
#
# The .dot subset read here: `//`, `/* */` and `#` comments; attribute lists in
# [...] (ignored, so labels may hold anything but `]`); statements separated by
# `;`, `{`, `}` or line ends; a node statement is an ID alone ("tasks/redis" or
# base); an edge statement is ID -> ID (-> ID ...); `graph`, `node`, `edge`,
# `subgraph`, `digraph` and key=value statements are layout only.
# Needs bash, coreutils, find, grep, awk (no graphviz).
#
# Environment: LAYERS_FILE, DIAGRAM_FILE override tests/arch/layers.txt and
# docs/architecture.dot under SRCROOT.
set -euo pipefail

if [[ $# -ne 1 || ! -d ${1:-} ]]; then
    echo "usage: $0 SRCROOT" >&2
    exit 2
fi
root=$(cd "$1" && pwd)
layers_file=${LAYERS_FILE:-$root/tests/arch/layers.txt}
dot_file=${DIAGRAM_FILE:-$root/docs/architecture.dot}
for f in "$layers_file" "$dot_file"; do
    if [[ ! -f $f ]]; then
        echo "architecture_diagram: FAILED: no $f" >&2
        exit 1
    fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LC_ALL=C
: >"$tmp/problems"

# --- the layers: "folder rank" --------------------------------------------------
awk '{ sub(/#.*/, "") } NF >= 2 { f = $1; sub(/^\.\//, "", f); sub(/\/+$/, "", f); print f, $2 }' \
    "$layers_file" >"$tmp/layers"
if [[ ! -s $tmp/layers ]]; then
    echo "architecture_diagram: FAILED: $layers_file lists no folder" >&2
    exit 1
fi

# --- the diagram: N id / E from to ------------------------------------------------
awk '
    { sub(/\r$/, "") }
    /^[[:space:]]*#/ { next }                   # cpp-style line
    { sub(/\/\/.*/, ""); text = text " " $0 }   # no URL-like // in our labels
    function trim(s) { gsub(/^[[:space:]]+|[[:space:]]+$/, "", s); return s }
    function id(s) {
        s = trim(s)
        if (s ~ /^"[^"]*"$/) return substr(s, 2, length(s) - 2)
        if (s ~ /^[A-Za-z_][A-Za-z0-9_]*$/ || s ~ /^-?[0-9.]+$/) return s
        return ""
    }
    END {
        gsub(/\/\*([^*]|\*+[^*\/])*\*+\//, " ", text)   # /* comments */
        gsub(/\[[^]]*\]/, " ", text)                     # attribute lists
        n = split(text, st, /[;{}]/)
        for (i = 1; i <= n; i++) {
            s = trim(st[i])
            if (s == "" || s ~ /=/) continue
            if (s ~ /^(strict[[:space:]]+)?(di)?graph([[:space:]]|$)/ || s ~ /^subgraph([[:space:]]|$)/ ||
                s ~ /^(graph|node|edge)$/) continue
            if (s ~ /->/) {
                k = split(s, part, /->/)
                for (j = 1; j <= k; j++) {
                    v[j] = id(part[j])
                    if (v[j] == "") { printf "X %s\n", s; next_st = 1; break }
                }
                if (next_st) { next_st = 0; continue }
                for (j = 1; j <= k; j++) print "N", v[j]
                for (j = 1; j < k; j++) print "E", v[j], v[j + 1]
                continue
            }
            if (id(s) != "") print "N", id(s)
            else printf "X %s\n", s
        }
    }' "$dot_file" >"$tmp/dot"
grep '^X ' "$tmp/dot" | sed "s|^X |$(basename "$dot_file"): cannot read statement: |" >>"$tmp/problems" || true
awk '$1 == "N" { print $2 }' "$tmp/dot" | sort -u >"$tmp/nodes"
awk '$1 == "E" { print $2, $3 }' "$tmp/dot" | sort -u >"$tmp/edges"

# --- 1. nodes = layer folders -------------------------------------------------------
cut -d' ' -f1 "$tmp/layers" | sort -u >"$tmp/folders"
comm -23 "$tmp/folders" "$tmp/nodes" | sed 's|^|layers.txt folder |; s|$| is not a node of the diagram|' >>"$tmp/problems"
comm -13 "$tmp/folders" "$tmp/nodes" | sed 's|^|diagram node |; s|$| is not a folder of layers.txt|' >>"$tmp/problems"

# --- 2. edges = CMake links between the layers' libraries --------------------------
# Each layer folder's CMakeLists.txt: its targets (add_library/add_executable)
# and what they link (target_link_libraries), comments dropped, lines joined.
: >"$tmp/cmake"
while read -r folder rank; do
    cml=$root/$folder/CMakeLists.txt
    [[ -f $cml ]] || continue
    awk -v folder="$folder" '
        { # drop a comment (a # outside a "string")
            out = ""; q = 0
            for (i = 1; i <= length($0); i++) {
                c = substr($0, i, 1)
                if (c == "\"") q = !q
                if (c == "#" && !q) break
                out = out c
            }
            text = text " " out
        }
        END {
            while (match(text, /(add_library|add_executable|target_link_libraries)[[:space:]]*\([^)]*\)/)) {
                call = substr(text, RSTART, RLENGTH); text = substr(text, RSTART + RLENGTH)
                cmd = call; sub(/[[:space:]]*\(.*/, "", cmd)
                args = call; sub(/^[^(]*\(/, "", args); sub(/\)$/, "", args)
                n = split(args, a, /[[:space:]]+/)
                k = 0
                for (i = 1; i <= n; i++) if (a[i] != "") w[++k] = a[i]
                if (k == 0) continue
                if (cmd == "target_link_libraries") {
                    for (i = 2; i <= k; i++) print "L", folder, w[1], w[i]
                } else {
                    print "T", folder, w[1]
                }
            }
        }' "$cml" >>"$tmp/cmake"
done <"$tmp/layers"
awk '
    $1 == "T" { home[$3] = $2; next }
    $1 == "L" { l[++n] = $2 " " $3 " " $4; next }
    END {
        for (i = 1; i <= n; i++) {
            split(l[i], f, " ")
            if (!(f[2] in home) || !(f[3] in home)) continue   # not a layer library
            if (home[f[2]] != f[1] || home[f[3]] == f[1]) continue
            print home[f[2]], home[f[3]]
        }
    }' "$tmp/cmake" | sort -u >"$tmp/links"
comm -23 "$tmp/links" "$tmp/edges" |
    awk '{ printf "missing edge \"%s\" -> \"%s\": %s/CMakeLists.txt links the library of %s\n", $1, $2, $1, $2 }' >>"$tmp/problems"
comm -13 "$tmp/links" "$tmp/edges" |
    awk '{ printf "edge \"%s\" -> \"%s\" is no link: %s/CMakeLists.txt does not link the library of %s\n", $1, $2, $1, $2 }' >>"$tmp/problems"
awk 'NR == FNR { rank[$1] = $2; next }
     ($1 in rank) && ($2 in rank) && rank[$1] + 0 <= rank[$2] + 0 {
         printf "edge \"%s\" -> \"%s\" does not go down: rank %s to rank %s\n", $1, $2, rank[$1], rank[$2] }' \
    "$tmp/layers" "$tmp/edges" >>"$tmp/problems"

# --- the include dependencies between folders ----------------------------------------
: >"$tmp/files"
while read -r folder rank; do
    [[ -d $root/$folder ]] || continue
    find "$root/$folder" -mindepth 1 -maxdepth 1 -type f \( -name '*.c' -o -name '*.h' \) |
        sed "s|^$root/||" >>"$tmp/files"
done <"$tmp/layers"
sort -o "$tmp/files" "$tmp/files"
: >"$tmp/includes"
mapfile -t files <"$tmp/files"
if ((${#files[@]} > 0)); then
    rc=0
    (cd "$root" && grep -nH -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]+"' -- "${files[@]}") \
        >"$tmp/includes" || rc=$?
    if ((rc > 1)); then
        echo "architecture_diagram: FAILED: grep could not read the sources under $root" >&2
        exit 1
    fi
fi
# "A B file:line name": file in folder A includes a header of folder B (A != B)
{
    sed 's/^/F /' "$tmp/files"
    sed 's/^/I /' "$tmp/includes"
} | awk '
    function dirof(p) { if (p !~ /\//) return "."; sub(/\/[^\/]*$/, "", p); return p }
    function baseof(p) { sub(/^.*\//, "", p); return p }
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
    $1 == "F" { p = substr($0, 3); isfile[p] = 1; b = baseof(p); nwhere[b]++; where[b] = p; next }
    $1 == "I" {
        s = substr($0, 3)
        c = index(s, ":"); file = substr(s, 1, c - 1); s = substr(s, c + 1)
        c = index(s, ":"); line = substr(s, 1, c - 1); text = substr(s, c + 1)
        if (!match(text, /"[^"]+"/)) next
        name = substr(text, RSTART + 1, RLENGTH - 2)
        if (name ~ /\//) {
            t = normpath(dirof(file) "/" name)
            if (!(t in isfile)) t = normpath(name)
            if (!(t in isfile)) next
        } else if (nwhere[name] == 1) {
            t = where[name]
        } else next                       # unknown or ambiguous: check_layers.sh says so
        if (dirof(t) != dirof(file)) print dirof(file), dirof(t), file ":" line, name
    }' >"$tmp/deps"
cut -d' ' -f1,2 "$tmp/deps" | sort -u >"$tmp/depedges"

# --- 3. every edge is used by an include ----------------------------------------------
comm -23 "$tmp/edges" "$tmp/depedges" |
    awk '{ printf "edge \"%s\" -> \"%s\": no file of %s includes a header of %s\n", $1, $2, $1, $2 }' >>"$tmp/problems"

# --- 4. every include dependency is an edge or a path of edges -------------------------
awk '
    NR == FNR { adj[$1] = adj[$1] " " $2; next }
    {
        a = $1; b = $2
        if ((a, b) in done) next
        done[a, b] = 1
        # breadth-first from a along the edges
        delete seen; qn = 0; qh = 1; q[++qn] = a; seen[a] = 1; found = 0
        while (qh <= qn && !found) {
            u = q[qh++]; m = split(adj[u], nb, " ")
            for (i = 1; i <= m; i++) {
                if (nb[i] == b) { found = 1; break }
                if (!(nb[i] in seen)) { seen[nb[i]] = 1; q[++qn] = nb[i] }
            }
        }
        if (!found)
            printf "include not in the diagram: %s includes %s (folder %s), and there is no edge or path \"%s\" -> \"%s\"\n", $3, $4, b, a, b
    }' "$tmp/edges" "$tmp/deps" >>"$tmp/problems"

nnodes=$(wc -l <"$tmp/nodes")
nedges=$(wc -l <"$tmp/edges")
ndeps=$(wc -l <"$tmp/depedges")
ndirect=$(comm -12 "$tmp/edges" "$tmp/depedges" | wc -l)
if [[ -s $tmp/problems ]]; then
    cat "$tmp/problems" >&2
    echo "architecture_diagram: FAILED ($(wc -l <"$tmp/problems") problem(s)); the diagram is $dot_file," \
         "the layers $layers_file" >&2
    exit 1
fi
echo "architecture_diagram: $nnodes nodes = the layer folders, $nedges edges = the CMake links," \
     "each used by an include; $ndeps folder-to-folder include dependencies: $ndirect drawn," \
     "$((ndeps - ndirect)) through a path"
