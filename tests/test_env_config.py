"""The env's typed config: presets, dump and load, errors that name the key, Sample Factory's flags, old config.json."""
import json
import os

import numpy as np
import pytest

from conftest import config_error
from metta import make_env
from metta.env.backends import BACKENDS, register_backend
from metta.env.config import BodiesConfig, EnvConfig, GameConfig, MapConfig
from metta.env.presets import PRESETS
from metta.griddly_ext.gdy import DEFAULT_GAME
from metta.society.kinship import STRUCTURES, Clans, MixedTeams, RandomKinship, Selfish, Teams

SMALL = dict(width=12, height=12, num_agents=4)


def test_presets_are_configs_with_todays_values():
    default_map = MapConfig(width=40, height=40, num_agents=24, wall_density=0.05, rooms=0)
    expected = {
        "metta-solo": Selfish(),
        "metta-teams": Teams(team_size=4, team_reward=0.8),
        "metta-kin": RandomKinship(a=1.0, b=1.0),
        "metta-clans": Clans(family_size=2, families_per_clan=2, clans_per_hive=2, w_family=0.8, w_clan=0.5,
                             w_hive=0.2, w_stranger=0.0),
    }
    assert list(PRESETS) == [*expected, "metta-dilemma", "metta-kin-dilemma"]
    for name, kinship in expected.items():
        assert PRESETS[name] == EnvConfig(game=GameConfig(path=DEFAULT_GAME), map=default_map, kinship=kinship,
                                          bodies=BodiesConfig(), obs_backend="numba", max_steps=None, level=None)
    # docs/dilemma.md: its own game, 24 agents on 30x30, teams of 4 pooling all reward, no bond sharing
    assert PRESETS["metta-dilemma"] == EnvConfig(
        game=GameConfig(path=os.path.join(os.path.dirname(DEFAULT_GAME), "dilemma.yaml")),
        map=MapConfig(width=30, height=30, num_agents=24, wall_density=0.05, rooms=0),
        kinship=Teams(team_size=4, team_reward=1.0, bond_share=0.0))
    # docs/dilemma.md, the kin dilemma: 12 agents on 17x17, no walls inside, 4 teams of 3, arms alpha 0 and 1
    assert PRESETS["metta-kin-dilemma"] == EnvConfig(
        game=GameConfig(path=os.path.join(os.path.dirname(DEFAULT_GAME), "kin_dilemma.yaml")),
        map=MapConfig(width=17, height=17, num_agents=12, wall_density=0.0, rooms=0),
        kinship=MixedTeams(num_teams=4, arms=[0.0, 1.0], bond_share=0.0))


@pytest.mark.parametrize("config", [
    *PRESETS.values(),
    PRESETS["metta-teams"].override(dict(num_teams=3, overrides={"attack.cost": 7}, bodies={"light": 1, "heavy": 2},
                                         objects={"altar": 3}, layout="maze", max_steps=50, obs_backend="numpy",
                                         kinship_noise=0.2)),
    PRESETS["metta-kin"].override(dict(kinship={"structure": "clans", "w_stranger": 0.1},
                                       level="W W W\nW A1 W\nW W W")),
])
def test_a_config_dumps_to_json_and_loads_back_equal(config):
    text = json.dumps(config.model_dump(mode="json"))
    assert EnvConfig.model_validate(json.loads(text)) == config


def test_a_config_builds_the_same_env_as_the_keywords():
    by_keywords = make_env("metta-clans", seed=4, w_stranger=0.1, **SMALL)
    config = PRESETS["metta-clans"].override(dict(w_stranger=0.1, **SMALL))
    by_config = make_env(EnvConfig.model_validate(config.model_dump(mode="json")), seed=4)
    for env in (by_keywords, by_config):
        env.reset(seed=1)
    assert by_keywords.level == by_config.level
    np.testing.assert_array_equal(by_keywords.kinship, by_config.kinship)
    assert by_config.config == config and by_keywords.config == config


def test_another_structure_keeps_the_shared_parameters_and_drops_the_presets_own():
    base = PRESETS["metta-teams"].override(dict(kinship_noise=0.3))
    changed = base.override(dict(kinship={"structure": "random", "a": 2.0}))
    assert changed.kinship == RandomKinship(a=2.0, kinship_noise=0.3)
    assert PRESETS["metta-teams"].override(dict(num_teams=3)).kinship == Teams(num_teams=3, team_reward=0.8)


@pytest.mark.parametrize("data, words", [
    ({"map": {"widht": 3}}, ["unknown key map.widht", "width"]),
    ({"colour": 1}, ["unknown key colour"]),
    ({"kinship": {"structure": "teams", "team_size": 2, "a": 1.0}}, ["unknown key kinship.a", "'teams'"]),
    ({"kinship": {"structure": "tribes"}},
     ["kinship.structure", "tribes", "selfish, teams, mixed_teams, random, clans"]),
    ({"map": {"width": "12"}}, ["map.width must be an integer, got '12'"]),
    ({"map": {"width": 2}}, ["map.width and map.height must be at least 3"]),
    ({"map": {"layout": "spiral"}}, ["map.layout", "'spiral'"]),
    ({"kinship": {"structure": "teams", "team_reward": 1.5}}, ["team_reward", "[0, 1]"]),
    ({"game": {"overrides": {"attack.cost": 1.5}}}, ["game.overrides.attack.cost must be an integer"]),
    ({"obs_backend": "cuda"}, ["obs_backend must be one of", "numba", "griddly", "'cuda'"]),
    ({"max_steps": 0}, ["max_steps must be a positive integer"]),
    ({"bodies": {"mix": {"giant": 1}}}, ["unknown profile 'giant'"]),
])
def test_a_bad_value_is_a_config_error_naming_the_key(data, words):
    with config_error(*words):
        EnvConfig.model_validate(data)


def test_a_kinship_without_structure_is_selfish_and_make_env_refuses_what_is_no_config():
    assert EnvConfig.model_validate({"kinship": {"kin_threshold": 0.7}}).kinship == Selfish(kin_threshold=0.7)
    with config_error("EnvConfig or a preset's name"):
        make_env(42)


def test_a_registered_backend_is_a_valid_obs_backend():
    from metta.griddly_ext.windows import NumpyWindows

    assert list(BACKENDS) == ["numba", "numpy", "vulkan", "griddly"]
    register_backend("numpy-again", NumpyWindows)
    try:
        env = make_env("metta-solo", seed=0, obs_backend="numpy-again", **SMALL)
        ref = make_env("metta-solo", seed=0, obs_backend="griddly", **SMALL)
        obs, _ = env.reset(seed=0)
        truth, _ = ref.reset(seed=0)
        assert all(np.array_equal(obs[a], truth[a]) for a in obs)
        with pytest.raises(ValueError, match="already registered"):
            register_backend("numpy-again", NumpyWindows)
    finally:
        del BACKENDS["numpy-again"]


# ------------------------------------------------------------------ Sample Factory's flags

def parse(*argv):
    from metta.sf_integration.train import parse_args, register_components

    register_components()
    return parse_args(["--env=metta-teams", "--experiment=cfg-test", "--train_dir=/nonexistent-train-dir", *argv])


def test_dotted_flags_and_their_help():
    from metta.sf_integration.config import env_config_from_cfg

    cfg = parse("--kinship.team_reward=0.5", "--map.width=12", "--map.height=12", "--map.num_agents=4",
                "--game.overrides=attack.cost=20", "--map.layout=maze", "--max_steps=9")
    config = env_config_from_cfg(cfg)
    assert config == PRESETS["metta-teams"].override(dict(team_reward=0.5, overrides={"attack.cost": 20},
                                                          layout="maze", max_steps=9, **SMALL))
    assert cfg.env_config == config.model_dump(mode="json")
    # the old spellings are aliases of the same flags
    old = parse("--team_reward=0.5", "--width=12", "--height=12", "--num_agents=4", "--override=attack.cost=20",
                "--layout=maze", "--max_steps=9")
    assert env_config_from_cfg(old) == config


def test_flag_help_comes_from_the_field_descriptions(capsys):
    with pytest.raises(SystemExit):
        parse("--help")
    out = " ".join(capsys.readouterr().out.split())
    assert "--kinship.team_reward" in out and "--map.wall_density" in out and "--game.path" in out
    assert " ".join(Teams.model_fields["team_reward"].description.split()) in out
    assert " ".join(MapConfig.model_fields["wall_density"].description.split()) in out


@pytest.mark.parametrize("structure", list(STRUCTURES))
def test_every_structures_flags(structure):
    from metta.sf_integration.config import env_config_from_cfg

    cls = STRUCTURES[structure]
    own = {"selfish": ("kinship.kin_threshold", "0.7"), "teams": ("kinship.num_teams", "3"),
           "mixed_teams": ("kinship.num_teams", "4"), "random": ("kinship.a", "2.5"),
           "clans": ("kinship.w_stranger", "0.1")}[structure]
    cfg = parse(f"--kinship.structure={structure}", f"--{own[0]}={own[1]}")
    config = env_config_from_cfg(cfg)
    assert type(config.kinship) is cls
    assert getattr(config.kinship, own[0].split(".")[1]) == type(getattr(config.kinship, own[0].split(".")[1]))(own[1])
    other = {"selfish": "kinship.team_size", "teams": "kinship.a", "mixed_teams": "kinship.team_reward",
             "random": "kinship.family_size", "clans": "kinship.team_reward"}[structure]
    with config_error(other, "not of structure", repr(structure)):
        env_config_from_cfg(parse(f"--kinship.structure={structure}", f"--{other}=1"))


def test_arms_are_a_comma_separated_flag(capsys):
    from metta.sf_integration.config import env_config_from_cfg

    cfg = parse("--kinship.structure=mixed_teams", "--kinship.num_teams=3", "--kinship.arms=0,0.5,1")
    assert env_config_from_cfg(cfg).kinship == MixedTeams(num_teams=3, arms=[0.0, 0.5, 1.0])
    with pytest.raises(SystemExit):
        parse("--kinship.structure=mixed_teams", "--kinship.arms=0,x")
    assert "comma-separated floats" in capsys.readouterr().err


def test_the_beta_parameters_keep_their_old_spelling():
    from metta.sf_integration.config import env_config_from_cfg

    cfg = parse("--kinship.structure=random", "--beta_a=2", "--kinship.b=3")
    assert env_config_from_cfg(cfg).kinship == RandomKinship(a=2.0, b=3.0)


# ------------------------------------------------------------------ config.json

OLD_CONFIG = {  # what config.json held before env_config: the preset and the flat flags
    "env": "metta-teams", "experiment": "old", "seed": 0, "game": None, "override": ["attack.cost=5"],
    "level": None, "max_steps": None, "bodies": "light=1,heavy=1", "obs_backend": "numba", "objects": ["altar=2"],
    "width": 10, "height": 10, "num_agents": 4, "generators": None, "chargers": None, "altars": None,
    "layout": None, "wall_density": None, "rooms": None, "room_size": None, "structure": None, "team_size": 2,
    "num_teams": None, "team_reward": 0.25, "beta_a": None, "beta_b": None, "family_size": None,
    "families_per_clan": None, "clans_per_hive": None, "w_family": None, "w_clan": None, "w_hive": None,
    "w_stranger": None, "bond_share": None, "kinship_noise": 0.1, "kin_threshold": None,
}


def test_an_old_config_json_is_converted_from_its_flags(tmp_path):
    from metta.sf_integration.checkpoints import read_config
    from metta.sf_integration.config import env_config_from_cfg

    (tmp_path / "config.json").write_text(json.dumps(OLD_CONFIG))
    config = env_config_from_cfg(read_config(str(tmp_path)))
    assert config == PRESETS["metta-teams"].override(dict(overrides={"attack.cost": 5}, bodies={"light": 1, "heavy": 1},
                                                          objects={"altar": 2}, width=10, height=10, num_agents=4,
                                                          team_size=2, team_reward=0.25, kinship_noise=0.1))
    make_env(config, seed=0).close()


def test_a_saved_env_config_wins_over_the_flags_and_a_bad_one_says_how_to_migrate(tmp_path):
    from metta.sf_integration.config import env_config_from_cfg

    saved = PRESETS["metta-kin"].override(dict(a=3.0, **SMALL))
    new = {**OLD_CONFIG, "env_config": saved.model_dump(mode="json")}
    assert env_config_from_cfg(new) == saved
    broken = {**new, "env_config": {**new["env_config"], "colour": "red"}}
    with config_error("run.json", "env_config", "unknown key colour", "train anew"):
        env_config_from_cfg(broken, where="run.json")


def test_a_policy_loads_the_env_of_its_config_json(tmp_path):
    """A policy of an old-style experiment (no env_config) and of a new one rebuild the env they trained on."""
    import torch
    from sample_factory.cfg.arguments import cfg_dict
    from sample_factory.model.actor_critic import create_actor_critic

    from metta.sf_integration.env import observation_space
    from metta.sf_integration.model import architecture
    from metta.sf_integration.policy import load_policy

    cfg = parse("--kinship.team_reward=0.3", "--map.width=10", "--map.height=10", "--map.num_agents=4",
                f"--train_dir={tmp_path}", "--experiment=new")
    env = make_env(PRESETS["metta-teams"].override(dict(team_reward=0.3, width=10, height=10, num_agents=4)))
    model = create_actor_critic(cfg, observation_space(env, architecture(cfg).layout),
                                env.action_space(env.possible_agents[0]))
    env.close()
    saved = cfg_dict(cfg)
    old = {k: v for k, v in saved.items() if k != "env_config"}
    old = {{"kinship.team_reward": "team_reward", "map.width": "width", "map.height": "height",
            "map.num_agents": "num_agents"}.get(k, k): v for k, v in old.items() if not ("." in k and v is None)}
    for name, config in (("new", saved), ("old", old)):
        exp = tmp_path / name
        (exp / "checkpoint_p0").mkdir(parents=True)
        (exp / "config.json").write_text(json.dumps({**config, "experiment": name}))
        torch.save({"train_step": 1, "env_steps": 1, "model": model.state_dict()},
                   exp / "checkpoint_p0" / "checkpoint_000000001_1.pth")
        policy = load_policy(name, train_dir=str(tmp_path))
        assert policy.env_config == PRESETS["metta-teams"].override(dict(team_reward=0.3, width=10, height=10,
                                                                         num_agents=4)), name
        env = policy.make_env(seed=0, max_steps=5)
        assert env.society.team_reward == 0.3 and env.max_steps == 5
        env.close()


def test_an_unknown_make_env_keyword_names_the_closest_key():
    with config_error("unknown key teamsize", "did you mean team_size (kinship.team_size)?", "known: bodies, game"):
        make_env("metta-teams", teamsize=3)
    with config_error("kinship", "got 3"):
        make_env("metta-teams", kinship=3)
