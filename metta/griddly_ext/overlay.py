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
- an action's ``Behaviours`` merge by (source object, destination object), the pair Griddly runs a behaviour for
  (a behaviour whose ``Src.Object`` or ``Dst.Object`` is a list stands for every pair of them):
  - a behaviour for the pairs of one of the base's merges into it, where it stands (key by key, as mappings do:
    ``Src`` and ``Dst`` merge, their ``Preconditions`` and ``Commands`` are replaced whole); it may list more
    destination objects than the base's did, which then covers them too;
  - ``replaces: OBJECT`` puts the behaviour, whole, where the base's behaviour of the same source object on
    ``OBJECT`` stood;
  - ``remove: true`` beside ``Src.Object`` and ``Dst.Object`` deletes the base's behaviour for those pairs;
  - ``after: OBJECT`` places the behaviour after the one of the same source object on ``OBJECT``: a new one (and
    the new ones right after it in the overlay follow it in turn), or one the base has, moved there and merged
    (Griddly keeps each pair's behaviours apart, so their order changes nothing but the text; a named item's
    order is its action id or observation channel, which is why a named item cannot be moved);
  - any other new behaviour is appended;
- every other list (``Commands``, ``Preconditions``, ``Levels``...) is replaced whole.

A base that does not exist, a chain that comes back to a file already in it, an item that names no base item to
merge into, replace or remove, or one that combines those keys, are clear errors naming the overlay file and
the item; so are a behaviour without ``Src.Object`` and ``Dst.Object``, and one whose pairs are some but not all
of a base behaviour's, or meet two of them (Griddly would run only the first behaviour listed for a pair). Each
file is read within the limits of ``metta.griddly_ext.gdy``.
"""
from __future__ import annotations

import copy
import os
from typing import Any, Callable

from metta.errors import ConfigError

EXTENDS = "extends"
BEHAVIOURS = "Behaviours"  # an action's list of behaviours: merged by (source object, destination object)
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
            if key not in out:
                out[key] = copy.deepcopy(value)
            elif key == BEHAVIOURS and isinstance(out[key], list) and isinstance(value, list):
                out[key] = _merge_behaviours(out[key], value, path, at)
            else:
                out[key] = merge(out[key], value, path, at)
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


Pairs = frozenset  # of (source object, destination object): what a behaviour is run for


def _objects(behaviour: dict, side: str) -> list[str] | None:
    """The object names of ``behaviour[side]["Object"]`` (one name or a list), or None when it has none."""
    part = behaviour.get(side)
    names = part.get("Object") if isinstance(part, dict) else None
    names = names if isinstance(names, list) else [names]
    return names if names and all(isinstance(n, str) and n for n in names) else None


def _pairs(behaviour: Any) -> Pairs:
    """The (source, destination) pairs a behaviour is run for; none for one that names no objects."""
    if not isinstance(behaviour, dict):
        return Pairs()
    srcs, dsts = _objects(behaviour, "Src"), _objects(behaviour, "Dst")
    return Pairs((s, d) for s in srcs or () for d in dsts or ())


def _label(behaviour: dict) -> str:
    """``agent -> generator``, ``agent -> [wall, marker]``: a behaviour as its pairs are written."""
    def side(key):
        names = behaviour[key]["Object"]
        return f"[{', '.join(names)}]" if isinstance(names, list) else names
    return f"{side('Src')} -> {side('Dst')}"


def _merge_behaviours(base: list, overlay: list, path: str, where: str) -> list:
    out = copy.deepcopy(base)

    def meeting(pairs: Pairs, skip: int | None = None) -> list[int]:
        return [i for i, b in enumerate(out) if i != skip and _pairs(b) & pairs]

    def holding(srcs: list[str], obj: Any, key: str, at: str) -> int:
        """The index of the behaviour of ``srcs`` on ``obj``, named by an overlay's ``key`` (replaces, after)."""
        if not isinstance(obj, str) or not obj:
            raise ConfigError(f"{path}: {at}: {key}: expected the name of a destination object (the behaviour of "
                              f"this one's source object on it), got {obj!r}")
        found = meeting(Pairs((s, obj) for s in srcs))
        if len(found) != 1 or not {(s, obj) for s in srcs} <= _pairs(out[found[0]]):
            raise ConfigError(f"{path}: {at}: {key}: the base has no behaviour of {' / '.join(srcs)} on {obj!r} "
                              f"in {where}")
        return found[0]

    cursor = None  # where the next new behaviour goes while a run of new ones follows an ``after``
    for n, item in enumerate(overlay):
        at = f"{where}[{n}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{path}: {at}: a behaviour must be a mapping with Src and Dst, like the base's; "
                              f"got {type(item).__name__}")
        item = dict(item)
        replaces, remove, after = (item.pop(k, None) for k in _ITEM_KEYS)
        for side in ("Src", "Dst"):
            if _objects(item, side) is None:
                got = item[side].get("Object") if isinstance(item.get(side), dict) else None
                raise ConfigError(f"{path}: {at}: {side}.Object: expected an object name or a list of them (a "
                                  f"behaviour merges by its source and destination objects), got {got!r}")
        srcs, pairs = _objects(item, "Src") or [], _pairs(item)   # both sides were checked above
        at = f"{where}[{_label(item)}]"
        if sum(x is not None for x in (replaces, remove, after)) > 1:
            raise ConfigError(f"{path}: {at}: give at most one of replaces, remove and after")
        if replaces is not None:
            i = holding(srcs, replaces, "replaces", at)
            clash = meeting(pairs, skip=i)
            if clash:
                raise ConfigError(f"{path}: {at}: replaces the behaviour on {replaces!r}, but the base already has "
                                  f"{_label(out[clash[0]])}")
            out[i] = copy.deepcopy(item)
            cursor = None
            continue
        found = meeting(pairs)
        if len(found) > 1:
            raise ConfigError(f"{path}: {at}: meets several of the base's behaviours ("
                              f"{', '.join(_label(out[i]) for i in found)}); Griddly runs one behaviour per pair")
        if found and not _pairs(out[found[0]]) <= pairs:
            raise ConfigError(f"{path}: {at}: covers only some of the pairs of the base's {_label(out[found[0]])}: "
                              f"list all of its objects to change it, or give it whole with replaces")
        if remove is not None:
            if remove is not True or set(item) != {"Src", "Dst"} or any(set(item[k]) != {"Object"}
                                                                         for k in ("Src", "Dst")):
                raise ConfigError(f"{path}: {at}: remove: true stands alone beside Src.Object and Dst.Object")
            if not found or _pairs(out[found[0]]) != pairs:
                raise ConfigError(f"{path}: {at}: remove: the base has no behaviour for exactly these objects "
                                  f"in {where}")
            del out[found[0]]
            cursor = None
            continue
        if found:
            merged = merge(out[found[0]], item, path, at)
            if after is None:
                out[found[0]] = merged
                cursor = None
                continue
            del out[found[0]]
            item = merged
        if after is not None:
            if after in (_objects(item, "Dst") or []):
                raise ConfigError(f"{path}: {at}: after: {after!r} is this behaviour's own destination; name the "
                                  f"destination object of the behaviour it should follow")
            i = holding(srcs, after, "after", at)
            out.insert(i + 1, copy.deepcopy(item))
            cursor = i + 2
        elif cursor is not None:
            out.insert(cursor, copy.deepcopy(item))
            cursor += 1
        else:
            out.append(copy.deepcopy(item))
    return out
