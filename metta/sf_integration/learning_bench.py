"""Does training pay? ``python -m metta.sf_integration.learning_bench [--minutes 10] [--json]``.

Trains a fresh experiment on ``--env`` (default metta-teams) for a fixed wall time with
the training defaults, then plays on the same seeds, in episodes of the game's own length
(``--eval_max_steps`` to change it): the trained policy, a uniformly random policy, and
the untrained policy's action prior alone (metta.sf_integration.model), so that what
training added is visible apart from where it started. Prints hearts per agent per
episode for each, the trained/random ratio, and the training throughput in agent-steps/s
(Sample Factory's env steps count every agent's step). Arguments after ``--`` go to the
training command unchanged (e.g. ``-- --max_steps=200`` trains on shorter episodes).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from tqdm import tqdm


def play(env, seeds, choose, desc: str) -> float:
    """Hearts per agent per episode, from the env's own episode metrics."""
    hearts = []
    for seed in tqdm(seeds, desc=desc, unit="episode", leave=False):
        obs, _ = env.reset(seed=seed)
        choose(None, None)  # a new episode
        rewards = None
        while env.agents:
            obs, rewards, _, _, infos = env.step(choose(obs, rewards))
        hearts += [infos[a]["episode"]["hearts"] for a in env.possible_agents]
    return float(np.mean(hearts))


def train(env_name: str, minutes: float, train_dir: str, experiment: str, extra: list[str]) -> dict:
    """Run the training command for ``minutes``; return its throughput figures."""
    cmd = [sys.executable, "-m", "metta.sf_integration.train", f"--env={env_name}", f"--train_dir={train_dir}",
           f"--experiment={experiment}", f"--train_for_seconds={int(minutes * 60)}", *extra]
    log_path = os.path.join(train_dir, f"{experiment}.log")
    os.makedirs(train_dir, exist_ok=True)
    t0 = time.perf_counter()
    with open(log_path, "w") as log, tqdm(total=int(minutes * 60), desc=f"training {env_name}", unit="s") as bar:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            time.sleep(1.0)
            bar.update(min(int(time.perf_counter() - t0), bar.total) - bar.n)
    seconds = time.perf_counter() - t0
    text = open(log_path, errors="replace").read()
    if proc.returncode != 0:
        raise SystemExit(f"training failed (exit {proc.returncode}); see {log_path}")
    steps = [int(s) for s in re.findall(r"Total num frames: (\d+)", text)]
    windows = re.findall(r"Fps is \(10 sec: [^,]+, 60 sec: [^,]+, 300 sec: ([0-9.]+)\)", text)
    return {"agent_steps": steps[-1] if steps else 0, "wall_seconds": seconds,
            "agent_steps_per_s": (steps[-1] if steps else 0) / seconds,
            "agent_steps_per_s_300s_window": float(windows[-1]) if windows else None, "log": log_path}


def _ratio(ratio: float | None, trained: float) -> str:
    if ratio is not None:
        return f"{ratio:.1f}"
    return "inf (random earned none)" if trained > 0 else "n/a (neither earned a heart)"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(prog="python -m metta.sf_integration.learning_bench",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", default="metta-teams")
    ap.add_argument("--minutes", type=float, default=10.0, help="training wall time")
    ap.add_argument("--episodes", type=int, default=5, help="evaluation episodes (seeds 0..N-1) per policy")
    ap.add_argument("--eval_max_steps", type=int, default=None,
                    help="evaluation episode length (default: the game's max_steps, whatever training used)")
    ap.add_argument("--train_dir", default=None, help="where the experiment goes (default: a temporary dir)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.minutes <= 0 or args.episodes < 1:
        ap.error("--minutes must be > 0 and --episodes >= 1")

    train_dir = args.train_dir or tempfile.mkdtemp(prefix="metta_learning_bench_")
    experiment = f"bench_{args.env}_{time.strftime('%Y%m%d_%H%M%S')}"
    perf = train(args.env, args.minutes, train_dir, experiment, extra)

    from metta.sf_integration.model import prior_logits
    from metta.sf_integration.policy import load_policy

    policy = load_policy(experiment, train_dir=train_dir)
    env = policy.make_env(max_steps=args.eval_max_steps)
    seeds = list(range(args.episodes))
    n_actions = env.action_space(env.possible_agents[0]).n
    rng = np.random.default_rng(0)
    logits = prior_logits([a.name for a in env.engine.actions], policy.cfg.get("action_prior") or 0)
    prior_p = np.exp(logits) / np.exp(logits).sum() if logits else np.full(n_actions, 1.0 / n_actions)

    def sampler(p):
        def choose(obs, rewards):
            return {} if obs is None else dict(zip(obs, rng.choice(n_actions, size=len(obs), p=p).tolist()))
        return choose

    def trained_policy(obs, rewards):
        if obs is None:
            policy.reset(len(env.possible_agents))
            return {}
        return policy.act(obs, rewards=rewards)

    import torch

    torch.manual_seed(0)
    random_hearts = play(env, seeds, sampler(np.full(n_actions, 1.0 / n_actions)), "random policy")
    prior_hearts = play(env, seeds, sampler(prior_p), "untrained prior")
    trained_hearts = play(env, seeds, trained_policy, "trained policy")
    ratio = trained_hearts / random_hearts if random_hearts > 0 else None
    result = {"env": args.env, "minutes": args.minutes, "train_flags": extra, "episodes": args.episodes,
              "agents": len(env.possible_agents), "eval_max_steps": env.max_steps,
              "hearts_per_agent_random": random_hearts, "hearts_per_agent_untrained_prior": prior_hearts,
              "hearts_per_agent_trained": trained_hearts, "ratio": ratio, **perf,
              "experiment": os.path.join(train_dir, experiment), "cpu_count": os.cpu_count()}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{args.env}: {args.minutes:g} min of training{' with ' + ' '.join(extra) if extra else ''}, "
              f"{args.episodes} evaluation episodes of {env.max_steps} steps x {result['agents']} agents "
              f"on seeds 0..{args.episodes - 1}")
        print(f"  hearts per agent per episode   random {random_hearts:.3f}   untrained prior {prior_hearts:.3f}   "
              f"trained {trained_hearts:.3f}   ratio trained/random {_ratio(ratio, trained_hearts)}")
        window = perf["agent_steps_per_s_300s_window"]
        print(f"  training throughput            {perf['agent_steps_per_s']:,.0f} agent-steps/s over the whole run"
              + (f" ({window:,.0f} in Sample Factory's last 300 s window)" if window else "")
              + f", {perf['agent_steps']:,} agent-steps")
        print(f"  experiment                     {result['experiment']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
