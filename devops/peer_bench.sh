#!/usr/bin/env bash
# Peer benchmark: mettagrid's arena (mettagrid==0.26.22, C++) against the project's env, in interleaved rounds.
#
#   bash devops/peer_bench.sh [--steps N] [--repeats N] [--rounds N] [--agents N] [--size N] [--json] [--dry-run]
#
# mettagrid needs numpy 2, which the project venv must never get, so it lives in a throwaway venv of its own:
# $METTA_PEER_VENV, default ~/.cache/metta/peer-mettagrid-0.26.22, made once (in a temporary folder renamed into
# place when mettagrid imports there) from $METTA_PEER_PYTHON (default python3, 3.11 or 3.12) with pip from the
# package index ($METTA_PEER_PIP_INDEX, if set, is passed to pip as --index-url). Each round runs
# metta/bench/peers/mettagrid_bench.py in that venv, then metta.bench.peers.project_bench in the project's (.venv or
# $METTA_VENV), each on one core; metta.bench.peers.report then prints both figures per round, their ratio and the
# median ratio (--json: all of it as one JSON object). The machine's speed swings, so only the ratios within a
# round mean much. --dry-run says what would be done and does nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="0.26.22"
PEER_VENV="${METTA_PEER_VENV:-$HOME/.cache/metta/peer-mettagrid-$VERSION}"
BASE_PY="${METTA_PEER_PYTHON:-python3}"
MARK=".metta-peer-venv"  # in a venv this script made, so it may replace it

log() { printf '[peer_bench] %s\n' "$*" >&2; }  # stderr: with --json, stdout is the JSON alone
die() { printf '[peer_bench] error: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

STEPS=1000 REPEATS=3 ROUNDS=3 AGENTS=24 SIZE=40 JSON=0 DRY=0
while [ $# -gt 0 ]; do
    case "$1" in
        --steps|--repeats|--rounds|--agents|--size)
            [ $# -ge 2 ] || die "$1 needs a value"
            [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive integer, got '$2'"
            case "$1" in
                --steps) STEPS="$2" ;; --repeats) REPEATS="$2" ;; --rounds) ROUNDS="$2" ;;
                --agents) AGENTS="$2" ;; --size) SIZE="$2" ;;
            esac
            shift 2 ;;
        --json) JSON=1; shift ;;
        --dry-run) DRY=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (try --help)" ;;
    esac
done

PY="${METTA_VENV:-$ROOT/.venv}/bin/python"
[ -x "$PY" ] || die "the project's Python $PY not found: run 'make setup' first"
PEER_PY="$PEER_VENV/bin/python"
BENCH="$ROOT/metta/bench/peers/mettagrid_bench.py"

# The peer venv must stay apart from the project's: numpy 2 must never land there.
peer_real="$(realpath -m "$PEER_VENV")"
project_real="$(realpath -m "$(dirname "$(dirname "$PY")")")"
case "$peer_real/" in
    "$project_real"/*) die "METTA_PEER_VENV=$PEER_VENV is (inside) the project venv $project_real: choose another path" ;;
esac

peer_ready() {
    [ -x "$PEER_PY" ] && "$PEER_PY" -c "import sys, importlib.metadata as m; sys.exit(m.version('mettagrid') != '$VERSION')" \
        >/dev/null 2>&1
}

make_peer_venv() {
    if [ -e "$PEER_VENV" ] && [ ! -e "$PEER_VENV/$MARK" ]; then
        die "$PEER_VENV exists but this script did not make it, and mettagrid==$VERSION does not import there: remove it or set METTA_PEER_VENV to another path"
    fi
    command -v "$BASE_PY" >/dev/null 2>&1 || die "no Python '$BASE_PY' to make the peer venv with: set METTA_PEER_PYTHON"
    "$BASE_PY" -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 12))' ||
        die "mettagrid==$VERSION needs Python 3.11 or 3.12; $BASE_PY is $("$BASE_PY" -V 2>&1): set METTA_PEER_PYTHON"
    mkdir -p "$(dirname "$PEER_VENV")"
    TMP="$(mktemp -d "$PEER_VENV.tmp.XXXXXX")"
    trap 'rm -rf "$TMP"' EXIT
    log "making the peer venv $PEER_VENV with $BASE_PY ($("$BASE_PY" -V 2>&1)), mettagrid==$VERSION from the package index"
    "$BASE_PY" -m venv --without-pip "$TMP/venv" || die "'$BASE_PY -m venv' could not make a venv in $TMP"
    local pip=()
    if "$BASE_PY" -c 'import sys, pip; sys.exit(tuple(map(int, pip.__version__.split(".")[:2])) < (22, 3))' \
            >/dev/null 2>&1; then
        pip=("$BASE_PY" -m pip --python "$TMP/venv/bin/python")  # the base's pip (22.3+ has --python), run for the new venv
    else
        "$TMP/venv/bin/python" -m ensurepip --default-pip >/dev/null 2>&1 ||
            die "neither '$BASE_PY -m pip --python' nor ensurepip can give the peer venv a pip"
        pip=("$TMP/venv/bin/python" -m pip)
    fi
    local index=()
    if [ -n "${METTA_PEER_PIP_INDEX:-}" ]; then index=(--index-url "$METTA_PEER_PIP_INDEX"); fi
    if ! "${pip[@]}" install --no-input --disable-pip-version-check "${index[@]}" "mettagrid==$VERSION" \
            >"$TMP/pip.log" 2>&1; then
        grep -v '^WARNING: Location' "$TMP/pip.log" | tail -n 15 >&2
        die "pip could not install mettagrid==$VERSION into the peer venv${METTA_PEER_PIP_INDEX:+ from $METTA_PEER_PIP_INDEX} (pip's last lines above); nothing was left at $PEER_VENV"
    fi
    "$TMP/venv/bin/python" -c "import sys, numpy, mettagrid.mettagrid_c, importlib.metadata as m
sys.exit(m.version('mettagrid') != '$VERSION' or int(numpy.__version__.split('.')[0]) < 2)" ||
        die "mettagrid==$VERSION installed but does not import (or its numpy is not 2): see the traceback above"
    : >"$TMP/venv/$MARK"
    rm -rf "$PEER_VENV"  # ours (marked) or absent: checked above
    mv "$TMP/venv" "$PEER_VENV"
    rm -rf "$TMP"
    trap - EXIT
    log "peer venv ready: $PEER_VENV"
}

peer_args=(--steps "$STEPS" --repeats "$REPEATS" --agents "$AGENTS" --size "$SIZE")
json_flag=()
if [ "$JSON" = 1 ]; then json_flag=(--json); fi
if [ "$DRY" = 1 ]; then
    if peer_ready; then state="ready"; else state="to be made: $BASE_PY -m venv, then pip install mettagrid==$VERSION"; fi
    log "dry run: nothing is installed or timed"
    log "peer venv: $PEER_VENV ($state)"
    log "$ROUNDS rounds of: $PEER_PY $BENCH --json ${peer_args[*]}"
    log "           then: PYTHONPATH=$ROOT $PY -m metta.bench.peers.project_bench --json ${peer_args[*]}"
    log "report:    $PY -m metta.bench.peers.report --round ... ${json_flag[*]}"
    exit 0
fi

peer_ready || make_peer_venv

OUT="$(mktemp -d "${TMPDIR:-/tmp}/peer_bench.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"  # this checkout's metta, whatever the venv's install points at
report_args=()
for i in $(seq 1 "$ROUNDS"); do
    log "round $i/$ROUNDS: mettagrid"
    "$PEER_PY" "$BENCH" --json "${peer_args[@]}" >"$OUT/$i.mettagrid.json" ||
        die "round $i: mettagrid's run failed ($PEER_PY $BENCH)"
    log "round $i/$ROUNDS: project"
    "$PY" -m metta.bench.peers.project_bench --json "${peer_args[@]}" >"$OUT/$i.project.json" ||
        die "round $i: the project's run failed ($PY -m metta.bench.peers.project_bench)"
    report_args+=(--round "$OUT/$i.mettagrid.json" "$OUT/$i.project.json")
done
if ! "$PY" -m metta.bench.peers.report "${report_args[@]}" "${json_flag[@]}"; then
    trap - EXIT  # keep the round files to look at
    die "the report failed (round files kept in $OUT)"
fi
