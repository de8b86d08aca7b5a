# shellcheck shell=bash
# Sourced by the node-based checks (tests/{openapi,k8s,ui}/check.sh):
#   npm_workdir NAME SRC_DIR WORK_DIR FILE...
# Fails (exit 1) without node or npm: a check that cannot run must not look
# like a pass. Copies FILE... from SRC_DIR into WORK_DIR and runs `npm ci`
# there when node_modules is missing or SRC_DIR's package-lock.json changed
# (WORK_DIR/.installed holds the lockfile of the last successful install).
npm_workdir() {
    local name=$1 src=$2 work=$3 tool
    shift 3
    for tool in node npm; do
        if ! command -v "$tool" >/dev/null; then
            echo "$name check: FAILED: '$tool' is not installed (scripts/deps --test installs it)" >&2
            exit 1
        fi
    done
    mkdir -p "$work"
    for f in "$@"; do cp "$src/$f" "$work/"; done
    if [[ ! -d "$work/node_modules" ]] || ! cmp -s "$src/package-lock.json" "$work/.installed"; then
        rm -f "$work/.installed"
        cp "$src/package.json" "$src/package-lock.json" "$work/"
        echo "$name check: npm ci in $work"
        if ! (cd "$work" && npm ci --no-audit --no-fund); then
            echo "$name check: FAILED: npm ci could not install its packages" >&2
            exit 1
        fi
        cp "$src/package-lock.json" "$work/.installed"
    fi
}
