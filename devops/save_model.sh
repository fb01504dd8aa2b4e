#!/usr/bin/env bash
# Share an experiment's latest model: ./devops/save_model.sh EXPERIMENT REPO [--train_dir DIR] [--force].
# REPO is ORG/NAME on the Hugging Face Hub (created if needed; HF_TOKEN or `huggingface-cli login`), a bare NAME in
# the default organisation ($METTA_HUB_ORG, else metta-ai), or a local directory. See --help and
# metta/sf_integration/hub/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${METTA_VENV:-$ROOT/.venv}/bin/python"
if [ ! -x "$PY" ]; then
    echo "error: $PY not found: run 'make setup' first" >&2
    exit 1
fi
exec "$PY" -m metta.sf_integration.hub save "$@"
