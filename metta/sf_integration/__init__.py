"""Everything that touches Sample Factory: env registration, model, train and evaluate entry points.

Sample Factory 2.1.1 stores a numpy scalar (``best_performance``) in its checkpoints and
loads them with ``torch.load``, whose default since torch 2.6 is ``weights_only=True``:
without the allowlist below every resume fails to read the checkpoint and Sample
Factory starts from scratch. Numpy scalars and dtypes are plain data (no code runs on
load). Every Sample Factory process imports this package (the env and model factories
live here), so the allowlist holds in the learner too. For the same reason this is where a
worker of a training run joins it (metta.sf_integration.supervisor): it reports the error that
ends it to the run's main process and leaves stop signals to it.
"""
import numpy as _np
import torch as _torch
from numpy.core.multiarray import scalar as _scalar

NUMPY_SAFE_GLOBALS = [_scalar, _np.dtype] + sorted({type(_np.dtype(t)) for t in _np.typecodes["All"]},
                                                  key=lambda t: t.__name__)
_torch.serialization.add_safe_globals(NUMPY_SAFE_GLOBALS)

from metta.sf_integration.supervisor import join_run as _join_run  # noqa: E402

_join_run()
