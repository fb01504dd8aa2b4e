"""Scripted levels prove each social metric counts what it claims."""
import copy

import numpy as np
import pytest
from conftest import GAME

from metta import make_env
from metta.griddly_ext.gdy import load_gdy

LINE = """W W W W W W W
W . A2 A1 A3 g W
W . . . . . W
W W W W W W W
"""
LEFT, UP, RIGHT, DOWN = 1, 2, 3, 4


def _env_where_one_neighbour_is_kin(max_steps=40, **overrides):
    """Teams of 2 among 3 agents; pick a seed where exactly one of agent 1's neighbours is its teammate."""
    for seed in range(50):
        env = make_env("metta-teams", level=LINE, max_steps=max_steps, team_size=2, seed=seed,
                       overrides=dict(agent_energy_regen=0, generator_cooldown=1, **overrides))
        env.reset(seed=seed)
        if env.kinship[0, 1] != env.kinship[0, 2]:
            return env
    raise AssertionError("no seed gave agent 1 exactly one kin neighbour")


def play(env, script):
    """script: list of {agent index: (action name, input)}; pad with waits to the episode end."""
    a = env.engine.action_index
    info = None
    for t in range(env.max_steps):
        step = script[t] if t < len(script) else {}
        acts = {f"agent_{i}": a(*act) for i, act in step.items()}
        _, _, _, trunc, info = env.step(acts)
        if t < env.max_steps - 1:
            assert all("episode" not in i for i in info.values())
    return [info[a]["episode"] for a in env.possible_agents]


def test_attacks_on_kin_and_strangers():
    env = _env_where_one_neighbour_is_kin(freeze_duration=3)
    kin_is_left = env.kinship[0, 1] == 1.0
    script = [{0: ("rotate", LEFT)}, {0: ("attack", 2)}, {0: ("rotate", RIGHT)}, {0: ("attack", 2)},
              {0: ("attack", 2)},                       # the right neighbour again (frozen, still a hit)
              {0: ("attack", 5)}]                       # two ahead on the right: the generator, not an agent
    ep = play(env, script)
    left, right = 1, 2
    assert ep[0]["attacks_on_kin"] == (1 if kin_is_left else 2)
    assert ep[0]["attacks_on_strangers"] == (2 if kin_is_left else 1)
    assert ep[1]["attacks_on_kin"] == ep[1]["attacks_on_strangers"] == 0
    # frozen_steps: the left neighbour was frozen once (3 steps), the right one twice in a row (3 + 3 - 2 overlap)
    assert ep[left]["frozen_steps"] == 3
    assert ep[right]["frozen_steps"] == 4
    assert ep[0]["frozen_steps"] == 0


def test_frozen_attackers_attacks_do_not_count():
    env = _env_where_one_neighbour_is_kin(freeze_duration=10)
    script = [{0: ("rotate", LEFT), 1: ("rotate", RIGHT)}, {1: ("attack", 2)},  # agent 2 freezes agent 1
              {0: ("attack", 2)}, {0: ("attack", 2)}]                             # agent 1 tries, frozen
    ep = play(env, script)
    assert ep[0]["attacks_on_kin"] + ep[0]["attacks_on_strangers"] == 0
    assert ep[1]["attacks_on_kin"] + ep[1]["attacks_on_strangers"] == 1


def test_gifts_to_kin_and_strangers():
    env = _env_where_one_neighbour_is_kin()
    kin_is_left = env.kinship[0, 1] == 1.0
    script = [{0: ("rotate", LEFT)}, {0: ("gift_energy", 1)}, {0: ("gift_energy", 1)},
              {0: ("rotate", RIGHT)}, {0: ("gift_energy", 1)},
              {0: ("gift_diamond", 1)}]                    # no diamond: does not happen, does not count
    ep = play(env, script)
    assert ep[0]["gifts_to_kin"] == (2 if kin_is_left else 1)
    assert ep[0]["gifts_to_strangers"] == (1 if kin_is_left else 2)


def test_hearts_diamonds_energy_and_shield_steps():
    level = """W W W W W W
W g A1 c . W
W . a . . W
W W W W W W
"""
    env = make_env("metta-solo", level=level, max_steps=30,
                   overrides=dict(agent_energy_regen=0, generator_cooldown=1, charger_energy=40, charger_cooldown=1,
                                  altar_cost=50, altar_cooldown=1))
    env.reset(seed=0)
    script = [{0: ("rotate", LEFT)}, {0: ("use", 1)}, {0: ("use", 1)}, {0: ("use", 1)},   # 3 diamonds
              {0: ("rotate", RIGHT)}, {0: ("use", 1)}, {0: ("use", 1)},                  # 2 charges
              {0: ("rotate", DOWN)}, {0: ("use", 1)}, {0: ("use", 1)},                    # 2 hearts
              {0: ("shield", 1)}, {}, {}, {0: ("shield", 1)}]                             # shield up 3 steps
    a = env.engine.action_index
    for t in range(30):
        step = script[t] if t < len(script) else {}
        _, rew, _, _, info = env.step({f"agent_{i}": a(*act) for i, act in step.items()})
    ep = info["agent_0"]["episode"]
    assert ep["diamonds_harvested"] == 3
    assert ep["energy_converted"] == 80
    # 3 diamonds and 2 charges at 0.1 each, 2 hearts at 1.0 (the game's points over its reward_unit)
    assert ep["hearts"] == 2 and ep["reward"] == pytest.approx(2.5) and ep["raw_reward"] == pytest.approx(2.5)
    assert ep["shield_steps"] == 3
    assert ep["attacks_on_kin"] == ep["gifts_to_strangers"] == 0


# every count the metrics accumulate over an episode (the env's own; Griddly's counters restart with its level)
ACCUMULATED = ("reward", "raw_reward", "attacks_on_kin", "attacks_on_strangers", "gifts_to_kin", "gifts_to_strangers",
               "attack_chances_kin", "attack_chances_strangers", "gift_chances_kin", "gift_chances_strangers",
               "attack_actionable_kin", "attack_actionable_strangers", "gift_actionable_kin",
               "gift_actionable_strangers", "attacks_on_kin_actionable", "attacks_on_strangers_actionable",
               "gifts_to_kin_actionable", "gifts_to_strangers_actionable", "bonds_formed")


def test_episode_metrics_reach_every_agent_and_reset():
    """Episode 2 played on an env after episode 1 reports exactly what a fresh env reports playing episode 2 alone
    (the same seed and actions): nothing of episode 1 leaks into it, and episode 1 had something of every kind."""
    crowded = dict(width=12, height=12, num_agents=16, generators=6, chargers=3, altars=3, max_steps=300)
    cheap = {"attack.cost": 1, "bond_offer_cost": 0, "bond_cost": 0, "generator_cooldown": 1, "charger_cooldown": 1,
             "altar_cooldown": 1}

    def new_env():
        return make_env("metta-teams", seed=0, team_size=4, overrides=cheap, **crowded)

    def episode(env, seed, actions_seed):
        """Every agent's episode metrics, and what the episode started with (observations, kinship, sharing) and
        paid each step; half the actions use, attack, gift or bond, half are any action."""
        obs, _ = env.reset(seed=seed)
        trace = [np.stack([obs[a] for a in env.possible_agents]).tolist(), env.kinship.tolist(), env.sharing.tolist()]
        rng = np.random.default_rng(actions_seed)
        index, n = env.engine.action_index, env.engine.num_actions
        social = [index("use"), index("bond"), index("gift_energy")] + [index("attack", i) for i in range(1, 10)]
        while env.agents:
            acts = {a: int(rng.choice(social) if rng.random() < 0.5 else rng.integers(n)) for a in env.agents}
            _, rewards, _, _, info = env.step(acts)
            trace.append([rewards[a] for a in env.possible_agents])
        assert set(info) == set(env.possible_agents)
        return [info[a]["episode"] for a in env.possible_agents], trace

    env = new_env()
    first, _ = episode(env, 11, 0)
    assert [k for k in ACCUMULATED if not any(m[k] for m in first)] == []   # something of every kind could leak
    second, trace = episode(env, 12, 1)
    alone, alone_trace = episode(new_env(), 12, 1)
    assert second == alone
    assert trace == alone_trace
    assert second != first and any(m["reward"] for m in second)


def test_skipping_counter_reads_never_changes_the_metrics():
    """Counters are read only in steps where an attack, gift or bond was aimed at an agent's cell; reading every
    step instead gives the same episode metrics, in crowded play with many landed attacks and gifts."""
    crowded = dict(width=12, height=12, num_agents=16, generators=3, chargers=2, altars=2, max_steps=150)
    totals = 0
    for name, seed in (("metta-teams", 0), ("metta-clans", 1), ("metta-kin", 2)):
        lean, every = make_env(name, seed=seed, **crowded), make_env(name, seed=seed, **crowded)
        assert lean._watched is not None
        every._watched = None  # read the counters every step
        lean.reset(seed=seed)
        every.reset(seed=seed)
        rng = np.random.default_rng(seed)
        while lean.agents:
            actions = {a: int(rng.integers(22)) for a in lean.agents}
            *_, info_lean = lean.step(actions)
            *_, info_every = every.step(actions)
        for a in lean.possible_agents:
            assert info_lean[a]["episode"] == info_every[a]["episode"], (name, a)
            m = info_every[a]["episode"]
            totals += m["attacks_on_kin"] + m["attacks_on_strangers"] + m["gifts_to_kin"] + m["gifts_to_strangers"]
    assert totals > 30


def test_counters_touched_by_an_internal_action_are_read_every_step():
    from metta.env.counters import counter_actions
    from metta.griddly_ext.gdy import GameDoc

    game = load_gdy(GAME)
    assert counter_actions(game) == {"attack", "gift_energy", "gift_diamond", "bond"}
    doc = copy.deepcopy(game.doc)
    tick = next(a for a in doc["Actions"] if a["Name"] == "agent_tick")
    tick["Behaviours"][0]["Src"]["Commands"].append({"incr": "gifts"})
    assert counter_actions(GameDoc(doc)) is None


def test_an_attack_on_an_agent_that_stepped_into_the_cell_is_counted():
    """The cell in front of agent 0 is empty before the step; agent 1 moves into it as agent 0 attacks it."""
    level = "W W W W W\nW A2 . . W\nW . A1 . W\nW W W W W\n"
    env = make_env("metta-solo", level=level, max_steps=2, overrides=dict(agent_energy_regen=0))
    env.reset(seed=0)
    e = env.engine
    env.step({"agent_1": e.action_index("rotate", RIGHT), "agent_0": 0})
    *_, info = env.step({"agent_1": e.action_index("move", 1), "agent_0": e.action_index("attack", 2)})
    assert env.agent_variables()[1]["location"] == (2, 1)
    assert e.player_counters(["attacks"])["attacks"].tolist() == [1, 0]
    assert info["agent_0"]["episode"]["attacks_on_strangers"] == 1


def test_outcome_metrics_equal_the_hand_computed_values():
    """Agent 3 harvests at steps 2, 4 and 7 (1 point each at reward_unit=1); agent 1 freezes agent 2 for 3 steps.

    R = (0, 0, 3), T = 10, N = 3: efficiency 3/10; equality 1 - (4 * 3) / (2 * 3 * 3) = 1/3; sustainability: only
    agent 3 had positive rewards, at steps 2, 4, 7: 13/3; peace (3 * 10 - 3) / (3 * 10) = 0.9."""
    env = make_env("metta-teams", level=LINE, max_steps=10, team_size=2, seed=0,
                   overrides=dict(agent_energy_regen=0, generator_cooldown=1, reward_unit=1, freeze_duration=3))
    env.reset(seed=0)
    ep = play(env, [{2: ("rotate", RIGHT), 0: ("rotate", LEFT)}, {2: ("use", 1), 0: ("attack", 2)}, {},
                    {2: ("use", 1)}, {}, {}, {2: ("use", 1)}])
    assert [e["raw_reward"] for e in ep] == [0, 0, 3] and ep[1]["frozen_steps"] == 3
    for e in ep:  # episode-level: the same in every agent's dict
        assert e["efficiency"] == pytest.approx(0.3)
        assert e["equality"] == pytest.approx(1 / 3)
        assert e["sustainability"] == pytest.approx(13 / 3)
        assert e["peace"] == pytest.approx(0.9)


def test_chances_count_the_agents_in_reach_and_rates_divide_by_them():
    """Agent 1 faces agent 2 from step 2 on: 9 steps with one agent in attack and in gift reach; it attacks once."""
    env = make_env("metta-teams", level=LINE, max_steps=10, team_size=2, seed=0,
                   overrides=dict(agent_energy_regen=0, freeze_duration=3))
    env.reset(seed=0)
    side = "kin" if env.kinship[0, 1] >= env.society.kin_threshold else "strangers"
    other = "strangers" if side == "kin" else "kin"
    ep = play(env, [{0: ("rotate", LEFT)}, {0: ("attack", 2)}])
    assert ep[0][f"attack_chances_{side}"] == 9 and ep[0][f"attack_chances_{other}"] == 0
    assert ep[0][f"gift_chances_{side}"] == 9 and ep[0][f"gift_chances_{other}"] == 0
    assert ep[2]["attack_chances_kin"] == ep[2]["attack_chances_strangers"] == 0  # facing nobody
    assert ep[0][f"attack_rate_{side}"] == pytest.approx(1 / 9) and ep[0][f"attack_rate_{other}"] is None
    assert ep[0]["attack_kin_stranger_ratio"] is None  # one side had no chance: no ratio
    assert ep[0]["equality"] is None and ep[0]["sustainability"] is None  # nobody earned anything


@pytest.mark.slow
def test_a_random_policy_attacks_kin_and_strangers_alike_per_chance_while_raw_counts_differ():
    """metta-teams (teams of 4 among 24), attacks and gifts made free so that a random policy makes enough of them."""
    from metta.evals.play import play_episode
    from metta.evals.policies import RandomPolicy

    env = make_env("metta-teams", seed=0, overrides=dict(attack_cost=0, gift_cost=0))
    policy = RandomPolicy(env.engine.num_actions, 0)
    total = {}
    for seed in range(16):
        for m in play_episode(env, policy, seed).metrics:
            for k in ("attacks_on_kin", "attacks_on_strangers", "attack_chances_kin", "attack_chances_strangers"):
                total[k] = total.get(k, 0) + m[k]
    per_chance = (total["attacks_on_kin"] / total["attack_chances_kin"]) / (
        total["attacks_on_strangers"] / total["attack_chances_strangers"])
    raw = total["attacks_on_kin"] / total["attacks_on_strangers"]
    print(total, f"per-chance ratio {per_chance:.3f}, raw ratio {raw:.3f}")
    assert total["attacks_on_kin"] >= 200  # enough events for the ratio to mean something
    assert 0.8 <= per_chance <= 1.25, total
    assert raw < 0.5, total  # three kin against twenty strangers: raw counts say "spares kin" for a blind policy


def test_a_counter_declared_in_a_copy_of_the_game_is_an_episode_metric(tmp_path):
    """tree_game adds a per-player `trees_used` that its tree's `use` raises: no code names it, and it reaches
    infos[a]["episode"] (and from there stats.json and TensorBoard's social/trees_used), beside today's metrics."""
    from metta.env.counters import game_counters
    from metta.griddly_ext.gdy import GameDoc
    from tree_game import tree_game_doc, write_tree_game

    assert game_counters(GameDoc(tree_game_doc()))[-1] == "trees_used"
    level = "W W W W\nW t A1 W\nW A2 . W\nW W W W\n"
    env = make_env("metta-teams", game=write_tree_game(tmp_path), level=level, max_steps=6, team_size=2,
                   overrides=dict(agent_energy_regen=0))
    env.reset(seed=0)
    ep = play(env, [{0: ("rotate", LEFT)}, {0: ("use", 1)}, {0: ("use", 1)}])
    assert [e["trees_used"] for e in ep] == [2, 0]
    assert env.agent_variables()[0]["energy"] == 150 - 1 - 2 * 2 + 2 * 5  # rotate, two uses, two feeds
    assert {"hearts", "attacks_on_kin", "gifts_to_strangers", "bonds_formed", "peace"} <= set(ep[0])


def test_the_shipped_games_counters_are_todays():
    from metta.env.counters import game_counters

    assert game_counters(load_gdy(GAME)) == ("hearts", "diamonds_harvested", "energy_converted", "attacks", "gifts",
                                                 "shield_steps", "frozen_steps", "bonds")


@pytest.mark.parametrize("name", ["peace", "reward", "attacks_on_kin"])
def test_a_counter_named_like_a_derived_metric_is_a_clear_error(tmp_path, name):
    # its count and the metric the env derives would share one key of the episode's metrics: one would be lost
    import yaml

    from metta.errors import ConfigError
    from tree_game import tree_game_doc

    doc = tree_game_doc()
    doc["Environment"]["Variables"].append({"Name": name, "InitialValue": 0, "PerPlayer": True})
    use = next(a for a in doc["Actions"] if a["Name"] == "use")
    use["Behaviours"][-1]["Src"]["Commands"].append({"incr": name})
    path = tmp_path / "clash.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    with pytest.raises(ConfigError, match=rf"clash.yaml: Environment.Variables: .*counter\(s\) {name} .*derives"):
        make_env("metta-teams", game=str(path))
