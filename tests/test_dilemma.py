"""The dilemma game (games/dilemma.yaml) against the numbers worked out by hand in docs/dilemma.md.

The overlay's named values are the doc's table; a theft and a gift move diamonds, energy and
hearts as the payoff table says, on tiny fixed levels; the scripted thief of
metta.experiments.dilemma_check attacks exactly when the doc says; its interval is the t interval
computed by hand; the shared returns it computes after the fact are the env's own.
"""
import math
import os
import re

import numpy as np
import pytest
import yaml

from conftest import ROOT

DILEMMA = os.path.join(ROOT, "games", "dilemma.yaml")
DOC = os.path.join(ROOT, "docs", "dilemma.md")
RIGHT, DOWN = ("rotate", 3), ("rotate", 4)


@pytest.fixture(autouse=True)
def _probed_once(monkeypatch, request):
    if request.node.originalname != "test_the_game_validates_runs_in_griddly_and_places_its_counts":
        monkeypatch.setattr("metta.env.core.probe_game", lambda doc: None)


def doc_table() -> dict[str, tuple[int, int]]:
    """The doc's 'What changed' table: {named value: (metta.yaml's, dilemma.yaml's)}."""
    text = open(DOC).read()
    table = text.split("## What changed")[1].split("\n\n")[1]
    out = {}
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        names = re.findall(r"`(\w+)`", cells[0])
        base, new = (list(map(int, re.findall(r"-?\d+", c))) for c in cells[1:3])
        assert len(names) == len(base) == len(new), line
        out.update({n: (b, v) for n, b, v in zip(names, base, new)})
    return out


def values(path):
    from metta.griddly_ext.gdy import load_gdy

    return load_gdy(path).named_values()


def overlay_matches_table(path, table) -> tuple[dict, dict]:
    """The overlay ``path`` changes metta.yaml's named values only, exactly those of a doc's ``table`` {name: (base,
    new)}, to the table's values; its and the base's named values."""
    raw = yaml.safe_load(open(path))
    assert raw["extends"] == "metta.yaml"
    assert set(raw) == {"extends", "Environment"} and set(raw["Environment"]) == {"Name", "Description", "Variables"}
    base, game = values(os.path.join(ROOT, "games", "metta.yaml")), values(path)
    assert set(game) == set(base)                                 # named values only: none added or removed
    assert {k for k in game if game[k] != base[k]} == set(table)  # every change is in the doc, and only those
    assert {k: (base[k], game[k]) for k in table} == table
    return base, game


def test_the_overlay_changes_exactly_the_named_values_of_the_docs_table():
    table = doc_table()
    overlay_matches_table(DILEMMA, table)
    assert len(table) == 12


def test_the_economy_by_hand():
    v = values(DILEMMA)
    # every heart takes two diamonds: floor((40 + 50k) / 100) = floor(k / 2)
    for k in range(12):
        assert (v["agent_initial_energy"] + v["charger_energy"] * k) // v["altar_cost"] == k // 2
    unit = v["reward_unit"]
    carried = v["charge_reward"] / unit + v["charger_energy"] / v["altar_cost"]
    assert carried == pytest.approx(0.6)                          # v, a carried diamond
    swing = v["attack_cost"] / v["altar_cost"]
    assert swing == pytest.approx(0.1)
    assert (12 * 10, 24 * 40 + 120 * 50) == (v["map_count_generator"] * v["generator_initial_diamonds"],
                                             24 * v["agent_initial_energy"] + 120 * v["charger_energy"])
    # the encounter: T > R > P > S for f = 0 and 0.7
    for f in (0.0, 0.7):
        R, T, S = carried, 2 * carried - swing, -f
        P = (T + S) / 2
        assert T > R > P > S and 2 * R > T + S

    # stealing one diamond from kin stops paying the sharer at alpha* (the doc's 0.95 and 0.71)
    def alpha(d, f):
        return (carried * d - swing) / (carried * d - 0.75 * swing + 0.25 * f)

    assert (round(alpha(1, 0), 2), round(alpha(1, 0.7), 2), round(alpha(2, 0.7), 2)) == (0.95, 0.71, 0.85)
    w, k = (lambda a: 1 - 0.75 * a), (lambda a: 0.25 * a)

    def kin_theft(a, f):
        return w(a) * (carried - swing) - k(a) * (carried + f)

    assert [kin_theft(a, 0) for a in (0, 0.5, 1)] == pytest.approx([0.5, 0.2375, -0.025])
    assert [kin_theft(a, 0.7) for a in (0.5, 1)] == pytest.approx([0.15, -0.2])


def test_the_game_validates_runs_in_griddly_and_places_its_counts():
    from collections import Counter

    from metta import make_env
    from metta.experiments.dilemma_check import KINSHIP, MAP
    from metta.griddly_ext.gdy import load_gdy
    from metta.griddly_ext.validation import validation_problems

    assert validation_problems(load_gdy(DILEMMA)) == []
    env = make_env("metta-teams", game=DILEMMA, seed=0, kinship=KINSHIP, **MAP)  # probed in a child process
    env.reset(seed=0)
    placed = Counter(o["Name"] for o in env.state()["Objects"])
    assert (placed["agent"], placed["generator"], placed["charger"], placed["altar"]) == (24, 12, 3, 5)
    assert env.max_steps == 500 and env.society.bond_share == 0.0
    assert all(a["energy"] == 40 for a in env.agent_variables())
    env.close()


class Level:
    """A fixed level of the dilemma game (``GAME``): step by action name per agent."""

    GAME = DILEMMA

    def __init__(self, level, kinship=None, seed=0, **overrides):
        from metta import make_env

        self.env = make_env("metta-solo", game=self.GAME, level=level, kinship=kinship, overrides=overrides)
        self.env.reset(seed=seed)
        self.raw = np.zeros(self.env.num_agents_total)

    def act(self, *per_agent):
        flat = np.array([0 if a is None else a if isinstance(a, (int, np.integer)) else
                         self.env.engine.action_index(*(a if isinstance(a, tuple) else (a, 1))) for a in per_agent])
        _, _, raw, *_ = self.env.step_arrays(flat)
        self.raw += raw
        return raw

    def agent(self, i):
        return self.env.agent_variables()[i]


THEFT = """W W W W W W
W A1 A2 g . W
W c . . . W
W W W W W W
"""


def carrying_victim(kinship=None):
    s = Level(THEFT, kinship=kinship)
    s.act(RIGHT, RIGHT)                       # both face right: the thief faces the victim
    while s.agent(1)["inventory"] < 2:        # the victim harvests two diamonds (the generator cools down 10)
        s.act(None, "use")
    assert s.raw[1] == pytest.approx(0.2) and s.agent(0)["energy"] == s.agent(1)["energy"] == 40
    return s


def test_a_theft_moves_diamonds_and_energy_as_the_payoff_table_says():
    from metta.experiments.dilemma_check import Scripted

    s = carrying_victim()
    v = s.env.game.named_values()
    thief = Scripted(s.env, np.array([True, False]), kin_aware=False)
    action = thief.act()[0]
    assert action == s.env.engine.action_index("attack", 2)   # the carrier in front, unshielded: attack
    assert thief.profitable[:, 0].tolist() == [1, 1]          # one profitable chance, in front
    s.act(action, None)
    a, b = s.agent(0), s.agent(1)
    assert (a["inventory"], a["energy"]) == (2, 40 - v["attack_cost"])
    assert (b["inventory"], b["energy"], b["frozen"]) == (0, 40, v["freeze_duration"])
    # the thief charges the two: +50 energy and 0.1 each; worth 0.6 d - 0.1 = 1.1 (d = 2) in all
    s.act(DOWN, None)
    while s.agent(0)["inventory"]:
        s.act("use", None)
    gained = (s.agent(0)["energy"] - 40) / v["altar_cost"] + s.raw[0]
    assert s.agent(0)["energy"] == 40 - 10 + 2 * 50 and gained == pytest.approx(0.6 * 2 - 0.1)


def test_the_victim_loses_exactly_forty_actions():
    s = carrying_victim()
    s.act(("attack", 2), None)
    lost = 0                                  # actions that do nothing after the step of the blow
    while True:
        s.act(None, "use")
        if s.agent(1)["inventory"]:
            break
        lost += 1
    assert lost == s.env.game.named_values()["freeze_duration"] == 40


def test_a_kin_aware_thief_spares_kin_and_a_kin_blind_one_does_not():
    from metta.experiments.dilemma_check import Scripted

    kin = dict(structure="teams", team_size=2, bond_share=0.0)
    s = carrying_victim(kinship=kin)
    attack = s.env.engine.action_index("attack", 2)
    assert s.env.kinship[0, 1] == 1.0
    assert Scripted(s.env, np.array([True, False]), kin_aware=True).act()[0] != attack
    assert Scripted(s.env, np.array([True, False]), kin_aware=False).act()[0] == attack
    assert Scripted(s.env, np.array([False, False]), kin_aware=False).act()[0] != attack  # peaceful


GIFT = """W W W W W
W A1 A2 a W
W W W W W
"""


def test_a_gift_at_the_threshold_makes_a_heart_two_agents_could_not():
    # each holds an odd diamond's energy, 40 + 50 = 90: neither can use the altar (100)
    s = Level(GIFT, agent_initial_energy=90)
    s.act(RIGHT, RIGHT)
    s.act(None, "use")
    assert s.raw[1] == 0 and s.agent(1)["energy"] == 90
    s.act("gift_energy", None)
    assert (s.agent(0)["energy"], s.agent(1)["energy"]) == (90 - 2 - 50, 140)
    s.act(None, "use")
    assert s.raw[1] == pytest.approx(1.0) and s.agent(1)["energy"] == 40   # a heart, 40 left for the next


def test_the_t_interval_by_hand():
    """The check's intervals (metta.evals.stats.mean_interval: 95% t across seeds) against t quantiles by hand."""
    from metta.evals.stats import mean_interval, t_quantile

    iv = mean_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    half = 2.7764451 * math.sqrt(2.5) / math.sqrt(5)       # t(0.975, 4) s / sqrt(n) = 1.9632 (t to 8 digits)
    assert (iv["mean"], iv["n"]) == (3.0, 5)
    assert (iv["lo"], iv["hi"]) == pytest.approx((3 - half, 3 + half)) and half == pytest.approx(1.963, abs=1e-3)
    iv = mean_interval([0.2, -0.1])                         # n = 2: t(0.975, 1) = tan(0.475 pi) = 12.7062, s = 0.2121
    t1 = math.tan(0.475 * math.pi)                          # Cauchy: df 1's quantile in closed form
    assert (iv["lo"], iv["hi"]) == pytest.approx((0.05 - t1 * 0.15, 0.05 + t1 * 0.15))
    assert t_quantile(0.975, 4) == pytest.approx(2.7764451, abs=1e-7)
    assert t_quantile(0.975, 1) == pytest.approx(t1, rel=1e-9)
    assert mean_interval([7.0])["lo"] is None
    assert t_quantile(0.975, 40) == pytest.approx(2.021, abs=1e-3)
    assert t_quantile(0.975, 120) == pytest.approx(1.980, abs=1e-3)


def test_shared_returns_after_the_fact_are_the_envs_own():
    """What the check computes (``play``'s shared returns, by ``shared_returns``) at every one of its alphas is the
    seed's rule worked out here from the teams read off K, and at the alpha the env itself pays, the env's reward."""
    import dataclasses

    from metta.experiments import dilemma_check as dc

    paid_alpha = 0.5
    check = dataclasses.replace(dc.CHECKS["metta-dilemma"], kinship=dict(dc.KINSHIP, team_reward=paid_alpha))
    env = dc.make_check_env(check, game=DILEMMA, max_steps=120)
    ended = []
    step_arrays = env.step_arrays

    def spy(flat, out=None):   # the episode's metrics as the env reports them, with the reward it paid
        result = step_arrays(flat, out)
        if result[5] is not None:
            ended.append(result[5])
        return result

    env.step_arrays = spy
    n = env.num_agents_total
    out = dc.play(env, check, seed=3, episode=0, thieves=np.ones(n, bool), aware=False)
    paid = [m["reward"] for m in ended[0]]
    raw = out["raw"]
    assert raw == [m["raw_reward"] for m in ended[0]] and sum(raw) > 0
    teams = [[j for j in range(n) if env.kinship[i][j] == 1.0] for i in range(n)]
    assert sorted(len(t) for t in teams) == [4] * n
    assert any(len({raw[j] for j in t}) > 1 for t in teams)                # sharing changes something
    assert sorted(out["shared"]) == sorted(dc.ALPHAS) == [0.0, 0.5, 1.0]
    for alpha, shared in out["shared"].items():
        by_hand = [(1 - alpha) * raw[i] + alpha * sum(raw[j] for j in teams[i]) / len(teams[i]) for i in range(n)]
        assert shared == pytest.approx(by_hand, abs=1e-12), alpha
    assert out["shared"][paid_alpha] == pytest.approx(paid, abs=1e-12)
    assert dc.shared_returns(env.kinship, raw, paid_alpha) == pytest.approx(paid, abs=1e-12)
    env.close()
