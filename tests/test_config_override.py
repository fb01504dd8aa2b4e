"""Dotted keys, the one language for settings: ``ConfigModel.override``, the older spellings that map onto it
(make_env's keywords, the training flags, curriculum tasks, cross-play options), the one NAME=VALUE parser, and an
old config.json."""
import json
import os

import numpy as np
import pytest

from conftest import ROOT, config_error
from metta import make_env
from metta.errors import UsageError
from metta.env.config import EnvConfig
from metta.env.presets import PRESETS
from metta.griddly_ext.map_config import MapConfig
from metta.runtime.name_values import parse_name_values
from metta.society.kinship import RandomKinship, Teams

TEAMS = PRESETS["metta-teams"]
FIXTURE = os.path.join(ROOT, "tests", "fixtures", "config_v1.json")


# ---------------------------------------------------------------- override
def test_override_returns_a_validated_copy_and_leaves_the_original():
    before = TEAMS.model_dump()
    changed = TEAMS.override("map.width", 30)
    assert changed.map.width == 30 and changed.map.height == TEAMS.map.height
    assert isinstance(changed, EnvConfig) and changed is not TEAMS
    assert TEAMS.model_dump() == before and TEAMS.map.width == 40
    assert changed.override("map.width", 40) == TEAMS


def test_override_takes_nested_keys_mapping_entries_and_many_at_once():
    changed = TEAMS.override({"kinship.team_reward": 0.5, "game.overrides.attack.cost": 20, "map.objects.tree": 3,
                              "max_steps": 9})
    assert changed.kinship == Teams(team_size=4, team_reward=0.5)
    assert changed.game.overrides == {"attack.cost": 20}  # under a mapping, the rest of the key is one entry's name
    assert changed.map.objects == {"tree": 3} and changed.max_steps == 9
    # a mapping given for a section changes the keys it names; a mapping field's mapping replaces the whole
    assert TEAMS.override("map", {"width": 12}).map == TEAMS.map.override("width", 12)
    assert changed.override("map.objects", {"altar": 2}).map.objects == {"altar": 2}
    # a key is applied before the keys under it, whatever their order
    both = TEAMS.override({"map.objects.generator": 4, "map.objects": {"tree": 3}})
    assert both.map.objects == {"tree": 3, "generator": 4}
    # a config's own rule for what a change means: a requested number of teams replaces the preset's team size
    assert TEAMS.override("kinship.num_teams", 3).kinship == Teams(num_teams=3, team_reward=0.8)


def test_another_structure_keeps_only_the_shared_parameters_whatever_the_order():
    base = TEAMS.override("kinship.kinship_noise", 0.3)
    for changes in ({"kinship.a": 2.0, "kinship.structure": "random"}, {"kinship": {"structure": "random", "a": 2.0}}):
        assert base.override(changes).kinship == RandomKinship(a=2.0, kinship_noise=0.3)
    assert TEAMS.override("kinship", RandomKinship(b=3.0)).kinship == RandomKinship(b=3.0)  # a config: replaced


@pytest.mark.parametrize("key, value, words", [
    ("map.widht", 30, ["unknown key map.widht", "did you mean map.width?", "known: arenas"]),
    ("mpa.width", 30, ["unknown key mpa", "did you mean map?"]),
    ("teamreward", 0.5, ["unknown key teamreward", "did you mean team_reward (kinship.team_reward)?"]),
    ("map.width.x", 1, ["unknown key map.width.x", "map.width is a value"]),
    ("map.width", "30", ["map.width must be an integer, got '30'"]),
    ("map.width", 2, ["map.width and map.height must be at least 3"]),
    ("map.layout", "spiral", ["map.layout", "'rooms' or 'maze'", "'spiral'"]),
    ("kinship.team_reward", 1.5, ["team_reward", "[0, 1]"]),
    ("kinship.a", 2.0, ["kinship.a is a parameter of structure 'random'", "not of structure 'teams'"]),
    ("kinship.structure", "tribes", ["kinship.structure", "'tribes'", "selfish, teams"]),
    ("game.overrides.attack.cost", 1.5, ["game.overrides.attack.cost must be an integer"]),
    ("max_steps", 0, ["max_steps must be a positive integer"]),
    ("overrides", 3, ["overrides must be a mapping"]),
])
def test_a_bad_key_or_value_is_a_config_error_naming_the_dotted_key(key, value, words):
    with config_error(*words):
        TEAMS.override(key, value)


def test_every_section_takes_dotted_keys_and_its_own_aliases():
    assert MapConfig().override("objects.altar", 2).objects == {"altar": 2}
    assert MapConfig().override("altars", 2) == MapConfig(altars=2) == MapConfig(objects={"altar": 2})
    with config_error("map.altars=3 and map.objects.altar=4 disagree"):
        MapConfig(altars=3, objects={"altar": 4})
    with pytest.raises(TypeError):
        TEAMS.override("map.width")


# ---------------------------------------------------------------- older spellings, one config
def dotted_config():
    return TEAMS.override({"map.width": 12, "map.height": 12, "map.num_agents": 4, "map.objects.generator": 4,
                           "map.objects.altar": 2, "game.overrides.attack.cost": 20, "kinship.team_reward": 0.5,
                           "bodies.mix": {"light": 1.0, "heavy": 1.0}, "max_steps": 30})


def test_make_env_keywords_are_aliases_of_dotted_keys():
    config = dotted_config()
    old = dict(width=12, height=12, num_agents=4, generators=4, altars=2, overrides={"attack.cost": 20},
               team_reward=0.5, bodies={"light": 1.0, "heavy": 1.0}, max_steps=30)
    assert TEAMS.override(old) == config
    assert TEAMS.override({**old, "generators": None, "altars": None, "objects": {"generator": 4, "altar": 2}}) \
        == config
    env = make_env("metta-teams", seed=0, **old)
    assert env.config == config and env.max_steps == 30
    assert make_env(config, seed=0).level == env.level
    env.close()


def test_training_flags_old_and_dotted_give_the_same_config():
    from metta.sf_integration.config import env_config_from_cfg
    from metta.sf_integration.train import parse_args, register_components

    register_components()
    common = ["--env=metta-teams", "--experiment=x", "--train_dir=/nonexistent-train-dir", "--max_steps=30"]
    dotted = parse_args([*common, "--map.width=12", "--map.height=12", "--map.num_agents=4",
                         "--map.objects=generator=4,altar=2", "--game.overrides=attack.cost=20",
                         "--kinship.team_reward=0.5", "--bodies.mix=light=1,heavy=1"])
    old = parse_args([*common, "--width=12", "--height=12", "--num_agents=4", "--generators=4", "--objects=altar=2",
                      "--override=attack.cost=20", "--team_reward=0.5", "--bodies=light=1,heavy=1"])
    assert getattr(dotted, "map.width") == 12  # argparse keeps a flag's value under its dotted key
    assert env_config_from_cfg(dotted) == env_config_from_cfg(old) == dotted_config()


def test_a_curriculum_task_takes_dotted_keys_and_the_older_sections():
    from metta.curriculum.tasks import Task, task_config

    old = Task.model_validate({"map": {"width": 12}, "objects": {"altar": 2}, "overrides": {"attack.cost": 20}})
    new = Task.model_validate({"map.width": 12, "map.objects.altar": 2, "game.overrides.attack.cost": 20})
    assert old == new and new.draws == {"map.width": 12, "map.objects.altar": 2, "game.overrides.attack.cost": 20}
    rng = np.random.default_rng(0)
    assert task_config(TEAMS, old.changes(rng)) == TEAMS.override(
        {"map.width": 12, "map.objects.altar": 2, "game.overrides.attack.cost": 20})
    with config_error("map.num_agents", "arenas"):
        Task.model_validate({"map.num_agents": 8})
    with config_error("kinship.team_reward", "a task changes", "game.overrides, map, max_steps"):
        Task.model_validate({"kinship.team_reward": 0.5})


def test_crossplay_options_are_texts_of_dotted_keys_or_aliases():
    assert EnvConfig.from_text("num_agents", "8") == 8 and EnvConfig.from_text("map.num_agents", "8") == 8
    assert EnvConfig.from_text("team_reward", "1") == 1.0 and isinstance(EnvConfig.from_text("team_reward", "1"), float)
    assert EnvConfig.from_text("map.layout", "maze") == "maze"
    assert EnvConfig.from_text("kinship.arms", "0,0.5") == [0.0, 0.5]
    assert EnvConfig.from_text("game.overrides.attack.cost", "20") == 20
    with config_error("map.width must be int", "'wide'"):
        EnvConfig.from_text("map.width", "wide")
    with config_error("overrides holds keys", "game.overrides.NAME=VALUE"):
        EnvConfig.from_text("overrides", "3")


# ---------------------------------------------------------------- the one NAME=VALUE parser
def test_name_values_are_parsed_in_one_place():
    assert parse_name_values(["attack.cost=20", " tree = 3"], int, "--x", "NAME=INTEGER", "a=1") == {
        "attack.cost": 20, "tree": 3}
    assert parse_name_values(["k=a=b"], str, "--x", "NAME=VALUE", "a=1") == {"k": "a=b"}
    for bad in ("attack.cost", "=3", "a=x"):
        with pytest.raises(UsageError, match=f"--x '{bad}': expected NAME=INTEGER, e.g. --x a=1"):
            parse_name_values([bad], int, "--x", "NAME=INTEGER", "a=1")


def test_its_callers_report_a_malformed_pair_by_their_flag():
    from metta.sf_integration.config import env_changes

    assert env_changes({"override": ["attack.cost=5"], "bodies": "light=1,heavy=2", "objects": ["altar=2,tree=1"]}) \
        == {"game.overrides.attack.cost": 5, "bodies.mix.light": 1.0, "bodies.mix.heavy": 2.0,
            "map.objects.altar": 2, "map.objects.tree": 1}
    with pytest.raises(UsageError, match="--map.objects 'altar=many': expected NAME=COUNT"):
        env_changes({"map.objects": ["altar=many"]})


# ---------------------------------------------------------------- old config.json
def old_config(tmp_path) -> dict:
    """tests/fixtures/config_v1.json: Sample Factory's config.json of a run of the kin dilemma before dotted keys
    were the one language (its env_config holds the map's generators, chargers and altars, its flags the older
    dests game, override, bodies, objects)."""
    text = open(FIXTURE, encoding="utf-8").read()
    return json.loads(text.replace("$GAMES", os.path.join(ROOT, "games")).replace("$TRAIN_DIR", str(tmp_path)))


def test_an_old_config_json_loads_to_its_env(tmp_path):
    from metta.sf_integration.checkpoints import read_config
    from metta.sf_integration.config import env_config_from_cfg, resumed_env_config

    cfg = old_config(tmp_path)
    assert cfg["env_config"]["map"]["generators"] is None and "game" in cfg and "game.path" not in cfg
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    config = env_config_from_cfg(read_config(str(tmp_path)))
    assert config == PRESETS["metta-kin-dilemma"]
    flags_only = {k: v for k, v in cfg.items() if k != "env_config"}  # what an older one still held
    assert env_config_from_cfg(flags_only) == config
    resumed = resumed_env_config(cfg, {"map.width": 19, "cli_args": {"map.width": 19}})
    assert resumed == config.override("map.width", 19)
    env = make_env(config, seed=0)
    assert env.num_agents_total == 12 and env.config == config
    env.close()
    with config_error("config.json", "env_config", "map.width must be an integer"):
        env_config_from_cfg({**cfg, "env_config": {**cfg["env_config"], "map": {"width": "17"}}})
