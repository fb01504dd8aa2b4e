"""Share trained models through the Hugging Face Hub, safely.

    python -m metta.sf_integration.hub save EXPERIMENT REPO      (devops/save_model.sh)
    python -m metta.sf_integration.hub load NAME [--revision REV] [--experiment EXP]   (devops/load_model.sh)

A saved model is a Hub model repository (or a local directory) holding

    config.json                              Sample Factory's experiment config
    checkpoint_p<N>/checkpoint_<it>_<steps>.pth   the latest checkpoint of each policy
    game.yaml                                the GDY rules the run trained on (level.txt: its fixed level, if any)
    eval/<env>.mp4, .gif, eval/stats.json    the latest evaluation, when there is one
    README.md                                a model card: env, game digest, training figures, social metrics
    manifest.json                            the sha256 and size of every file above but the model card

REPO and NAME are ``org/name`` on the Hub; a bare ``name`` means ``$METTA_HUB_ORG/name``, ``metta-ai/name``
when that is unset (``DEFAULT_ORG``); a path (starting with ``/``, ``.`` or ``~``, or an existing directory) means a local
directory in the same layout. The Hub is reached through ``huggingface_hub``'s own upload and download code,
so ``HF_ENDPOINT``, ``HF_HOME`` (the download cache), ``HF_HUB_OFFLINE`` (use the cache only) and ``HF_TOKEN``
(or ``huggingface-cli login``) apply as everywhere else.

Why it is built this way: a downloaded model is somebody else's file. Every name is checked before anything is
written (a relative path inside the experiment, no ``..``), every byte against the manifest, and every
checkpoint is read with ``torch.load(weights_only=True)``, which refuses pickles that would run code. All of it
happens in a staging directory inside ``train_dir``; only a model that passed is renamed into
``train_dir/EXPERIMENT``, so an experiment is never half-written, and an existing one is replaced only with
``--force``. Files a repository holds beyond its manifest (the model card, ``.gitattributes``) are not
installed. The installed ``config.json`` points at the installed experiment (its ``train_dir``, ``experiment``,
game and level), so ``evaluate`` and a resumed ``train`` use it at once; ``manifest.json`` and ``source.json``
(repository, revision, commit) record what was installed.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import pickle
import re
import secrets
import shutil
import sys
import tempfile
from dataclasses import dataclass, field

from tqdm import tqdm

from metta.errors import ConfigError
from metta.sf_integration.checkpoints import read_config, scalars

DEFAULT_ORG = "metta-ai"
ORG_ENV = "METTA_HUB_ORG"
MANIFEST = "manifest.json"
SOURCE = "source.json"  # where an installed model came from: NAME, revision, commit
CARD = "README.md"
CONFIG = "config.json"
GAME = "game.yaml"
LEVEL = "level.txt"
STATS = "eval/stats.json"
MANIFEST_FORMAT = "metta-model/1"
CHECKPOINT = re.compile(r"checkpoint_p\d+/checkpoint_\d+_\d+\.pth")
TB_PREFIXES = ("reward/", "len/", "social/", "perf/_fps")  # TensorBoard scalars a model card reports
EXPERIMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# Figures of the run worth a line on the model card, when config.json has them.
CARD_CONFIG_KEYS = ("algo", "learning_rate", "gamma", "rollout", "recurrence", "batch_size", "num_workers",
                    "num_envs_per_worker", "rnn_size", "train_for_env_steps")


# -- names ----------------------------------------------------------------------------------------------------

def default_org() -> str:
    return os.environ.get(ORG_ENV) or DEFAULT_ORG


def is_local(name: str) -> bool:
    return name.startswith(("/", ".", "~")) or os.path.isdir(name)


def repo_id_for(name: str) -> str:
    """``org/name`` as given; a bare name goes to the default organisation."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    repo_id = name if "/" in name else f"{default_org()}/{name}"
    try:
        validate_repo_id(repo_id)
    except HFValidationError as err:
        raise ConfigError(f"{name!r} is not a Hub model repository id (expected ORG/NAME or NAME): {err}") from None
    return repo_id


def check_experiment_name(name: str) -> str:
    if not EXPERIMENT_NAME.fullmatch(name or ""):
        raise ConfigError(f"experiment name {name!r}: expected letters, digits, '.', '_' or '-' (one directory "
                          f"name under train_dir)")
    return name


def check_file_name(name, where: str) -> str:
    """A remote file name is data: it must be a plain relative path that stays inside the experiment."""
    parts = name.split("/") if isinstance(name, str) else []
    if (not parts or name.startswith("/") or "\\" in name or "\0" in name or ":" in parts[0]
            or any(p in ("", ".", "..") for p in parts) or name in (MANIFEST, SOURCE)):
        raise ConfigError(f"{where}: refused file name {name!r}: expected a relative path inside the experiment "
                          f"(no '..', no absolute path, no backslash)")
    return name


# -- files ----------------------------------------------------------------------------------------------------

def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def copy_verified(src: str, dst: str, expected: dict, where: str) -> None:
    """Copy ``src`` to ``dst`` hashing on the way; raise if it is not the file the manifest describes."""
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    h, size = hashlib.sha256(), 0
    with open(src, "rb") as fin, open(dst, "xb") as fout:
        for block in iter(lambda: fin.read(1 << 20), b""):
            h.update(block)
            size += len(block)
            fout.write(block)
    if h.hexdigest() != expected["sha256"] or size != expected["size"]:
        raise ConfigError(f"{where}: digest mismatch: the manifest says sha256 {expected['sha256']} "
                          f"({expected['size']} bytes), the file is sha256 {h.hexdigest()} ({size} bytes); refused, "
                          f"nothing installed")


def read_json(path: str, what: str):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(f"{path}: unreadable {what} ({err})") from None


def write_json(path: str, obj) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def read_checkpoint(path: str) -> dict:
    """A Sample Factory checkpoint read without running code: ``torch.load(weights_only=True)``. (Numpy scalars,
    which Sample Factory stores, are allowed by this package's ``__init__``.)"""
    import torch

    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        named = re.search(r"GLOBAL ([\w.]+)", str(err))
        why = f"it calls {named[1]}" if named else "torch's weights-only loader refused it"
        raise ConfigError(f"{path}: refused: the checkpoint carries pickled objects that would run code when "
                          f"loaded ({why}); only tensors and plain data are accepted") from None
    except Exception as err:  # a truncated zip, garbage: not a checkpoint
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ConfigError(f"{path}: not a readable torch checkpoint ({reason})") from None
    model = ckpt.get("model") if isinstance(ckpt, dict) else None
    if (not isinstance(model, dict) or not all(isinstance(v, torch.Tensor) for v in model.values())
            or not isinstance(ckpt.get("env_steps"), int)):
        raise ConfigError(f"{path}: not a Sample Factory checkpoint (expected a dict with 'model', a state dict of "
                          f"tensors, and 'env_steps')")
    return ckpt


def latest_checkpoints(exp_dir: str) -> dict[str, str]:
    """The newest ``checkpoint_<it>_<steps>.pth`` of each policy, in Sample Factory's own order."""
    out = {}
    for policy in sorted(d for d in os.listdir(exp_dir) if re.fullmatch(r"checkpoint_p\d+", d)):
        names = sorted(n for n in os.listdir(os.path.join(exp_dir, policy))
                       if CHECKPOINT.fullmatch(f"{policy}/{n}"))
        if names:
            out[f"{policy}/{names[-1]}"] = os.path.join(exp_dir, policy, names[-1])
    return out


def evaluation_metrics(path: str) -> dict[str, float]:
    """The social metrics of an evaluation's stats.json (metta.sf_integration.evaluate): means per agent and
    episode."""
    stats = read_json(path, "evaluation stats")
    means = stats.get("mean_per_agent") if isinstance(stats, dict) else None
    return {k: v for k, v in means.items() if isinstance(v, (int, float))} if isinstance(means, dict) else {}


# -- what a model is ------------------------------------------------------------------------------------------

@dataclass
class ModelInfo:
    env: str
    game_sha256: str
    checkpoints: dict  # relative path -> (env_steps, train_step)
    metrics: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    video: str | None = None
    root: str = ""  # the experiment directory the files were read from

    @property
    def gif(self) -> str | None:
        """The evaluation's GIF beside its video (evaluate writes both), which a model card shows."""
        gif = self.video and f"{self.video[:-4]}.gif"
        return gif if gif and os.path.isfile(os.path.join(self.root, gif)) else None

    @property
    def env_steps(self) -> int:
        return max(steps for steps, _ in self.checkpoints.values())

    def lines(self) -> list[str]:
        out = [f"  env        {self.env}", f"  game       {GAME} sha256 {self.game_sha256}"]
        for rel, (steps, updates) in self.checkpoints.items():
            out.append(f"  trained    {steps:,} env steps, {updates:,} policy updates ({rel})")
        if self.metrics:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in self.metrics.items())
            out.append(f"  metrics    per agent and episode: {shown}")
        else:
            out.append("  metrics    none (no evaluation shipped)")
        return out


def describe(exp_dir: str, config: dict, checkpoints: dict[str, str], game_path: str) -> ModelInfo:
    """Read what a model is from its files; every checkpoint goes through the weights-only loader."""
    steps = {}
    for rel, path in checkpoints.items():
        ckpt = read_checkpoint(path)
        steps[rel] = (ckpt["env_steps"], int(ckpt.get("train_step", 0)))
    stats = os.path.join(exp_dir, STATS)
    metrics = evaluation_metrics(stats) if os.path.isfile(stats) else {}
    eval_dir = os.path.join(exp_dir, "eval")
    videos = sorted((os.path.getmtime(os.path.join(eval_dir, n)), n) for n in
                    (os.listdir(eval_dir) if os.path.isdir(eval_dir) else []) if n.endswith(".mp4"))
    video = f"eval/{videos[-1][1]}" if videos else None
    return ModelInfo(config["env"], sha256_file(game_path), steps, metrics, config, video, exp_dir)


def training_figures(exp_dir: str) -> dict[str, tuple[int, float]]:
    """The last value (and env step) of the run's episode scalars in TensorBoard: reward, length, social metrics,
    throughput."""
    return {tag: points[-1] for tag, points in scalars(exp_dir, TB_PREFIXES, last_only=True).items()}


def trained_game(config: dict) -> str:
    """The game file a run trained on: its ``--game``, else its preset's."""
    from metta.presets import get_preset

    return config.get("game") or get_preset(config["env"]).game


# -- the Hub --------------------------------------------------------------------------------------------------

def _reason(err: Exception) -> str:
    found = re.findall(r"\[Errno -?\d+\] ([^'\")\]]+)", str(err))
    return found[-1].strip() if found else type(err).__name__


@contextlib.contextmanager
def hub_errors(repo_id: str, revision: str | None = None, file: str | None = None):
    """huggingface_hub's exceptions as one clear line naming the endpoint, the repository and what to do."""
    import requests
    from huggingface_hub import constants
    from huggingface_hub.errors import (EntryNotFoundError, HfHubHTTPError, LocalEntryNotFoundError,
                                        OfflineModeIsEnabled, RepositoryNotFoundError, RevisionNotFoundError)

    where, rev = f"{repo_id} on {constants.ENDPOINT}", revision or "main"
    unreachable = (f"cannot reach the Hub at {constants.ENDPOINT} ({{}}); check the address (HF_ENDPOINT) and "
                   f"the network, or set HF_HUB_OFFLINE=1 to use a model already in the cache")
    try:
        yield
    except RevisionNotFoundError:
        raise ConfigError(f"{where}: no revision {rev!r} (expected a branch, a tag or a commit id)") from None
    except RepositoryNotFoundError:
        raise ConfigError(f"{where}: no such model repository (if it is private, set HF_TOKEN or run "
                          f"`huggingface-cli login`)") from None
    except LocalEntryNotFoundError as err:
        if constants.HF_HUB_OFFLINE:
            raise ConfigError(f"HF_HUB_OFFLINE is set and {file or 'the model'} of {repo_id} at revision {rev!r} "
                              f"is not in the cache ({constants.HF_HUB_CACHE})") from None
        raise ConfigError(unreachable.format(_reason(err.__cause__ or err))) from None
    except EntryNotFoundError:
        what = ("no manifest.json: not a model saved by save_model.sh" if file == MANIFEST
                else f"no file {file!r}, which its manifest lists")
        raise ConfigError(f"{where} at revision {rev!r}: {what}") from None
    except OfflineModeIsEnabled:
        raise ConfigError(f"HF_HUB_OFFLINE is set: cannot reach {constants.ENDPOINT} for {repo_id}") from None
    except (requests.ConnectionError, requests.Timeout) as err:
        raise ConfigError(unreachable.format(_reason(err))) from None
    except HfHubHTTPError as err:
        status = err.response.status_code if err.response is not None else "?"
        hint = " (check that HF_TOKEN may write there)" if status in (401, 403) else ""
        raise ConfigError(f"{where}: the Hub answered HTTP {status}: {err.server_message or err}{hint}") from None
    except (requests.RequestException, RuntimeError) as err:  # a transfer cut short; an upload that failed
        cause = f": {_reason(err.__cause__)}" if err.__cause__ else ""
        raise ConfigError(f"{where}: transfer failed ({err}{cause})") from None


class HubSource:
    """Files of one commit of a Hub repository, through huggingface_hub's cache (HF_HOME)."""

    def __init__(self, repo_id: str, revision: str | None):
        self.repo_id, self.revision, self.commit = repo_id, revision, None

    def __str__(self) -> str:
        return f"{self.repo_id}@{self.commit or self.revision or 'main'}"

    def fetch(self, name: str) -> str:
        from huggingface_hub import HfApi, constants, hf_hub_download

        with hub_errors(self.repo_id, self.revision, name):
            if self.commit is None:
                if not constants.HF_HUB_OFFLINE:  # fail fast, and clearly, when the Hub is not there
                    HfApi().repo_info(self.repo_id, revision=self.revision)
                # by the name asked for, so the cache learns it (HF_HUB_OFFLINE later); then by commit id
                path = hf_hub_download(self.repo_id, name, revision=self.revision)
                self.commit = os.path.basename(os.path.dirname(path))
                return path
            return hf_hub_download(self.repo_id, name, revision=self.commit)

    def forget(self, path: str) -> None:
        """Drop a file that failed verification from the cache, so a retry fetches it again."""
        from huggingface_hub import constants

        cache = os.path.realpath(constants.HF_HUB_CACHE) + os.sep
        blob = os.path.realpath(path)  # the snapshot file is a link to a blob named by its digest
        if os.path.realpath(os.path.dirname(path)).startswith(cache):
            os.remove(path)
            if blob.startswith(cache) and os.path.exists(blob):
                os.remove(blob)


class LocalSource:
    """Files of a model saved to a local directory."""

    def __init__(self, root: str):
        self.root = os.path.realpath(os.path.expanduser(root))
        self.commit = None
        if not os.path.isdir(self.root):
            raise ConfigError(f"{root}: no such directory")

    def __str__(self) -> str:
        return self.root

    def fetch(self, name: str) -> str:
        path = os.path.join(self.root, name)
        if not os.path.realpath(path).startswith(self.root + os.sep):
            raise ConfigError(f"{path}: refused: leads outside {self.root}")
        if not os.path.isfile(path):
            what = "not a model saved by save_model.sh" if name == MANIFEST else "which its manifest lists"
            raise ConfigError(f"{path}: missing, {what}")
        return path

    def forget(self, path: str) -> None:
        pass  # the user's own files: never touched


# -- load -----------------------------------------------------------------------------------------------------

def read_manifest(path: str, where: str) -> dict:
    manifest = read_json(path, "manifest")
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ConfigError(f"{where}: {MANIFEST} is not a Metta model manifest (expected format "
                          f"{MANIFEST_FORMAT!r} and 'files')")
    for name, meta in files.items():
        check_file_name(name, where)
        if not (isinstance(meta, dict) and isinstance(meta.get("size"), int)
                and re.fullmatch(r"[0-9a-f]{64}", str(meta.get("sha256")))):
            raise ConfigError(f"{where}: {MANIFEST} entry {name!r}: expected {{'sha256': 64 hex digits, 'size': "
                              f"bytes}}")
    if CONFIG not in files or GAME not in files or not any(CHECKPOINT.fullmatch(n) for n in files):
        raise ConfigError(f"{where}: {MANIFEST} must list {CONFIG}, {GAME} and a checkpoint_p<N>/checkpoint_*.pth")
    return manifest


def load(name: str, train_dir: str = "train_dir", experiment: str | None = None, revision: str | None = None,
         force: bool = False, out=print) -> str:
    """Fetch, verify and install a model into ``train_dir/EXPERIMENT``; return that directory."""
    if is_local(name):
        if revision:
            raise ConfigError(f"--revision {revision}: a local directory ({name}) has no revisions")
        source = LocalSource(name)
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
        checkpoints = {rel: os.path.join(stage, rel) for rel in manifest["files"] if CHECKPOINT.fullmatch(rel)}
        info = describe(stage, read_config(stage), checkpoints, os.path.join(stage, GAME))
        notes = adapt_config(stage, train_dir, exp, info.config, manifest["files"])
        write_json(os.path.join(stage, MANIFEST), manifest)
        write_json(os.path.join(stage, SOURCE), {"source": origin, "revision": revision, "commit": source.commit})
        install(stage, dest, force)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    commit = f" (commit {source.commit})" if source.commit else ""
    out(f"installed {origin}{commit} into {dest}")
    for line in info.lines() + notes:
        out(line)
    flags = f"--env={info.env} --experiment={exp} --train_dir={train_dir}"
    out(f"  evaluate   python -m metta.sf_integration.evaluate {flags}")
    out(f"  resume     python -m metta.sf_integration.train {flags}")
    return dest


def adapt_config(stage: str, train_dir: str, exp: str, config: dict, files: dict) -> list[str]:
    """Point the installed config.json at the installed experiment, its game and its level."""
    notes = []
    here = os.path.abspath(os.path.join(train_dir, exp))
    changes = {"train_dir": os.path.abspath(train_dir), "experiment": exp}
    if LEVEL in files:
        changes["level"] = os.path.join(here, LEVEL)
    try:
        local_game = sha256_file(trained_game({**config, "game": None}))
    except (ConfigError, OSError):
        local_game = None
    if config.get("game") or local_game != files[GAME]["sha256"]:
        changes["game"] = os.path.join(here, GAME)
        if not config.get("game"):
            notes.append(f"  note       the model trained on rules that differ from this checkout's "
                         f"{config['env']} game: config.json now points at the shipped {GAME}")
    cli = config.get("cli_args") if isinstance(config.get("cli_args"), dict) else {}
    for key, value in changes.items():
        config[key] = value
        if key in cli:
            cli[key] = value
    write_json(os.path.join(stage, CONFIG), config)
    return notes


def staging_dir(dest: str) -> str:
    """A new hidden directory beside ``dest`` (same filesystem, so the final rename is atomic), made with the
    user's umask like the rest of train_dir."""
    while True:
        path = os.path.join(os.path.dirname(dest), f".{os.path.basename(dest)}.incoming-{secrets.token_hex(4)}")
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)
            return path


def install(stage: str, dest: str, force: bool) -> None:
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


# -- save -----------------------------------------------------------------------------------------------------

def model_card(repo: str, exp: str, info: ModelInfo) -> str:
    cfg = info.config
    figures = [("env", f"`{info.env}`"), ("game", f"`{GAME}`, sha256 `{info.game_sha256}`")]
    figures += [(f"checkpoint `{rel}`", f"{steps:,} env steps, {updates:,} policy updates")
                for rel, (steps, updates) in info.checkpoints.items()]
    figures += [(k, f"`{cfg[k]}`") for k in CARD_CONFIG_KEYS if cfg.get(k) is not None]
    for key in ("override", "level", "bodies"):
        if cfg.get(key):
            figures.append((key, f"`{cfg[key]}`"))
    lines = ["---", "library_name: sample-factory", "tags:", "- reinforcement-learning", "- multi-agent",
             "- sample-factory", "- metta", f"- {info.env}", "---", "",
             f"# {repo.rstrip('/').split('/')[-1]}: a Metta policy for `{info.env}`", "",
             f"Sample Factory {cfg.get('algo', 'APPO')} policy from the experiment `{exp}`, trained on the Metta "
             f"gridworld (Griddly rules in `{GAME}`).", "", "## Training", "", "| | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in figures]
    logged = training_figures(info.root)
    if logged:
        lines += ["", "Last values logged to TensorBoard during training:", "", "| scalar | env step | value |",
                  "| --- | --- | --- |"]
        lines += [f"| {tag} | {step:,} | {value:.4g} |" for tag, (step, value) in logged.items()]
    lines += ["", "## Social metrics", ""]
    if info.metrics:
        lines += [f"Means per agent and episode in the latest evaluation (`{STATS}`).", "", "| metric | value |",
                  "| --- | --- |"]
        lines += [f"| {k} | {v:.4g} |" for k, v in info.metrics.items()]
    else:
        lines += ["No evaluation was shipped with this model."]
    if info.gif:
        lines += ["", f"![the latest evaluation]({info.gif})"]
    if info.video:
        lines += ["", f"Evaluation video: `{info.video}`."]
    lines += ["", "## Use it", "", "```bash", f"./devops/load_model.sh {repo} --experiment {exp}",
              f"python -m metta.sf_integration.evaluate --env={info.env} --experiment={exp}",
              f"python -m metta.sf_integration.train --env={info.env} --experiment={exp}   # resumes", "```", "",
              f"Every file but this card is listed with its sha256 in `{MANIFEST}`; `load_model.sh` verifies them "
              f"and reads checkpoints with `torch.load(weights_only=True)`.", ""]
    return "\n".join(lines)


def stage_model(exp_dir: str, exp: str, repo: str, stage: str) -> ModelInfo:
    """Copy what a model is made of into ``stage``, with its manifest and model card."""
    config_path, config = os.path.join(exp_dir, CONFIG), read_config(exp_dir)
    checkpoints = latest_checkpoints(exp_dir)
    if not checkpoints:
        raise ConfigError(f"{exp_dir}: no checkpoint_p<N>/checkpoint_<iter>_<steps>.pth to share yet")
    game = trained_game(config)
    if not os.path.isfile(game):
        raise ConfigError(f"{config_path}: its game file {game} is missing: the model cannot ship its rules")
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
    entries = {}
    for rel, src in files.items():
        dst = os.path.join(stage, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        entries[rel] = {"sha256": sha256_file(dst), "size": os.path.getsize(dst)}
    write_json(os.path.join(stage, MANIFEST), {"format": MANIFEST_FORMAT, "files": entries})
    with open(os.path.join(stage, CARD), "w", encoding="utf-8") as f:
        f.write(model_card(repo, exp, info))
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
            install(stage, dest, force)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        out(f"saved {exp_dir} to {dest}")
        result = dest
    else:
        from huggingface_hub import HfApi, constants

        repo_id = repo_id_for(repo)
        with tempfile.TemporaryDirectory(prefix="metta-save-") as stage:
            info = stage_model(exp_dir, exp, repo_id, stage)
            with hub_errors(repo_id):
                api = HfApi()
                api.create_repo(repo_id, exist_ok=True)
                commit = api.upload_folder(repo_id=repo_id, folder_path=stage, delete_patterns="*",
                                           commit_message=f"{exp}: {info.env}, {info.env_steps:,} env steps")
        out(f"saved {exp_dir} to {repo_id} on {constants.ENDPOINT} (commit {commit.oid})")
        out(f"  load it    ./devops/load_model.sh {repo_id} --revision {commit.oid}")
        result = commit.oid
    for line in info.lines():
        out(line)
    return result


# -- command line ---------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    epilog = (f"A bare NAME means ${ORG_ENV}/NAME (default organisation: {DEFAULT_ORG}); a path (/, ., ~ or an "
              f"existing directory) means a local directory. HF_ENDPOINT, HF_HOME, HF_HUB_OFFLINE and HF_TOKEN apply.")
    ap = argparse.ArgumentParser(prog="python -m metta.sf_integration.hub", epilog=epilog,
                                 description="Share trained models through the Hugging Face Hub.")
    sub = ap.add_subparsers(dest="command", required=True)
    ld = sub.add_parser("load", help="fetch a model into train_dir/EXPERIMENT (devops/load_model.sh)", epilog=epilog,
                        description="Download a model (Hub repo ORG/NAME, bare NAME in the default organisation, or "
                                    "a local directory), verify every file against its manifest, read checkpoints "
                                    "without running code, and install it into train_dir/EXPERIMENT.")
    ld.add_argument("name", metavar="NAME", help="ORG/NAME, NAME, or a local directory")
    ld.add_argument("--revision", help="a branch, tag or commit id (default: main)")
    ld.add_argument("--experiment", help="the experiment name to install under (default: the repository's name)")
    ld.add_argument("--train_dir", default="train_dir", help="Sample Factory's train_dir (default: %(default)s)")
    ld.add_argument("--force", action="store_true", help="replace an existing experiment of that name")
    sv = sub.add_parser("save", help="upload an experiment's latest model (devops/save_model.sh)", epilog=epilog,
                        description="Upload an experiment's latest checkpoint, config.json, game file, latest "
                                    "evaluation video and stats, a manifest of sha256 digests and a model card to a "
                                    "Hub repository (created if needed), or write them to a local directory.")
    sv.add_argument("experiment", metavar="EXPERIMENT", help="an experiment under train_dir")
    sv.add_argument("repo", metavar="REPO", help="ORG/NAME, NAME, or a local directory")
    sv.add_argument("--train_dir", default="train_dir", help="Sample Factory's train_dir (default: %(default)s)")
    sv.add_argument("--force", action="store_true", help="replace an existing local directory")
    args = ap.parse_args(argv)
    try:
        if args.command == "load":
            load(args.name, args.train_dir, args.experiment, args.revision, args.force)
        else:
            save(args.experiment, args.repo, args.train_dir, args.force)
    except (ConfigError, OSError) as err:  # OSError: a full disk, a permission; nothing was left half-written
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing was installed", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
