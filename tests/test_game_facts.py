"""Per-game facts in the game file: the Metta: section (metta.env.game_facts)."""
import os

import pytest
import yaml

from conftest import config_error
from metta import ConfigError, make_env
from metta.env.game_facts import GameFacts
from metta.griddly_ext.gdy import DEFAULT_GAME, GAMES_DIR, SECTION, load_gdy, parse_gdy, standalone_text

LEVEL = "W W W W W\nW A1 . A2 W\nW W W W W\n"


def _overlay(tmp_path, text: str) -> str:
    path = tmp_path / "game.yaml"
    path.write_text(f"extends: {os.path.join(GAMES_DIR, 'metta.yaml')}\n{text}")
    return str(path)


def test_the_section_never_reaches_griddly():
    game = load_gdy(DEFAULT_GAME)
    assert SECTION not in game.doc and game.section["metrics"]["headline"] == "hearts"
    for text in (game.to_yaml(), game.with_constants_compiled().to_yaml(), game.with_players(3).to_yaml(),
                 game.with_overrides({"attack_cost": 3}).to_yaml()):
        assert SECTION not in yaml.safe_load(text)
    assert game.with_overrides({"attack_cost": 3}).section == game.section  # copies keep it
    env = make_env("metta-solo", level=LEVEL, bodies={"light": 1})
    assert SECTION not in env.game.doc and env.facts.bodies is not None


def test_the_metta_games_facts():
    facts = GameFacts.of(load_gdy(DEFAULT_GAME))
    assert list(facts.bodies.costs) == ["move_cost", "rotate_cost", "use_cost", "attack_cost", "shield_cost",
                                        "gift_cost", "mark_cost", "bond_offer_cost"]
    assert facts.bodies.max_energy == ("agent_max_energy", "max_energy")
    assert (facts.headline, facts.economy) == ("hearts", "diamonds_harvested")
    assert facts.oracle["actions"]["gift"] == "gift_energy" and facts.render["cooldown"] == "cooldown"


def test_overlays_inherit_the_section_and_may_change_or_drop_parts(tmp_path):
    chain = GameFacts.of(load_gdy(os.path.join(GAMES_DIR, "resource_chain.yaml")))
    assert chain.economy == "ore_mined" and chain.headline == "hearts" and chain.oracle is None
    assert chain.bodies == GameFacts.of(load_gdy(DEFAULT_GAME)).bodies
    builders = GameFacts.of(load_gdy(os.path.join(GAMES_DIR, "builders.yaml")))
    assert builders == GameFacts.of(load_gdy(DEFAULT_GAME))
    # an overlay's standalone text carries the merged section, for a model shipped without its base
    shipped = parse_gdy(standalone_text(os.path.join(GAMES_DIR, "resource_chain.yaml")))
    assert shipped.section["oracle"] is None and shipped.section["metrics"]["economy"] == "ore_mined"
    game = load_gdy(_overlay(tmp_path, "Metta:\n  bodies: null\n"))
    assert GameFacts.of(game).bodies is None and GameFacts.of(game).headline == "hearts"


@pytest.mark.parametrize("text, where", [
    ("Metta:\n  colours: 3\n",
     "Metta.colours: unknown key; expected one of bodies, metrics, oracle, render, actionable"),
    ("Metta:\n  metrics:\n    best: hearts\n", "Metta.metrics.best: unknown key; expected one of headline, economy"),
    ("Metta:\n  metrics:\n    headline: stars\n",
     "Metta.metrics.headline: 'stars' is not a per-player variable (a counter) of the game"),
    ("Metta:\n  bodies:\n    costs:\n      fly_cost: body_fly_cost\n",
     "Metta.bodies.costs.fly_cost: 'fly_cost' is not a named value (Environment.Variables, not PerPlayer) of the game"),
    ("Metta:\n  oracle:\n    actions:\n      gift: gift_hug\n",
     "Metta.oracle.actions.gift: 'gift_hug' is not an action of the game"),
    ("Metta:\n  render:\n    energy: power\n", "Metta.render.energy: 'power' is not an object variable of the game"),
])
def test_a_bad_section_is_a_clear_error_naming_the_file_and_key(tmp_path, text, where):
    path = _overlay(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        make_env("metta-solo", game=path, level=LEVEL)
    assert str(err.value) == f"{path}: {where}"


def test_a_game_without_the_section(tmp_path):
    """No bodies, no oracle, no headline tally; the game itself plays."""
    from metta.scripted.oracle import ScriptedOracle

    doc = yaml.safe_load(standalone_text(os.path.join(GAMES_DIR, "builders.yaml")))
    del doc[SECTION]
    path = tmp_path / "bare.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    env = make_env("metta-solo", game=str(path), level=LEVEL)
    assert env.facts == GameFacts()
    env.reset(seed=0)
    env.step({})
    with config_error(str(path), "the scripted agents do not apply to this game"):
        ScriptedOracle(env)
    with config_error(str(path), "energy profiles (bodies) need the game's Metta.bodies section"):
        make_env("metta-solo", game=str(path), level=LEVEL, bodies={"light": 1})
