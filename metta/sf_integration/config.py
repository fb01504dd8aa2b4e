"""The project's training flags, generated from the env's config (metta.env.config.EnvConfig), and back.

Sample Factory owns the command line; the project adds one flag per setting of the env's config, stored (argparse's
dest) under its dotted key, its help being the field's description: ``--map.width``, ``--map.layout``...,
``--kinship.structure`` and every structure's parameters (``--kinship.team_reward``, ``--kinship.a``...; a
parameter of another structure than the run's is an error), ``--game.path``, ``--level PATH`` (read into the
config), ``--max_steps``, ``--obs_backend``, and the mappings ``--game.overrides NAME=VALUE,...``,
``--map.objects NAME=COUNT,...`` and ``--bodies.mix NAME=WEIGHT,...`` (repeatable; each pair sets one entry,
``game.overrides.NAME``). The older spellings of dotted keys (``EnvConfig.aliases``, but one-letter ones) spell the
same flags: ``--game``, ``--override``, ``--objects``, ``--bodies``, ``--width``, ``--generators`` (the entry
``map.objects.generator``), ``--team_reward``, ``--beta_a`` for ``--kinship.a``... Unset flags leave the preset's
value. Beside them, the project's training options (``--vector_envs``, ``--action_prior``, ``--curriculum``...)
and kickstarting's ``--teacher``, ``--teacher_coef`` and ``--teacher_until`` (metta.scripted.teacher).

The run's env config, dumped, is ``env_config`` in the experiment's ``config.json`` (beside Sample Factory's own
keys and the flags), so a resumed run and a loaded policy rebuild exactly that env (``env_config_from_cfg``).
A ``config.json`` from before it holds only the flags, some under their older names: it is converted from them.
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel

from metta.config import text_type
from metta.env.backends import backend_names
from metta.env.config import BodiesConfig, EnvConfig, GameConfig, MapConfig, kinship_keys
from metta.errors import ConfigError
from metta.runtime.name_values import parse_name_values
from metta.society.kinship import STRUCTURES

ENV_CONFIG = "env_config"  # the key of the dumped EnvConfig in config.json
PATH_FLAGS = ("game.path", "level")  # and curriculum, a name or a path (absolute_paths)
DEFAULT_ACTION_PRIOR = 0.05
# the mapping fields set by NAME=VALUE pairs: what a pair is, and an example
ENTRY_FLAGS = {"game.overrides": ("NAME=INTEGER", "attack.cost=20"), "map.objects": ("NAME=COUNT", "tree=10,altar=3"),
               "bodies.mix": ("NAME=WEIGHT", "light=1,heavy=1")}


@dataclass(frozen=True)
class EnvFlag:
    """One flag of a setting of the env's config: ``names[0]``, its dotted key, is argparse's dest; the others are
    its older spellings (under which an older config.json kept its value)."""

    names: tuple[str, ...]
    type: Any
    help: str | None  # the field's description
    choices: tuple | None = None
    metavar: str | None = None

    @property
    def dest(self) -> str:
        return self.names[0]


def _described(key: str) -> str:
    """The description of the field the dotted ``key`` names (of any structure, for a kinship parameter)."""
    section, _, name = key.rpartition(".")
    sections: dict[str, list[type[BaseModel]]] = {"": [EnvConfig], "game": [GameConfig], "map": [MapConfig],
                                                  "bodies": [BodiesConfig], "kinship": list(STRUCTURES.values())}
    return next(m.model_fields[name].description for m in sections[section] if name in m.model_fields) or ""


def env_flags() -> list[EnvFlag]:
    """Every flag of the env's config, in ``--help``'s order."""
    spellings: dict[str, list[str]] = {}
    for alias, key in EnvConfig.aliases.items():
        if len(alias) > 1:
            spellings.setdefault(key.removesuffix(".*"), []).append(alias)
    keys = ["game.path", "game.overrides", "level", "max_steps", "bodies.mix", "obs_backend",
            *(f"map.{name}" for name in MapConfig.model_fields),
            *(key for key in spellings if key.startswith("map.objects.")), *(f"kinship.{k}" for k in kinship_keys())]
    flags = []
    for key in keys:
        names = (key, *spellings.get(key, ()))
        if key in ENTRY_FLAGS:
            what, example = ENTRY_FLAGS[key]
            flags.append(EnvFlag(names, str, f"{_described(key)}; {what} pairs, comma-separated, repeatable, e.g. "
                                              f"--{key} {example}", metavar=f"{what},..."))
        elif key == "level":
            flags.append(EnvFlag(names, str, "a fixed level file instead of procedural maps (its text goes into the "
                                              "run's config)", metavar="PATH"))
        elif key == "kinship.structure":
            flags.append(EnvFlag(names, str, "the kinship structure; another drops the preset's own parameters",
                                 tuple(STRUCTURES)))
        elif key.startswith("map.objects."):
            flags.append(EnvFlag(names, int, f"how many {key.rpartition('.')[2]} procedural maps place: --map.objects "
                                              f"{key.rpartition('.')[2]}=N spelled otherwise"))
        else:
            owners = [s for s, cls in STRUCTURES.items() if key.partition(".")[2] in cls.model_fields]
            where = f" (structure {', '.join(owners)})" if key.startswith("kinship.") and len(owners) < len(
                STRUCTURES) else ""
            annotation = EnvConfig.key_type(key)
            choices = tuple(backend_names()) if key == "obs_backend" else \
                get_args(annotation) if get_origin(annotation) is Literal else None
            flags.append(EnvFlag(names, text_type(annotation), _described(key) + where, choices,
                                 "PATH" if key == "game.path" else None))
    return flags


ENV_FLAGS = env_flags()


def add_metta_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("metta", "the environment (metta.env.config.EnvConfig, by dotted key; unset: the "
                                           "preset's value) and the project's training options")
    for flag in ENV_FLAGS:
        g.add_argument(*(f"--{n}" for n in flag.names), dest=flag.dest, type=flag.type, default=None,
                       choices=flag.choices, metavar=flag.metavar, help=f"{flag.help} (default: the preset's)",
                       action="append" if flag.dest in ENTRY_FLAGS else "store")
    g.add_argument("--vector_envs", type=int, default=1, metavar="N",
                   help="Metta envs stepped together as one Sample Factory env (one inference batch); with "
                        "--batched_sampling raise this, not --num_envs_per_worker, to run more envs per worker")
    g.add_argument("--action_prior", type=float, default=DEFAULT_ACTION_PRIOR, metavar="SHARE",
                   help="the untrained policy's total probability for actions other than wait, move, rotate and use, "
                        "those four types being equally likely (0: every action equally likely); "
                        "see metta.sf_integration.model")
    g.add_argument("--curriculum", default=None, metavar="NAME|PATH",
                   help="each episode a task drawn from a curriculum (metta.curriculum): games/curricula/NAME.yaml, "
                        "or a file; its tasks change this run's env (the preset and the flags above)")
    g.add_argument("--observe_time", type=str2bool, default=None, metavar="BOOL",
                   help="the self vector gains the share of the episode left and the steps left / 1000 (default: "
                        "on with --curriculum, else off)")
    g.add_argument("--learner_threads", type=int, default=None, metavar="N",
                   help="torch threads of the learner process (Sample Factory gives every process one; "
                        "default: the machine's defaults in metta.sf_integration.train)")


def str2bool(text: str) -> bool:
    if str(text).lower() in ("true", "1", "yes", "on"):
        return True
    if str(text).lower() in ("false", "0", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected True or False, got {text!r}")


def cfg_value(cfg: Any, key: str):
    """``cfg[key]`` of a config dict (a loaded ``config.json``) or attribute of a parsed config; None if absent."""
    return cfg.get(key) if isinstance(cfg, Mapping) else getattr(cfg, key, None)


def flag_names(dest: str) -> tuple[str, ...]:
    """``dest`` and the older names a config.json may keep an env flag's value under."""
    return next((f.names for f in ENV_FLAGS if f.dest == dest), (dest,))


def flag_value(cfg: Any, dest: str):
    """The value of the flag ``dest`` in ``cfg``, under its dotted key or, in an older config.json, an older name."""
    return next((v for v in (cfg_value(cfg, n) for n in flag_names(dest)) if v is not None), None)


def read_level(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"--level {path}: cannot read the level file ({err})") from None


def env_changes(cfg: Any, only: Any = None) -> dict[str, Any]:
    """The env settings ``cfg``'s flags give, by dotted key (``{"map.width": 30}``; each NAME=VALUE pair of a
    mapping flag as its entry, ``game.overrides.attack.cost``). ``only``: the dests it holds (a command line's own
    ``cli_args``)."""
    out: dict[str, Any] = {}
    for flag in ENV_FLAGS:
        value = flag_value(cfg, flag.dest)
        if value is None or (only is not None and flag.dest not in only):
            continue
        if flag.dest in ENTRY_FLAGS:
            items = [value] if isinstance(value, str) else value
            pairs = [p for item in items for p in str(item).split(",") if p.strip()]
            entries = parse_name_values(pairs, text_type(EnvConfig.key_type(f"{flag.dest}.NAME")), f"--{flag.dest}",
                                        *ENTRY_FLAGS[flag.dest])
            out.update({f"{flag.dest}.{name}": v for name, v in entries.items()})
        else:
            out[flag.dest] = read_level(value) if flag.dest == "level" else value
    return out


def load_env_config(data: Any, where: str) -> EnvConfig:
    """A dumped EnvConfig (``where`` names its place in messages)."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: {ENV_CONFIG} must be a mapping (a dumped EnvConfig), got "
                          f"{type(data).__name__}")
    try:
        return EnvConfig.model_validate(dict(data))
    except ConfigError as err:
        raise ConfigError(f"{where}: {ENV_CONFIG}: {err}; it was written by another version of the project: train "
                          f"anew, or rewrite {ENV_CONFIG} as metta.env.config.EnvConfig describes") from None


def env_config_from_cfg(cfg: Any, where: str = "config.json") -> EnvConfig:
    """The env of a parsed config or a loaded ``config.json``: its ``env_config`` when it has one, else its preset
    changed by its flags (an older config.json's, by their older names, too)."""
    from metta.env.presets import get_preset

    saved = cfg_value(cfg, ENV_CONFIG)
    if saved is not None:
        return load_env_config(saved, where)
    return get_preset(cfg_value(cfg, "env")).override(env_changes(cfg))


def resumed_env_config(saved: Mapping, cfg: Any) -> EnvConfig:
    """A resumed run's env: the saved ``config.json``'s, changed by the env flags this command line gives."""
    return env_config_from_cfg(saved).override(env_changes(cfg, only=cfg_value(cfg, "cli_args") or {}))


def dump_env_config(config: EnvConfig) -> dict:
    return config.model_dump(mode="json")


def absolute_paths(cfg: Any) -> None:
    """Store ``--game.path``, ``--level`` and ``--curriculum`` as absolute paths, so a run resumes from any
    directory."""
    from metta.curriculum.tasks import curriculum_path

    for key in PATH_FLAGS:
        if cfg_value(cfg, key):
            setattr(cfg, key, os.path.abspath(cfg_value(cfg, key)))
    if cfg_value(cfg, "curriculum"):
        cfg.curriculum = os.path.abspath(curriculum_path(cfg.curriculum))
