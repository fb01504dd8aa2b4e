"""The scripted agents (metta.scripted): the compiled distance field is a plain breadth-first search's, and the
agents route around agents and queue at a busy object instead of walking through."""
from collections import deque

import numpy as np
import pytest

from metta.scripted.fields import DIRECTIONS, distance_at, distance_field, downhill


def bfs(blocked, targets):
    """By hand, one search per cell: the fewest steps over free cells to a free cell beside a target (-1: none)."""
    w, h = blocked.shape
    goals = {(t[0] + dx, t[1] + dy) for t in targets for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))}
    out = np.full((w, h), -1)
    for sx in range(w):
        for sy in range(h):
            if blocked[sx, sy]:
                continue
            seen, queue = {(sx, sy)}, deque([((sx, sy), 0)])
            while queue:
                (x, y), d = queue.popleft()
                if (x, y) in goals:
                    out[sx, sy] = d
                    break
                for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                    n = (x + dx, y + dy)
                    if 0 <= n[0] < w and 0 <= n[1] < h and not blocked[n] and n not in seen:
                        seen.add(n)
                        queue.append((n, d + 1))
    return out


def grid(text):
    """``#`` blocked, ``T`` a target (blocked, like every object), ``.`` free; rows are y, columns x."""
    rows = text.split()
    blocked = np.array([[c in "#T" for c in row] for row in rows]).T
    targets = [(x, y) for y, row in enumerate(rows) for x, c in enumerate(row) if c == "T"]
    return blocked, targets


def test_the_field_by_hand():
    blocked, targets = grid("""
        T..#.
        .#.#.
        ...#T
    """)
    field = distance_field(blocked, targets)
    # x = 0..4 down the columns; the right column's top cells reach only the second target
    assert field.T.tolist() == [[-1, 0, 1, -1, 1],
                                [0, -1, 2, -1, 0],
                                [1, 2, 3, -1, -1]]


@pytest.mark.parametrize("seed", range(12))
def test_the_compiled_field_is_a_plain_search_on_random_grids(seed):
    rng = np.random.default_rng(seed)
    w, h = rng.integers(1, 14, size=2)
    blocked = rng.random((w, h)) < rng.uniform(0, 0.5)
    cells = np.argwhere(np.ones((w, h)))
    targets = [tuple(c) for c in cells[rng.choice(len(cells), size=rng.integers(0, 5), replace=False)]]
    for t in targets:
        blocked[t] = True   # a target is an object: it blocks its own cell
    assert distance_field(blocked, targets).tolist() == bfs(blocked, targets).tolist()


def test_an_agent_on_a_blocked_cell_reads_its_neighbours():
    blocked, targets = grid("""
        ...
        .#.
        ..T
    """)
    field = distance_field(blocked, targets)
    assert distance_at(field, (0, 0), goal=False) == 3 and distance_at(field, (2, 1), goal=True) == 0
    assert downhill(field, (0, 0)) == [d for d in DIRECTIONS if d in ((1, 0), (0, 1))]  # two ways, both as short


QUEUE = """W W W W W W
W g A2 A1 . W
W W W W W W
"""

AROUND = """W W W W W W
W A1 A2 . g W
W . . . . W
W W W W W W
"""


def level(text):
    from metta import make_env

    env = make_env("metta-solo", level=text)
    env.reset(seed=0)
    return env


def test_an_agent_behind_a_busy_generator_queues_instead_of_walking_through():
    from metta.scripted.agents import ScriptedAgents

    env = level(QUEUE)
    agents = ScriptedAgents(env)
    left = env.engine.action_index("rotate", 1)
    assert agents.act()[0] == left                   # faces the one in its way (the generator's only free side)
    env.step_arrays(np.array([left, 0]))
    for _ in range(5):
        assert agents.act()[0] == 0                  # then waits, while the other holds the way
        env.step_arrays(np.array([0, 0]))
    assert env.agent_variables()[0]["location"] == (3, 1)
    env.close()


def test_an_agent_walks_around_an_agent_in_its_way_and_harvests():
    from metta.scripted.agents import ScriptedAgents

    env = level(AROUND)
    agents = ScriptedAgents(env)
    env.step_arrays(agents.act() * np.array([1, 0]))                 # the other stays where it is
    assert env.agent_variables()[0]["location"] == (1, 2)             # down and round, not right into the other
    for _ in range(20):
        actions = agents.act()
        actions[1] = 0                                                 # the other stays where it is
        env.step_arrays(actions)
    assert env.agent_variables()[0]["inventory"] >= 1
    assert env.agent_variables()[1]["location"] == (2, 1)
    env.close()


def test_an_agent_goes_to_the_altar_only_with_energy_for_the_walk_too():
    """Moves cost 2 and a turn 1 (games/metta.yaml), the altar 100: three cells away an agent needs 100 + 3 x 2 + 1
    = 107 to arrive with the altar's price; with 106 and nothing else to do it waits, with 107 it sets off."""
    from metta import make_env
    from metta.scripted.agents import ScriptedAgents

    for energy, sets_off in ((106, False), (107, True)):
        env = make_env("metta-solo", level="W W W W W W W\nW A1 . . . a W\nW W W W W W W\n",
                       overrides={"agent_initial_energy": energy, "agent_energy_regen": 0})
        env.reset(seed=0)
        assert (ScriptedAgents(env).act()[0] != 0) == sets_off, energy
        env.close()


GIFT = """W W W W W W W W
W A1 . . A2 . a W
W W W W W W W W
"""


def test_kin_short_of_the_altar_give_to_the_one_nearer_it():
    """Two kin with 80 energy each, no regeneration and no economy: neither can pay the altar's 100 alone. The one
    farther from it walks up and gives 50 (gift_amount, costing it 52); the nearer then has 130 - 2 - 1 on arrival:
    exactly one heart, earned by agent 2 with agent 1's gift."""
    from metta import make_env
    from metta.scripted.agents import ORACLE, ScriptedAgents

    env = make_env("metta-teams", level=GIFT, team_size=2, max_steps=40,
                   overrides={"agent_initial_energy": 80, "agent_energy_regen": 0, "gift_amount": 50})
    env.reset(seed=0)
    agents = ScriptedAgents(env, ORACLE)
    infos = {}
    while env.agents:
        actions = agents.act()
        _, _, _, _, infos = env.step(dict(zip(env.possible_agents, actions.tolist())))
    one, two = (infos[a]["episode"] for a in env.possible_agents)
    assert (one["gifts_to_kin"], one["hearts"], two["hearts"]) == (1, 0, 1)
    env.close()


POCKET = """W W W W W W W
W A1 . . A2 a W
W W W . W W W
W W W W W W W
"""


def test_an_agent_with_nothing_to_do_makes_way():
    """Agent 2 stands on the altar's only free side. It pays for a heart at once, then has nothing left to do (no
    regeneration, no economy) while agent 1, which can pay too, queues behind it: asked, it steps aside until the
    way is free, and agent 1 earns its heart. Without making way, agent 1 would wait the whole episode."""
    from metta import make_env
    from metta.scripted.agents import ScriptedAgents

    for seed in range(3):
        env = make_env("metta-solo", level=POCKET, max_steps=60,
                       overrides={"agent_initial_energy": 150, "agent_energy_regen": 0})
        env.reset(seed=seed)
        agents = ScriptedAgents(env, seed=seed)
        infos = {}
        while env.agents:
            _, _, _, _, infos = env.step(dict(zip(env.possible_agents, agents.act().tolist())))
        assert [infos[a]["episode"]["hearts"] for a in env.possible_agents] == [1, 1], seed
        env.close()
