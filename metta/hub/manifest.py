"""The manifest of a saved model: the sha256 and size of every file but the model card, written when a model
is saved and checked, byte for byte, when one is loaded."""
from __future__ import annotations

import hashlib
import os
import re
import shutil

from metta.errors import ConfigError
from metta.runtime.files import atomic_path, read_json, write_json
from metta.sf_integration.checkpoints import CHECKPOINT_FILE, CONFIG
from metta.hub.naming import GAME, MANIFEST, check_file_name

MANIFEST_FORMAT = "metta-model/1"


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(stage: str, files: dict[str, str]) -> None:
    """Copy ``files`` (relative path in the model -> source path) into ``stage`` and list them in its
    manifest."""
    entries = {}
    for rel, src in files.items():
        dst = os.path.join(stage, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
        entries[rel] = {"sha256": sha256_file(dst), "size": os.path.getsize(dst)}
    write_json(os.path.join(stage, MANIFEST), {"format": MANIFEST_FORMAT, "files": entries})


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
    if CONFIG not in files or GAME not in files or not any(CHECKPOINT_FILE.fullmatch(n) for n in files):
        raise ConfigError(f"{where}: {MANIFEST} must list {CONFIG}, {GAME} and a checkpoint_p<N>/checkpoint_*.pth")
    return manifest


def copy_verified(src: str, dst: str, expected: dict, where: str) -> None:
    """Copy ``src`` to ``dst`` hashing on the way; raise if it is not the file the manifest describes (and then
    ``dst`` is not written)."""
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    h, size = hashlib.sha256(), 0
    with atomic_path(dst) as tmp:
        with open(src, "rb") as fin, open(tmp, "xb") as fout:
            for block in iter(lambda: fin.read(1 << 20), b""):
                h.update(block)
                size += len(block)
                fout.write(block)
        if h.hexdigest() != expected["sha256"] or size != expected["size"]:
            raise ConfigError(f"{where}: digest mismatch: the manifest says sha256 {expected['sha256']} "
                              f"({expected['size']} bytes), the file is sha256 {h.hexdigest()} ({size} bytes); "
                              f"refused, nothing installed")
