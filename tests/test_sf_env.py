"""The Sample Factory side without training: the env contract, its features and stats, flags, checkpoint checks."""
import os

import numpy as np
import pytest

from conftest import config_error

LEVEL = "W W W W W W\nW A1 a . A2 W\nW . . . . W\nW W W W W W"


def sf_env(batched=True, **kwargs):
    from metta import make_env
    from metta.sf_integration.env import MettaSFEnv

    return MettaSFEnv([make_env("metta-teams", **kwargs)], batched=batched)


def plain_env(**kwargs):
    from metta import make_env

    return make_env("metta-teams", **kwargs)


def test_batched_contract_matches_the_plain_env_and_auto_resets():
    kw = dict(width=12, height=12, num_agents=4, team_size=2, generators=4, chargers=2, altars=2, max_steps=25)
    env, ref = sf_env(**kw), plain_env(**kw)
    assert env.num_agents == 4 and env.is_multiagent
    obs, _ = env.reset(seed=7)
    ref_obs, _ = ref.reset(seed=7)
    assert env.observation_space["obs"].contains(obs["obs"][0])
    assert obs["self"].shape == (4,) + env.observation_space["self"].shape
    rng = np.random.default_rng(0)
    for t in range(25):
        actions = rng.integers(env.action_space.n, size=4)
        obs, rew, term, trunc, infos = env.step(actions)
        ref_obs, ref_rew, _, ref_trunc, ref_infos = ref.step(dict(zip(ref.possible_agents, actions.tolist())))
        assert np.allclose(rew, [ref_rew[a] for a in ref.possible_agents])
        assert list(trunc) == [ref_trunc[a] for a in ref.possible_agents]
        if t < 24:
            assert np.array_equal(obs["obs"], np.stack([ref_obs[a] for a in ref.possible_agents]))
            assert infos == {}
    # final step: the episode's metrics as per-agent tensors, and already the next episode's first observation
    social = infos["social"]
    for name in ("hearts", "attacks_on_kin", "gifts_to_strangers", "shield_steps", "raw_reward"):
        # float32 tensors: a reward of 0.1 reads back as float32's nearest
        assert social[name].tolist() == pytest.approx([float(ref_infos[a]["episode"][name])
                                                       for a in ref.possible_agents], rel=1e-6)
    assert "reward" not in social  # Sample Factory reports the episode reward itself
    ref_obs, _ = ref.reset()
    assert np.array_equal(obs["obs"], np.stack([ref_obs[a] for a in ref.possible_agents]))
    # new episode: last action "wait", no reward
    assert (obs["self"][:, 21] == 1).all() and not obs["self"][:, 22:].any()


def test_self_features_are_own_state_last_action_and_last_reward():
    from metta import make_env
    from metta.sf_integration.env import MettaSFEnv

    env = MettaSFEnv([make_env("metta-solo", level=LEVEL, overrides={"altar_cost": 10})], batched=True)
    metta_env = env.envs[0]
    names = metta_env.channel_names
    obs, _ = env.reset(seed=0)
    rotate_right, use = metta_env.engine.action_index("rotate", 3), metta_env.engine.action_index("use")
    obs, *_ = env.step(np.array([rotate_right, 0]))
    obs, rew, *_ = env.step(np.array([use, 0]))
    assert rew[0] > 0  # agent 0 powered the altar on its right
    truth = metta_env.agent_variables()
    feats = obs["self"]
    for i in range(2):
        for var in ("energy", "max_energy", "inventory", "shield", "frozen"):
            assert feats[i, names.index(var)] == truth[i][var]
    n_ch = len(names)
    assert feats[0, n_ch + use] == 1 and feats[0, n_ch:n_ch + env.action_space.n].sum() == 1
    assert feats[1, n_ch + 0] == 1
    assert feats[0, -1] == rew[0] and feats[1, -1] == 0


def test_vector_envs_step_side_by_side_and_report_each_episode():
    from metta import make_env
    from metta.sf_integration.env import MettaSFEnv

    kw = dict(width=10, height=10, num_agents=2, team_size=2, generators=2, chargers=1, altars=1)
    env = MettaSFEnv([make_env("metta-teams", max_steps=3, **kw), make_env("metta-teams", max_steps=5, **kw)],
                     batched=True)
    refs = [plain_env(max_steps=3, **kw), plain_env(max_steps=5, **kw)]
    assert env.num_agents == 4
    obs, _ = env.reset(seed=4)
    ref_obs = [r.reset(seed=8 + i)[0] for i, r in enumerate(refs)]  # env i of slot 4 plays seed 4 * 2 + i
    assert np.array_equal(obs["obs"], np.stack([o[a] for o in ref_obs for a in sorted(o)]))
    for t in range(3):
        obs, rew, term, trunc, infos = env.step(np.full(4, 7))
    assert list(trunc) == [True, True, False, False]
    assert set(infos["social"]["hearts"].shape) == {4}
    for _ in range(2):
        obs, rew, term, trunc, infos = env.step(np.zeros(4, dtype=int))
    assert list(trunc) == [False, False, True, True] and "social" in infos


def test_non_batched_contract_gives_lists_and_episode_extra_stats():
    env = sf_env(batched=False, width=10, height=10, num_agents=2, team_size=2, generators=2, chargers=1, altars=1,
                 max_steps=3)
    obs, infos = env.reset(seed=0)
    assert isinstance(obs, list) and len(obs) == 2 and set(obs[0]) == {"obs", "self"}
    for _ in range(3):
        obs, rew, term, trunc, infos = env.step([0, 0])
    assert isinstance(rew, list) and trunc == [True, True]
    stats = infos[1]["episode_extra_stats"]
    assert stats["social/hearts"] == 0.0 and stats["social/shield_steps"] == 0.0 and "social/reward" not in stats


@pytest.mark.parametrize("batched", [True, False])
def test_action_shares_per_episode_count_each_agents_action_types(batched):
    env = sf_env(batched=batched, width=10, height=10, num_agents=2, team_size=2, generators=2, chargers=1,
                 altars=1, max_steps=4)
    engine = env.envs[0].engine
    use, fwd, back, left = (engine.action_index("use"), engine.action_index("move", 1), engine.action_index("move", 2),
                            engine.action_index("rotate", 1))
    env.reset(seed=0)
    for a0, a1 in [(use, 0), (use, left), (fwd, left), (0, back)]:
        *_, infos = env.step(np.array([a0, a1]))
    expected = [{"noop": 0.25, "use": 0.5, "move": 0.25}, {"noop": 0.25, "rotate": 0.5, "move": 0.25}]
    for i, want in enumerate(expected):
        got = ({t: float(v[i]) for t, v in infos["actions"].items()} if batched else
               {k.split("/")[1]: v for k, v in infos[i]["episode_extra_stats"].items() if k.startswith("actions/")})
        assert set(got) == set(env.action_types) and "attack" in got
        assert {t: v for t, v in got.items() if v} == want
    # the next episode counts afresh
    for _ in range(4):
        *_, infos = env.step(np.array([use, use]))
    got = infos["actions"]["use"].tolist() if batched else [infos[i]["episode_extra_stats"]["actions/use"]
                                                             for i in range(2)]
    assert got == [1.0, 1.0]


def test_flags_become_the_env_config(tmp_path):
    """The old undotted spellings still work (--width, --beta_a, --override...)."""
    from metta.env.presets import PRESETS
    from metta.sf_integration.config import env_config_from_cfg
    from metta.sf_integration.train import parse_args, register_components

    register_components()
    level = tmp_path / "level.txt"
    level.write_text(LEVEL)
    cfg = parse_args(["--env=metta-kin", "--override", "attack.cost=20", "--override=altar_cost=50",
                      "--width=12", "--beta_a=2", "--kinship_noise=0.3", f"--level={level}", "--max_steps=9",
                      "--bodies=light=1,heavy=2"])
    assert cfg.experiment == "metta-kin"  # named after the env unless given
    config = env_config_from_cfg(cfg)
    assert config == PRESETS["metta-kin"].override(dict(overrides={"attack.cost": 20, "altar_cost": 50}, width=12,
                                                        a=2.0, kinship_noise=0.3, level=LEVEL, max_steps=9,
                                                        bodies={"light": 1.0, "heavy": 2.0}))
    assert cfg.env_config == config.model_dump(mode="json")
    from metta import make_env

    env = make_env(config)
    assert env.game.value("attack_cost") == 20 and env.max_steps == 9 and env.society.a == 2.0


@pytest.mark.parametrize("cuda", [False, True])
def test_the_defaults_follow_whether_torch_sees_a_gpu(cuda, monkeypatch):
    """The device rule (metta/sf_integration/train.py): the GPU defaults when torch sees CUDA (a rollout worker per
    core, a wider model, bigger batches), the 2-core CPU defaults otherwise; a flag on the command line wins."""
    import multiprocessing

    import torch

    from metta.sf_integration.train import parse_args, register_components

    register_components()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    cfg = parse_args(["--env=metta-teams"])
    if cuda:
        expected = dict(device="gpu", num_workers=max(2, multiprocessing.cpu_count()), batch_size=8192,
                        num_batches_per_epoch=2, rnn_size=512, encoder_conv_mlp_layers=[512], encoder_mlp_layers=[128])
    else:
        expected = dict(device="cpu", num_workers=2, batch_size=1536, num_batches_per_epoch=1, rnn_size=128,
                        encoder_conv_mlp_layers=[128], encoder_mlp_layers=[64])
    # the same either way
    expected.update(batched_sampling=True, num_envs_per_worker=2, worker_num_splits=2, vector_envs=6, rollout=32,
                    learning_rate=3e-4)
    assert {k: getattr(cfg, k) for k in expected} == expected
    other = "cpu" if cuda else "gpu"
    flagged = parse_args(["--env=metta-teams", f"--device={other}", "--batch_size=256"])
    assert (flagged.device, flagged.batch_size, flagged.rnn_size) == (other, 256, expected["rnn_size"])


@pytest.mark.parametrize("argv,words", [
    (["--env=metta-team"], ["unknown environment", "metta-teams"]),
    (["--env=metta-teams", "--override", "attack.cost"], ["--game.overrides", "NAME=INTEGER"]),
    (["--env=metta-teams", "--override", "attack_cots=3"], ["attack_cots"]),
    (["--env=metta-teams", "--width=2"], ["width"]),
    (["--env=metta-teams", "--level=/nonexistent/level.txt"], ["/nonexistent/level.txt"]),
    (["--env=metta-teams", "--game=/nonexistent/game.yaml"], ["/nonexistent/game.yaml"]),
    (["--env=metta-teams", "--action_prior=1.5"], ["--action_prior", "1.5"]),
    (["--env=metta-teams", "--num_envs_per_worker=4"], ["--vector_envs", "--batched_sampling=False"]),
])
def test_bad_input_is_one_clear_line(argv, words, tmp_path, capsys):
    from metta.sf_integration.train import main

    assert main(argv + [f"--train_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]  # after Sample Factory's own log
    assert len(errors) == 1 and "Traceback" not in err, err
    for w in words:
        assert w in errors[0], err
    assert not os.listdir(tmp_path)  # nothing written for a run that never started


def test_checkpoint_checks(tmp_path):
    from metta.sf_integration.checkpoints import load_checkpoint, prepare_resume

    exp = tmp_path / "exp"
    (exp / "checkpoint_p0").mkdir(parents=True)
    bad = exp / "checkpoint_p0" / "checkpoint_000000001_100.pth"
    bad.write_bytes(b"\x00" * 64)
    with config_error(str(bad), "not a readable checkpoint"):
        load_checkpoint(str(bad))
    with config_error(str(exp), "no config.json"):
        prepare_resume(str(exp))
    (exp / "config.json").write_text('{"env": "metta-teams"}')
    with config_error("no readable checkpoint", str(bad)):
        prepare_resume(str(exp))
    assert bad.read_bytes() == b"\x00" * 64
    assert prepare_resume(str(tmp_path / "new")) == {}  # a new experiment


def test_numpy_scalars_in_checkpoints_load_weights_only(tmp_path):
    """Sample Factory stores best_performance as a numpy float32; resume must read it with weights_only."""
    import torch

    from metta.sf_integration.checkpoints import load_checkpoint

    path = tmp_path / "checkpoint_000000001_10.pth"
    torch.save({"model": {"w": torch.ones(2)}, "env_steps": 10, "best_performance": np.float32(1.5)}, path)
    assert load_checkpoint(str(path))["best_performance"] == np.float32(1.5)
    assert torch.load(path, weights_only=True)["env_steps"] == 10  # as Sample Factory's learner loads it


def test_action_prior_sets_the_untrained_policy():
    import torch

    from metta.sf_integration.env import observation_space
    from metta.sf_integration.model import make_metta_actor_critic, prior_logits
    from metta.sf_integration.train import parse_args, register_components

    register_components()
    env = plain_env()
    types = [a.name for a in env.engine.actions]
    logits = prior_logits(types, 0.05)
    p = np.exp(logits) / np.exp(logits).sum()
    by_type = {t: p[[i for i, u in enumerate(types) if u == t]] for t in set(types)}
    for t in ("noop", "move", "rotate", "use"):  # each basic type 0.95 / 4, shared equally by its inputs
        assert np.isclose(by_type[t].sum(), 0.95 / 4) and np.allclose(by_type[t], by_type[t][0])
    assert np.isclose(sum(v.sum() for t, v in by_type.items() if t not in ("noop", "move", "rotate", "use")), 0.05)
    assert prior_logits(types, 0) is None
    cfg = parse_args(["--env=metta-teams"])
    cfg.action_prior_logits = logits
    model = make_metta_actor_critic(cfg, observation_space(env, "hwc"), env.action_space("agent_0"))
    bias = model.action_parameterization.distribution_linear.bias.detach()
    assert torch.allclose(bias, torch.tensor(logits, dtype=torch.float32))


def test_objects_and_layout_flags_and_a_new_counter_reach_the_stats(tmp_path):
    """--objects places a new game's object, --layout maze makes a maze; the game's own new counter reaches
    Sample Factory's stats as social/trees_used with no code that names it."""
    from metta import make_env
    from metta.sf_integration.config import env_config_from_cfg
    from metta.sf_integration.env import MettaSFEnv
    from metta.sf_integration.train import parse_args, register_components
    from tree_game import write_tree_game

    register_components()
    cfg = parse_args(["--env=metta-solo", f"--game={write_tree_game(tmp_path)}", "--objects", "tree=3,altar=1",
                      "--objects=generator=2", "--layout=maze", "--width=11", "--height=11", "--num_agents=2",
                      "--max_steps=3"])
    config = env_config_from_cfg(cfg)
    assert config.map.objects == {"tree": 3, "altar": 1, "generator": 2} and config.map.layout == "maze"
    env = MettaSFEnv([make_env(config)], batched=True)
    tokens = env.envs[0].level.split()
    assert (tokens.count("t"), tokens.count("a"), tokens.count("g")) == (3, 1, 2)
    env.reset(seed=0)
    for _ in range(3):
        *_, infos = env.step(np.zeros(2, dtype=np.int64))
    assert infos["social"]["trees_used"].tolist() == [0.0, 0.0]    # nobody used a tree: they only waited
    # the counter rises: on a fixed level agent 1 faces a tree (agents start facing up) and uses it twice, agent 2
    # waits; the logged value is the count, read from Griddly through the same flags
    level = tmp_path / "tree_level.txt"
    level.write_text("W W W W W\nW t . . W\nW A1 . A2 W\nW W W W W\n")
    cfg = parse_args(["--env=metta-solo", f"--game={write_tree_game(tmp_path)}", f"--level={level}",
                      "--max_steps=3"])
    env = MettaSFEnv([make_env(env_config_from_cfg(cfg))], batched=True)
    env.reset(seed=0)
    plain = env.envs[0]
    use, wait = plain.engine.action_index("use", 1), 0
    for actions in ([use, wait], [use, wait], [wait, wait]):
        *_, infos = env.step(np.array(actions, dtype=np.int64))
    assert infos["social"]["trees_used"].tolist() == [2.0, 0.0]
