"""A model shared through the Hub is one the project's policy loader runs: download, install, evaluate.

The experiment is the project's own actor-critic (Sample Factory's model factory with the Metta encoder) under the
config the training entry point parses, saved in Sample Factory's layout; it goes up to a Hub-compatible server on
loopback with save, comes back with load; ``load_policy`` rebuilds the same weights and ``evaluate`` plays it in the
env it trained on.
"""
from __future__ import annotations

import json
import os

import torch

from test_hub import ENV, quiet, server  # noqa: F401  (the loopback Hub fixture)


def project_experiment(train_dir: str, name: str) -> dict:
    """What ``python -m metta.sf_integration.train`` leaves before its first update: config.json and a checkpoint
    of the freshly initialised model. Returns the model's state dict."""
    from metta import make_env
    from metta.sf_integration.config import env_config_from_cfg
    from metta.sf_integration.env import observation_space
    from metta.sf_integration.model import architecture
    from metta.sf_integration.train import parse_args, register_components
    from sample_factory.cfg.arguments import cfg_dict
    from sample_factory.model.actor_critic import create_actor_critic

    cfg = parse_args([f"--env={ENV}", f"--experiment={name}", f"--train_dir={train_dir}", "--width=12",
                      "--height=12", "--num_agents=4", "--generators=2", "--chargers=1", "--altars=1"])
    register_components()
    env = make_env(env_config_from_cfg(cfg))
    torch.manual_seed(0)
    model = create_actor_critic(cfg, observation_space(env, architecture(cfg).layout),
                                env.action_space(env.possible_agents[0]))
    env.close()
    exp_dir = os.path.join(train_dir, name)
    os.makedirs(os.path.join(exp_dir, "checkpoint_p0"))
    with open(os.path.join(exp_dir, "config.json"), "w") as f:
        json.dump(cfg_dict(cfg), f, indent=2)
    torch.save({"train_step": 3, "env_steps": 1536, "best_performance": -1e9, "model": model.state_dict(),
                "optimizer": torch.optim.Adam(model.parameters()).state_dict(), "curr_lr": 3e-4},
               os.path.join(exp_dir, "checkpoint_p0", "checkpoint_000000003_1536.pth"))
    return model.state_dict()


def test_downloaded_model_is_installed_and_evaluated_by_load_policy(server, tmp_path):  # noqa: F811
    from metta import hub
    from metta.evals.evaluate import evaluate
    from metta.sf_integration.policy import load_policy

    weights = project_experiment(str(tmp_path / "alice"), "small-teams")
    hub.save("small-teams", "lab/small-teams", str(tmp_path / "alice"), out=quiet)
    train_dir = str(tmp_path / "bob")
    hub.load("lab/small-teams", train_dir, experiment="baseline", out=quiet)

    policy = load_policy("baseline", train_dir=train_dir)
    assert policy.env_name == ENV and policy.env_config.map.width == 12 and policy.env_config.map.num_agents == 4
    loaded = policy.model.state_dict()
    assert loaded.keys() == weights.keys() and all(torch.equal(loaded[k], weights[k]) for k in weights)

    # and the evaluation entry point plays it, from nothing but the installed experiment
    stats = evaluate(None, experiment="baseline", train_dir=train_dir, max_steps=8, tile_size=8, gif=False,
                     progress=False)
    assert (stats["env"], stats["policy"]) == (ENV, "trained")
    assert [e["steps"] for e in stats["episodes"]] == [8] and len(stats["episodes"][0]["agents"]) == 4
    assert os.path.isfile(os.path.join(train_dir, "baseline", "eval", f"{ENV}.mp4"))


def test_a_model_trained_before_dotted_keys_travels_and_plays(server, tmp_path):  # noqa: F811
    """An experiment whose config.json predates dotted keys (tests/fixtures/config_v1.json: the kin dilemma, the
    older flag names and map fields) is published, installed from the Hub and played, with its own weights."""
    from test_config_override import old_config

    from metta import hub, make_env
    from metta.evals.evaluate import evaluate
    from metta.sf_integration.env import observation_space
    from metta.sf_integration.model import architecture
    from metta.sf_integration.policy import load_policy
    from metta.sf_integration.train import parse_args, register_components
    from sample_factory.model.actor_critic import create_actor_critic

    alice = tmp_path / "alice"
    cfg = old_config(alice)
    assert "game.path" not in cfg and cfg["env_config"]["map"]["generators"] is None  # the older spelling
    register_components()
    parsed = parse_args([f"--env={cfg['env']}", "--experiment=weights"])  # the same model: the preset's, flat
    env = make_env(cfg["env"])
    torch.manual_seed(0)
    model = create_actor_critic(parsed, observation_space(env, architecture(parsed).layout),
                                env.action_space(env.possible_agents[0]))
    env.close()
    exp_dir = alice / cfg["experiment"]
    (exp_dir / "checkpoint_p0").mkdir(parents=True)
    (exp_dir / "config.json").write_text(json.dumps(cfg, indent=2))
    torch.save({"train_step": 3, "env_steps": 1536, "best_performance": -1e9, "model": model.state_dict(),
                "optimizer": torch.optim.Adam(model.parameters()).state_dict(), "curr_lr": 3e-4},
               exp_dir / "checkpoint_p0" / "checkpoint_000000003_1536.pth")

    hub.save(cfg["experiment"], "lab/old-kin", str(alice), out=quiet)
    bob = str(tmp_path / "bob")
    hub.load("lab/old-kin", bob, experiment="old", out=quiet)
    policy = load_policy("old", train_dir=bob)
    assert policy.env_name == "metta-kin-dilemma" and policy.env_config.map.num_agents == 12
    loaded, weights = policy.model.state_dict(), model.state_dict()
    assert loaded.keys() == weights.keys() and all(torch.equal(loaded[k], weights[k]) for k in weights)
    stats = evaluate(None, experiment="old", train_dir=bob, max_steps=6, tile_size=8, gif=False, progress=False)
    assert [e["steps"] for e in stats["episodes"]] == [6] and len(stats["episodes"][0]["agents"]) == 12
