#!/usr/bin/env bash
# Idempotent setup: system Vulkan loader + Mesa's lavapipe (CPU Vulkan), and what the tests drive (glslc,
# Chromium and its WebDriver, strace, Slurm and munge), a Python 3.11 virtualenv in .venv, and the package with
# its test extras. Safe to run twice. System packages are installed only as root; under CI (METTA_REQUIRE_ALL,
# see the Makefile) a test whose component is missing fails, elsewhere it skips.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${METTA_VENV:-$ROOT/.venv}"
STAMP="$VENV/.metta-installed"

log() { printf '[setup] %s\n' "$*"; }

have_vulkan_loader() {
    ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' && return 0
    [ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ] || [ -e /usr/lib/libvulkan.so.1 ]
}

have_lavapipe() {
    ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1
}

# 1. System packages: Griddly renders through Vulkan; without a loader it cannot start
#    its renderer. On a machine without a GPU, Mesa's lavapipe runs Vulkan on the CPU.
SYS_PKGS=()
have_vulkan_loader || SYS_PKGS+=(libvulkan1)
have_lavapipe || SYS_PKGS+=(mesa-vulkan-drivers)
command -v glslc >/dev/null 2>&1 || SYS_PKGS+=(glslc)
# The replay viewer's tests drive a real headless browser: Debian's chromium, never a downloaded one.
command -v chromium >/dev/null 2>&1 || SYS_PKGS+=(chromium)
command -v chromedriver >/dev/null 2>&1 || SYS_PKGS+=(chromium-driver)
# tests/test_run_faults.py kills a learner in the middle of a checkpoint write with strace's fault injection.
command -v strace >/dev/null 2>&1 || SYS_PKGS+=(strace)
# tests/test_slurm.py sweeps through a one-node cluster on this machine (devops/slurm_cluster.sh starts it).
have_sbin() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
{ have_sbin slurmctld && have_sbin slurmd && have_sbin sbatch; } || SYS_PKGS+=(slurm-wlm)
have_sbin munged || SYS_PKGS+=(munge)
if [ "${#SYS_PKGS[@]}" -gt 0 ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        log "installing system packages: ${SYS_PKGS[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${SYS_PKGS[@]}" >/dev/null
    else
        log "WARNING: missing system packages: ${SYS_PKGS[*]}"
        log "         install them with: sudo apt-get install ${SYS_PKGS[*]}"
        log "         (Vulkan loader + Mesa lavapipe driver: rendering and the vulkan backend need them;"
        log "          glslc, chromium + chromium-driver, strace, slurm-wlm + munge: tests that skip without them)"
    fi
fi

# 2. Python 3.11 virtualenv.
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
    for cand in python3.11 python3; do
        if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            PY="$cand"; break
        fi
    done
fi
if [ -z "$PY" ]; then
    echo "[setup] ERROR: Python 3.11 is required (griddly 1.6.7 ships cp311 wheels only)." >&2
    exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV with $PY"
    "$PY" -m venv "$VENV"
fi

# 3. The package. Reinstall only when pyproject.toml changed since the last install.
if [ ! -f "$STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$STAMP" ]; then
    log "installing metta into $VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip setuptools wheel
    # torch first, pinned: the CPU build. An unpinned torch drags in a multi-GB CUDA build.
    if grep -q '"torch' "$ROOT/pyproject.toml"; then
        TORCH_PIN="$(grep -o '"torch==[0-9.]*"' "$ROOT/pyproject.toml" | tr -d '"' | head -1)"
        [ -n "$TORCH_PIN" ] && "$VENV/bin/python" -m pip install -q "$TORCH_PIN"
    fi
    "$VENV/bin/python" -m pip install -q -e "$ROOT[test]"
    touch "$STAMP"
else
    log "$VENV is up to date"
fi
log "ready: $VENV"
