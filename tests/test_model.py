"""The policy's architectures: encoders, the channel normaliser against hand computation, the observation layouts,
and checkpoints that only ever load into the architecture they were trained with."""
import json
import os

import numpy as np
import pytest
import torch

from conftest import config_error

SMALL = ["--width=12", "--height=12", "--num_agents=4", "--generators=2", "--chargers=1", "--altars=1"]


def small_env():
    from metta import make_env

    return make_env("metta-teams", width=12, height=12, num_agents=4, generators=2, chargers=1, altars=1)


@pytest.mark.parametrize("arch", ["flat", "conv"])
def test_encoder_shapes_follow_the_flags(arch):
    from metta.sf_integration.env import observation_space
    from metta.sf_integration.model import ARCHITECTURES, ENCODERS, make_metta_encoder
    from metta.sf_integration.train import parse_args

    cfg = parse_args(["--env=metta-teams", f"--architecture={arch}", "--encoder_conv_mlp_layers", "64",
                      "--encoder_mlp_layers", "16"])
    space = observation_space(small_env(), ARCHITECTURES[arch].layout)
    enc = make_metta_encoder(cfg, space)
    assert type(enc) is ENCODERS[arch]
    x = {k: torch.zeros((3,) + s.shape) for k, s in space.items()}
    assert enc(x).shape == (3, 80) and enc.get_out_size() == 80


def test_flat_cell_embedding_flag_sets_the_embedding():
    from metta.sf_integration.env import observation_space
    from metta.sf_integration.model import make_metta_encoder
    from metta.sf_integration.train import parse_args

    cfg = parse_args(["--env=metta-teams", "--architecture=flat", "--cell_embedding=3"])
    enc = make_metta_encoder(cfg, observation_space(small_env(), "hwc"))
    assert enc.embed.out_features == 3 and enc.grid_mlp[0].in_features == 11 * 11 * 3


def test_channel_normalizer_matches_hand_computed_statistics():
    """Running per-channel mean and variance over the first quarter of every training batch, pooled; applied as
    (x - mean) / max(std, MIN_STD); eval mode reads the statistics without changing them."""
    from gymnasium import spaces

    from metta.sf_integration.model import ChannelNormalizer

    space = spaces.Dict({"obs": spaces.Box(0, 255, (3, 3, 4), dtype=np.uint8),
                         "self": spaces.Box(-np.inf, np.inf, (2,), dtype=np.float32)})
    norm = ChannelNormalizer(space).train()
    rng = np.random.default_rng(0)
    batches = [rng.integers(0, 6, size=(8, 3, 3, 4)).astype(np.uint8) for _ in range(3)]
    batches[0][..., 3] = 0                  # a channel constant at first: its std floors at MIN_STD
    seen = []
    for b in batches:
        out = norm({"obs": torch.from_numpy(b), "self": torch.ones(8, 2)})
        seen.append(b[:2].reshape(-1, 4).astype(np.float64))   # the first 8 // 4 = 2 samples of each batch
    rows = np.concatenate(seen)
    mean, var = rows.mean(0), rows.var(0)
    assert np.allclose(norm.grid_mean.numpy(), mean) and np.allclose(norm.grid_var.numpy(), var)
    assert norm.grid_count.item() == len(rows)
    expected = (batches[-1].astype(np.float64) - mean) / np.maximum(np.sqrt(var), ChannelNormalizer.MIN_STD)
    assert np.allclose(out["obs"].numpy(), expected, atol=1e-5)
    assert out["obs"].dtype == torch.float32
    norm.eval()
    again = norm({"obs": torch.from_numpy(batches[0]), "self": torch.ones(8, 2)})
    assert norm.grid_count.item() == len(rows)  # unchanged in eval mode
    assert np.allclose(again["obs"].numpy(), (batches[0] - mean) / np.maximum(np.sqrt(var), 0.2), atol=1e-5)


def test_hwc_layout_is_the_env_window_channels_last_without_a_copy():
    from metta import make_env
    from metta.sf_integration.env import MettaSFEnv

    kw = dict(width=12, height=12, num_agents=4, generators=2, chargers=1, altars=1, max_steps=30)
    cwh = MettaSFEnv([make_env("metta-teams", **kw)], batched=True, layout="cwh")
    hwc = MettaSFEnv([make_env("metta-teams", **kw)], batched=True, layout="hwc")
    a, _ = cwh.reset(seed=3)
    b, _ = hwc.reset(seed=3)
    rng = np.random.default_rng(1)
    for _ in range(10):
        assert np.array_equal(b["obs"], a["obs"].transpose(0, 3, 2, 1))
        assert np.array_equal(a["self"], b["self"])
        assert hwc.observation_space["obs"].shape == b["obs"].shape[1:] and b["obs"].flags.c_contiguous
        assert np.shares_memory(b["obs"], hwc.batch.grid)
        actions = rng.integers(cwh.action_space.n, size=4)
        a, *_ = cwh.step(actions)
        b, *_ = hwc.step(actions)


def test_resume_keeps_the_saved_architecture():
    from metta.sf_integration.model import check_resume

    assert check_resume({}, {"env": "metta-teams"}) == "conv"        # a config.json from before the option
    assert check_resume({}, {"env": "metta-teams", "architecture": "flat"}) == "flat"
    assert check_resume({"architecture": "conv"}, {"env": "metta-teams"}) == "conv"
    with config_error("--architecture=flat", "'conv'", "--experiment"):
        check_resume({"architecture": "flat"}, {"env": "metta-teams"})


def test_a_resumed_run_with_another_architecture_stops_before_training(tmp_path):
    from metta.sf_integration.train import parse_args, train

    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "config.json").write_text(json.dumps({"env": "metta-teams", "architecture": "conv"}))
    cfg = parse_args(["--env=metta-teams", "--experiment=exp", f"--train_dir={tmp_path}", "--architecture=flat"])
    with config_error("--architecture=flat", "'conv'"):
        train(cfg)
    assert sorted(os.listdir(exp)) == ["config.json"]


def write_experiment(train_dir: str, arch: str | None, name: str = "exp") -> dict:
    """config.json and a checkpoint of a freshly initialised model of ``arch`` (None: a config.json written before
    --architecture existed, whose model is conv)."""
    from sample_factory.cfg.arguments import cfg_dict
    from sample_factory.model.actor_critic import create_actor_critic

    from metta.sf_integration.config import env_config_from_cfg
    from metta.sf_integration.env import observation_space
    from metta.sf_integration.model import architecture
    from metta.sf_integration.train import parse_args, register_components
    from metta import make_env

    cfg = parse_args(["--env=metta-teams", f"--experiment={name}", f"--train_dir={train_dir}",
                      f"--architecture={arch or 'conv'}", *SMALL])
    register_components()
    env = make_env(env_config_from_cfg(cfg))
    model = create_actor_critic(cfg, observation_space(env, architecture(cfg).layout),
                                env.action_space(env.possible_agents[0]))
    env.close()
    saved = cfg_dict(cfg)
    if arch is None:
        del saved["architecture"], saved["cell_embedding"]
    exp_dir = os.path.join(train_dir, name)
    os.makedirs(os.path.join(exp_dir, "checkpoint_p0"))
    with open(os.path.join(exp_dir, "config.json"), "w") as f:
        json.dump(saved, f)
    torch.save({"train_step": 1, "env_steps": 10, "model": model.state_dict()},
               os.path.join(exp_dir, "checkpoint_p0", "checkpoint_000000001_10.pth"))
    return model.state_dict()


@pytest.mark.parametrize("arch", ["flat", "conv", None])
def test_a_checkpoint_loads_into_its_own_architecture_and_acts(tmp_path, arch):
    from metta.sf_integration.policy import load_policy

    weights = write_experiment(str(tmp_path), arch)
    policy = load_policy("exp", train_dir=str(tmp_path))
    assert policy.cfg.architecture == (arch or "conv")
    loaded = policy.model.state_dict()
    assert all(torch.equal(loaded[k], weights[k]) for k in weights)
    env = policy.make_env(seed=0)
    obs, _ = env.reset(seed=0)
    policy.reset(len(env.possible_agents))
    actions = policy.act(obs)
    assert sorted(actions) == sorted(env.possible_agents)
    assert all(0 <= a < env.action_space(k).n for k, a in actions.items())


def test_a_checkpoint_of_another_architecture_is_a_clear_error(tmp_path):
    from metta.sf_integration.checkpoints import CheckpointError
    from metta.sf_integration.policy import load_policy

    write_experiment(str(tmp_path), "conv")
    path = tmp_path / "exp" / "config.json"
    cfg = json.loads(path.read_text())
    cfg["architecture"] = "flat"
    path.write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError) as err:
        load_policy("exp", train_dir=str(tmp_path))
    assert "holds conv weights" in str(err.value) and "'flat'" in str(err.value)
