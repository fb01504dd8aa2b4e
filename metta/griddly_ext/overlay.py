"""Games as overlays: a game file that says ``extends: metta.yaml`` holds only what it changes.

The overlay is merged into its base (the path is relative to the overlay's own file; the base may extend
another, up to ``MAX_CHAIN`` files):

- a mapping merges key by key, recursively; the overlay's value wins for any other kind of value;
- a list whose items all carry a ``Name`` (``Environment.Variables``, ``Actions``, ``Objects``, an object's
  ``Variables``) merges item by item:
  - an item named like one of the base's merges into it, where it stands;
  - ``replaces: OLD`` puts the item, whole, where the base's ``OLD`` stood (it may have another name);
  - ``remove: true`` deletes the base's item of that name;
  - ``after: NAME`` inserts a new item after that one, and the new items right after it in the overlay follow
    it in turn; any other new item is appended;
- every other list (``Behaviours``, ``Commands``, ``Levels``...) is replaced whole.

A base that does not exist, a chain that comes back to a file already in it, an item that names no base item to
merge into, replace or remove, or one that combines those keys, are clear errors naming the overlay file and
the item. Each file is read within the limits of ``metta.griddly_ext.gdy``.
"""
from __future__ import annotations

import copy
import os
from typing import Any, Callable

from metta.errors import ConfigError

EXTENDS = "extends"
MAX_CHAIN = 8  # files in one chain of extends, the game itself included
_ITEM_KEYS = ("replaces", "remove", "after")


def resolve(doc: dict, path: str, load: Callable[[str], dict], chain: tuple[str, ...] = ()) -> dict:
    """``doc`` (read from ``path``) with its ``extends`` chain merged in; ``load(path)`` reads one file's mapping."""
    if EXTENDS not in doc:
        return doc
    here = os.path.realpath(path)
    chain = (*chain, here)
    base_ref = doc[EXTENDS]
    if not isinstance(base_ref, str) or not base_ref.strip():
        raise ConfigError(f"{path}: {EXTENDS} must be the path of the base game file (relative to this one), "
                          f"got {base_ref!r}")
    base_path = os.path.join(os.path.dirname(path), base_ref)
    if os.path.realpath(base_path) in chain:
        loop = " -> ".join(os.path.basename(p) for p in (*chain, os.path.realpath(base_path)))
        raise ConfigError(f"{path}: {EXTENDS}: {base_ref} leads back to a file already in the chain ({loop})")
    if len(chain) >= MAX_CHAIN:
        raise ConfigError(f"{path}: {EXTENDS}: a chain of more than {MAX_CHAIN} game files")
    if not os.path.isfile(base_path):
        raise ConfigError(f"{path}: {EXTENDS}: base game {base_path} not found")
    base = resolve(load(base_path), base_path, load, chain)
    overlay = {k: v for k, v in doc.items() if k != EXTENDS}
    return merge(base, overlay, path, "")


def merge(base: Any, overlay: Any, path: str, where: str) -> Any:
    """``overlay`` merged into a copy of ``base`` by the rules of the module docstring."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = copy.deepcopy(base)
        for key, value in overlay.items():
            at = f"{where}.{key}" if where else str(key)
            out[key] = merge(out[key], value, path, at) if key in out else copy.deepcopy(value)
        return out
    if _named(base) and isinstance(overlay, list):
        return _merge_named(base, overlay, path, where)
    return copy.deepcopy(overlay)


def _named(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) and "Name" in i for i in value)


def _merge_named(base: list, overlay: list, path: str, where: str) -> list:
    out = copy.deepcopy(base)

    def index(name: str) -> int | None:
        return next((i for i, item in enumerate(out) if item.get("Name") == name), None)

    cursor = None  # where the next new item goes while a run of new items follows an ``after``
    for n, item in enumerate(overlay):
        at = f"{where}[{n}]"
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str):
            raise ConfigError(f"{path}: {at}: an item of {where} must be a mapping with a Name, like the base's")
        item = dict(item)
        name = item["Name"]
        at = f"{where}[{name}]"
        replaces, remove, after = (item.pop(k, None) for k in _ITEM_KEYS)
        if sum(x is not None for x in (replaces, remove, after)) > 1:
            raise ConfigError(f"{path}: {at}: give at most one of replaces, remove and after")
        if remove is not None:
            if remove is not True or len(item) != 1:
                raise ConfigError(f"{path}: {at}: remove: true stands alone beside the Name")
            i = index(name)
            if i is None:
                raise ConfigError(f"{path}: {at}: remove: the base has no {name!r} in {where}")
            del out[i]
        elif replaces is not None:
            i = index(str(replaces))
            if i is None:
                raise ConfigError(f"{path}: {at}: replaces: the base has no {replaces!r} in {where}")
            if name != replaces and index(name) is not None:
                raise ConfigError(f"{path}: {at}: replaces {replaces!r}, but the base already has a {name!r}")
            out[i] = copy.deepcopy(item)
        elif (i := index(name)) is not None:
            if after is not None:
                raise ConfigError(f"{path}: {at}: after: only places a new item; {name!r} is already in the base")
            out[i] = merge(out[i], item, path, at)
        elif after is not None:
            i = index(str(after))
            if i is None:
                raise ConfigError(f"{path}: {at}: after: the base has no {after!r} in {where}")
            out.insert(i + 1, copy.deepcopy(item))
            cursor = i + 2
            continue
        elif cursor is not None:
            out.insert(cursor, copy.deepcopy(item))
            cursor += 1
            continue
        else:
            out.append(copy.deepcopy(item))
        cursor = None
    return out
