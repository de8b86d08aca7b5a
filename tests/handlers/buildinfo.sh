#!/usr/bin/env bash
# buildinfo.sh <cmake> <source dir>: cmake/buildinfo.cmake (what /version
# says about the build) names the commit of a git checkout, "unknown" outside
# one (a release tarball: a copy of the sources without .git), and does not
# rewrite its output when nothing changed (so a rebuild recompiles nothing).
set -euo pipefail
cmake=$1
src=$2
script="$src/cmake/buildinfo.cmake"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "buildinfo: FAILED: $*" >&2; exit 1; }
gen() { "$cmake" -DSRC="$1" -DOUT="$2" -DVERSION=1.2.3 -DBUILD_TYPE=Release -P "$script"; }
commit_of() { sed -n 's/^const char iocpu_build_commit\[\] = "\(.*\)";$/\1/p' "$1"; }

# a tarball: the sources without .git
mkdir "$work/tarball"
cp -r "$src/cmake" "$work/tarball/"
gen "$work/tarball" "$work/tarball.c"
[[ $(commit_of "$work/tarball.c") == unknown ]] || fail "outside a checkout: $(cat "$work/tarball.c")"
grep -qx 'const char iocpu_build_version\[\] = "1.2.3";' "$work/tarball.c" || fail "version"
grep -qx 'const char iocpu_build_type\[\] = "Release";' "$work/tarball.c" || fail "build type"

# a checkout: a fresh repository with one commit
if command -v git >/dev/null; then
    repo="$work/repo"
    mkdir "$repo"
    cp -r "$src/cmake" "$repo/"
    git -C "$repo" init -q
    git -C "$repo" add cmake
    git -C "$repo" -c user.name=t -c user.email=t@t.invalid commit -qm one
    want=$(git -C "$repo" rev-parse HEAD)
    gen "$repo" "$work/repo.c"
    [[ $(commit_of "$work/repo.c") == "$want" ]] || fail "want $want: $(cat "$work/repo.c")"
    # a folder inside a checkout is not the checkout
    mkdir "$repo/sub"
    cp -r "$src/cmake" "$repo/sub/"
    gen "$repo/sub" "$work/sub.c"
    [[ $(commit_of "$work/sub.c") == unknown ]] || fail "a subfolder: $(cat "$work/sub.c")"
fi

# unchanged: not rewritten
touch -d '2000-01-01' "$work/tarball.c"
gen "$work/tarball" "$work/tarball.c"
[[ $(stat -c %Y "$work/tarball.c") == $(date -d 2000-01-01 +%s) ]] || fail "rewritten unchanged"
echo "buildinfo: ok"
