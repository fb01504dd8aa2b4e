# Sourced by the devops scripts: PY is the project's Python (.venv, or $METTA_VENV), or the script stops saying
# how to make it.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${METTA_VENV:-$ROOT/.venv}/bin/python"
if [ ! -x "$PY" ]; then
    echo "error: $PY not found: run 'make setup' first" >&2
    exit 1
fi
