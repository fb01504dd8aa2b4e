"""Running a sweep's runs: launching the unfinished ones (Sample Factory's launcher, or Slurm) and evaluating every
final policy on the same episodes. See metta.experiments.sweep."""
from __future__ import annotations

import json
import os

from metta.experiments.sweep_plan import run_description
from metta.sf_integration.checkpoints import CheckpointError, latest_checkpoint, read_config, trained_steps
from metta.sf_integration.config import env_config_from_cfg

from sample_factory.launcher.run_ngc import run_ngc
from sample_factory.launcher.run_processes import run as run_processes


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
                  replays: int = 0, paired: bool = False, probes: bool = False) -> None:
    """Play every run's final policy on episodes seeded 0..episodes-1 (``max_steps`` long; default the game's own;
    ``paired``: each seed twice, the arms swapped the second time; ``probes``: with counterfactual probes;
    metta.evals.evaluate) into ``RUN/eval/stats.json``, unless that file is newer than the run's latest
    checkpoint and holds those episodes, played that way."""
    import torch
    from tqdm import tqdm

    from metta.evals.evaluate import evaluate

    # one agent batch a step: one thread beats contending ones (2 episodes: 5.7 s against 14 s on a busy 2-core machine)
    torch.set_num_threads(1)
    for r in tqdm(desc["runs"], desc=f"evaluating {desc['name']}", unit="run"):
        run_dir = os.path.join(sweep_dir, r["name"])
        length = max_steps or game_max_steps(run_dir)
        stats_path = os.path.join(run_dir, "eval", "stats.json")
        latest = latest_checkpoint(run_dir)  # None: no checkpoint, which evaluate names as the error
        if (os.path.isfile(stats_path) and latest is not None
                and os.path.getmtime(stats_path) > os.path.getmtime(latest)):
            with open(stats_path, encoding="utf-8") as f:
                stats = json.load(f)
            seeds = [k for k in range(episodes) for _ in range(2 if paired else 1)]
            if (stats.get("experiment") == r["name"] and stats.get("policy") == "trained"
                    and stats.get("max_steps") == length and bool(stats.get("paired")) == paired
                    and bool(stats.get("probes")) == probes
                    and [e["seed"] for e in stats.get("episodes", [])] == seeds):
                tqdm.write(f"{r['name']}: evaluation up to date ({stats_path})")
                continue
        evaluate(None, experiment=r["name"], train_dir=sweep_dir, episodes=episodes, max_steps=length, seed=0,
                 gif=False, progress=False, film=film, replays=replays, paired=paired, probes=probes)


def game_max_steps(run_dir: str) -> int:
    """The episode length of the run's game itself (its ``max_steps`` value, not a training ``--max_steps``)."""
    from metta import make_env

    config = env_config_from_cfg(read_config(run_dir), os.path.join(run_dir, "config.json"))
    env = make_env(config.override("max_steps", None))
    env.close()
    return env.max_steps
