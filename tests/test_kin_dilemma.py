"""The kin dilemma (games/kin_dilemma.yaml) against the numbers docs/dilemma.md worked out by hand, and the check
metta.experiments.dilemma_check plays on it (``--env metta-kin-dilemma``).

The overlay's named values are the doc's "Its values, and why" table; energy only ever moves in whole hearts; a theft
on a tiny fixed level moves exactly the victim's diamonds (up to the thief's cap, the rest lost) and freezes it for
freeze_duration actions; the new scripted thief attacks a carrier in any of the 9 cells its attack reaches, the cell
in front first, and a kin-aware one spares kin; the shared returns the check computes after the fact are the env's
own; the Schelling diagram's numbers are the means and t intervals computed by hand.
"""
import math
import os
import re

import numpy as np
import pytest

from conftest import ROOT
from test_dilemma import Level as DilemmaLevel, overlay_matches_table

KIN = os.path.join(ROOT, "games", "kin_dilemma.yaml")
DOC = os.path.join(ROOT, "docs", "dilemma.md")
LEFT, UP, RIGHT = ("rotate", 1), ("rotate", 2), ("rotate", 3)


def kin_section() -> str:
    text = open(DOC).read()
    return text.split("## The kin dilemma")[1].split("\n## ")[0]


def doc_table() -> dict[str, tuple[int, int]]:
    """The kin dilemma's "Its values, and why" table: {named value: (metta.yaml's, kin_dilemma.yaml's)}; a row may
    name several values, with as many numbers in each column (`a`, `b` | 150, 1 | **0, 0**)."""
    section = kin_section().split("### Its values, and why")[1]
    lines = section.strip().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    assert rows[0].split("|")[1:4] == [" named value ", " metta.yaml ", " kin_dilemma.yaml "]
    out = {}
    for line in rows[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        names = re.findall(r"`(\w+)`", cells[0])
        base, new = (list(map(int, re.findall(r"-?\d+", c))) for c in cells[1:3])
        assert len(names) == len(base) == len(new), line
        assert not set(names) & set(out), line
        out.update({n: (b, v) for n, b, v in zip(names, base, new)})
    return out


def doc_unchanged() -> dict[str, int]:
    """The doc's "Unchanged and used below" values of the kin dilemma."""
    sentence = kin_section().split("Unchanged and used below:")[1].split("\n\n")[0]
    return {name: int(v) for name, v in re.findall(r"`(\w+)` (-?\d+)", sentence)}


def values(path):
    from metta.griddly_ext.gdy import load_gdy

    return load_gdy(path).named_values()


def test_the_docs_table_is_parsed_with_its_multi_name_rows():
    table = doc_table()
    assert table["agent_initial_energy"] == (150, 0) and table["agent_energy_regen"] == (1, 0)
    assert [table[k] for k in ("move_cost", "rotate_cost", "use_cost", "attack_cost", "gift_cost")] == \
        [(2, 0), (1, 0), (2, 0), (10, 0), (2, 0)]
    assert table["charger_energy"] == (50, 100) and table["max_steps"] == (1000, 200)
    assert len(table) == 21


def test_the_overlay_changes_exactly_the_named_values_of_the_docs_table():
    base, game = overlay_matches_table(KIN, doc_table())
    unchanged = doc_unchanged()
    assert len(unchanged) == 7 and all(game[k] == base[k] == v for k, v in unchanged.items())


def test_the_economy_by_hand():
    from metta.society.kinship.teams import same_team, team_sharing

    v = values(KIN)
    cap = v["agent_max_energy"]
    assert cap == 200
    # energy only ever whole hearts: every amount that moves energy is 0, 100 or 200 ...
    moving = ("agent_initial_energy", "agent_energy_regen", "move_cost", "rotate_cost", "use_cost", "attack_cost",
              "gift_cost", "charger_energy", "altar_cost", "gift_amount", "agent_max_energy")
    assert {k: v[k] for k in moving if v[k] not in (0, 100, 200)} == {}
    # ... or more than an agent can hold, so it is never paid: no shield, marker or bond offer
    assert all(v[k] > cap for k in ("shield_cost", "mark_cost", "bond_offer_cost"))
    # (attack_damage 10, shield_upkeep 1, bond_cost 20 only act on a raised shield or an offered bond: never)
    assert (v["attack_damage"], v["shield_upkeep"], v["bond_cost"]) == (10, 1, 20)
    unit = v["reward_unit"]
    assert v["charger_energy"] == v["altar_cost"] == 100             # a diamond is a heart
    heart = (v["diamond_reward"] + v["charge_reward"] + v["altar_reward"]) / unit
    carried = (v["charge_reward"] + v["altar_reward"]) / unit
    assert (heart, carried) == pytest.approx((1.2, 1.1))
    assert v["map_count_generator"] * v["generator_initial_diamonds"] == 240
    # teams of 3 sharing alpha: own weight w = 1 - 2 alpha / 3, each teammate's k = alpha / 3
    team = same_team(np.array([0, 0, 0, 1, 1, 1]))
    for a, (w, k) in ((0.0, (1, 0)), (1.0, (1 / 3, 1 / 3))):
        t = team_sharing(team, np.full(6, a))
        assert (t[0, 0], t[0, 1], t[0, 3]) == pytest.approx((w, k, 0))
    w = k = 1 / 3
    for f in (1.0, 1.8):
        for d in (1, 2):
            assert carried * d * w - (carried * d + f) * k == pytest.approx(-f / 3)   # steal d from kin at alpha 1
            assert (carried * d + f) / 3 >= 0.70 - 1e-12                            # the kin/stranger gap
        # the encounter: R = v, T = 2v, S = -f, P = (T + S)/2: a Prisoner's Dilemma
        R, T, S = carried, 2 * carried, -f
        P = (T + S) / 2
        assert T > R > P > S and 2 * R > T + S
        assert (R - P, R - S, 2 * R - T - S, T - R, P - S) == pytest.approx((f / 2, carried + f, f, 1.1,
                                                                              carried + f / 2))
    assert [(2 * carried - f) / 2 for f in (1.0, 1.8)] == pytest.approx([0.60, 0.20])   # the doc's P


def test_energy_is_only_ever_whole_hearts_in_play():
    from metta.experiments import dilemma_check as dc

    check = dc.CHECKS["metta-kin-dilemma"]
    env = dc.make_check_env(check, max_steps=120)
    env.reset(seed=5)
    n = env.num_agents_total
    policy = dc.Scripted(env, np.arange(n) % 2 == 0, kin_aware=False, reach=check.thief_reach)
    seen = set()
    while True:
        *_, episode = env.step_arrays(policy.act())
        seen |= {a["energy"] for a in env.agent_variables()}
        if episode is not None:
            break
    assert seen <= {0, 100, 200} and 100 in seen                  # energy moved, in whole hearts only
    assert sum(m["attacks_on_strangers"] + m["attacks_on_kin"] for m in episode) > 0
    assert sum(m["hearts"] for m in episode) > 0
    env.close()


class Level(DilemmaLevel):
    """A fixed level of the kin dilemma: step by action name per agent."""

    GAME = KIN

    def harvest(self, i, count, facing):
        """Agent i turns to ``facing`` and uses the generator there until it carries ``count`` diamonds."""
        n = self.env.num_agents_total
        self.act(*[facing if j == i else None for j in range(n)])
        for _ in range(4 * count + 4):                           # the generator cools down 3 steps
            if self.agent(i)["inventory"] >= count:
                break
            self.act(*["use" if j == i else None for j in range(n)])
        assert self.agent(i)["inventory"] == count


FACE_TO_FACE = """W W W W W W
W g A1 A2 g W
W W W W W W
"""


@pytest.mark.parametrize("thief_has,victim_has", [(0, 1), (1, 1)])
def test_a_theft_moves_exactly_the_victims_diamonds_up_to_the_cap_and_freezes_it(thief_has, victim_has):
    s = Level(FACE_TO_FACE)
    v = s.env.game.named_values()
    if thief_has:
        s.harvest(0, thief_has, LEFT)
    s.harvest(1, victim_has, RIGHT)
    s.act(RIGHT, None)                                           # the thief faces the victim
    before = s.raw.copy()
    raw = s.act(("attack", 2), None)
    a, b = s.agent(0), s.agent(1)
    assert a["inventory"] == 1 == v["agent_max_inventory"]       # one diamond at a time
    assert b["inventory"] == 0 and b["frozen"] == v["freeze_duration"] == 60
    assert a["energy"] == b["energy"] == 0 and raw.tolist() == [0, 0]   # free, and worth nothing until charged
    lost = thief_has + victim_has - a["inventory"]
    assert lost == {(0, 1): 0, (1, 1): 1}[(thief_has, victim_has)]     # a thief with a diamond destroys the loot
    assert (s.raw == before).all()


def test_the_victim_loses_exactly_freeze_duration_actions():
    s = Level(FACE_TO_FACE)
    s.harvest(1, 1, RIGHT)
    s.act(RIGHT, None)
    s.act(("attack", 2), None)
    lost = 0                                                     # actions that do nothing after the blow's step
    while True:
        s.act(None, "use")
        if s.agent(1)["inventory"]:
            break
        lost += 1
    assert lost == s.env.game.named_values()["freeze_duration"] == 60


def reach_level(cells) -> str:
    """The thief A1 at (2, 5) (it will face up); a carrier A2, A3, ... at each (right, forward) offset of ``cells``,
    with a generator right above it."""
    grid = [["W"] * 5] + [["W", ".", ".", ".", "W"] for _ in range(5)] + [["W"] * 5]
    grid[5][2] = "A1"
    for n, (r, fwd) in enumerate(cells):
        x, y = 2 + r, 5 - fwd
        assert grid[y][x] == "." and grid[y - 1][x] in (".", "W"), (r, fwd)
        grid[y][x] = f"A{n + 2}"
        grid[y - 1][x] = "g" if y - 1 > 0 else "W"
    return "\n".join(" ".join(row) for row in grid) + "\n"


@pytest.mark.parametrize("cell", [(-1, 1), (0, 1), (1, 1), (-1, 2), (0, 2), (1, 2), (-1, 3), (0, 3), (1, 3)])
def test_the_new_thief_robs_a_carrier_anywhere_in_its_reach_and_the_old_one_only_in_front(cell):
    from metta.experiments.dilemma_check import CHECKS, Scripted

    s = Level(reach_level([cell]))
    s.act(UP, None)
    s.harvest(1, 1, UP)
    attack = s.env.engine.action_index("attack", {(-1, 1): 1, (0, 1): 2, (1, 1): 3, (-1, 2): 4, (0, 2): 5, (1, 2): 6,
                                                  (-1, 3): 7, (0, 3): 8, (1, 3): 9}[cell])
    attacks = {s.env.engine.action_index("attack", i) for i in range(1, 10)}
    new = Scripted(s.env, np.array([True, False]), kin_aware=False, reach=CHECKS["metta-kin-dilemma"].thief_reach)
    old = Scripted(s.env, np.array([True, False]), kin_aware=False, reach=CHECKS["metta-dilemma"].thief_reach)
    assert new.act()[0] == attack
    assert (old.act()[0] == attack) == (cell == (0, 1)) and (old.act()[0] in attacks) == (cell == (0, 1))
    assert Scripted(s.env, np.array([False, False]), kin_aware=False, reach=CHECKS["metta-kin-dilemma"].thief_reach
                    ).act()[0] not in attacks                   # peaceful
    s.act(new.act()[0], None)
    assert (s.agent(0)["inventory"], s.agent(1)["inventory"], s.agent(1)["frozen"]) == (1, 0, 60)


def test_the_thief_looks_at_the_cell_in_front_first_then_the_nearest():
    from metta.experiments.dilemma_check import REACH, thief_order

    assert thief_order(REACH) == [(0, 1), (-1, 1), (1, 1), (0, 2), (-1, 2), (1, 2), (0, 3), (-1, 3), (1, 3)]
    assert thief_order([(1, 3), (0, 1)]) == [(0, 1), (1, 3)]


def test_a_kin_aware_thief_spares_kin_and_robs_the_stranger_instead():
    from metta.experiments.dilemma_check import CHECKS, Scripted

    reach = CHECKS["metta-kin-dilemma"].thief_reach
    level = reach_level([(0, 1), (1, 3)])                       # kin in front, a stranger at the far right corner
    for seed in range(20):                                      # teams of 2 among 3: find a draw where A1, A2 are kin
        s = Level(level, kinship=dict(structure="teams", team_size=2, bond_share=0.0), seed=seed)
        if s.env.kinship[0, 1] == 1 and s.env.kinship[0, 2] == 0:
            break
    else:
        raise AssertionError("no seed makes A1 and A2 kin")
    index = s.env.engine.action_index
    thieves = np.array([True, False, False])
    s.act(UP, None, None)
    s.harvest(1, 1, UP)                                         # only the kin carries
    assert Scripted(s.env, thieves, kin_aware=True, reach=reach).act()[0] not in \
        {index("attack", i) for i in range(1, 10)}
    assert Scripted(s.env, thieves, kin_aware=False, reach=reach).act()[0] == index("attack", 2)
    s.harvest(2, 1, UP)                                         # now the stranger too
    assert Scripted(s.env, thieves, kin_aware=True, reach=reach).act()[0] == index("attack", 9)
    assert Scripted(s.env, thieves, kin_aware=False, reach=reach).act()[0] == index("attack", 2)   # front first


@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_shared_returns_after_the_fact_are_the_envs_own(alpha):
    from metta import make_env
    from metta.experiments import dilemma_check as dc

    env = make_env("metta-kin-dilemma", seed=1, max_steps=100,
                   kinship={"structure": "teams", "num_teams": 4, "team_reward": alpha})
    env.reset(seed=1)
    n = env.num_agents_total
    policy = dc.Scripted(env, np.arange(n) % 3 == 0, kin_aware=False, reach=dc.REACH)
    while True:
        *_, episode = env.step_arrays(policy.act())
        if episode is not None:
            break
    raw = np.array([m["raw_reward"] for m in episode])
    teams = [np.flatnonzero(env.kinship[i] == 1) for i in range(n)]
    assert all(len(t) == 3 for t in teams) and any(np.ptp(raw[t]) > 0 for t in teams)   # sharing changes something
    by_hand = raw if alpha == 0 else np.array([raw[teams[i]].mean() for i in range(n)])
    ours = dc.shared_returns(env.kinship, raw, alpha)
    assert ours == pytest.approx(by_hand) and ours == pytest.approx([m["reward"] for m in episode])
    env.close()


def test_the_check_configurations_are_the_presets():
    from metta.env.presets import PRESETS
    from metta.experiments import dilemma_check as dc

    for name, check in dc.CHECKS.items():
        preset = PRESETS[name]
        assert os.path.realpath(check.game) == os.path.realpath(preset.game.path)
        assert {k: getattr(preset.map, k) for k in check.map} == check.map
        assert {k: getattr(preset.kinship, k) for k in check.kinship} == check.kinship
    kin = dc.CHECKS["metta-kin-dilemma"]
    assert kin.alphas == (0.0, 1.0) and sorted(kin.thief_reach) == sorted(dc.REACH)
    old = dc.CHECKS["metta-dilemma"]
    assert old.alphas == (0.0, 0.5, 1.0) and old.thief_reach == ((0, 1),)
    assert (dc.GAME, dc.MAP, dc.KINSHIP, dc.ALPHAS) == (old.game, old.map, old.kinship, old.alphas)
    assert dc.DEFAULT_CHECK == "metta-dilemma"
    env = dc.make_check_env(kin)
    env.reset(seed=0)
    assert (env.num_agents_total, env.max_steps, sorted(env.kinship.sum(1))) == (12, 200, [3.0] * 12)
    assert sorted(env.team_rewards) == [0.0] * 6 + [1.0] * 6
    env.close()


def test_the_schelling_populations_are_nested():
    from metta.experiments.schelling import schelling_thieves

    sets = [set(np.flatnonzero(~schelling_thieves(k, 12, 3, 1))) for k in range(13)]
    assert [len(s) for s in sets] == list(range(13)) and all(a < b for a, b in zip(sets, sets[1:]))
    assert sets[5] != set(np.flatnonzero(~schelling_thieves(5, 12, 4, 1)))    # another seed, another order


def test_the_schelling_diagram_by_hand(tmp_path):
    from metta.experiments.schelling import plot_schelling, schelling

    # 3 agents, 2 seeds of one episode; thieves per k (k peaceful), raw returns and shared ones chosen by hand
    masks = {0: [1, 1, 1], 1: [0, 1, 1], 2: [0, 0, 1], 3: [0, 0, 0]}
    raw = {0: ([1, 2, 3], [3, 2, 1]), 1: ([4, 6, 8], [2, 6, 10]), 2: ([5, 7, 9], [6, 6, 3]),
           3: ([7, 7, 7], [8, 9, 10])}
    runs = {k: {s: [dict(thieves=[bool(t) for t in masks[k]], raw=raw[k][s],
                         shared={1.0: [float(np.mean(raw[k][s]))] * 3})] for s in (0, 1)} for k in masks}
    d = schelling(runs, 1.0)
    assert d["n_agents"] == 3 and d["seeds"] == [0, 1]
    coop, defect = d["panels"]["raw"]["cooperators"], d["panels"]["raw"]["defectors"]
    # cooperators: x = k - 1; per seed the mean over the k peaceful agents
    assert [(p["x"], p["k"], p["per_seed"]) for p in coop] == [(0, 1, [4, 2]), (1, 2, [6, 6]), (2, 3, [7, 9])]
    # defectors: x = k; the mean over the 3 - k thieves
    assert [(p["x"], p["k"], p["per_seed"]) for p in defect] == [(0, 0, [2, 2]), (1, 1, [7, 8]), (2, 2, [9, 3])]
    t1 = math.tan(0.475 * math.pi)                             # t(0.975, 1): the Cauchy quantile
    half = t1 * math.sqrt(((9 - 6) ** 2 + (3 - 6) ** 2) / 1) / math.sqrt(2)
    assert (defect[2]["mean"], defect[2]["lo"], defect[2]["hi"]) == pytest.approx((6, 6 - half, 6 + half))
    cond = d["panels"]["raw"]["conditions"]
    assert cond["mutual cooperation over mutual defection: Rc(N-1) - Rd(0)"]["per_seed"] == [5, 7]
    assert cond["mutual cooperation over being exploited: Rc(N-1) - Rc(0)"]["per_seed"] == [3, 7]
    assert cond["fear, defecting among defectors: Rd(0) - Rc(0)"]["per_seed"] == [-2, 0]
    assert cond["greed, defecting among cooperators: Rd(N-1) - Rc(N-1)"]["per_seed"] == [2, -6]
    assert cond["defecting pays with 1 other cooperators: Rd(1) - Rc(1)"]["per_seed"] == [1, 2]
    shared = d["panels"]["shared_alpha_1"]["cooperators"]
    assert [p["per_seed"] for p in shared] == [[6, 6], [7, 5], [7, 9]]
    out = tmp_path / "s.png"
    plot_schelling(d, str(out), "a title")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
