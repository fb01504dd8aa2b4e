#!/usr/bin/env bash
# Share an experiment's latest model: ./devops/save_model.sh EXPERIMENT REPO [--train_dir DIR] [--force].
# REPO is ORG/NAME on the Hugging Face Hub (created if needed; HF_TOKEN or `huggingface-cli login`), a bare NAME in
# the default organisation ($METTA_HUB_ORG, else metta-ai), or a local directory. See --help and
# metta/hub/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv_python.sh"
exec "$PY" -m metta.hub save "$@"
