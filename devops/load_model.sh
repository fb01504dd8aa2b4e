#!/usr/bin/env bash
# Fetch a shared model into train_dir/EXPERIMENT, verified: ./devops/load_model.sh NAME [--revision REV]
# [--experiment EXP] [--train_dir DIR] [--force]. NAME is ORG/NAME on the Hugging Face Hub, a bare NAME in the
# default organisation ($METTA_HUB_ORG, else metta-ai), or a local directory. See --help and
# metta/hub/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/venv_python.sh"
exec "$PY" -m metta.hub load "$@"
