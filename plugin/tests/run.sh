#!/usr/bin/env bash
# Tests of the voxgen Blender add-on. Installs what is missing, then runs:
#   1. the parser and meshing unit tests (plain Python; numpy from the bpy venv when there),
#   2. the Blender tests in Debian's Blender 3.4 (apt: blender, python3-numpy),
#   3. the same Blender tests with the bpy 5.0.1 module from PyPI (a venv in $VOXGEN_TOOLS/bpy-venv).
# Prints one line per suite and a final `N passed, M failed[, K skipped]`; exits non-zero on any failure.
# Environment: VOXGEN_CORPUS (default <repo>/../shared/corpus), VOXGEN_TOOLS (default <repo>/.tools),
# VOXGEN_GLB_DIR (real voxgen .glb outputs to import), PYTHON (default python3, must be 3.11 for bpy 5.0.1).
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
TOOLS=${VOXGEN_TOOLS:-$REPO/.tools}
BPY_VENV=$TOOLS/bpy-venv
BPY_VERSION=5.0.1
PYTHON=${PYTHON:-python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/voxgen-plugin-tests.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

PASSED=0 FAILED=0 SKIPPED=0

fail_setup() { # name, message, log
    echo "$1: setup failed: $2"
    [ -n "${3:-}" ] && [ -f "$3" ] && tail -n 20 "$3"
    FAILED=$((FAILED + 1))
}

install_debian() {
    local missing=""
    command -v blender >/dev/null 2>&1 || missing="$missing blender"
    /usr/bin/python3 -c 'import numpy' >/dev/null 2>&1 || missing="$missing python3-numpy"
    [ -z "$missing" ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "no apt-get to install:$missing"
        return 1
    fi
    echo "installing (apt):$missing"
    apt-get update -qq >"$WORK/apt.log" 2>&1
    if apt-cache policy blender | grep -q 'Candidate: (none)'; then
        echo "apt has no blender package"
        return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >>"$WORK/apt.log" 2>&1
}

install_bpy() {
    [ -f "$BPY_VENV/.bpy-$BPY_VERSION" ] && return 0
    if ! mkdir -p "$TOOLS" 2>/dev/null || [ ! -w "$TOOLS" ]; then
        echo "$TOOLS is not writable: set VOXGEN_TOOLS to a writable folder"
        return 1
    fi
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        echo "bpy $BPY_VERSION needs Python 3.11; $PYTHON is $("$PYTHON" --version 2>&1) (set PYTHON)"
        return 1
    fi
    echo "installing bpy $BPY_VERSION from PyPI into $BPY_VENV (about 1 GB)"
    "$PYTHON" -m venv "$BPY_VENV" >"$WORK/venv.log" 2>&1 &&
        "$BPY_VENV/bin/pip" install -q --no-cache-dir "bpy==$BPY_VERSION" >>"$WORK/venv.log" 2>&1 &&
        "$BPY_VENV/bin/python" -c 'import bpy' >>"$WORK/venv.log" 2>&1 &&
        touch "$BPY_VENV/.bpy-$BPY_VERSION"
}

run_suite() { # name, command...
    local name=$1 log="$WORK/$1.log" line passed failed skipped status
    shift
    "$@" >"$log" 2>&1
    status=$?
    line=$(grep -E '^RESULT passed=[0-9]+ failed=[0-9]+ skipped=[0-9]+$' "$log" | tail -n 1)
    if [ -z "$line" ]; then
        echo "$name: no result (exit status $status); end of its output:"
        tail -n 40 "$log"
        FAILED=$((FAILED + 1))
        return
    fi
    read -r passed failed skipped <<<"$(echo "$line" | tr -c '0-9\n' ' ')"
    if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
        failed=1
    fi
    PASSED=$((PASSED + passed)) FAILED=$((FAILED + failed)) SKIPPED=$((SKIPPED + skipped))
    echo "$name: $passed ok, $failed failing, $skipped skipped"
    if [ "$failed" -ne 0 ]; then
        awk '/^(ERROR|FAIL): /{show=1} /^Ran [0-9]+ tests? in/{show=0} show' "$log" | head -n 150
    fi
    grep -E '^  import ' "$log" || true
}

blender_env() { # run a command with Blender's user folders in the work folder
    BLENDER_USER_SCRIPTS="$WORK/$1/scripts" BLENDER_USER_CONFIG="$WORK/$1/config" \
        BLENDER_USER_RESOURCES="$WORK/$1/resources" "${@:2}"
}

if [ -z "${VOXGEN_CORPUS:-}" ] && [ ! -d "$REPO/../shared/corpus" ]; then
    echo "note: no corpus at $REPO/../shared/corpus (set VOXGEN_CORPUS): corpus tests are skipped"
fi

BPY_OK=1
install_bpy || { fail_setup "bpy $BPY_VERSION" "cannot install" "$WORK/venv.log"; BPY_OK=0; }
UNIT_PYTHON=$PYTHON
[ "$BPY_OK" = 1 ] && UNIT_PYTHON="$BPY_VENV/bin/python"
run_suite "unit tests" "$UNIT_PYTHON" "$HERE/run_unit.py"

if install_debian; then
    run_suite "Blender $(blender --version 2>/dev/null | head -n 1 | cut -d' ' -f2)" \
        blender_env b34 blender -b --factory-startup --python-exit-code 1 --python "$HERE/blender_tests.py"
else
    fail_setup "Blender (Debian)" "blender or python3-numpy missing and not installable" "$WORK/apt.log"
fi

if [ "$BPY_OK" = 1 ]; then
    run_suite "bpy $BPY_VERSION" blender_env bpy "$BPY_VENV/bin/python" "$HERE/blender_tests.py"
fi

SUMMARY="$PASSED passed, $FAILED failed"
[ "$SKIPPED" -gt 0 ] && SUMMARY="$SUMMARY, $SKIPPED skipped"
echo "$SUMMARY"
[ "$FAILED" -eq 0 ]
