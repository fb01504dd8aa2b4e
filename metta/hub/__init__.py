"""Share trained models through the Hugging Face Hub, safely.

    python -m metta.hub save EXPERIMENT REPO      (devops/save_model.sh)
    python -m metta.hub load NAME [--revision REV] [--experiment EXP]   (devops/load_model.sh)

A saved model is a Hub model repository (or a local directory) holding

    config.json                              Sample Factory's experiment config
    checkpoint_p<N>/checkpoint_<it>_<steps>.pth   the latest checkpoint of each policy
    game.yaml                                the GDY rules the run trained on (level.txt: its fixed level, if any)
    eval/<env>.mp4, .gif, eval/stats.json    the latest evaluation, when there is one
    README.md                                a model card: env, game digest, training figures, social metrics
    manifest.json                            the sha256 and size of every file above but the model card

REPO and NAME are ``org/name`` on the Hub; a bare ``name`` means ``$METTA_HUB_ORG/name``, ``metta-ai/name``
when that is unset (``DEFAULT_ORG``); a path (starting with ``/``, ``.`` or ``~``, or an existing directory) means a
local directory in the same layout. The Hub is reached through ``huggingface_hub``'s own upload and download code,
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

The modules, by concern: ``naming`` (repository ids, experiment names, a model's file names), ``manifest``
(hashing, the manifest, the verified copy), ``card`` (what a model is, its model card), ``client`` (the Hub and
local directories as sources, the Hub's errors, upload), ``install`` (staging and ``load``), ``publish``
(``save``), ``cli``. Checkpoint files themselves are ``metta.sf_integration.checkpoints``'s. The package imports
without Sample Factory: it reads checkpoints, configs and architectures through the adapter's modules that do not
import it (tests/test_import_graph.py).
"""
from __future__ import annotations

from metta.hub.card import ModelInfo, describe, model_card
from metta.hub.cli import main
from metta.hub.client import HubSource, LocalSource, hub_errors, upload
from metta.hub.install import load
from metta.hub.manifest import MANIFEST_FORMAT, copy_verified, read_manifest, sha256_file
from metta.hub.naming import (CARD, DEFAULT_ORG, GAME, LEVEL, MANIFEST, ORG_ENV, SOURCE, STATS,
                                             check_experiment_name, check_file_name, default_org, is_local,
                                             repo_id_for)
from metta.hub.publish import save

__all__ = ["CARD", "DEFAULT_ORG", "GAME", "LEVEL", "MANIFEST", "MANIFEST_FORMAT", "ORG_ENV", "SOURCE", "STATS",
           "HubSource", "LocalSource", "ModelInfo", "check_experiment_name", "check_file_name", "copy_verified",
           "default_org", "describe", "hub_errors", "is_local", "load", "main", "model_card", "read_manifest",
           "repo_id_for", "save", "sha256_file", "upload"]
