"""The eval suite from the command line.

    python -m metta.evals --experiment=NAME [--baseline=OTHER]
    python -m metta.evals --policy=random --episodes=20

runs the scenarios (metta.evals.scenarios; ``--scenarios=navigation,maze`` for some) and
writes ``train_dir/NAME/evals/``: ``results.json`` (every score and its interval),
``report.html`` (the table, ``scores.png`` and ``videos/<scenario>.mp4``). NAME is the
experiment, or the built-in policy's name. ``--baseline`` is another experiment or a
built-in policy: its saved ``results.json`` when it has one, otherwise it is run now with
the same seeds; the report then adds its scores and Fisher's exact p-values. ``--curve=N`` scores
the experiment at N of its kept checkpoints as well (metta.evals.curve): ``curve.json``, ``curve.png``
and a learning-curve section in the report.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from metta.errors import ConfigError
from metta.runtime.lifetime import run_command


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m metta.evals", description=__doc__.split("\n\n")[0])
    ap.add_argument("--experiment", default=None, help="a trained experiment in --train_dir")
    ap.add_argument("--policy", default=None, help="a built-in policy instead: random or oracle")
    ap.add_argument("--baseline", default=None, help="an experiment or built-in policy to compare with")
    ap.add_argument("--scenarios", default=None, help="comma-separated scenario names (default: all)")
    ap.add_argument("--episodes", type=int, default=20, help="episodes per scenario")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train_dir", default="train_dir")
    ap.add_argument("--fps", type=float, default=8.0)
    ap.add_argument("--tile_size", type=int, default=24, help="pixels per cell in the videos")
    ap.add_argument("--no_videos", action="store_true")
    ap.add_argument("--curve", type=int, default=0, metavar="N",
                    help="also score N of the experiment's kept checkpoints, evenly spaced, the latest included: "
                         "a per-scenario learning curve (default 0: the latest only)")
    args = ap.parse_args(argv)
    # a stop leaves no half-written file (metta.runtime.files)
    return run_command(lambda stops: print(f"wrote {run(args)}"))


def run(args) -> str:
    from metta.evals.policies import BUILTIN
    from metta.evals.report import write_report
    from metta.evals.scenarios import get_scenarios
    from metta.evals.suite import run_suite
    from metta.runtime.files import write_json

    if (args.experiment is None) == (args.policy is None):
        raise ConfigError(f"give one of --experiment=NAME (a directory in {args.train_dir}) or --policy "
                          f"({', '.join(BUILTIN)})")
    if args.policy is not None and args.policy not in BUILTIN:
        raise ConfigError(f"unknown --policy {args.policy!r}: built-in policies are {', '.join(BUILTIN)}; "
                          f"a trained one is given with --experiment")
    if args.episodes < 1:
        raise ConfigError(f"--episodes must be >= 1, got {args.episodes}")
    if args.curve < 0 or (args.curve and args.experiment is None):
        raise ConfigError(f"--curve needs --experiment and N >= 0 (checkpoints to score), got --curve={args.curve}")
    scenarios = get_scenarios(args.scenarios.split(",") if args.scenarios else None)
    name = args.experiment or args.policy
    out_dir = os.path.join(args.train_dir, name, "evals")
    baseline = None
    if args.baseline is not None:
        saved = os.path.join(args.train_dir, args.baseline, "evals", "results.json")
        if os.path.exists(saved):
            try:
                with open(saved) as fh:
                    baseline = json.load(fh)
                baseline["scenarios"]  # noqa: B018 - the one key every results file has
            except (OSError, ValueError, KeyError, TypeError) as err:
                raise ConfigError(f"{saved}: not a results file of the eval suite ({err})") from None
        else:
            baseline = run_suite(args.baseline, scenarios, args.episodes, args.seed, args.train_dir)
    results = run_suite(name, scenarios, args.episodes, args.seed, args.train_dir,
                        video_dir=None if args.no_videos else os.path.join(out_dir, "videos"),
                        fps=args.fps, tile_size=args.tile_size)
    os.makedirs(out_dir, exist_ok=True)
    write_json(os.path.join(out_dir, "results.json"), results)
    curve = None
    if args.curve:
        from metta.evals.curve import learning_curve, plot_curve

        curve = learning_curve(name, scenarios, args.episodes, args.seed, args.train_dir, args.curve, latest=results)
        write_json(os.path.join(out_dir, "curve.json"), curve)
        plot_curve(curve, os.path.join(out_dir, "curve.png"), baseline)
    report = write_report(results, out_dir, baseline, curve)
    for sc, r in results["scenarios"].items():
        line = f"  {sc:22s} {r['rate']:.2f} [{r['ci95'][0]:.2f}, {r['ci95'][1]:.2f}]"
        if baseline and sc in baseline["scenarios"]:
            b = baseline["scenarios"][sc]
            line += f"   {args.baseline}: {b['rate']:.2f} [{b['ci95'][0]:.2f}, {b['ci95'][1]:.2f}]"
        print(line)
    for point in (curve or {}).get("points", []):
        print(f"  {point['agent_steps']:>12,d} agent-steps: " + "  ".join(
            f"{sc} {r['rate']:.2f}" for sc, r in point["scenarios"].items()))
    return report


if __name__ == "__main__":
    sys.exit(main())
