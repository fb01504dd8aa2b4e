"""The eval suite's learning curve: every scenario's success rate at several of a run's kept checkpoints.

    python -m metta.evals --experiment=NAME --curve=5

scores ``NAME`` as usual (its latest checkpoint) and then up to 4 earlier checkpoints, evenly spaced over those
Sample Factory kept (``--keep_checkpoints`` at training; it keeps the last 2 by default), with the same scenarios,
episodes and seeds. ``curve.json`` holds every point, ``curve.png`` draws one panel per scenario: success rate with
its 95% Wilson interval against the agent-steps the checkpoint had trained on (the number in its file name).
"""
from __future__ import annotations

import glob
import os
import re
from typing import Any

from metta.runtime.files import atomic_path

# Sample Factory 2.1.1's file name: checkpoint_<train step>_<env steps>.pth (env steps count every agent's step)
CHECKPOINT_NAME = re.compile(r"checkpoint_(\d+)_(\d+)\.pth")


def kept_checkpoints(exp_dir: str, policy_id: int = 0) -> list[tuple[int, str]]:
    """``(agent-steps, path)`` of every checkpoint the run kept, oldest first (not ``best_*``, not temporary)."""
    out = []
    for path in glob.glob(os.path.join(glob.escape(exp_dir), f"checkpoint_p{policy_id}", "checkpoint_*.pth")):
        m = CHECKPOINT_NAME.fullmatch(os.path.basename(path))
        if m:
            out.append((int(m.group(1)), int(m.group(2)), path))
    return [(steps, path) for _, steps, path in sorted(out)]


def evenly_spaced(n: int, points: int) -> list[int]:
    """``points`` indices of ``range(n)`` spread evenly from the first to the last, the last always among them."""
    if n <= 0 or points <= 0:
        return []
    if points >= n:
        return list(range(n))
    if points == 1:
        return [n - 1]
    return sorted({round(k * (n - 1) / (points - 1)) for k in range(points)})


def learning_curve(experiment: str, scenarios, episodes: int, seed: int, train_dir: str, points: int,
                   latest: dict | None = None, progress: bool = True) -> dict:
    """The suite's results at ``points`` of the experiment's kept checkpoints (see the module docstring).
    ``latest``: the results already computed for its latest checkpoint, reused for the last point."""
    from metta.evals.suite import run_suite

    kept = kept_checkpoints(os.path.join(train_dir, experiment))
    curve: dict[str, Any] = {"policy": experiment, "episodes": episodes, "seed": seed, "kept": len(kept), "points": []}
    for i in evenly_spaced(len(kept), points):
        steps, path = kept[i]
        if i == len(kept) - 1 and latest is not None:
            results = latest
        else:
            results = run_suite(experiment, scenarios, episodes, seed, train_dir, progress=progress, checkpoint=path)
        curve["points"].append({"checkpoint": os.path.basename(path), "agent_steps": steps,
                                "scenarios": {name: {k: r[k] for k in ("successes", "episodes", "rate", "ci95")}
                                              for name, r in results["scenarios"].items()}})
    return curve


def plot_curve(curve: dict, path: str, baseline: dict | None = None) -> None:
    """One panel per scenario: success rate (95% Wilson interval) against agent-steps; the baseline's rate, when
    given (a results dict of the suite), as a dashed line (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    names = list(curve["points"][0]["scenarios"]) if curve["points"] else []
    cols = min(4, max(1, len(names)))
    rows = max(1, -(-len(names) // cols))
    fig = Figure(figsize=(3.2 * cols, 2.6 * rows))
    FigureCanvasAgg(fig)
    steps = [p["agent_steps"] / 1e6 for p in curve["points"]]
    for k, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, k + 1)
        rs = [p["scenarios"][name] for p in curve["points"]]
        ax.fill_between(steps, [r["ci95"][0] for r in rs], [r["ci95"][1] for r in rs], alpha=0.25)
        ax.plot(steps, [r["rate"] for r in rs], marker="o", label=curve["policy"])
        if baseline and name in baseline.get("scenarios", {}):
            ax.axhline(baseline["scenarios"][name]["rate"], ls="--", color="gray", label=baseline["policy"])
        ax.set_title(name, fontsize=10)
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("agent-steps (M)", fontsize=8)
        if k % cols == 0:
            ax.set_ylabel("success rate", fontsize=8)
        if k == 0:
            ax.legend(fontsize=7, loc="upper left")
    fig.suptitle(f"{curve['policy']}: eval suite over training ({curve['episodes']} episodes per point, 95% "
                 f"Wilson intervals)", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)
