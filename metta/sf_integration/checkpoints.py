"""Experiments in Sample Factory's ``train_dir`` layout, read safely.

Sample Factory 2.1.1 keeps ``train_dir/<experiment>/config.json`` and
``checkpoint_p<policy>/checkpoint_<train step>_<env steps>.pth``. On resume it loads the
newest file matching ``checkpoint_*`` (a ``checkpoint_temp`` left by a crash mid-save
included) and, when that load fails, starts from scratch without stopping, then deletes
the user's older checkpoints as it saves new ones. ``prepare_resume`` runs before
Sample Factory does so that never happens: an unreadable checkpoint is moved aside to
``checkpoint_p<policy>/corrupted/`` (kept, not deleted) and the run resumes from the
newest readable one, saying so; when none is readable the run stops with a clear error.

Checkpoints are untrusted files (a downloaded model is somebody else's): they are read with
``torch.load(weights_only=True)``, which refuses pickles that would run code. The numpy scalars Sample Factory
stores in them are allowed (``allow_numpy_scalars``) when a checkpoint is first read, not at import.

Nothing here needs Sample Factory: the Hub (metta.hub) reads checkpoints with it.
"""
from __future__ import annotations

import glob
import os
import pickle
import re

import torch

from metta.errors import ConfigError
from metta.runtime.files import read_json

CONFIG = "config.json"
CORRUPTED = "corrupted"
# A checkpoint Sample Factory wrote, relative to the experiment (not checkpoint_temp, not corrupted/).
CHECKPOINT_FILE = re.compile(r"checkpoint_p\d+/checkpoint_\d+_\d+\.pth")


def allow_numpy_scalars() -> None:
    """Let torch's weights-only loader read numpy scalars and dtypes, which Sample Factory stores in its checkpoints
    (``best_performance``): plain data, no code runs on load. Idempotent; called before a checkpoint is read, here
    and in every process of a training run (metta.sf_integration.patches.apply)."""
    import numpy as np
    from numpy.core.multiarray import scalar  # type: ignore[attr-defined]  # there at run time; numpy's stubs omit it

    allowed = [scalar, np.dtype] + sorted({type(np.dtype(t)) for t in np.typecodes["All"]}, key=lambda t: t.__name__)
    if not set(allowed) <= set(torch.serialization.get_safe_globals()):
        torch.serialization.add_safe_globals(allowed)


class CheckpointError(ConfigError):
    """An experiment's checkpoint or config is missing or unreadable."""


def read_config(exp_dir: str) -> dict:
    path = os.path.join(exp_dir, CONFIG)
    if not os.path.isfile(path):
        raise CheckpointError(f"{path}: missing; an experiment directory needs Sample Factory's config.json")
    cfg = read_json(path, "experiment config (Sample Factory's config.json)", CheckpointError)
    if not isinstance(cfg, dict) or not isinstance(cfg.get("env"), str):
        raise CheckpointError(f"{path}: expected a JSON object with the experiment's 'env'")
    return cfg


def checkpoint_paths(exp_dir: str, policy_id: int = 0, kind: str = "checkpoint") -> list[str]:
    """The files Sample Factory would consider, oldest first (its own pattern and order; the directory is taken
    literally, glob characters such as ``[`` included)."""
    return sorted(glob.glob(os.path.join(glob.escape(exp_dir), f"checkpoint_p{policy_id}", f"{kind}_*")))


def latest_checkpoint(exp_dir: str, policy_id: int = 0) -> str | None:
    """The path of policy ``policy_id``'s newest ``checkpoint_<it>_<steps>.pth`` (Sample Factory's order), or None."""
    policy = f"checkpoint_p{policy_id}"
    folder = os.path.join(exp_dir, policy)
    names = sorted(n for n in os.listdir(folder) if CHECKPOINT_FILE.fullmatch(f"{policy}/{n}")) \
        if os.path.isdir(folder) else []
    return os.path.join(folder, names[-1]) if names else None


def trained_steps(exp_dir: str, policy_id: int = 0) -> int:
    """Agent-steps the run trained on: its latest checkpoint's env steps (Sample Factory counts every agent's), 0 when
    it has none; CheckpointError when that checkpoint is unreadable."""
    path = latest_checkpoint(exp_dir, policy_id)
    return int(load_checkpoint(path)["env_steps"]) if path else 0


def latest_checkpoints(exp_dir: str) -> dict[str, str]:
    """The newest checkpoint of each policy: ``{path relative to exp_dir: path}``."""
    out = {}
    for policy in sorted(d for d in os.listdir(exp_dir) if re.fullmatch(r"checkpoint_p\d+", d)):
        path = latest_checkpoint(exp_dir, int(policy[len("checkpoint_p"):]))
        if path is not None:
            out[f"{policy}/{os.path.basename(path)}"] = path
    return out


def load_checkpoint(path: str, device: str | torch.device = "cpu") -> dict:
    """A Sample Factory checkpoint dict read without running code, or CheckpointError naming the file and what
    is wrong. (Numpy scalars, which Sample Factory stores, are allowed: ``allow_numpy_scalars``.)"""
    allow_numpy_scalars()
    try:
        ckpt = torch.load(path, map_location=device, weights_only=True)
    except Exception as err:  # a pickle naming a global would run code; a truncated zip, garbage: not a checkpoint
        named = re.search(r"GLOBAL ([\w.]+)", str(err)) if isinstance(err, pickle.UnpicklingError) else None
        if named:
            raise CheckpointError(f"{path}: refused: the checkpoint carries pickled objects that would run code "
                                  f"when loaded (it calls {named[1]}); only tensors and plain data are "
                                  f"accepted") from None
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path}: not a readable checkpoint ({reason})") from None
    model = ckpt.get("model") if isinstance(ckpt, dict) else None
    if (not isinstance(model, dict) or not all(isinstance(v, torch.Tensor) for v in model.values())
            or not isinstance(ckpt.get("env_steps"), int)):
        raise CheckpointError(f"{path}: not a Sample Factory checkpoint (expected a dict with 'model', a state "
                              f"dict of tensors, and 'env_steps')")
    return ckpt


def prepare_resume(exp_dir: str, kind: str = "checkpoint", warn=print) -> dict[int, str | None]:
    """Make ``exp_dir`` safe for Sample Factory to resume; return each policy's checkpoint to resume from.

    A new experiment passes untouched. Raises CheckpointError when config.json is
    unreadable, when checkpoints exist without it, or when no checkpoint of a policy
    that has some is readable.
    """
    policy_dirs = sorted(glob.glob(os.path.join(glob.escape(exp_dir), "checkpoint_p*")))
    has_checkpoints = any(checkpoint_paths(exp_dir, int(d.rsplit("_p", 1)[1]), kind) for d in policy_dirs
                          if d.rsplit("_p", 1)[1].isdigit())
    if not os.path.isfile(os.path.join(exp_dir, CONFIG)):
        if has_checkpoints:
            raise CheckpointError(f"{exp_dir}: has checkpoints but no {CONFIG}; cannot resume it. Choose another "
                                  f"--experiment or --train_dir")
        return {}
    read_config(exp_dir)
    resume: dict[int, str | None] = {}
    for d in policy_dirs:
        suffix = d.rsplit("_p", 1)[1]
        if not suffix.isdigit():
            continue
        policy = int(suffix)
        paths = checkpoint_paths(exp_dir, policy, kind)
        if not paths:
            warn(f"{d}: no checkpoint yet; training starts from step 0 with the saved configuration")
            resume[policy] = None
            continue
        bad = []
        for path in reversed(paths):
            try:
                load_checkpoint(path)
                resume[policy] = path
                break
            except CheckpointError as err:
                bad.append((path, err))
        else:
            reasons = "; ".join(str(e) for _, e in bad)
            raise CheckpointError(f"{d}: no readable checkpoint, refusing to start over the run: {reasons}. "
                                  f"Restore a checkpoint there, or train under another --experiment")
        for path, problem in bad:
            os.makedirs(os.path.join(d, CORRUPTED), exist_ok=True)
            aside = os.path.join(d, CORRUPTED, os.path.basename(path))
            os.replace(path, aside)
            warn(f"{problem}; moved to {aside}; resuming from the previous good checkpoint {resume[policy]}")
    return resume
