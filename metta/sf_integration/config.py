"""The project's training flags, and how a run's config becomes ``make_env`` keywords.

Sample Factory owns the command line; the project only adds flags: ``--game``,
``--override NAME=VALUE`` (repeatable), ``--level PATH``, ``--max_steps``, ``--bodies``,
``--obs_backend``, ``--objects NAME=COUNT,...`` (object counts on procedural maps, over the game's
``map_count_<object>``) and one flag per preset parameter (every other ``MapOptions`` field and every
kinship structure's parameter: ``--width``, ``--num_agents``, ``--layout``, ``--generators``,
``--team_reward``...). Unset flags leave the preset's value. The flags land in the
experiment's ``config.json`` with Sample Factory's own, so a resumed run or a loaded
policy rebuilds the same env (``env_kwargs_from_cfg``).
"""
from __future__ import annotations

import argparse
import os
from dataclasses import fields
from typing import Any

from metta.env import OBS_BACKENDS
from metta.errors import ConfigError
from metta.griddly_ext.gdy import parse_overrides
from metta.griddly_ext.levels import MapOptions
from metta.runtime.name_values import parse_name_values
from metta.society.kinship import parameters as kinship_parameters

# random kinship's Beta parameters `a` and `b` would be ambiguous abbreviations of Sample Factory flags
_FLAG_NAMES = {"a": "beta_a", "b": "beta_b"}
PRESET_PARAMS: tuple[tuple[str, str, type], ...] = tuple(
    (name, _FLAG_NAMES.get(name, name), type(default) if default is not None else int)
    for name, default in [*((f.name, f.default) for f in fields(MapOptions) if f.name != "objects"),
                          *kinship_parameters().items()])
PATH_FLAGS = ("game", "level")
DEFAULT_ACTION_PRIOR = 0.05


def add_metta_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("metta", "the environment: game file, overrides and preset parameters")
    g.add_argument("--game", default=None, metavar="PATH", help="a GDY game file shaped like games/metta.yaml "
                   "(default: the preset's)")
    g.add_argument("--override", action="append", default=None, metavar="NAME=VALUE",
                   help="change a named value of the game, e.g. --override attack.cost=20 (repeatable)")
    g.add_argument("--level", default=None, metavar="PATH", help="a fixed level file instead of procedural maps")
    g.add_argument("--max_steps", type=int, default=None, help="episode length (default: the game's max_steps)")
    g.add_argument("--bodies", default=None, metavar="NAME=WEIGHT,...",
                   help="a mix of energy profiles, e.g. light=1,heavy=1")
    g.add_argument("--obs_backend", default="numba", choices=OBS_BACKENDS, help="how observations are rendered")
    g.add_argument("--objects", action="append", default=None, metavar="NAME=COUNT,...",
                   help="how many of each object procedural maps place, e.g. --objects tree=10,altar=3 (repeatable; "
                        "default: the game's map_count_<object> named values)")
    g.add_argument("--vector_envs", type=int, default=1, metavar="N",
                   help="Metta envs stepped together as one Sample Factory env (one inference batch); with "
                        "--batched_sampling raise this, not --num_envs_per_worker, to run more envs per worker")
    g.add_argument("--action_prior", type=float, default=DEFAULT_ACTION_PRIOR, metavar="SHARE",
                   help="the untrained policy's total probability for actions other than wait, move, rotate and use, "
                        "those four types being equally likely (0: every action equally likely); "
                        "see metta.sf_integration.model")
    g.add_argument("--learner_threads", type=int, default=None, metavar="N",
                   help="torch threads of the learner process (Sample Factory gives every process one; "
                        "default: the machine's defaults in metta.sf_integration.train)")
    for name, flag, typ in PRESET_PARAMS:
        g.add_argument(f"--{flag}", type=typ, default=None,
                       help=f"preset parameter {name} (default: the preset's)")


def cfg_value(cfg: Any, key: str):
    """``cfg[key]`` of a config dict (a loaded ``config.json``) or attribute of a parsed config; None if absent."""
    return cfg.get(key) if isinstance(cfg, dict) else getattr(cfg, key, None)


def parse_bodies(spec: str | None) -> dict[str, float] | None:
    if not spec:
        return None
    return parse_name_values(str(spec).split(","), float, "--bodies", "NAME=WEIGHT,...", "light=1,heavy=1")


def parse_objects(items) -> dict[str, int] | None:
    """``--objects`` values (``["tree=10,altar=3", ...]``) as ``{"tree": 10, "altar": 3}``."""
    if not items:
        return None
    if isinstance(items, str):
        items = [items]
    pairs = [p for item in items for p in str(item).split(",") if p.strip()]
    return parse_name_values(pairs, int, "--objects", "NAME=COUNT,...", "tree=10,altar=3")


def read_level(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"--level {path}: cannot read the level file ({err})") from None


def env_kwargs_from_cfg(cfg: Any) -> dict:
    """``make_env`` keywords (all but the env name) from a parsed config or a loaded ``config.json``."""
    kwargs: dict[str, Any] = {}
    if cfg_value(cfg, "game"):
        kwargs["game"] = cfg_value(cfg, "game")
    overrides = parse_overrides(cfg_value(cfg, "override"))
    if overrides:
        kwargs["overrides"] = overrides
    if cfg_value(cfg, "level"):
        kwargs["level"] = read_level(cfg_value(cfg, "level"))
    if cfg_value(cfg, "max_steps") is not None:
        kwargs["max_steps"] = cfg_value(cfg, "max_steps")
    bodies = parse_bodies(cfg_value(cfg, "bodies"))
    if bodies:
        kwargs["bodies"] = bodies
    objects = parse_objects(cfg_value(cfg, "objects"))
    if objects:
        kwargs["objects"] = objects
    if cfg_value(cfg, "obs_backend") not in (None, "numba"):
        kwargs["obs_backend"] = cfg_value(cfg, "obs_backend")
    for name, flag, _ in PRESET_PARAMS:
        if cfg_value(cfg, flag) is not None:
            kwargs[name] = cfg_value(cfg, flag)
    return kwargs


def absolute_paths(cfg: Any) -> None:
    """Store ``--game`` and ``--level`` as absolute paths, so a run resumes from any directory."""
    for key in PATH_FLAGS:
        if cfg_value(cfg, key):
            setattr(cfg, key, os.path.abspath(cfg_value(cfg, key)))
