"""Does training pay, on every seed? ``python -m metta.bench.training.learning_bench --seeds 3 [--json]``.

Trains ``--seeds`` K fresh experiments on ``--env`` (default metta-teams), one after the
other, each with its own ``--seed`` and the same wall-clock budget (default: ``make train``'s,
``MAKE_TRAIN_SECONDS`` with ``MAKE_TRAIN_FLAGS``). Then plays, on the same evaluation seeds
and in episodes of the game's own length (``--eval_max_steps`` to change it): each trained
policy, a uniformly random policy, and the untrained policy's action prior alone
(metta.sf_integration.model), so that what training added shows apart from where it started.

Per run and in summary it prints the game's headline and economy counters per agent per
episode (its ``Metta.metrics``: hearts and diamonds harvested in the Metta game; the env's own
episode metrics), the run's final and lowest policy entropy (TensorBoard's
``train/entropy``), the trained policy's most frequent action and its share of all the
actions it took, and the training throughput in agent-steps/s (Sample Factory's env steps
count every agent's step). Then it checks the bar every seed must clear (``BAR``).
Arguments after ``--`` go to every training command unchanged and replace
``MAKE_TRAIN_FLAGS`` (e.g. ``-- --max_steps=200 --learning_rate=1e-3``).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from tqdm import tqdm

# `make train`'s budget on 2 CPU cores (the Makefile passes the same; tests/test_learning_bench.py checks they agree)
MAKE_TRAIN_SECONDS = 480
MAKE_TRAIN_FLAGS = ()
# what every seed must reach, per agent per episode: the game's headline counter (hearts), its economy counter
# (diamonds harvested), and the headline over the prior's; reported under the counters' own names (``bar``)
BAR = {"headline": 1.0, "economy": 1.0, "prior_ratio": 5.0}


def counters(env) -> tuple[str, str]:
    """The game's headline and economy counters (its Metta.metrics section); SystemExit when it names none."""
    facts = env.facts
    if facts.headline is None or facts.economy is None:
        raise SystemExit(f"error: {env.game.path}: the learning bench needs the game's Metta.metrics headline and "
                         f"economy counters (docs/games.md)")
    return facts.headline, facts.economy


def bar(env) -> dict:
    h, e = counters(env)
    return {h: BAR["headline"], e: BAR["economy"], "prior_ratio": BAR["prior_ratio"]}


def play(env, seeds, policy, desc: str) -> dict:
    """The headline and economy counters per agent per episode (the env's own episode metrics), and the most
    frequent action and its share of all actions, of ``policy`` (a metta.evals.policies.Policy) on episodes seeded
    ``seeds``."""
    from metta.evals.play import play_episode

    metrics, counts = [], []
    for seed in tqdm(seeds, desc=desc, unit="episode", leave=False):
        outcome = play_episode(env, policy, seed)
        metrics += outcome.metrics
        counts.append(outcome.actions)
    actions = np.sum(counts, axis=0)  # how often each action was taken, over the episodes
    top = int(np.argmax(actions))
    h, e = counters(env)
    return {h: float(np.mean([m[h] for m in metrics])), e: float(np.mean([m[e] for m in metrics])),
            "top_action": env.action_names[top], "top_action_share": float(actions[top] / actions.sum())}


def train(env_name: str, seconds: int, train_dir: str, experiment: str, seed: int, flags: list[str]) -> dict:
    """Run the training command for ``seconds``; return its throughput figures."""
    from metta.sf_integration.checkpoints import trained_steps

    cmd = [sys.executable, "-m", "metta.sf_integration.train", f"--env={env_name}", f"--train_dir={train_dir}",
           f"--experiment={experiment}", f"--train_for_seconds={seconds}", f"--seed={seed}", *flags]
    log_path = os.path.join(train_dir, f"{experiment}.log")
    os.makedirs(train_dir, exist_ok=True)
    t0 = time.perf_counter()
    with open(log_path, "w") as log, tqdm(total=seconds, desc=f"training seed {seed}", unit="s", mininterval=10) as bar:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            while proc.poll() is None:
                time.sleep(1.0)
                bar.update(min(int(time.perf_counter() - t0), bar.total) - bar.n)
        except BaseException:
            proc.terminate()
            proc.wait()
            raise
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"error: training failed (exit {proc.returncode}); see {log_path}")
    steps = trained_steps(os.path.join(train_dir, experiment))
    return {"agent_steps": steps, "wall_seconds": wall, "agent_steps_per_s": steps / wall, "log": log_path}


def entropy(exp_dir: str) -> dict:
    """The policy's entropy at the run's end and its lowest value during the run (TensorBoard)."""
    from metta.bench.training.scalars import scalars

    points = scalars(exp_dir, ("train/entropy",)).get("train/entropy", [])
    values = [v for _, v in points]
    return {"final_entropy": values[-1] if values else None, "min_entropy": min(values) if values else None}


def baselines(env, seeds, action_prior: float) -> dict:
    from metta.evals.policies import RandomPolicy
    from metta.sf_integration.model import prior_logits

    n = env.action_space(env.possible_agents[0]).n
    logits = prior_logits([a.name for a in env.engine.actions], action_prior)
    prior = np.exp(logits) / np.exp(logits).sum() if logits else None
    return {"random": play(env, seeds, RandomPolicy(n, 0), "random policy"),
            "untrained_prior": play(env, seeds, RandomPolicy(n, 0, prior), "untrained prior")}


def verdict(run: dict, prior_hearts: float, bars: dict) -> dict:
    """Which parts of the bar (``bar(env)``) this run clears."""
    (h, e, _) = bars
    ratio = run[h] / prior_hearts if prior_hearts > 0 else float("inf")
    return {h: run[h] >= bars[h], e: run[e] >= bars[e], "prior_ratio": ratio >= bars["prior_ratio"]}


def curve_tags(result: dict) -> tuple:
    h, e, _ = result["bar"]
    return (("train/entropy", "policy entropy (nats)"), (f"social/{h}", f"{h} per agent per episode"),
            (f"social/{e}", f"{e} per agent per episode"))


def plot_runs(result: dict, path: str) -> str:
    """Learning curves of every run (TensorBoard), one line per seed: entropy, hearts and diamonds per agent per
    training episode against agent-steps. Written to a temporary name, then renamed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from metta.runtime.files import atomic_path
    from metta.bench.training.scalars import scalars

    CURVES = curve_tags(result)
    fig, axes = plt.subplots(1, len(CURVES), figsize=(5 * len(CURVES), 3.6), constrained_layout=True)
    for run in result["runs"]:
        curves = scalars(os.path.join(result["train_dir"], run["experiment"]), tuple(t for t, _ in CURVES))
        for ax, (tag, _) in zip(axes, CURVES):
            points = curves.get(tag, [])
            ax.plot([x / 1e6 for x, _ in points], [y for _, y in points], label=f"seed {run['seed']}")
    for ax, (tag, label) in zip(axes, CURVES):
        ax.set_xlabel("agent-steps (millions)")
        ax.set_ylabel(label)
        ax.set_title(tag)
        ax.grid(alpha=0.3)
    axes[0].legend()
    flags = " ".join(result["train_flags"])
    fig.suptitle(f"{result['env']}, {result['seconds'] / 60:g} min per seed{' (' + flags + ')' if flags else ''}")
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return path


def report(result: dict) -> str:
    b, runs = result["baselines"], result["runs"]
    bars = result["bar"]
    h, e, _ = bars
    lines = [f"{result['env']}: {result['seconds'] / 60:g} min of training per seed"
             f"{' with ' + ' '.join(result['train_flags']) if result['train_flags'] else ''}; "
             f"{result['episodes']} evaluation episodes of {result['eval_max_steps']} steps x "
             f"{result['agents']} agents (seeds 0..{result['episodes'] - 1}); per agent per episode", "",
             f"{'policy':16} {'seed':>4} {h[:7]:>7} {e[:8]:>8} {'entropy end':>11} {'entropy min':>11}  "
             f"{'agent-steps/s':>13}  top action (share)"]

    def row(name, seed, r, run=None):
        ent = (f"{run['final_entropy']:11.3f} {run['min_entropy']:11.3f}" if run and run["final_entropy"] is not None
               else f"{'':11} {'':11}")
        speed = f"{run['agent_steps_per_s']:13,.0f}" if run else f"{'':13}"
        return (f"{name:16} {seed:>4} {r[h]:7.3f} {r[e]:8.3f} {ent}  {speed}  "
                f"{r['top_action']} ({r['top_action_share']:.0%})")

    lines.append(row("random", "-", b["random"]))
    lines.append(row("untrained prior", "-", b["untrained_prior"]))
    for run in runs:
        lines.append(row("trained", run["seed"], run, run))
    s = result["summary"]
    lines += ["", f"trained, over {len(runs)} seed(s): {h} min {s[h + '_min']:.3f} mean {s[h + '_mean']:.3f}, "
                  f"{e} min {s[e + '_min']:.3f} mean {s[e + '_mean']:.3f}, "
                  f"{h} / prior's min "
                  + (f"{s['prior_ratio_min']:.1f}x" if s["prior_ratio_min"] is not None
                     else "inf (the prior earned none)")]
    checks = [(h, f"{h} >= {bars[h]:g}"), (e, f"{e} >= {bars[e]:g}"),
              ("prior_ratio", f"{h} >= {bars['prior_ratio']:g}x the prior's")]
    passed = [f"{text}: {sum(r['passes'][k] for r in runs)}/{len(runs)}" for k, text in checks]
    lines.append("seeds clearing the bar: " + "; ".join(passed)
                 + ("  -> every seed clears it" if result["every_seed_passes"] else "  -> NOT every seed clears it"))
    lines.append(f"experiments in {result['train_dir']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    extra = argv[argv.index("--") + 1:] if "--" in argv else None
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(prog="python -m metta.bench.training.learning_bench",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", default="metta-teams")
    ap.add_argument("--seeds", type=int, default=3, help="independent training runs, --seed=first_seed.. (default 3)")
    ap.add_argument("--first_seed", type=int, default=0)
    ap.add_argument("--minutes", type=float, default=MAKE_TRAIN_SECONDS / 60,
                    help=f"training wall time per run (default: make train's, {MAKE_TRAIN_SECONDS / 60:g})")
    ap.add_argument("--episodes", type=int, default=5, help="evaluation episodes (seeds 0..N-1) per policy")
    ap.add_argument("--eval_max_steps", type=int, default=None,
                    help="evaluation episode length (default: the game's max_steps, whatever training used)")
    ap.add_argument("--train_dir", default=None, help="where the experiments go (default: a temporary dir)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    ap.add_argument("--plot", default=None, metavar="PNG", help="also draw every run's learning curves to this file")
    args = ap.parse_args(argv)
    from metta.runtime.lifetime import adopt_children

    adopt_children()  # the training runs it starts die with it (metta.runtime.lifetime)
    if args.minutes <= 0 or args.episodes < 1 or args.seeds < 1:
        ap.error("--minutes must be > 0, --episodes and --seeds >= 1")
    flags = list(MAKE_TRAIN_FLAGS) if extra is None else extra
    seconds = max(1, int(round(args.minutes * 60)))

    from metta.sf_integration.policy import load_policy

    train_dir = os.path.abspath(args.train_dir or tempfile.mkdtemp(prefix="metta_learning_bench_"))
    stamp = time.strftime("%Y%m%d_%H%M%S")
    eval_seeds = list(range(args.episodes))
    runs, base, env = [], None, None
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        experiment = f"bench_{args.env}_{stamp}_seed{seed}"
        perf = train(args.env, seconds, train_dir, experiment, seed, flags)
        policy = load_policy(experiment, train_dir=train_dir)
        if env is None:
            env = policy.make_env(max_steps=args.eval_max_steps)
            (h, e), bars = counters(env), bar(env)
            base = baselines(env, eval_seeds, policy.cfg.get("action_prior") or 0)
        assert base is not None  # made with the env, by the first run
        run = {"seed": seed, "experiment": experiment, **play(env, eval_seeds, policy, "trained policy"),
               **entropy(os.path.join(train_dir, experiment)), **perf}
        run["passes"] = verdict(run, base["untrained_prior"][h], bars)
        runs.append(run)
        tqdm.write(f"seed {seed}: {h} {run[h]:.3f}, {e} {run[e]:.3f} per agent per "
                   f"episode; entropy {run['final_entropy']:.3f} (min {run['min_entropy']:.3f}); "
                   f"{run['agent_steps_per_s']:,.0f} agent-steps/s", file=sys.stderr)
    assert env is not None and base is not None  # --seeds is at least 1
    env.close()
    prior = base["untrained_prior"][h]
    result = {
        "env": args.env, "seconds": seconds, "train_flags": flags, "episodes": args.episodes,
        "agents": len(env.possible_agents), "eval_max_steps": env.max_steps, "bar": bars, "baselines": base,
        "runs": runs, "train_dir": train_dir, "cpu_count": os.cpu_count(),
        "summary": {f"{h}_min": min(r[h] for r in runs), f"{h}_mean": float(np.mean([r[h] for r in runs])),
                    f"{e}_min": min(r[e] for r in runs), f"{e}_mean": float(np.mean([r[e] for r in runs])),
                    # None: the prior earned no heart, so any trained heart is infinitely many times it
                    "prior_ratio_min": min(r[h] for r in runs) / prior if prior > 0 else None},
        "every_seed_passes": all(all(r["passes"].values()) for r in runs),
    }
    if args.plot:
        result["plot"] = plot_runs(result, args.plot)
    print(json.dumps(result, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
