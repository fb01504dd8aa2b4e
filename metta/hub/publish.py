"""Saving a model: an experiment's latest checkpoints, config, game, evaluation, manifest and model card,
uploaded to a Hub repository or written to a local directory."""
from __future__ import annotations

import os
import shutil
import tempfile

from metta.errors import ConfigError
from metta.runtime.files import write_text
from metta.griddly_ext.gdy import standalone_text
from metta.sf_integration.checkpoints import CONFIG, latest_checkpoints, read_config
from metta.hub.card import ModelInfo, describe, model_card
from metta.hub.client import upload
from metta.hub.install import move_into_place, staging_dir, trained_game
from metta.hub.manifest import write_manifest
from metta.hub.naming import CARD, GAME, LEVEL, STATS, check_experiment_name, is_local, repo_id_for


def stage_model(exp_dir: str, exp: str, repo: str, stage: str) -> ModelInfo:
    """Copy what a model is made of into ``stage``, with its manifest and model card."""
    config_path, config = os.path.join(exp_dir, CONFIG), read_config(exp_dir)
    checkpoints = latest_checkpoints(exp_dir)
    if not checkpoints:
        raise ConfigError(f"{exp_dir}: no checkpoint_p<N>/checkpoint_<iter>_<steps>.pth to share yet")
    game = trained_game(config)
    if not os.path.isfile(game):
        raise ConfigError(f"{config_path}: its game file {game} is missing: the model cannot ship its rules")
    text = standalone_text(game)
    if text is not None:  # an overlay: ship it with its bases merged in, since they may not be where it goes
        game = os.path.join(stage, f".{GAME}.standalone")
        write_text(game, text)
    info = describe(exp_dir, config, checkpoints, game)
    files = {CONFIG: config_path, GAME: game, **checkpoints}
    if config.get("level"):
        if not os.path.isfile(config["level"]):
            raise ConfigError(f"{config_path}: its level file {config['level']} is missing")
        files[LEVEL] = config["level"]
    for rel in (info.video, info.gif):
        if rel:
            files[rel] = os.path.join(exp_dir, rel)
    if os.path.isfile(os.path.join(exp_dir, STATS)):
        files[STATS] = os.path.join(exp_dir, STATS)
    write_manifest(stage, files)
    if text is not None:
        os.remove(game)  # copied in as game.yaml
    write_text(os.path.join(stage, CARD), model_card(repo, exp, info))
    return info


def save(experiment: str, repo: str, train_dir: str = "train_dir", force: bool = False, out=print) -> str:
    """Upload (or write to a local directory) an experiment's latest model; return the commit id or directory."""
    exp = check_experiment_name(experiment)
    exp_dir = os.path.join(train_dir, exp)
    if not os.path.isdir(exp_dir):
        raise ConfigError(f"{exp_dir}: no such experiment (train one, or pass --train_dir)")
    if is_local(repo):
        dest = os.path.abspath(os.path.expanduser(repo))
        if os.path.lexists(dest) and not force:
            raise ConfigError(f"{dest} exists: pass --force to replace it")
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        stage = staging_dir(dest)
        try:
            info = stage_model(exp_dir, exp, dest, stage)
            move_into_place(stage, dest, force)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        out(f"saved {exp_dir} to {dest}")
        result = dest
    else:
        from huggingface_hub import constants

        repo_id = repo_id_for(repo)
        with tempfile.TemporaryDirectory(prefix="metta-save-") as stage:
            info = stage_model(exp_dir, exp, repo_id, stage)
            commit = upload(repo_id, stage, f"{exp}: {info.env}, {info.env_steps:,} env steps")
        out(f"saved {exp_dir} to {repo_id} on {constants.ENDPOINT} (commit {commit})")
        out(f"  load it    ./devops/load_model.sh {repo_id} --revision {commit}")
        result = commit
    for line in info.lines():
        out(line)
    return result
