"""What things are called: the files of a saved model, Hub repository ids, experiment names, and which file
names a downloaded manifest may use."""
from __future__ import annotations

import os
import re

from metta.errors import ConfigError

DEFAULT_ORG = "metta-ai"
ORG_ENV = "METTA_HUB_ORG"
# The files of a saved model beside Sample Factory's (checkpoints.CONFIG and checkpoints.CHECKPOINT_FILE).
MANIFEST = "manifest.json"
SOURCE = "source.json"  # where an installed model came from: NAME, revision, commit
CARD = "README.md"
GAME = "game.yaml"
LEVEL = "level.txt"
STATS = "eval/stats.json"
EXPERIMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# models that ship inside the repository, one directory each (``./devops/load_model.sh baseline``)
SHIPPED_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "models")


def default_org() -> str:
    return os.environ.get(ORG_ENV) or DEFAULT_ORG


def is_local(name: str) -> bool:
    return name.startswith(("/", ".", "~")) or os.path.isdir(name)


def shipped(name: str) -> str | None:
    """The directory of the model called ``name`` that ships in the repository's ``models/`` (a bare name whose
    directory holds a manifest), else None: such a name is installed from there, offline, before the Hub."""
    if not EXPERIMENT_NAME.fullmatch(name or ""):
        return None
    path = os.path.join(SHIPPED_DIR, name)
    return path if os.path.isfile(os.path.join(path, MANIFEST)) else None


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
