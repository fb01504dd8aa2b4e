"""A sweep's description: its grid (``--grid KEY=V1,V2,...``, every key a flag of the training command, dotted
like ``kinship.team_reward`` or by an older undotted spelling, checked against the command's own parser), its runs
and their commands, and what a rerun must repeat (``sweep.json``). See metta.experiments.sweep."""
from __future__ import annotations

import copy
import itertools
import json
import os
import re
import shlex
from typing import Any

from sample_factory.launcher.run_description import Experiment, RunDescription
from sample_factory.utils.attr_dict import AttrDict

from metta.errors import ConfigError, UsageError
from metta.runtime.name_values import parse_name_values
from metta.scripted.teacher import add_teacher_args
from metta.sf_integration import train as sf_train
from metta.sf_integration.config import add_metta_args

SWEEP_FILE = "sweep.json"
TRAIN = "python -m metta.sf_integration.train"  # Sample Factory's launcher swaps a leading `python` for its own
# training flags the sweep sets itself (by their parser dest), and what to use instead
RESERVED = {"env": "--env", "seed": "--seeds", "experiment": "nothing: runs are named from their parameters",
            "train_dir": "--train_dir", "train_for_env_steps": "--env_steps",
            "train_for_seconds": "--env_steps: the budget is agent-steps, so that a finished run is decidable",
            "restart_behavior": "nothing: a rerun resumes unfinished runs and skips finished ones"}
IDENTITY = ("env", "grid", "seeds", "train_flags")  # what a rerun must repeat; env_steps may only grow
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


class SweepDescription(RunDescription):
    """Sample Factory's run description, one Experiment per run, laid out ``TRAIN_DIR/SWEEP/RUN``: each run keeps its
    own name (its parameters) rather than Sample Factory's ``NN_base_params`` under ``SWEEP/base_suffix``, so that
    names stay the same when finished runs are left out of a rerun."""

    def generate_experiments(self, train_dir, makedirs=True):
        sweep_dir = os.path.join(train_dir, self.run_name)
        if makedirs:
            os.makedirs(sweep_dir, exist_ok=True)
        for experiment in self.experiments:
            (params,) = experiment.params
            cmd = " ".join([experiment.cmd, *(f"{self.param_prefix}{k}={v}" for k, v in params.items()),
                            f"{self.experiment_arg_name}={experiment.base_name}",
                            f"{self.experiment_dir_arg_name}={sweep_dir}"])
            yield cmd, experiment.base_name, self.run_name, experiment.env_vars


def run_description(desc: dict, runs: list[dict]):
    """Sample Factory's RunDescription of ``runs`` (entries of ``desc["runs"]``) of the sweep ``desc``."""
    base = " ".join([TRAIN, f"--env={desc['env']}", f"--train_for_env_steps={desc['env_steps']}", *desc["train_flags"]])
    experiments = [Experiment(r["name"], base, [{**r["params"], "seed": r["seed"]}]) for r in runs]
    return SweepDescription(desc["name"], experiments)


def run_name(params: dict, seed: int) -> str:
    return "_".join([*(f"{k}_{re.sub(r'[^A-Za-z0-9.+-]', '-', v)}" for k, v in params.items()), f"seed_{seed}"])


def parse_grid(items: list[str] | None) -> dict[str, list[str]]:
    """``{key: [value, ...]}`` from ``--grid KEY=V1,V2,...`` flags, in order; ConfigError on a malformed or repeated
    one."""
    def values(text: str) -> list[str]:
        out = [v.strip() for v in text.split(",")]
        if not all(out):
            raise ValueError
        return out

    try:
        grid = parse_name_values(items, values, "--grid", "KEY=V1,V2,... with no empty value",
                                 "kinship.team_reward=0,0.5,1")
    except ConfigError as err:  # the command line's
        raise UsageError(str(err)) from None
    keys = [str(i).partition("=")[0].strip() for i in items or ()]
    for key in grid:
        if keys.count(key) > 1:
            raise UsageError(f"--grid {key}: given {keys.count(key)} times; give all its values in one --grid "
                             f"{key}=V1,V2,...")
        if key.startswith("-"):
            raise UsageError(f"--grid {key}: a key is a training flag's name without dashes, e.g. "
                             f"--grid kinship.team_reward=0,1")
    return grid


class TrainingFlags:
    """The training command's own parser (Sample Factory's flags and the project's), to check a sweep's flags."""

    def __init__(self, env: str):
        def error(message):
            raise UsageError(message)

        self.env = env
        from sample_factory.cfg.arguments import parse_sf_args  # it imports the old gym package: after sf_train

        self.parser, _ = parse_sf_args([f"--env={env}"])
        add_metta_args(self.parser)
        add_teacher_args(self.parser)
        self.parser.set_defaults(**sf_train.default_params())  # as the training command sets them
        self.parser.allow_abbrev = False  # a flag is given whole: the one a grid key names, or none
        self.parser.error = error
        # Sample Factory's trick (cfg.arguments.postprocess_args): with every default None, what is set was given
        self.blank = copy.deepcopy(self.parser)
        self.blank.set_defaults(**dict.fromkeys(vars(self.parser.parse_args([f"--env={env}"]))))

    def given(self, argv: list[str], where: str) -> dict:
        """``{dest: value}`` of the flags ``argv`` sets; ConfigError naming ``where`` on a bad one."""
        try:
            ns = self.blank.parse_args([f"--env={self.env}", *argv])
        except ConfigError as err:
            raise UsageError(f"{where}: {err} (python -m metta.sf_integration.train --help lists the flags)") from None
        return {k: v for k, v in vars(ns).items() if v is not None and k != "env"}

    def check(self, argv: list[str], where: str) -> None:
        """Check the flags and build the env once under ``argv``, as training will: a bad value fails now, before
        anything runs."""
        try:
            cfg = AttrDict(vars(self.parser.parse_args([f"--env={self.env}", *argv])))
            sf_train.check_flags(cfg)
            sf_train.check_env(cfg)
        except ConfigError as err:
            raise UsageError(f"{where}: {err}") from None


def describe(name: str, env: str, grid_flags: list[str] | None, seeds: int, first_seed: int, env_steps: int | None,
             train_flags: list[str], train_dir: str) -> dict:
    """The sweep's description (what sweep.json holds), every input checked; ConfigError naming the flag otherwise."""
    from metta.env.presets import get_preset

    if not SAFE_NAME.fullmatch(name):
        raise UsageError(f"sweep NAME {name!r}: letters, digits and . _ + - only (it is a directory in --train_dir)")
    get_preset(env)
    if seeds < 1:
        raise UsageError(f"--seeds must be >= 1 (runs per grid point), got {seeds}")
    if env_steps is None or env_steps < 1:
        raise UsageError(f"--env_steps N, each run's budget in agent-steps (>= 1), is required; got {env_steps}")
    grid = parse_grid(grid_flags)
    for token in [*train_flags, *(v for vs in grid.values() for v in vs)]:
        if shlex.quote(token) != token:
            raise UsageError(f"{token!r}: spaces, quotes and shell characters cannot pass through Sample Factory's "
                             f"launcher (it splits commands on spaces; slurm and ngc hand them to a shell)")
    flags = TrainingFlags(env)
    fixed = flags.given(train_flags, "training flags after --")
    for dest in fixed:
        if dest in RESERVED:
            raise UsageError(f"training flags after --: --{dest} is the sweep's to set; use {RESERVED[dest]}")
    dests: dict[str, str] = {}  # flag dest -> the grid key that sets it
    for key, values in grid.items():
        if key in RESERVED:
            raise UsageError(f"--grid {key}: --{key} is the sweep's to set; use {RESERVED[key]}")
        typed = []
        for value in values:
            try:
                given = flags.given([f"--{key}={value}"], f"--grid {key}={value}")
            except ConfigError as err:
                if "unrecognized arguments" in str(err):
                    raise UsageError(f"--grid {key}: --{key} is not a flag of the training command "
                                     f"(python -m metta.sf_integration.train --help lists them)") from None
                raise
            if len(given) != 1:
                raise UsageError(f"--grid {key}={value}: sets {len(given)} training flags, expected one")
            ((dest, v),) = given.items()
            if dest in RESERVED:
                raise UsageError(f"--grid {key}: --{key} is the sweep's to set; use {RESERVED[dest]}")
            if dest in fixed:
                raise UsageError(f"--grid {key}: also given after -- ; give it in one place")
            if dests.setdefault(dest, key) != key:
                raise UsageError(f"--grid {key} and --grid {dests[dest]} set the same training flag ({dest}); "
                                 f"give it once")
            if repr(v) in typed:
                raise UsageError(f"--grid {key}: value {value!r} repeats another one ({v!r}); each value once")
            typed.append(repr(v))
    points = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]  # first key outermost
    for point in points:
        label = " ".join(f"--{k}={v}" for k, v in point.items()) or "the training flags"
        flags.check([*train_flags, *(f"--{k}={v}" for k, v in point.items())], label)
    seed_list = list(range(first_seed, first_seed + seeds))
    runs: list[dict[str, Any]] = [{"name": run_name(p, s), "params": p, "seed": s} for p in points for s in seed_list]
    names = [r["name"] for r in runs]
    if len(set(names)) < len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise UsageError(f"--grid: values that differ only in characters outside A-Z a-z 0-9 . + - give the same run "
                         f"name ({', '.join(twice)}); make them differ")
    desc = {"name": name, "env": env, "grid": grid, "seeds": seed_list, "env_steps": env_steps,
            "train_flags": list(train_flags), "runs": runs}
    commands = {n: cmd for cmd, n, *_ in run_description(desc, runs).generate_experiments(train_dir, makedirs=False)}
    for r in runs:
        r["command"] = commands[r["name"]]
    return desc


def read_sweep(sweep_dir: str) -> dict | None:
    path = os.path.join(sweep_dir, SWEEP_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            desc = json.load(f)
        if not isinstance(desc, dict) or not all(k in desc for k in (*IDENTITY, "env_steps", "runs")):
            raise ValueError("not a sweep description")
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: unreadable ({err}); restore it, or move the sweep aside") from None
    return desc


def check_rerun(desc: dict, recorded: dict, sweep_dir: str) -> None:
    """A rerun repeats the recorded sweep; its budget may grow (unfinished runs then resume), never shrink."""
    path = os.path.join(sweep_dir, SWEEP_FILE)
    for key in IDENTITY:
        if json.dumps(recorded[key]) != json.dumps(desc[key]):  # order matters too: it names the runs
            raise UsageError(f"{path} records another sweep: its {key} is {json.dumps(recorded[key])}, this "
                             f"command's {json.dumps(desc[key])}. A rerun repeats the sweep (only --env_steps may "
                             f"grow); give another NAME for another sweep")
    if desc["env_steps"] < recorded["env_steps"]:
        raise UsageError(f"{path}: --env_steps {desc['env_steps']} is below the sweep's {recorded['env_steps']}; "
                         f"runs may have trained past it. A budget may only grow; give another NAME for another sweep")
