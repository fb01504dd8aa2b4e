"""Record an episode of a ``MettaEnv`` as it is played, into the replay format (metta.viz.replay.format).

    recorder = Recorder(policy="random")
    play_episode(env, policy, seed, record=recorder)     # calls begin() after the reset, step() after each step
    recorder.write("out/metta-teams.replay.json.gz")

Each step reads the env's state once (``env.state()``) and keeps only what changed. An
object keeps its id from step to step when its key is unchanged: an agent's key is its
player, any other object's is its type, cell and player; an object that changes key is
stored as removed and added, so the replay holds every state exactly, whatever moves.
Attacks and gifts are the env's own attributions (``env.metrics``: kin or stranger), their
target the game's target variable of the same step.
"""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from metta.viz.replay.format import FORMAT, ORIENTATIONS, VERSION, write_replay
from metta.society.metrics import DIRECTED, TARGETS

_ORIENT = {name: i for i, name in enumerate(ORIENTATIONS)}


class Recorder:
    """Keeps one episode (the last ``begin``) as a replay; ``replay()`` is the data, ``write(path)`` the file."""

    def __init__(self, policy: str | None = None):
        self.policy = policy
        self._data: dict[str, Any] | None = None  # the replay, from begin() on

    # ------------------------------------------------------------------ hooks play_episode calls
    def begin(self, env, seed: int | None) -> None:
        from metta.viz.render import GROUP_COLORS, kinship_groups, object_styles

        self.env = env
        self._types: list[str] = []
        self._variables: dict[str, list[str]] = {}
        self._ids: dict[tuple, int] = {}
        self._rows: dict[int, list] = {}
        self._next_id = 0
        state = env.state()
        rows = self._index(state)
        self._rows = rows
        self._globals = {k: list(v) for k, v in state["GlobalVariables"].items()}
        self._hits = {c: env.metrics.hits[c].copy() for c in DIRECTED if c in env.metrics.targeted}
        self._bonds = env.metrics.bonds.copy()
        groups = kinship_groups(env.kinship, env.society.kin_threshold)
        w, h, rotate = env.engine.window
        self._data = {
            "format": FORMAT, "version": VERSION, "env": env.name, "game": os.path.basename(env.game.path or ""),
            "policy": self.policy, "seed": None if seed is None else int(seed),
            "num_agents": env.num_agents_total, "agents": list(env.possible_agents),
            "width": int(state["Grid"]["Width"]), "height": int(state["Grid"]["Height"]), "steps": 0,
            "max_steps": env.max_steps, "avatar": env.game.avatar, "object_types": self._types,
            "object_variables": self._variables, "styles": object_styles(env.game),
            "action_names": list(env.action_names), "window": [int(w), int(h), bool(rotate)],
            "kinship": np.asarray(env.kinship, dtype=float).tolist(),
            "kin_threshold": float(env.society.kin_threshold), "groups": groups.tolist(),
            "group_colors": [list(c) for c in GROUP_COLORS],
            "bodies": {"ids": [int(b) for b in env.body_ids],
                       "names": ["standard"] + (list(env.bodies.names) if env.bodies is not None else [])},
            "initial": {"objects": list(rows.values()), "globals": self._globals, "ticks": int(state["GameTicks"])},
            "deltas": [], "actions": [], "rewards": [], "raw_rewards": [], "events": [], "bonds": [], "metrics": None,
        }
        self._globals = {k: list(v) for k, v in self._globals.items()}

    def step(self, actions: dict, rewards: dict, infos: dict) -> None:
        env, data = self.env, self._data
        assert data is not None, "step() after begin()"
        state = env.state()
        rows = self._index(state)
        changed = [row for i, row in rows.items() if self._rows.get(i) != row]
        removed = [i for i in self._rows if i not in rows]
        self._rows = rows
        changes = {}
        for name, values in state["GlobalVariables"].items():
            old = self._globals.get(name)
            diff = [[k, int(v)] for k, v in enumerate(values) if old is None or old[k] != v]
            if diff:
                changes[name] = diff
                self._globals[name] = list(values)
        data["deltas"].append({"set": changed, "remove": removed, "globals": changes, "ticks": int(state["GameTicks"])})
        agents = env.possible_agents
        data["actions"].append([int(actions.get(a, 0)) for a in agents])
        data["rewards"].append([float(rewards.get(a, 0.0)) for a in agents])
        data["raw_rewards"].append([float(infos[a]["raw_reward"]) if a in infos else 0.0 for a in agents])
        t = len(data["deltas"])
        for counter, before in self._hits.items():
            now = env.metrics.hits[counter]
            target = self._globals.get(TARGETS[counter])
            for kin_row, kin in ((0, True), (1, False)):
                for i in np.flatnonzero(now[kin_row] > before[kin_row]):
                    for _ in range(int(now[kin_row, i] - before[kin_row, i])):
                        data["events"].append([t, counter, int(i), int(target[i + 1]) - 1 if target else -1, kin])
            self._hits[counter] = now.copy()
        new = np.argwhere(np.triu(env.metrics.bonds > self._bonds))
        data["bonds"].extend([t, int(i), int(j)] for i, j in new)
        self._bonds = env.metrics.bonds.copy()
        data["steps"] = t
        if all(a in infos and "episode" in infos[a] for a in agents):
            data["metrics"] = [infos[a]["episode"] for a in agents]

    # ------------------------------------------------------------------ output
    def replay(self) -> dict:
        if self._data is None:
            raise RuntimeError("nothing recorded: call begin(env, seed) after a reset (play_episode(record=...))")
        return self._data

    def write(self, path: str) -> None:
        write_replay(path, self.replay())

    # ------------------------------------------------------------------ rows
    def _index(self, state: dict) -> dict[int, list]:
        """Every object of ``state`` as a row, by id (ids carried over from the previous step by key)."""
        avatar = self.env.game.avatar
        seen: set[tuple] = set()
        rows = {}
        for obj in state["Objects"]:
            name, (x, y), player = obj["Name"], obj["Location"], int(obj.get("PlayerId", 0))
            if name not in self._variables:
                self._types.append(name)
                self._variables[name] = sorted(obj["Variables"])
            names = self._variables[name]
            if sorted(obj["Variables"]) != names:
                raise RuntimeError(f"object {name!r} at {obj['Location']} has variables {sorted(obj['Variables'])}, "
                                   f"another of its type {names}")
            key: tuple = (name, player) if name == avatar and player >= 1 else (name, x, y, player)
            if key in seen:  # two objects of one key in one state: the second one is its own object
                key = key + (len(seen),)
            seen.add(key)
            ident = self._ids.get(key)
            if ident is None:
                ident = self._ids[key] = self._next_id
                self._next_id += 1
            rows[ident] = [ident, self._types.index(name), int(x), int(y), _ORIENT[obj["Orientation"]], player,
                           int(obj.get("RenderTileId", 0))] + [int(obj["Variables"][v]) for v in names]
        for key in [k for k in self._ids if k not in seen]:  # a key that comes back later is a new object
            del self._ids[key]
        return rows
