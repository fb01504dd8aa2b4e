#!/usr/bin/env bash
# Fetch a shared model into train_dir/EXPERIMENT, verified: ./devops/load_model.sh NAME [--revision REV]
# [--experiment EXP] [--train_dir DIR] [--force]. NAME is ORG/NAME on the Hugging Face Hub, a bare NAME in the
# default organisation ($METTA_HUB_ORG, else metta-ai), or a local directory. See --help and
# metta/sf_integration/hub/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${METTA_VENV:-$ROOT/.venv}/bin/python"
if [ ! -x "$PY" ]; then
    echo "error: $PY not found: run 'make setup' first" >&2
    exit 1
fi
exec "$PY" -m metta.sf_integration.hub load "$@"
