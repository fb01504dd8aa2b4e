"""A sweep: one preset trained over a grid of settings and seeds through Sample Factory's launcher, every final policy
evaluated on the same episodes, and a report of each metric against the swept settings.

    python -m metta.experiments.sweep NAME --env metta-teams --grid team_reward=0,0.5,1 [--grid team_size=2,4] \\
        --seeds 2 --env_steps 2400000 [--episodes 5] [--eval_max_steps M] [--train_dir train_dir] \\
        [--backend processes|slurm|ngc] [--max_parallel 1] [--report_only] [launcher flags] [-- training flags]

Each run is one training command, ``python -m metta.sf_integration.train --env=ENV --train_for_env_steps=N
[training flags] --KEY=VALUE... --seed=K --experiment=RUN --train_dir=TRAIN_DIR/NAME``: every grid key is a flag of
the training command (checked against its own parser before anything runs), every run is named from its parameters
(``team_reward_0.5_seed_1``) and lands in ``TRAIN_DIR/NAME/RUN`` with its ``config.json``. The sweep's description
(grid, seeds, budget, flags, each run's command) is ``TRAIN_DIR/NAME/sweep.json``.

The budget ``--env_steps`` is in agent-steps (Sample Factory's env steps count every agent's). A run is finished when
its latest checkpoint has trained that many; a rerun skips finished runs, saying so, and launches the others, which
resume from their checkpoints (Sample Factory's resume, made safe by metta.sf_integration.checkpoints). A rerun must
describe the same sweep as sweep.json (env, grid, seeds, training flags) and its budget may only grow; anything else
is refused, so that one sweep never mixes two.

The launcher is Sample Factory's own (``sample_factory.launcher``, its flags pass through): ``--backend processes``
runs ``--max_parallel`` runs at a time on this machine, then evaluates every run (metta.sf_integration.evaluate,
episodes seeded 0..E-1, ``TRAIN_DIR/NAME/RUN/eval/stats.json``) and writes the report (metta.experiments.sweep_report).
``slurm`` submits each run as a Slurm job, waits for them (``--slurm_wait False``: returns; a rerun collects) and
then evaluates and reports (metta.experiments.slurm); ``ngc`` queues the runs on NGC (``--ngc_*`` flags), and once
they are done ``--report_only`` evaluates and reports. Exit status: 0, 1 when a run did not finish, 2 for bad input (nothing
written).
"""
from __future__ import annotations

import copy
import itertools
import json
import os
import re
import shlex
import sys

from metta.errors import ConfigError
from metta.runtime.files import write_json
from metta.runtime.lifetime import adopt_children
from metta.runtime.name_values import parse_name_values
from metta.sf_integration import train as sf_train  # first: it imports gym quietly, before Sample Factory does
from metta.sf_integration.checkpoints import CheckpointError, latest_checkpoint, read_config, trained_steps
from metta.sf_integration.config import add_metta_args, env_config_from_cfg

from sample_factory.cfg.arguments import parse_sf_args  # noqa: E402
from sample_factory.launcher.run import launcher_argparser  # noqa: E402
from sample_factory.launcher.run_description import Experiment, RunDescription  # noqa: E402
from sample_factory.launcher.run_ngc import run_ngc  # noqa: E402
from sample_factory.launcher.run_processes import run as run_processes  # noqa: E402
from sample_factory.utils.attr_dict import AttrDict  # noqa: E402
from sample_factory.utils.utils import str2bool  # noqa: E402

SWEEP_FILE = "sweep.json"
TRAIN = "python -m metta.sf_integration.train"  # Sample Factory's launcher swaps a leading `python` for its own
DEFAULT_ENV = "metta-teams"
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

    grid = parse_name_values(items, values, "--grid", "KEY=V1,V2,... with no empty value", "team_reward=0,0.5,1")
    keys = [str(i).partition("=")[0].strip() for i in items or ()]
    for key in grid:
        if keys.count(key) > 1:
            raise ConfigError(f"--grid {key}: given {keys.count(key)} times; give all its values in one --grid "
                              f"{key}=V1,V2,...")
        if key.startswith("-"):
            raise ConfigError(f"--grid {key}: a key is a training flag's name without dashes, e.g. "
                              f"--grid team_reward=0,1")
    return grid


class TrainingFlags:
    """The training command's own parser (Sample Factory's flags and the project's), to check a sweep's flags."""

    def __init__(self, env: str):
        def error(message):
            raise ConfigError(message)

        self.env = env
        self.parser, _ = parse_sf_args([f"--env={env}"])
        add_metta_args(self.parser)
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
            raise ConfigError(f"{where}: {err} (python -m metta.sf_integration.train --help lists the flags)") from None
        return {k: v for k, v in vars(ns).items() if v is not None and k != "env"}

    def check(self, argv: list[str], where: str) -> None:
        """Check the flags and build the env once under ``argv``, as training will: a bad value fails now, before
        anything runs."""
        try:
            cfg = AttrDict(vars(self.parser.parse_args([f"--env={self.env}", *argv])))
            sf_train.check_flags(cfg)
            sf_train.check_env(cfg)
        except ConfigError as err:
            raise ConfigError(f"{where}: {err}") from None


def describe(name: str, env: str, grid_flags: list[str] | None, seeds: int, first_seed: int, env_steps: int | None,
             train_flags: list[str], train_dir: str) -> dict:
    """The sweep's description (what sweep.json holds), every input checked; ConfigError naming the flag otherwise."""
    from metta.env.presets import get_preset

    if not SAFE_NAME.fullmatch(name):
        raise ConfigError(f"sweep NAME {name!r}: letters, digits and . _ + - only (it is a directory in --train_dir)")
    get_preset(env)
    if seeds < 1:
        raise ConfigError(f"--seeds must be >= 1 (runs per grid point), got {seeds}")
    if env_steps is None or env_steps < 1:
        raise ConfigError(f"--env_steps N, each run's budget in agent-steps (>= 1), is required; got {env_steps}")
    grid = parse_grid(grid_flags)
    for token in [*train_flags, *(v for vs in grid.values() for v in vs)]:
        if shlex.quote(token) != token:
            raise ConfigError(f"{token!r}: spaces, quotes and shell characters cannot pass through Sample Factory's "
                              f"launcher (it splits commands on spaces; slurm and ngc hand them to a shell)")
    flags = TrainingFlags(env)
    fixed = flags.given(train_flags, "training flags after --")
    for dest in fixed:
        if dest in RESERVED:
            raise ConfigError(f"training flags after --: --{dest} is the sweep's to set; use {RESERVED[dest]}")
    for key, values in grid.items():
        if key in RESERVED:
            raise ConfigError(f"--grid {key}: --{key} is the sweep's to set; use {RESERVED[key]}")
        typed = []
        for value in values:
            try:
                given = flags.given([f"--{key}={value}"], f"--grid {key}={value}")
            except ConfigError as err:
                if "unrecognized arguments" in str(err):
                    raise ConfigError(f"--grid {key}: --{key} is not a flag of the training command "
                                      f"(python -m metta.sf_integration.train --help lists them)") from None
                raise
            if len(given) != 1:
                raise ConfigError(f"--grid {key}={value}: sets {len(given)} training flags, expected one")
            ((dest, v),) = given.items()
            if dest in RESERVED:
                raise ConfigError(f"--grid {key}: --{key} is the sweep's to set; use {RESERVED[dest]}")
            if dest in fixed:
                raise ConfigError(f"--grid {key}: also given after -- ; give it in one place")
            if repr(v) in typed:
                raise ConfigError(f"--grid {key}: value {value!r} repeats another one ({v!r}); each value once")
            typed.append(repr(v))
    points = [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]  # first key outermost
    for point in points:
        label = " ".join(f"--{k}={v}" for k, v in point.items()) or "the training flags"
        flags.check([*train_flags, *(f"--{k}={v}" for k, v in point.items())], label)
    seed_list = list(range(first_seed, first_seed + seeds))
    runs = [{"name": run_name(p, s), "params": p, "seed": s} for p in points for s in seed_list]
    names = [r["name"] for r in runs]
    if len(set(names)) < len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ConfigError(f"--grid: values that differ only in characters outside A-Z a-z 0-9 . + - give the same run "
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
            raise ConfigError(f"{path} records another sweep: its {key} is {json.dumps(recorded[key])}, this "
                              f"command's {json.dumps(desc[key])}. A rerun repeats the sweep (only --env_steps may "
                              f"grow); give another NAME for another sweep")
    if desc["env_steps"] < recorded["env_steps"]:
        raise ConfigError(f"{path}: --env_steps {desc['env_steps']} is below the sweep's {recorded['env_steps']}; "
                          f"runs may have trained past it. A budget may only grow; give another NAME for another sweep")


def trained(run_dir: str) -> int:
    """Agent-steps the run has trained; 0 without a readable latest checkpoint (training sorts that out on resume)."""
    try:
        return trained_steps(run_dir)
    except CheckpointError:
        return 0


def launch(desc: dict, cfg, sweep_dir: str) -> list[str]:
    """Launch the sweep's unfinished runs (``cfg``: the launcher's flags): with Sample Factory's launcher, or on
    Slurm (metta.experiments.slurm); say which are skipped, and why. Return the names of the runs launched."""
    todo = []
    for r in desc["runs"]:
        steps = trained(os.path.join(sweep_dir, r["name"]))
        if steps >= desc["env_steps"]:
            print(f"{r['name']}: finished ({steps:,} >= {desc['env_steps']:,} agent-steps), skipped")
        else:
            todo.append(r)
            start = f"resuming at {steps:,} agent-steps" if steps else "from scratch"
            print(f"{r['name']}: to train, {start}; log {os.path.join(sweep_dir, r['name'], 'sf_log.txt')}")
    if not todo:
        print(f"all {len(desc['runs'])} runs of {desc['name']} are finished; nothing to train")
        return []
    if cfg.backend == "slurm":
        from metta.experiments import slurm

        cfg.slurm_workdir = slurm_workdir(cfg, sweep_dir)
        os.makedirs(cfg.slurm_workdir, exist_ok=True)
        cfg.slurm_sbatch_template = cfg.slurm_sbatch_template or slurm.default_template(
            os.path.join(cfg.slurm_workdir, "job_template.sh"))
        commands = [(n, cmd) for cmd, n, *_ in run_description(desc, todo).generate_experiments(cfg.train_dir)]
        slurm.submit(commands, desc["name"], cfg)
    else:
        {"processes": run_processes, "ngc": run_ngc}[cfg.backend](run_description(desc, todo), cfg)
    return [r["name"] for r in todo]


def slurm_workdir(cfg, sweep_dir: str) -> str:
    return os.path.abspath(cfg.slurm_workdir or os.path.join(sweep_dir, "slurm"))


def evaluate_runs(desc: dict, sweep_dir: str, episodes: int, max_steps: int | None, film: int = 0,
                  replays: int = 0) -> None:
    """Play every run's final policy on episodes seeded 0..episodes-1 (``max_steps`` long; default the game's own)
    into ``RUN/eval/stats.json``, unless that file is newer than the run's latest checkpoint and holds those
    episodes."""
    import torch
    from tqdm import tqdm

    from metta.sf_integration.evaluate import evaluate

    # one agent batch a step: one thread beats contending ones (2 episodes: 5.7 s against 14 s on a busy 2-core machine)
    torch.set_num_threads(1)
    for r in tqdm(desc["runs"], desc=f"evaluating {desc['name']}", unit="run"):
        run_dir = os.path.join(sweep_dir, r["name"])
        length = max_steps or game_max_steps(run_dir)
        stats_path = os.path.join(run_dir, "eval", "stats.json")
        if os.path.isfile(stats_path) and os.path.getmtime(stats_path) > os.path.getmtime(latest_checkpoint(run_dir)):
            with open(stats_path, encoding="utf-8") as f:
                stats = json.load(f)
            if (stats.get("experiment") == r["name"] and stats.get("policy") == "trained"
                    and stats.get("max_steps") == length
                    and [e["seed"] for e in stats.get("episodes", [])] == list(range(episodes))):
                tqdm.write(f"{r['name']}: evaluation up to date ({stats_path})")
                continue
        torch.manual_seed(0)  # the policy samples its actions: the same draws for every run, and on a re-evaluation
        evaluate(None, experiment=r["name"], train_dir=sweep_dir, episodes=episodes, max_steps=length, seed=0,
                 gif=False, progress=False, film=film, replays=replays)


def game_max_steps(run_dir: str) -> int:
    """The episode length of the run's game itself (its ``max_steps`` value, not a training ``--max_steps``)."""
    from metta import make_env

    config = env_config_from_cfg(read_config(run_dir), os.path.join(run_dir, "config.json"))
    env = make_env(config.model_copy(update={"max_steps": None}))
    env.close()
    return env.max_steps


def parse_cli(argv: list[str]):
    """The sweep's flags on Sample Factory's launcher parser (so its backend flags pass through)."""
    parser = launcher_argparser([a for a in argv if a not in ("-h", "--help")])
    parser.prog, parser.description = "python -m metta.experiments.sweep", __doc__.split("\n\n")[0]
    parser.epilog = "Arguments after -- go to every training command. See docs/experiments.md."
    parser.set_defaults(max_parallel=1, train_dir="train_dir")
    parser.add_argument("name", metavar="NAME", help="the sweep: its runs go to TRAIN_DIR/NAME/RUN")
    parser.add_argument("--env", default=None, help=f"the preset every run trains on (default {DEFAULT_ENV})")
    parser.add_argument("--grid", action="append", default=None, metavar="KEY=V1,V2,...",
                        help="a training flag and its values (repeatable: every combination is a grid point)")
    parser.add_argument("--seeds", type=int, default=None, help="runs per grid point, --seed=first_seed... (default 1)")
    parser.add_argument("--first_seed", type=int, default=None, help="the first run's --seed (default 0)")
    parser.add_argument("--env_steps", type=int, default=None, help="each run's budget in agent-steps")
    parser.add_argument("--episodes", type=int, default=5, help="evaluation episodes per run, seeded 0..E-1")
    parser.add_argument("--eval_max_steps", type=int, default=None,
                        help="evaluation episode length (default: the game's own)")
    parser.add_argument("--film", type=int, default=0,
                        help="evaluation episodes of each run to film into RUN/eval/<env>.mp4 (default 0: frames are "
                             "drawn on the CPU here, about 1 s each on a busy 2-core machine)")
    parser.add_argument("--replays", type=int, default=0,
                        help="evaluation episodes of each run to record as replays in RUN/eval/ (default 0)")
    parser.add_argument("--slurm_cpus_per_job", type=int, default=None,
                        help="CPUs per Slurm job (default: --slurm_cpus_per_gpu x --slurm_gpus_per_job, or 2 "
                             "without GPUs, what the CPU training defaults use)")
    parser.add_argument("--slurm_wait", type=str2bool, default=True,
                        help="wait for the Slurm jobs, then evaluate and report (default True); False: submit and "
                             "return, and rerun the same command to collect")
    parser.add_argument("--slurm_poll", type=float, default=5.0, help="seconds between squeue polls (default 5)")
    parser.set_defaults(slurm_gpus_per_job=0)  # a job asks for GPUs only when told to
    parser.add_argument("--report_only", action="store_true",
                        help="train nothing: evaluate the finished runs of the sweep sweep.json records and report")
    args = parser.parse_args(argv)
    if args.run is not None or args.experiment_suffix:
        parser.error("--run and --experiment_suffix are not for sweeps: the sweep is its own run description")
    if args.episodes < 1 or (args.eval_max_steps is not None and args.eval_max_steps < 1):
        parser.error("--episodes and --eval_max_steps must be >= 1")
    if args.film < 0 or args.replays < 0:
        parser.error("--film and --replays must be >= 0")
    if args.backend == "slurm":
        if args.slurm_gpus_per_job < 0 or (args.slurm_cpus_per_job is not None and args.slurm_cpus_per_job < 1):
            parser.error("--slurm_gpus_per_job must be >= 0 and --slurm_cpus_per_job >= 1")
        if args.slurm_cpus_per_job is None:
            args.slurm_cpus_per_job = args.slurm_cpus_per_gpu * args.slurm_gpus_per_job or 2
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    train_flags = argv[argv.index("--") + 1:] if "--" in argv else None
    args = parse_cli(argv[:argv.index("--")] if "--" in argv else argv)
    adopt_children()  # the runs the launcher starts die with the sweep (metta.runtime.lifetime)
    try:
        return sweep(args, train_flags)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def sweep(args, train_flags: list[str] | None) -> int:
    from metta.experiments.sweep_report import text_table, write_report

    train_dir = os.path.abspath(args.train_dir)
    sweep_dir = os.path.join(train_dir, args.name)
    recorded = read_sweep(sweep_dir)
    if args.report_only:
        extra = [f for f, v in (("--env", args.env), ("--grid", args.grid), ("--seeds", args.seeds),
                                ("--first_seed", args.first_seed), ("--env_steps", args.env_steps),
                                ("training flags after --", train_flags)) if v is not None]
        if extra:
            raise ConfigError(f"--report_only reports the sweep {SWEEP_FILE} records; drop {', '.join(extra)}")
        if recorded is None:
            raise ConfigError(f"--report_only: no {os.path.join(sweep_dir, SWEEP_FILE)}; run the sweep first")
        desc = recorded
    else:
        desc = describe(args.name, args.env or DEFAULT_ENV, args.grid, 1 if args.seeds is None else args.seeds,
                        args.first_seed or 0, args.env_steps, train_flags or [], train_dir)
        if recorded is not None:
            check_rerun(desc, recorded, sweep_dir)
        if args.backend == "ngc" and not (args.ngc_job_template and os.path.isfile(args.ngc_job_template)):
            raise ConfigError(f"--backend ngc needs --ngc_job_template FILE (an ngc command line with {{{{ name }}}} "
                              f"and {{{{ experiment_cmd }}}}); got {args.ngc_job_template!r}")
        if args.backend == "slurm" and args.slurm_sbatch_template and not os.path.isfile(args.slurm_sbatch_template):
            raise ConfigError(f"--slurm_sbatch_template {args.slurm_sbatch_template}: no such file")
        os.makedirs(sweep_dir, exist_ok=True)
        write_json(os.path.join(sweep_dir, SWEEP_FILE), desc)
        args.train_dir = train_dir
        launched = launch(desc, args, sweep_dir)
        if args.backend == "slurm" and not args.slurm_print_only:
            from metta.experiments import slurm

            workdir = slurm_workdir(args, sweep_dir)
            if not args.slurm_wait:
                print(f"queued on slurm ({workdir}). Rerun this command to wait for the jobs, resubmit what did not "
                      f"finish, then evaluate and report")
                return 0
            jobs = slurm.read_jobs(workdir)
            slurm.wait_for({n: jobs[n] for n in launched if n in jobs}, poll=args.slurm_poll)
            slurm.report_jobs(jobs, launched)
        elif args.backend != "processes":
            printed = getattr(args, f"{args.backend}_print_only")
            queued = "printed, not queued" if printed else f"queued on {args.backend}"
            print(f"{queued}. Once the runs are done: python -m metta.experiments.sweep {args.name} "
                  f"--train_dir={train_dir} --report_only --episodes={args.episodes}"
                  + (f" --eval_max_steps={args.eval_max_steps}" if args.eval_max_steps else "")
                  + (f" --film={args.film}" if args.film else "")
                  + (f" --replays={args.replays}" if args.replays else ""))
            return 0
    short = [(r["name"], trained(os.path.join(sweep_dir, r["name"]))) for r in desc["runs"]]
    short = [(n, s) for n, s in short if s < desc["env_steps"]]
    if short:
        print("error: not finished: " + "; ".join(f"{n} ({s:,} of {desc['env_steps']:,} agent-steps, log "
                                                    f"{os.path.join(sweep_dir, n, 'sf_log.txt')})" for n, s in short)
              + ". Rerun the sweep's command to resume them", file=sys.stderr)
        return 1
    evaluate_runs(desc, sweep_dir, args.episodes, args.eval_max_steps, args.film, args.replays)
    results = write_report(desc, sweep_dir)
    print(text_table(results))
    print(f"wrote {os.path.join(sweep_dir, 'report.html')}, results.csv, results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
