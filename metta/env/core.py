"""The Metta environment: a PettingZoo ``ParallelEnv`` over the Griddly engine.

Agents are ``agent_0 .. agent_{N-1}`` (Griddly players 1..N). Each step every agent
acts at once. Observations are each agent's egocentric window exactly as Griddly's
VECTOR observer renders it with ``TrackAvatar`` and ``RotateWithAvatar``: a uint8
array ``(channels, width, height)``, channels being one per object type, then the
four orientations, then one per object variable (``env.channel_names``). Actions
are one flat ``Discrete`` space (``env.action_names``): 0 waits, the rest are every
input of every player action in the game file. Episodes end by truncation at
``max_steps`` (the game's named value unless given), or when the game's own
Termination fires. Every reset draws a fresh procedural level and a fresh kinship
matrix from the env's seed.

Observations come from one of three backends (``obs_backend``), identical element for
element: ``"griddly"`` renders every agent's window with Griddly's own per-player
observers (the reference); ``"numba"`` (default), ``"numpy"`` and ``"vulkan"`` render one
global view per step and cut all windows from it in one batched call (metta.griddly_ext.windows;
``numba`` is the same computation compiled, metta.griddly_ext.compiled_windows).
Each step returns fresh observation arrays: keeping them across steps is safe.

Griddly's rewards are whole points; the env pays ``points / reward_unit`` (the game's
named value, 1 when the game has none), so a game can price rewards below one unit.
Rewards are shared through the kinship layer (metta.society.kinship): the reward an
agent receives is ``env.sharing @ raw`` where ``raw`` holds each agent's own reward of
the step, reported as ``infos[agent]["raw_reward"]``. ``env.kinship`` is the episode's
kinship matrix; ``env.sharing`` changes within an episode when agents bond. A structure whose teams draw their share
per episode (``mixed_teams``) gives each agent its team's share alpha, ``env.team_rewards``, and one more channel,
``team_reward``: round(255 alpha) over the whole window, the observer's own team's (None and no channel otherwise);
``env.reset(seed, options={"swap_arms": True})`` replays an episode's draws with the arms swapped.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from metta.errors import ConfigError
from metta.env.backends import REFERENCE, make_backend
from metta.env.config import EnvConfig, GameConfig
from metta.env.presets import get_preset, preset_game
from metta.griddly_ext.engine import GriddlyEngine
from metta.griddly_ext.gdy import GameDoc, load_gdy
from metta.griddly_ext.levels import generate_level, group_agents, parse_level
from metta.griddly_ext.map_config import MapConfig, default_counts
from metta.griddly_ext.probe import probe_game
from metta.griddly_ext.validation import validate_game
from metta.griddly_ext.windows import WindowLayout
from metta.society.bodies import SETUP_ACTION
from metta.society.kinship import Kinship, bond_sharing
from metta.env.game_facts import GameFacts
from metta.env.counters import actions_raising, counter_actions, game_counters, per_player_variables
from metta.society.metrics import DIRECTED, SocialMetrics, derived_metric_names
from metta.society.observation import CHANNELS as KIN_CHANNELS, TEAM_CHANNEL, observed_kinship, quantize, render_kinship


class MettaEnv(ParallelEnv):
    metadata = {"name": "metta_v0", "render_modes": [], "is_parallelizable": True}

    def __init__(self, config: EnvConfig, seed: int | None = None, name: str = "metta"):
        """The env ``config`` says (metta.env.config; ``env.config``), its levels and engine seeded by ``seed``."""
        self.config = config
        self.name = name
        self.obs_backend = obs_backend = config.obs_backend
        self.bodies = bodies = config.bodies.body_mix()
        game = load_game(config.game)
        self.facts = GameFacts.of(game)  # the game file's Metta: section (metta.env.game_facts)
        if bodies is not None:
            if self.facts.bodies is None:
                raise ConfigError(f"{game.path}: energy profiles (bodies) need the game's Metta.bodies section (the "
                                  f"costs they scale, docs/games.md); this game has none, so it takes no bodies")
            action = bodies.setup_action(game.named_values(), self.facts.bodies, game.avatar)
            game = GameDoc(doc={**game.doc, "Actions": list(game.doc["Actions"]) + [action]},
                           path=game.path, overrides=game.overrides, section=game.section)
        self.game = game
        self._fixed_level = level = config.level
        self._chars = game.map_characters()
        self.map_options = config.map  # resolved for this game (every object's count) on procedural maps
        if level is not None:
            _, _, num_agents = parse_level(level, self._chars, self._chars[game.avatar])
        else:
            self.map_options = self._resolved(config)
            num_agents = self.map_options.num_agents
        self.max_steps = self._episode_length(config)
        self.reward_unit = float(game.named_values().get("reward_unit", 1))

        self._rng = np.random.default_rng(seed)
        self.level = self._next_level()
        self.engine = GriddlyEngine(game, num_agents, self.level,
                                    hidden_actions=(SETUP_ACTION,) if bodies is not None else (),
                                    player_observers=obs_backend == REFERENCE)
        self.body_ids = np.zeros(num_agents, dtype=np.int64)  # 0: the standard body
        self.num_agents_total = num_agents
        self.society: Kinship = config.kinship.for_agents(num_agents)
        self.kinship = np.eye(num_agents)
        self.sharing = np.eye(num_agents)
        self.team_rewards: np.ndarray | None = None  # each agent's team's share alpha (structures with arms)
        self._team_q = np.zeros(num_agents, dtype=np.uint8)
        extra = (TEAM_CHANNEL,) if self.society.has_arms else ()
        counters = game_counters(game)
        clashes = sorted(set(counters) & derived_metric_names())
        if clashes:  # its count and the derived metric would share one key of the episode's metrics
            raise ConfigError(f"{game.path}: Environment.Variables: the per-player counter(s) {', '.join(clashes)} "
                              f"are named like metrics the env derives itself (metta.society.metrics); rename them")
        # what makes a chance actionable (the game's Metta.actionable), its variables placed in the global view
        actionable = {counter: tuple(tuple((self.engine.variable_channel(c.variable), c.op, c.value) for c in conds)
                                     for conds in (roles["actor"], roles["target"]))
                      for counter, roles in (self.facts.actionable or {}).items()}
        self.metrics = SocialMetrics(num_agents, counters, per_player_variables(game), actionable)
        self._ok: np.ndarray | None = None  # who meets the actionable conditions now (metrics.actionable_at)
        watched = counter_actions(game)
        # flat actions whose landing can raise an attributed counter (None: any step may)
        self._watched = None if watched is None else np.array([a.name in watched for a in self.engine.actions])
        # every cell an agent's attacks (gifts) can reach, for the kin/stranger chances (metta.society.metrics)
        reach = {c: self.engine.reach(actions_raising(game, c)) for c in DIRECTED if c in self.metrics.targeted}
        self._reach = {c: r for c, r in reach.items() if len(r)}
        self.possible_agents = [f"agent_{i}" for i in range(num_agents)]
        self.agents = list(self.possible_agents)
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        self.action_names = [a.description if a.name == "noop" else f"{a.name}: {a.description}"
                             for a in self.engine.actions]
        self.channel_names = (list(self.engine.object_names)
                              + ["orientation_up", "orientation_right", "orientation_down", "orientation_left"]
                              + list(self.engine.variable_names) + list(KIN_CHANNELS) + list(extra))
        c, w, h = self.engine.obs_shape
        self._griddly_channels = c
        self.obs_shape = (c + len(KIN_CHANNELS) + len(extra), w, h)
        self._obs_spaces = {a: spaces.Box(0, 255, self.obs_shape, dtype=np.uint8) for a in self.possible_agents}
        self._act_spaces = {a: spaces.Discrete(self.engine.num_actions) for a in self.possible_agents}
        self._windows = None if obs_backend == REFERENCE else self._window_renderer(obs_backend)
        # the backends render the game's and the kinship channels; the team_reward channel is added after them
        self._scratch = np.empty((num_agents, h, w, c + len(KIN_CHANNELS)), dtype=np.uint8) if extra else None
        self._agent_table = np.zeros((num_agents, num_agents + 1), dtype=np.uint8)  # column 0: no agent
        self._steps = 0
        self._needs_reset = True

    def _window_renderer(self, backend: str):
        e = self.engine
        w, h, rotate = e.window
        try:
            keep = e.window_channels()
        except ValueError as err:
            raise ConfigError(f"{self.game.path}: Environment.Observers.Vector: {err}; use obs_backend='griddly'")
        layout = WindowLayout(e.width, e.height, e.global_view().shape[0], keep, w, h, rotate)
        return make_backend(backend, layout, self.num_agents_total)

    # ------------------------------------------------------------------ spaces
    def observation_space(self, agent: str) -> spaces.Space:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> spaces.Discrete:
        return self._act_spaces[agent]

    # ------------------------------------------------------------------ loop
    @property
    def steps_left(self) -> int:
        """Steps until the episode is truncated: ``max_steps`` after a reset, 1 before its last step."""
        return self.max_steps - self._steps

    def retask(self, config: EnvConfig) -> None:
        """From the next reset on, the env plays ``config``, a config of the same game (metta.curriculum.env): its
        procedural levels (the map's width, height and agents stay the env's) and episodes of ``config.max_steps``
        (None: the game's), with the same engine."""
        if self._fixed_level is not None:
            raise ConfigError("an env with a fixed level draws no procedural levels: it cannot be retasked")
        options = self._resolved(config)
        if (options.width, options.height, options.num_agents) != \
                (self.map_options.width, self.map_options.height, self.map_options.num_agents):
            raise ConfigError(f"a retasked env keeps its {self.map_options.width}x{self.map_options.height} map and "
                              f"{self.map_options.num_agents} agents, got {options.width}x{options.height} with "
                              f"{options.num_agents}")
        self.config, self.map_options, self.max_steps = config, options, self._episode_length(config)

    def _resolved(self, config: EnvConfig) -> MapConfig:
        """``config.map`` for this game: every placeable object's count, from its map_count_<object> and the map's."""
        return config.map.resolve(self._chars, self.game.avatar, default_counts(self.game.named_values()))

    def _episode_length(self, config: EnvConfig) -> int:
        if config.max_steps is not None:
            return config.max_steps
        if "max_steps" not in self.game.named_values():
            raise ConfigError(f"{self.game.path}: Environment.Variables has no named value 'max_steps': declare it "
                              f"(the episode length) or pass max_steps")
        return int(self.game.value("max_steps"))

    def _next_level(self) -> str:
        if self._fixed_level is not None:
            return self._fixed_level
        return generate_level(self.map_options, self._chars, self._rng, avatar=self.game.avatar)

    def _observe(self, out: np.ndarray | None = None) -> np.ndarray:
        """Every agent's observation ``(N, C, W, H)``; into ``out`` (a ``(N, H, W, C)`` array) when given, whose
        transposed view it then returns."""
        if self._windows is None:  # Griddly's own per-player observers, kinship placed around them
            batch = np.empty((self.num_agents_total,) + self.obs_shape, dtype=np.uint8) if out is None \
                else out.transpose(0, 3, 2, 1)
            c = self._griddly_channels
            self.engine.observe_into(batch[:, :c])
            view = self.engine.global_view()  # the poses' and the actionable conditions' source
            self._poses = self.engine.poses(view)
            self._cells = self.engine.padded_cells(self._poses[0], self._poses[1])
            self._ok = self.metrics.actionable_at(view, self._poses[0], self._poses[1])
            render_kinship(batch[:, c:c + len(KIN_CHANNELS)], *self._poses, self._kin_q, self._noise_q)
            if self._scratch is not None:
                batch[:, -1] = self._team_q[:, None, None]
            return batch
        view = self.engine.global_view()  # one global view, every window cut from it at once
        self._poses = self.engine.poses(view)
        self._cells = self.engine.padded_cells(self._poses[0], self._poses[1])
        self._ok = self.metrics.actionable_at(view, self._poses[0], self._poses[1])
        if self._scratch is None:
            return self._windows.render(view, *self._poses, self._agent_table, self._noise_q, out).transpose(0, 3, 2, 1)
        windows = self._windows.render(view, *self._poses, self._agent_table, self._noise_q, self._scratch)
        if out is None:
            out = np.empty(windows.shape[:3] + (windows.shape[3] + 1,), dtype=np.uint8)
        out[..., :-1] = windows
        out[..., -1] = self._team_q[:, None, None]
        return out.transpose(0, 3, 2, 1)

    def _aimed_at_agents(self, flat: np.ndarray, cells: np.ndarray, facing: np.ndarray) -> bool:
        """Could an attack, gift or bond have landed this step? Only if one was aimed, from the agents' cells and
        facings before the step, at a cell an agent held before or after it."""
        if self._watched is None:
            return True
        return self.engine.aims_at(flat, facing, cells, cells, self._cells, self._watched)

    def reset(self, seed: int | None = None, options: dict | None = None):
        """Start an episode (a new level and kinship, from ``seed`` when given). ``options``: ``{"swap_arms":
        True}`` draws exactly what the same seed draws, with the teams' arms swapped (structures with arms); other keys
        are ignored (PettingZoo's API test passes some)."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        level = self._next_level()
        engine_seed = int(self._rng.integers(2**31 - 1))
        draw = self.society.draw(self.num_agents_total, self._rng, swap_arms=bool((options or {}).get("swap_arms")))
        if self._fixed_level is None and self.map_options.arenas > 1:   # kin share an arena
            level = group_agents(level, draw.kinship >= self.society.kin_threshold, self._chars[self.game.avatar])
        self.level = level
        self.engine.reset(level, engine_seed)
        self.kinship, self.team_rewards = draw.kinship, draw.team_rewards
        self.sharing = self._kin_sharing = draw.sharing
        if self.team_rewards is not None:
            self._team_q = quantize(self.team_rewards)
        if self.bodies is not None:  # one engine step fits every agent with its body
            choice = self.bodies.assign(self.num_agents_total, self._rng)
            self.engine.step_hidden(SETUP_ACTION, choice + 1)
            self.body_ids = choice + 1
        seen, sigma = observed_kinship(self.kinship, self.society.kinship_noise, self._rng)
        self.observed_kinship, self.kinship_noise_levels = seen, sigma
        self._kin_q, self._noise_q = quantize(seen), quantize(sigma)
        self._agent_table[:, 1:] = self._kin_q
        self.metrics.reset(self.kinship, self.society.kin_threshold, self.team_rewards)
        self.agents = list(self.possible_agents)
        self._steps = 0
        self._needs_reset = False
        return dict(zip(self.agents, self._observe())), {a: {} for a in self.agents}

    def reset_arrays(self, seed: int | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """``reset`` for callers that hold agents as array rows: the observations ``(N, C, W, H)`` (into ``out``,
        shaped ``(N, H, W, C)``, when given; see ``step_arrays``)."""
        self.reset(seed)
        return self._observe(out)

    def step(self, actions: dict[str, Any]):
        if self._needs_reset or not self.agents:
            raise RuntimeError("step() called before reset() or after the episode ended: call reset()")
        obs, shared, raw, done, truncated, episode = self.step_arrays(self._flat_actions(actions))
        agents = self.possible_agents
        rew = dict(zip(agents, shared.tolist()))
        term = dict.fromkeys(agents, done)
        trunc = dict.fromkeys(agents, truncated)
        infos = {a: {"raw_reward": r} for a, r in zip(agents, raw.tolist())}
        if episode is not None:
            for a, m in zip(agents, episode):
                infos[a]["episode"] = m
        return dict(zip(agents, obs)), rew, term, trunc, infos

    def step_arrays(self, flat: np.ndarray, out: np.ndarray | None = None):
        """``step`` with agents as array rows: ``flat`` int64 ``(N,)`` valid action indices (unchecked) ->
        ``(obs (N, C, W, H), rewards (N,), raw rewards (N,), terminated, truncated, episode)`` (truncated: the
        episode hit ``max_steps`` without terminating); ``episode`` is
        each agent's metrics when the episode ended (then call ``reset``), else None. With ``out`` (``(N, H, W, C)``
        uint8) the observations are written there and a transposed view of it is returned: no new array."""
        if self._needs_reset:
            raise RuntimeError("step() called before reset() or after the episode ended: call reset()")
        cells, facing, ok = self._cells, self._poses[2], self._ok  # as the step starts
        for counter, reach in self._reach.items():
            self.metrics.count_chances(counter, self.engine.aimed_agents(reach, facing, cells), ok)
        raw, done = self.engine.step(flat)
        if self.reward_unit != 1 and raw.any():
            raw = raw.astype(np.float64) / self.reward_unit
        shared = self.sharing @ raw if raw.any() else raw.astype(np.float64)
        self._steps += 1
        truncated = self._steps >= self.max_steps
        obs = self._observe(out)
        if self.metrics.update(self.engine, raw, shared, self._aimed_at_agents(flat, cells, facing), ok):
            # a bond formed: it shares from the next step on
            self.sharing = bond_sharing(self.metrics.bonds, self.society.bond_share) @ self._kin_sharing
        episode = None
        if done or truncated:
            episode = self.metrics.episode(self.engine)
            self.agents = []
            self._needs_reset = True
        return obs, shared, raw, done, truncated and not done, episode

    def _flat_actions(self, actions: dict[str, Any]) -> np.ndarray:
        """Actions in agent order (a missing agent waits), checked against the action space."""
        if len(actions) == self.num_agents_total and list(actions) == self.possible_agents:
            flat = np.fromiter(actions.values(), dtype=np.int64, count=self.num_agents_total)
        else:
            flat = np.zeros(self.num_agents_total, dtype=np.int64)
            for agent, action in actions.items():
                if agent not in self._index:
                    raise KeyError(f"unknown agent {agent!r}")
                flat[self._index[agent]] = int(action)
        if flat.min() < 0 or flat.max() >= self.engine.num_actions:
            bad = np.flatnonzero((flat < 0) | (flat >= self.engine.num_actions))
            raise ValueError(f"action {flat[bad[0]]} for {self.possible_agents[bad[0]]} is outside "
                             f"Discrete({self.engine.num_actions})")
        return flat

    def render(self):
        raise NotImplementedError("MettaEnv draws no frames itself: metta.viz.video.EnvCamera(env).frame() renders the "
                                  "current state as an RGB image (python -m metta.evals.evaluate films one)")

    def close(self):
        if self._windows is not None:
            self._windows.close()
        self.engine.close()

    # ------------------------------------------------------------------ introspection
    @property
    def steps(self) -> int:
        """Steps taken in this episode (0 after a reset)."""
        return self._steps

    def state(self) -> dict:
        """Griddly's full game state (for tests and tools)."""
        return self.engine.state()

    def actionable(self, counter: str) -> tuple[np.ndarray, np.ndarray] | None:
        """Who meets the game's actionable conditions (its ``Metta.actionable``) of the directed counter ``counter``
        (``attacks``, ``gifts``) in the current state: ``(actor_ok, target_ok)``, one bool per agent; None when the
        game declares none for it."""
        return self.metrics.roles_ok(self._ok, counter)

    def agent_variables(self) -> list[dict | None]:
        """Per agent (in agent order): location, orientation and variables, read from Griddly's state."""
        avatar = self.game.avatar
        out: list[dict | None] = [None] * self.num_agents_total
        for obj in self.engine.state()["Objects"]:
            if obj["Name"] == avatar and obj.get("PlayerId", 0) >= 1:
                out[obj["PlayerId"] - 1] = dict(location=tuple(obj["Location"]), orientation=obj["Orientation"],
                                                **obj["Variables"])
        return out


def make_env(config: EnvConfig | str = "metta-teams", seed: int | None = None, *, name: str | None = None,
             **changes) -> MettaEnv:
    """Build a Metta environment: ``MettaEnv(config.override(changes), seed, name)``.

    config: an ``EnvConfig`` (metta.env.config), or the name of a preset (``metta.env.presets.PRESETS``).
    seed: seeds levels and the engine. name: the env's name (default: the preset's, else ``metta``).
    changes: settings by their undotted names (``EnvConfig.aliases``; None: unchanged): ``game=`` a GDY file (it
    needs an avatar object and an action that moves it); ``overrides={"attack_cost": 20}`` named values of the
    game; ``level=`` a fixed level string; ``max_steps=`` (default: the game's); ``kinship={"team_reward": 0.5}``
    (another ``structure`` keeps only the shared parameters) or any kinship parameter (``team_reward=0.5``);
    ``bodies={"light": 1, "heavy": 1}``, ``body_profiles=`` (metta.society.bodies); ``obs_backend=`` (numba,
    numpy, vulkan, griddly); any map option (metta.griddly_ext.map_config): ``width``, ``layout="maze"``,
    ``objects={"tree": 10}`` over the game's ``map_count_<object>`` (``generators=4``: ``objects.generator``)...
    Raises ConfigError naming the dotted key for a bad game file, override, map option, parameter or level.
    """
    if isinstance(config, str):
        name = name or config
        config = get_preset(config)
    elif not isinstance(config, EnvConfig):
        raise ConfigError(f"make_env takes an EnvConfig or a preset's name, got {type(config).__name__}")
    changes = {k: v for k, v in changes.items() if v is not None}
    return MettaEnv(config.override(changes) if changes else config, seed=seed, name=name or "metta")


def load_game(game: GameConfig) -> GameDoc:
    """The game file of ``game`` with its overrides, validated (metta.griddly_ext.validation); a user's file (not a
    preset's) is first run in a child process, once per process: Griddly may crash on what validation missed."""
    doc = validate_game(load_gdy(game.path).with_overrides(game.overrides))
    if not preset_game(game.path):
        probe_game(doc)
    return doc
