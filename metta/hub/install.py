"""Installing a model: fetched into a staging directory inside ``train_dir``, verified there, and only then
renamed into ``train_dir/EXPERIMENT``, so an experiment is never half-written."""
from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import tempfile

from tqdm import tqdm

from metta.errors import ConfigError
from metta.runtime.files import write_json
from metta.sf_integration.checkpoints import CHECKPOINT_FILE, CONFIG, read_config
from metta.hub.card import describe
from metta.hub.client import HubSource, LocalSource
from metta.hub.manifest import copy_verified, read_manifest, sha256_file
from metta.hub.naming import (GAME, LEVEL, MANIFEST, SOURCE, check_experiment_name, is_local, shipped,
                                             repo_id_for)


def staging_dir(dest: str) -> str:
    """A new hidden directory beside ``dest`` (same filesystem, so the final rename is atomic), made with the
    user's umask like the rest of train_dir."""
    while True:
        path = os.path.join(os.path.dirname(dest), f".{os.path.basename(dest)}.incoming-{secrets.token_hex(4)}")
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)
            return path


def move_into_place(stage: str, dest: str, force: bool) -> None:
    """Rename the verified staging directory into place; with ``force`` the old one goes only once it has."""
    if not os.path.lexists(dest):
        os.rename(stage, dest)
        return
    if not force:
        raise ConfigError(f"{dest} exists: pass --force to replace it")
    old = tempfile.mkdtemp(prefix=f".{os.path.basename(dest)}.replaced-", dir=os.path.dirname(dest))
    os.rename(dest, os.path.join(old, "experiment"))
    try:
        os.rename(stage, dest)
    except OSError:
        os.rename(os.path.join(old, "experiment"), dest)
        raise
    shutil.rmtree(old, ignore_errors=True)


def game_sha256(path: str) -> str:
    """The sha256 of the game file a model ships for ``path``: the file's own, or, for a game that extends a base,
    that of its self-contained text (metta.griddly_ext.gdy.standalone_text)."""
    from metta.griddly_ext.gdy import standalone_text

    text = standalone_text(path)
    return sha256_file(path) if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def trained_game(config: dict) -> str:
    """The game file a run trained on: its ``--game.path``, else its preset's."""
    from metta.env.presets import get_preset
    from metta.sf_integration.config import flag_value

    return flag_value(config, "game.path") or get_preset(config["env"]).game.path


def adapt_config(stage: str, train_dir: str, exp: str, config: dict, files: dict) -> list[str]:
    """Point the installed config.json at the installed experiment, its game and its level."""
    notes = []
    here = os.path.abspath(os.path.join(train_dir, exp))
    changes = {"train_dir": os.path.abspath(train_dir), "experiment": exp}
    from metta.env.presets import get_preset
    from metta.sf_integration.config import ENV_CONFIG, flag_names, flag_value

    if LEVEL in files:
        changes["level"] = os.path.join(here, LEVEL)
    preset_game = get_preset(config["env"]).game.path
    try:
        local_game = game_sha256(preset_game)
    except (ConfigError, OSError):
        local_game = None
    own_game = flag_value(config, "game.path")
    if own_game or local_game != files[GAME]["sha256"]:
        changes["game.path"] = os.path.join(here, GAME)
        if not own_game:
            notes.append(f"  note       the model trained on rules that differ from this checkout's "
                         f"{config['env']} game: config.json now points at the shipped {GAME}")
    cli_args = config.get("cli_args")
    cli = cli_args if isinstance(cli_args, dict) else {}
    env_config = config.get(ENV_CONFIG)
    if isinstance(env_config, dict) and isinstance(env_config.get("game"), dict):
        # the dumped env config names the publisher's game file: the shipped one, or this checkout's own
        env_config["game"]["path"] = changes.get("game.path") or preset_game
    for key, value in changes.items():
        config[key] = value
        for name in flag_names(key):  # an older config.json's name of the flag, too
            if name != key and config.get(name) is not None:
                config[name] = value
            if name in cli:
                cli[name] = value
    write_json(os.path.join(stage, CONFIG), config)
    return notes


def load(name: str, train_dir: str = "train_dir", experiment: str | None = None, revision: str | None = None,
         force: bool = False, out=print) -> str:
    """Fetch, verify and install a model into ``train_dir/EXPERIMENT``; return that directory."""
    source: LocalSource | HubSource
    local = name if is_local(name) else shipped(name)
    if local is not None:
        if revision:
            raise ConfigError(f"--revision {revision}: a local directory ({local}) has no revisions")
        source = LocalSource(local)
        default_name = os.path.basename(source.root)
    else:
        source = HubSource(repo_id_for(name), revision)
        default_name = source.repo_id.split("/")[1]
    origin = getattr(source, "repo_id", str(source))
    exp = check_experiment_name(experiment or default_name)
    dest = os.path.join(train_dir, exp)
    if os.path.lexists(dest) and not force:
        raise ConfigError(f"{dest} exists: pass --force to replace it, or --experiment to install under "
                          f"another name")
    os.makedirs(train_dir, exist_ok=True)
    stage = staging_dir(dest)
    try:
        manifest = read_manifest(source.fetch(MANIFEST), str(source))
        for rel, meta in tqdm(sorted(manifest["files"].items()), desc=f"verifying {source}", unit="file",
                              leave=False):
            path = source.fetch(rel)
            try:
                copy_verified(path, os.path.join(stage, rel), meta, f"{source}: {rel}")
            except ConfigError:
                source.forget(path)
                raise
        checkpoints = {rel: os.path.join(stage, rel) for rel in manifest["files"] if CHECKPOINT_FILE.fullmatch(rel)}
        info = describe(stage, read_config(stage), checkpoints, os.path.join(stage, GAME))
        notes = adapt_config(stage, train_dir, exp, info.config, manifest["files"])
        write_json(os.path.join(stage, MANIFEST), manifest)
        write_json(os.path.join(stage, SOURCE), {"source": origin, "revision": revision, "commit": source.commit})
        move_into_place(stage, dest, force)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    commit = f" (commit {source.commit})" if source.commit else ""
    out(f"installed {origin}{commit} into {dest}")
    for line in info.lines() + notes:
        out(line)
    flags = f"--env={info.env} --experiment={exp} --train_dir={train_dir}"
    out(f"  evaluate   python -m metta.evals.evaluate {flags}")
    out(f"  resume     python -m metta.sf_integration.train {flags}")
    return dest
