"""Everything that touches Sample Factory: env registration, model, train and evaluate entry points.

Every Sample Factory process imports this package (the env and model factories live here), so this is where
the project's patches to Sample Factory's internals take hold (metta.sf_integration.patches: the checkpoint
allowlist in every process, and a worker of a training run joining it)."""
from metta.sf_integration.patches import join_worker as _join_worker

_join_worker()
