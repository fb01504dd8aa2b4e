"""Sample Factory's batched sampling needs a worker's trajectories per iteration and a training iteration's to
divide one another; the trainer says so, with what would fit, before Sample Factory's own assertion would fire."""
import pytest

from metta.errors import UsageError
from metta.sf_integration.train import check_batches


class Cfg(dict):
    __getattr__ = dict.__getitem__


DEFAULTS = dict(batched_sampling=True, num_batches_per_epoch=1, batch_size=1536, rollout=32, num_envs_per_worker=2,
                worker_num_splits=2)


def test_twelve_agent_envs_need_another_vector_envs():
    # 6 envs of 12 agents: 72 trajectories a worker iteration against 1536 / 32 = 48 a training iteration
    with pytest.raises(UsageError) as err:
        check_batches(Cfg(DEFAULTS, vector_envs=6), 12)
    msg = str(err.value)
    assert "collects 72" in msg and "takes 48" in msg and "--vector_envs=1, 2, 4, 8, 12, 16 would" in msg
    for k in (1, 2, 4, 8, 12, 16):     # 12k trajectories: 48 divides 12k or 12k divides 48
        check_batches(Cfg(DEFAULTS, vector_envs=k), 12)


def test_the_defaults_fit_24_agent_envs_and_unbatched_sampling_is_not_checked():
    check_batches(Cfg(DEFAULTS, vector_envs=6), 24)                          # 144 and 48
    check_batches(Cfg(DEFAULTS, vector_envs=6, batched_sampling=False), 12)
