"""A sweep: one preset trained over a grid of settings and seeds through Sample Factory's launcher, every final policy
evaluated on the same episodes, and a report of each metric against the swept settings.

    python -m metta.experiments.sweep NAME --env metta-teams --grid kinship.team_reward=0,0.5,1 \\
        [--grid kinship.team_size=2,4] \\
        --seeds 2 --env_steps 2400000 [--episodes 5] [--eval_max_steps M] [--train_dir train_dir] \\
        [--backend processes|slurm|ngc] [--max_parallel 1] [--report_only] [launcher flags] [-- training flags]

Each run is one training command, ``python -m metta.sf_integration.train --env=ENV --train_for_env_steps=N
[training flags] --KEY=VALUE... --seed=K --experiment=RUN --train_dir=TRAIN_DIR/NAME``: every grid key is a flag of
the training command (checked against its own parser before anything runs): the env's dotted keys
(``kinship.team_reward``, ``map.width``; the older undotted spellings work too, metta.sf_integration.config),
every run is named from its parameters (``kinship.team_reward_0.5_seed_1``) and lands in ``TRAIN_DIR/NAME/RUN``
with its ``config.json``. The sweep's description
(grid, seeds, budget, flags, each run's command) is ``TRAIN_DIR/NAME/sweep.json``.

The budget ``--env_steps`` is in agent-steps (Sample Factory's env steps count every agent's). A run is finished when
its latest checkpoint has trained that many; a rerun skips finished runs, saying so, and launches the others, which
resume from their checkpoints (Sample Factory's resume, made safe by metta.sf_integration.checkpoints). A rerun must
describe the same sweep as sweep.json (env, grid, seeds, training flags) and its budget may only grow; anything else
is refused, so that one sweep never mixes two.

The launcher is Sample Factory's own (``sample_factory.launcher``, its flags pass through): ``--backend processes``
runs ``--max_parallel`` runs at a time on this machine, then evaluates every run (metta.evals.evaluate,
episodes seeded 0..E-1, ``TRAIN_DIR/NAME/RUN/eval/stats.json``) and writes the report (metta.experiments.sweep_report).
``slurm`` submits each run as a Slurm job, waits for them (``--slurm_wait False``: returns; a rerun collects) and
then evaluates and reports (metta.experiments.slurm); ``ngc`` queues the runs on NGC (``--ngc_*`` flags), and once
they are done ``--report_only`` evaluates and reports. Exit status (metta.errors): 0, 1 when a run did not finish or
the data is bad, 2 for a command line that cannot run (nothing written).
"""
from __future__ import annotations

import os
import sys

from metta.errors import UsageError
from metta.experiments.sweep_plan import (IDENTITY, RESERVED, SWEEP_FILE, TrainingFlags, check_rerun,  # noqa: F401
                                          describe, parse_grid, read_sweep, run_description, run_name)
from metta.experiments.sweep_runs import evaluate_runs, game_max_steps, launch, slurm_workdir, trained  # noqa: F401
from metta.runtime.files import write_json
from metta.runtime.lifetime import run_command

from sample_factory.launcher.run import launcher_argparser
from sample_factory.utils.utils import str2bool

DEFAULT_ENV = "metta-teams"


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
    parser.add_argument("--paired", action="store_true",
                        help="play every evaluation seed twice, the second time with the teams' arms swapped (a "
                             "kinship structure with arms, mixed_teams)")
    parser.add_argument("--probes", action="store_true",
                        help="probe every run's attacks in its evaluation episodes (metta.evals.probes)")
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
    # the runs the launcher starts die with the sweep; error: and exit 2 for a command line that cannot run, 1 for
    # bad data (metta.errors)
    return run_command(lambda stops: sweep(args, train_flags))


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
            raise UsageError(f"--report_only reports the sweep {SWEEP_FILE} records; drop {', '.join(extra)}")
        if recorded is None:
            raise UsageError(f"--report_only: no {os.path.join(sweep_dir, SWEEP_FILE)}; run the sweep first")
        desc = recorded
    else:
        desc = describe(args.name, args.env or DEFAULT_ENV, args.grid, 1 if args.seeds is None else args.seeds,
                        args.first_seed or 0, args.env_steps, train_flags or [], train_dir)
        if recorded is not None:
            check_rerun(desc, recorded, sweep_dir)
        if args.backend == "ngc" and not (args.ngc_job_template and os.path.isfile(args.ngc_job_template)):
            raise UsageError(f"--backend ngc needs --ngc_job_template FILE (an ngc command line with {{{{ name }}}} "
                             f"and {{{{ experiment_cmd }}}}); got {args.ngc_job_template!r}")
        if args.backend == "slurm" and args.slurm_sbatch_template and not os.path.isfile(args.slurm_sbatch_template):
            raise UsageError(f"--slurm_sbatch_template {args.slurm_sbatch_template}: no such file")
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
                  + (f" --replays={args.replays}" if args.replays else "")
                  + (" --paired" if args.paired else "") + (" --probes" if args.probes else ""))
            return 0
    short = [(r["name"], trained(os.path.join(sweep_dir, r["name"]))) for r in desc["runs"]]
    short = [(n, s) for n, s in short if s < desc["env_steps"]]
    if short:
        print("error: not finished: " + "; ".join(f"{n} ({s:,} of {desc['env_steps']:,} agent-steps, log "
                                                    f"{os.path.join(sweep_dir, n, 'sf_log.txt')})" for n, s in short)
              + ". Rerun the sweep's command to resume them", file=sys.stderr)
        return 1
    evaluate_runs(desc, sweep_dir, args.episodes, args.eval_max_steps, args.film, args.replays, paired=args.paired,
                  probes=args.probes)
    results = write_report(desc, sweep_dir)
    print(text_table(results))
    print(f"wrote {os.path.join(sweep_dir, 'report.html')}, results.csv, results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
