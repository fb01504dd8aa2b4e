"""A training run's TensorBoard scalars, read back from its ``train_dir/<experiment>/.summary/<policy>/`` event
files (Sample Factory 2.1.1's layout) with TensorBoard's own reader: the learning bench, the two-arm report and
the model card read what a run measured here."""
from __future__ import annotations

import os


def scalars(exp_dir: str, prefixes: tuple[str, ...] = ("",),
            last_only: bool = False) -> dict[str, list[tuple[int, float]]]:
    """The run's TensorBoard scalars whose tag starts with one of ``prefixes``: ``{tag: [(env step, value), ...]}``.

    Policies other than 0 are prefixed ``p<policy>/``. ``last_only`` keeps only each tag's last point."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = {}
    root = os.path.join(exp_dir, ".summary")
    for policy in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        events = EventAccumulator(os.path.join(root, policy), size_guidance={"scalars": 1 if last_only else 0})
        events.Reload()
        for tag in events.Tags()["scalars"]:
            if tag.startswith(prefixes):
                points = [(e.step, e.value) for e in events.Scalars(tag)]
                out[tag if policy == "0" else f"p{policy}/{tag}"] = points[-1:] if last_only else points
    return out
