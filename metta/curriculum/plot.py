"""``python -m metta.curriculum.plot EXPERIMENT [--train_dir train_dir] [--out PATH]``: a training run's
curriculum as a picture, read from its TensorBoard logs: each task's sampling probability (top) and recent score
(bottom) against agent-steps. Written to ``TRAIN_DIR/EXPERIMENT/curriculum.png`` unless ``--out`` says where."""
from __future__ import annotations

import argparse
import os

from metta.errors import ConfigError, UsageError
from metta.runtime.files import atomic_path

PREFIX = "curriculum/"


def read_curriculum(exp_dir: str, policy: int = 0) -> dict[str, dict[str, list[tuple[int, float]]]]:
    """``{"weight" | "score": {task: [(agent-steps, value), ...]}}`` from the run's TensorBoard logs."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logs = os.path.join(exp_dir, ".summary", str(policy))
    if not os.path.isdir(logs):
        raise UsageError(f"{logs}: no TensorBoard logs (is {exp_dir} a training run?)")
    acc = EventAccumulator(logs, size_guidance={"scalars": 0})
    acc.Reload()
    out: dict[str, dict[str, list[tuple[int, float]]]] = {"weight": {}, "score": {}}
    for tag in acc.Tags()["scalars"]:
        if tag.startswith(PREFIX) and tag.count("/") == 2:
            _, task, kind = tag.split("/")
            if kind in out:
                out[kind][task] = [(e.step, e.value) for e in acc.Scalars(tag)]
    if not out["weight"]:
        raise ConfigError(f"{logs}: no {PREFIX} scalars: the run did not train on a curriculum (--curriculum)")
    return out


def plot_curriculum(series: dict, path: str, title: str = "") -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 6))
    FigureCanvasAgg(fig)
    top, bottom = fig.add_subplot(2, 1, 1), fig.add_subplot(2, 1, 2, sharex=None)
    for task in sorted(series["weight"]):
        steps, values = zip(*series["weight"][task])
        line, = top.plot(steps, values, label=task)
        if task in series["score"]:
            s_steps, s_values = zip(*series["score"][task])
            bottom.plot(s_steps, s_values, color=line.get_color(), label=task)
    top.set_ylabel("sampling probability")
    top.set_title(title or "curriculum")
    top.legend(fontsize=7, ncol=4)
    bottom.set_ylabel("score (averaged, step 0.1)")
    bottom.set_xlabel("agent-steps")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100)


def main(argv: list[str] | None = None) -> int:
    from metta.runtime.lifetime import run_command

    p = argparse.ArgumentParser(prog="python -m metta.curriculum.plot", description=__doc__.split("\n\n")[0])
    p.add_argument("experiment")
    p.add_argument("--train_dir", default="train_dir")
    p.add_argument("--out", default=None, help="the PNG (default: TRAIN_DIR/EXPERIMENT/curriculum.png)")
    args = p.parse_args(argv)

    def work(stops) -> int:
        exp_dir = os.path.join(args.train_dir, args.experiment)
        out = args.out or os.path.join(exp_dir, "curriculum.png")
        plot_curriculum(read_curriculum(exp_dir), out, title=f"{args.experiment}: curriculum")
        print(f"wrote {out}")
        return 0

    return run_command(work)


if __name__ == "__main__":
    raise SystemExit(main())
