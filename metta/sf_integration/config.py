"""The project's training flags, generated from the env's config (metta.env.config.EnvConfig), and back.

Sample Factory owns the command line; the project adds one flag per field of the env's config, named by its
dotted key, with the field's description as help: ``--map.width``, ``--map.num_agents``, ``--map.layout``...,
``--kinship.structure`` and every structure's parameters (``--kinship.team_reward``, ``--kinship.a``,
``--kinship.family_size``...; a parameter of another structure than the run's is an error), ``--game.path``,
``--game.overrides NAME=VALUE`` (repeatable), ``--level PATH`` (read into the config), ``--max_steps``,
``--bodies NAME=WEIGHT,...``, ``--obs_backend`` and ``--objects NAME=COUNT,...`` (``map.objects``). The older
spellings stay as aliases: ``--game``, ``--override``, ``--width``, ``--team_reward``, ``--beta_a`` for
``--kinship.a``... Unset flags leave the preset's value. Beside them, the project's training options
(``--vector_envs``, ``--action_prior``, ``--curriculum``...) and kickstarting's ``--teacher``, ``--teacher_coef``
and ``--teacher_until`` (metta.sf_integration.teacher).

The run's env config, dumped, is ``env_config`` in the experiment's ``config.json`` (beside Sample Factory's own
keys and the flags), so a resumed run and a loaded policy rebuild exactly that env (``env_config_from_cfg``).
A ``config.json`` from before it holds only the flags: it is converted from them, as it was built then.
"""
from __future__ import annotations

import argparse
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from metta.env.backends import backend_names
from metta.env.config import MapConfig, EnvConfig, configure, kinship_keys
from metta.errors import ConfigError
from metta.griddly_ext.gdy import parse_overrides
from metta.runtime.name_values import parse_name_values
from metta.society.kinship import STRUCTURES, Kinship

ENV_CONFIG = "env_config"  # the key of the dumped EnvConfig in config.json
PATH_FLAGS = ("game", "level")  # and curriculum, a name or a path (absolute_paths)
DEFAULT_ACTION_PRIOR = 0.05
# random kinship's Beta parameters `a` and `b`: their old undotted spellings
_LEGACY = {"kinship.a": "beta_a", "kinship.b": "beta_b"}


@dataclass(frozen=True)
class EnvFlag:
    """One flag of a field of the env's config: ``dest`` (its dotted key) is where argparse puts its value,
    ``legacy`` the undotted name older runs kept it under in config.json."""

    dest: str
    legacy: str
    type: Any
    help: str | None  # the field's description
    choices: tuple | None = None


def _flag_type(annotation: Any) -> tuple[Any, tuple | None]:
    if typing.get_origin(annotation) is typing.Literal:
        return str, typing.get_args(annotation)
    if typing.get_origin(annotation) is list:  # a list of numbers: comma-separated on the command line
        return _number_list(typing.get_args(annotation)[0]), None
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    return args[0], None


def _number_list(kind: type):
    def parse(text: str) -> list:
        try:
            return [kind(x) for x in text.split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected comma-separated {kind.__name__}s, e.g. 0,1; got {text!r}")
    parse.__name__ = f"comma-separated {kind.__name__}s"
    return parse


def _kinship_field(name: str):
    for cls in STRUCTURES.values():
        if name in cls.model_fields:
            return cls.model_fields[name]
    return Kinship.model_fields[name]


def owners(name: str) -> list[str]:
    """The structures that have the kinship parameter ``name``."""
    return [s for s, cls in STRUCTURES.items() if name in cls.model_fields]


def env_flags() -> list[EnvFlag]:
    """One flag per map field (but ``objects``, which is ``--objects``) and per kinship parameter of any
    structure."""
    flags = []
    for name, f in MapConfig.model_fields.items():
        if name != "objects":
            typ, choices = _flag_type(f.annotation)
            flags.append(EnvFlag(f"map.{name}", name, typ, f.description, choices))
    for name in kinship_keys():
        if name == "structure":
            flags.append(EnvFlag("kinship.structure", "structure", str, "the kinship structure (default: the "
                                 "preset's); another drops the preset's own parameters", tuple(STRUCTURES)))
            continue
        f = _kinship_field(name)
        typ, choices = _flag_type(f.annotation)
        where = "every structure" if len(owners(name)) == len(STRUCTURES) else f"structure {', '.join(owners(name))}"
        flags.append(EnvFlag(f"kinship.{name}", _LEGACY.get(f"kinship.{name}", name), typ,
                             f"{f.description} ({where})", choices))
    return flags


ENV_FLAGS = env_flags()


def add_metta_args(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("metta", "the environment (metta.env.config.EnvConfig, by dotted key; unset: the "
                                           "preset's value) and the project's training options")
    g.add_argument("--game.path", "--game", dest="game", default=None, metavar="PATH",
                   help="a GDY game file shaped like games/metta.yaml (default: the preset's)")
    g.add_argument("--game.overrides", "--override", dest="override", action="append", default=None,
                   metavar="NAME=VALUE", help="change a named value of the game, e.g. --override attack.cost=20 "
                                              "(repeatable)")
    g.add_argument("--level", default=None, metavar="PATH", help="a fixed level file instead of procedural maps "
                                                                 "(its text goes into the run's config)")
    g.add_argument("--max_steps", type=int, default=None, help=EnvConfig.model_fields["max_steps"].description)
    g.add_argument("--bodies.mix", "--bodies", dest="bodies", default=None, metavar="NAME=WEIGHT,...",
                   help="a mix of energy profiles, e.g. light=1,heavy=1")
    g.add_argument("--obs_backend", default=None, choices=backend_names(),
                   help=f"{EnvConfig.model_fields['obs_backend'].description} (default: the preset's, numba)")
    g.add_argument("--map.objects", "--objects", dest="objects", action="append", default=None,
                   metavar="NAME=COUNT,...",
                   help="how many of each object procedural maps place, e.g. --objects tree=10,altar=3 (repeatable; "
                        "default: the game's map_count_<object> named values)")
    for flag in ENV_FLAGS:
        names = [f"--{flag.dest}"] + ([f"--{flag.legacy}"] if flag.legacy != flag.dest else [])
        g.add_argument(*names, dest=flag.dest, type=flag.type, default=None, choices=flag.choices,
                       help=f"{flag.help} (default: the preset's)")
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


FLAT_KEYS = ("game", "override", "level", "max_steps", "bodies", "objects", "obs_backend")


def flag_values(cfg: Any, only: Any = None) -> dict[str, Any]:
    """The env flags ``cfg`` sets, ``{dest: value}``: by dotted key, or by the undotted name an older config.json
    kept them under. ``only``: keep the dests it holds (a command line's own ``cli_args``)."""
    out = {}
    for dest, legacy in [*((k, k) for k in FLAT_KEYS), *((f.dest, f.legacy) for f in ENV_FLAGS)]:
        value = cfg_value(cfg, dest)
        if value is None and legacy != dest:
            value = cfg_value(cfg, legacy)
        if value is not None and (only is None or dest in only):
            out[dest] = value
    return out


def config_from_flags(base: EnvConfig, values: dict[str, Any]) -> EnvConfig:
    """``base`` changed by the env flags ``values`` (``{dest: value}``, see ``flag_values``)."""
    changes: dict[str, Any] = {}
    if values.get("game"):
        changes["game"] = values["game"]
    overrides = parse_overrides(values.get("override"))
    if overrides:
        changes["overrides"] = overrides
    if values.get("level"):
        changes["level"] = read_level(values["level"])
    if values.get("max_steps") is not None:
        changes["max_steps"] = values["max_steps"]
    bodies = parse_bodies(values.get("bodies"))
    if bodies:
        changes["bodies"] = bodies
    objects = parse_objects(values.get("objects"))
    if objects:
        changes["objects"] = objects
    if values.get("obs_backend") is not None:
        changes["obs_backend"] = values["obs_backend"]
    kinship = {}
    for dest, value in values.items():
        section, _, key = dest.partition(".")
        if section == "map" and value is not None:
            changes[key] = value
        elif section == "kinship" and value is not None:
            kinship[key] = value
    structure = kinship.get("structure", base.kinship.structure)
    chosen = STRUCTURES.get(structure)
    for key in kinship:
        if chosen is not None and key not in chosen.model_fields:
            raise ConfigError(f"--kinship.{key} is a parameter of structure {' or '.join(owners(key))}, not of this "
                              f"run's structure {structure!r} (--kinship.structure=... changes the structure)")
    if kinship:
        changes["kinship"] = kinship
    return configure(base, **changes)


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
    changed by its flags (an older config.json's, by their undotted names, too)."""
    from metta.env.presets import get_preset

    saved = cfg_value(cfg, ENV_CONFIG)
    if saved is not None:
        return load_env_config(saved, where)
    return config_from_flags(get_preset(cfg_value(cfg, "env")), flag_values(cfg))


def resumed_env_config(saved: Mapping, cfg: Any) -> EnvConfig:
    """A resumed run's env: the saved ``config.json``'s, changed by the env flags this command line gives."""
    return config_from_flags(env_config_from_cfg(saved), flag_values(cfg, only=cfg_value(cfg, "cli_args") or {}))


def dump_env_config(config: EnvConfig) -> dict:
    return config.model_dump(mode="json")


def absolute_paths(cfg: Any) -> None:
    """Store ``--game``, ``--level`` and ``--curriculum`` as absolute paths, so a run resumes from any directory."""
    from metta.curriculum.tasks import curriculum_path

    for key in PATH_FLAGS:
        if cfg_value(cfg, key):
            setattr(cfg, key, os.path.abspath(cfg_value(cfg, key)))
    if cfg_value(cfg, "curriculum"):
        cfg.curriculum = os.path.abspath(curriculum_path(cfg.curriculum))
