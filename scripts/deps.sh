#!/usr/bin/env bash
# System and Python dependencies of redis_native, installed only when missing.
#
#   scripts/deps.sh system     apt packages: redis-server, hiredis/OpenSSL headers, pkg-config, gcc
#   scripts/deps.sh venv       .venv (python3 -m venv) + the pyproject "test" extra
#   scripts/deps.sh valgrind   the valgrind package
#
# Idempotent and quiet when everything is present, so `make test` can call it every time.
# Installing system packages needs root (or passwordless sudo); when the packages are
# already there nothing is installed and no privileges are needed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

log() { echo "deps: $*" >&2; }

apt_install() {
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
            sudo="sudo -n"
        else
            log "missing system packages: $*"
            log "run as root: apt-get update && apt-get install -y $*"
            exit 1
        fi
    fi
    command -v apt-get >/dev/null || { log "no apt-get; install these yourself: $*"; exit 1; }
    log "apt-get install $*"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}


system_deps() {
    local missing=()
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v redis-cli >/dev/null || missing+=(redis-tools)
    command -v pkg-config >/dev/null || missing+=(pkg-config)
    command -v gcc >/dev/null || missing+=(gcc libc6-dev)
    if command -v pkg-config >/dev/null; then
        pkg-config --exists hiredis || missing+=(libhiredis-dev)
        pkg-config --exists openssl || missing+=(libssl-dev)
    else
        missing+=(libhiredis-dev libssl-dev)
    fi
    if ! command -v "$PYTHON" >/dev/null; then
        missing+=(python3 python3-venv python3-dev)
    elif ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
        missing+=(python3-venv)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        apt_install "${missing[@]}"
        local t
        for t in redis-server redis-cli pkg-config gcc "$PYTHON"; do
            command -v "$t" >/dev/null || { log "still missing after apt-get: $t"; exit 1; }
        done
        pkg-config --exists hiredis openssl || { log "pkg-config still finds no hiredis/openssl"; exit 1; }
    fi
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        log "$("$PYTHON" --version 2>&1) is too old: redis_native needs Python >= 3.11 (set PYTHON=...)"
        exit 1
    fi
    # A distribution Python needs its -dev package for Python.h (pyenv builds ship it).
    if ! "$PYTHON" -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
        apt_install python3-dev
    fi
}

# Packages of pyproject's [project.optional-dependencies] test, plus the build tools.
test_requirements() {
    "$VENV/bin/python" - <<'PY'
try:
    import tomllib
    with open("pyproject.toml", "rb") as f:
        reqs = tomllib.load(f)["project"]["optional-dependencies"]["test"]
except Exception:          # Python < 3.11: no tomllib; keep in step with pyproject.toml
    reqs = ["pytest", "hypothesis", "redis==7.4.1", "hiredis"]
print("\n".join(reqs + ["setuptools>=77"]))
PY
}

venv_deps() {
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating $VENV with $("$PYTHON" --version 2>&1)"
        "$PYTHON" -m venv "$VENV"
    fi
    # Re-run pip only when the requirement list changed (or the venv is new).
    local stamp="$VENV/.redis_native-test-deps"
    local reqs
    reqs=$(test_requirements)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$reqs" ]; then
        return 0
    fi
    log "pip install $(echo $reqs)"
    # shellcheck disable=SC2086
    "$VENV/bin/python" -m pip install -q $reqs
    printf '%s' "$reqs" > "$stamp"
}

# valgrind, and the distribution's Python (make valgrind-test runs the tests under it).
valgrind_deps() {
    local missing=()
    command -v valgrind >/dev/null || missing+=(valgrind)
    if [ ! -x /usr/bin/python3 ]; then
        missing+=(python3 python3-venv)
    elif ! /usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null; then
        missing+=(python3-venv)
    fi
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
}

for what in "${@:-system venv}"; do
    for w in $what; do
        case "$w" in
            system) system_deps ;;
            venv) venv_deps ;;
            valgrind) valgrind_deps ;;
            *) log "unknown target $w"; exit 2 ;;
        esac
    done
done
