"""Training throughput of several settings, side by side: ``python -m metta.bench.training.throughput``.

    python -m metta.bench.training.throughput --variant base= --variant "one_learner_thread=--learner_threads=1" \\
        [--seconds 150] [--rounds 1] [--env metta-teams] [--json]

Trains ``--env`` for ``--seconds`` once per variant and round, one run at a time, rounds interleaved (variant A,
B, C, then A, B, C again): this machine's speed drifts, so a figure means something only beside the others of its
round. A variant is ``NAME=FLAGS``, the flags added to ``python -m metta.sf_integration.train`` (empty: the
defaults); ``--command NAME=PROGRAM`` runs a variant with another interpreter or checkout instead, e.g. an
earlier commit's ``/tmp/old/.venv/bin/python -m metta.sf_integration.train``. Each run trains a fresh
experiment in a temporary directory. Per run it reports Sample Factory's 60-second agent-steps/s at the end of
the run (its ``Fps is`` line) and the run's agent-steps over its wall time, start-up included; per variant the
median over rounds and its ratio to the first variant's, taken within each round.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

from tqdm import tqdm

from metta.runtime.lifetime import adopt_children
from metta.bench.training.train_profile import fps_from_log


def parse_variant(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=FLAGS, got {text!r}")
    return name, value


def run_once(program: list[str], env: str, flags: list[str], seconds: int, train_dir: str, name: str,
             cwd: str | None) -> dict:
    from metta.sf_integration.checkpoints import trained_steps

    cmd = [*program, f"--env={env}", f"--train_dir={train_dir}", f"--experiment={name}",
           f"--train_for_seconds={seconds}", *flags]
    log_path = os.path.join(train_dir, f"{name}.log")
    t0 = time.perf_counter()
    with open(log_path, "w") as log:
        code = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=cwd)
    wall = time.perf_counter() - t0
    with open(log_path, errors="replace") as fh:
        text = fh.read()
    if code != 0:  # recorded with the end of its log; the other runs go on
        return {"error": f"exit {code}", "log_tail": text.strip().splitlines()[-15:], "fps_60s": None,
                "agent_steps_per_wall_s": None}
    fps = fps_from_log(text)
    steps = trained_steps(os.path.join(train_dir, name))
    return {"fps_60s": fps, "agent_steps": steps, "wall_seconds": wall, "agent_steps_per_wall_s": steps / wall}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m metta.bench.training.throughput", description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", action="append", type=parse_variant, required=True, metavar="NAME=FLAGS")
    ap.add_argument("--command", action="append", type=parse_variant, default=[], metavar="NAME=PROGRAM",
                    help="run variant NAME with PROGRAM instead of this interpreter's training module")
    ap.add_argument("--cwd", action="append", type=parse_variant, default=[], metavar="NAME=DIR",
                    help="run variant NAME in DIR (another checkout)")
    ap.add_argument("--env", default="metta-teams")
    ap.add_argument("--seconds", type=int, default=150)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    adopt_children()
    programs = dict(args.command)
    cwds = dict(args.cwd)
    default = [sys.executable, "-m", "metta.sf_integration.train"]
    runs: dict[str, list[dict]] = {name: [] for name, _ in args.variant}
    with tempfile.TemporaryDirectory(prefix="metta_throughput_") as train_dir, \
            tqdm(total=len(args.variant) * args.rounds, desc="training runs", unit="run") as bar:
        for r in range(args.rounds):
            for name, flags in args.variant:
                program = shlex.split(programs[name]) if name in programs else default
                result = run_once(program, args.env, shlex.split(flags), args.seconds, train_dir, f"{name}_r{r}",
                                  cwds.get(name))
                runs[name].append(result)
                tqdm.write(f"{name} round {r}: "
                           + (f"{result['fps_60s'] or 0:,.0f} agent-steps/s" if "error" not in result
                              else f"failed ({result['error']}): " + " | ".join(result["log_tail"][-3:])),
                           file=sys.stderr)
                bar.update()
    first = args.variant[0][0]
    summary = {}
    for name, results in runs.items():
        ratios = [a["fps_60s"] / b["fps_60s"] for a, b in zip(results, runs[first]) if a["fps_60s"] and b["fps_60s"]]
        done = [x for x in results if "error" not in x]
        summary[name] = {"flags": dict(args.variant)[name], "fps_60s": [x["fps_60s"] for x in results],
                         "failed": len(results) - len(done),
                         "median_fps_60s": statistics.median(x["fps_60s"] or 0 for x in done) if done else None,
                         "median_agent_steps_per_wall_s":
                             statistics.median(x["agent_steps_per_wall_s"] for x in done) if done else None,
                         f"median_ratio_to_{first}": statistics.median(ratios) if ratios else None}
    if args.json:
        print(json.dumps({"seconds": args.seconds, "rounds": args.rounds, "env": args.env, "variants": summary,
                          "runs": runs}, indent=2))
        return 0
    print(f"{args.env}, {args.seconds} s runs, {args.rounds} round(s); agent-steps/s (Sample Factory's 60 s figure "
          f"at the end; steps over wall time, start-up included)")
    for name, s in summary.items():
        ratio = s[f"median_ratio_to_{first}"]
        if s["median_fps_60s"] is None:
            print(f"  {name:28} failed in every round: {runs[name][-1]['log_tail'][-1]}")
            continue
        ratio = ratio or float("nan")
        print(f"  {name:28} {s['median_fps_60s']:9,.0f}  {s['median_agent_steps_per_wall_s']:9,.0f}  "
              f"{ratio:5.2f}x {first}  {s['flags'] or '(defaults)'}" + ("" if args.rounds == 1 else
              "  rounds: " + ", ".join(f"{f or 0:,.0f}" for f in s["fps_60s"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
