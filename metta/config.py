"""The base of every typed config (metta.env.config, metta.griddly_ext.map_config, the kinship structures of
metta.society.kinship): unknown keys refused, no coercion, immutable, a bad value raised as ConfigError naming the
dotted key; ``override`` changes a config by dotted keys (``config.override("map.width", 30)``), the one way any
setting reaches a config."""
from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal, get_args, get_origin

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from metta.errors import ConfigError

_UNSET = object()


class ConfigModel(BaseModel):
    """A typed config: unknown keys are refused, values are not coerced (``"1"`` is no integer), it is immutable,
    and a bad value raises ConfigError naming the dotted key and what was expected (never pydantic's
    ValidationError).

    A setting is named by its dotted key: ``map.width``, ``kinship.team_reward``, ``game.overrides.attack_cost``
    (under a mapping field the rest of the key is one entry's name, dots and all). ``aliases`` are older spellings
    of dotted keys the config takes too (``width`` for ``map.width``); an alias ending in ``.*`` takes a mapping
    whose entries each go under that key (``overrides`` for ``game.overrides.*``)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, validate_default=False)
    aliases: ClassVar[Mapping[str, str]] = {}

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as err:
            # pydantic calls a custom __init__ for nested models too: the problems travel with the error, so
            # that the outer model names them by their full dotted key
            error = config_error(err, type(self))
            error.problems = err.errors()
            raise error from None

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any):
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as err:
            raise config_error(err, cls, kwargs.get("context", {}) or {}) from None

    def override(self, key: str | Mapping[str, Any], value: Any = _UNSET):
        """A validated copy with the dotted ``key`` (or an alias) set to ``value``, or with each ``{key: value}`` of
        a mapping. A key is applied before the keys under it (``map.objects`` before ``map.objects.tree``). A
        mapping given for a section (a config: ``kinship``, ``map``) changes the keys it names; any other value
        replaces the key's (a mapping field's whole mapping). A section told apart by a tag (``kinship.structure``)
        keeps, when the tag changes, only the keys every kind has. An unknown key, or a bad value, is a
        ConfigError naming the dotted key (an unknown one with the closest known key); this config is unchanged."""
        if isinstance(key, str):
            if value is _UNSET:
                raise TypeError("override(key, value) or override({key: value, ...})")
            changes: Mapping[str, Any] = {key: value}
        else:
            changes = key
        steps = sorted((step for k, v in changes.items() for step in _steps(type(self), k, v)), key=lambda s: len(s[0]))
        tree = _Entries()
        for parts, v in steps:
            node = tree
            for p in parts[:-1]:
                if p not in node:
                    node[p] = _Entries()
                elif isinstance(node[p], BaseModel):  # a replaced section, then changed
                    node[p] = node[p].model_dump()
                elif not isinstance(node[p], dict):  # a replaced mapping (None: empty), then changed
                    node[p] = {}
                node = node[p]
            node[parts[-1]] = dict(v) if isinstance(v, Mapping) else v
        return type(self).model_validate(_apply(self.model_dump(), [type(self)], tree, ""))

    @classmethod
    def dotted(cls, changes: Mapping[str, Any]) -> dict[str, Any]:
        """``changes`` by dotted key, as ``override`` reads them: aliases resolved, a mapping given for a section
        split into its keys (a mapping field's kept whole); ConfigError for an unknown key."""
        return {".".join(parts): v for key, value in changes.items() for parts, v in _steps(cls, key, value)}

    @classmethod
    def merge(cls, data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """This config's values ``data`` changed by ``changes`` (the keys ``override`` was given; a config may let
        one change another, metta.society.kinship.teams)."""
        return {**data, **changes}

    @classmethod
    def key_type(cls, key: str) -> Any:
        """The declared type of the dotted ``key`` (or an alias): a field's annotation, a mapping's value type for
        one of its entries; ConfigError for an unknown key or a section."""
        target = cls.aliases.get(key, key)
        parts, annotation, section = _resolve(cls, target[:-2] if target.endswith(".*") else target, key)
        if section is not None or target.endswith(".*") or _entry_type(annotation) is not None:
            raise ConfigError(f"{key} holds keys: give them one by one ({'.'.join(parts)}.NAME=VALUE)")
        return annotation

    @classmethod
    def from_text(cls, key: str, text: str) -> Any:
        """``text`` (a command line's) as a value of the dotted ``key``, by its declared type; ConfigError
        otherwise."""
        convert = text_type(cls.key_type(key))
        try:
            return convert(text)
        except ValueError:
            raise ConfigError(f"{key} must be {getattr(convert, '__name__', 'a value')}, got {text!r}") from None


class _Entries(dict):
    """Changes to a section's keys or a mapping's entries (``override``'s tree), as opposed to a value."""


def _steps(cls: type[ConfigModel], key: str, value: Any) -> list[tuple[list[str], Any]]:
    """``(path, value)`` of each change ``key: value`` makes: an alias resolved, a mapping for a section (or for a
    ``.*`` alias) split into its keys."""
    target = cls.aliases.get(key, key)
    each = target.endswith(".*")
    parts, _, section = _resolve(cls, target[:-2] if each else target, key)
    if each or (section is not None and isinstance(value, Mapping)):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a mapping of name to value, got {value!r}")
        if each:
            return [([*parts, str(k)], v) for k, v in value.items()]
        return [step for k, v in value.items() for step in _steps(cls, f"{'.'.join(parts)}.{k}", v)]
    return [(parts, value)]


def _resolve(cls: type[ConfigModel], key: str, given: str | None = None) -> tuple[list[str], Any, list | None]:
    """The path of the dotted ``key`` under ``cls``, its type, and the configs it may be when it is a section (else
    None); ConfigError for an unknown key, naming the closest known one."""
    parts = key.split(".")
    members: list[type[BaseModel]] = [cls]
    path: list[str] = []
    for i, name in enumerate(parts):
        fields = {f: info for m in members for f, info in m.model_fields.items()}
        if name not in fields:
            known = sorted(fields)
            close = difflib.get_close_matches(name, known + (sorted(cls.aliases) if i == 0 else []), n=1)
            alias = f" ({cls.aliases[close[0]].removesuffix('.*')})" if close and i == 0 and close[0] in cls.aliases \
                else ""
            hint = f"; did you mean {'.'.join([*path, close[0]])}{alias}?" if close else ""
            raise ConfigError(f"unknown key {'.'.join([*path, name])}{hint} (known: {', '.join(known)})")
        path.append(name)
        annotation = fields[name].annotation
        models = _models_in(annotation)
        if models:
            members = models
            continue
        if i + 1 < len(parts):
            if _entry_type(annotation) is None:
                raise ConfigError(f"unknown key {given or key}: {'.'.join(path)} is a value, with no keys under it")
            return [*path, ".".join(parts[i + 1:])], _entry_type(annotation), None
        return path, annotation, None
    return path, None, members


def _entry_type(annotation: Any) -> Any:
    """The value type of a mapping field's entries (None if it is no mapping)."""
    for a in (annotation, *get_args(annotation)):
        if get_origin(a) in (dict, Mapping):
            return get_args(a)[1] if get_args(a) else Any
    return None


def _discriminator(members: list[type[BaseModel]]) -> str | None:
    """The field that tells several configs apart (each has it as one literal), if any."""
    if len(members) < 2:
        return None
    return next((f for f in members[0].model_fields if all(
        f in m.model_fields and get_origin(m.model_fields[f].annotation) is Literal for m in members)), None)


def _apply(data: dict | None, members: list[type[BaseModel]], changes: _Entries, where: str) -> dict:
    """A config's dumped values ``data`` (one of ``members``) changed by the tree ``changes``."""
    data = dict(data or {})
    tag = _discriminator(members)
    cls = next((m for m in members if tag is None or tag_of(m) == data.get(tag)), members[0])
    if tag is not None and tag in changes and changes[tag] != data.get(tag):
        shared = set.intersection(*(set(m.model_fields) for m in members))
        data = {k: v for k, v in data.items() if k in shared}
        chosen = [m for m in members if tag_of(m) == changes[tag]]
        if not chosen:  # validation names the bad tag
            return {**data, **changes}
        cls = chosen[0]
    resolved: dict[str, Any] = {}
    for name, change in changes.items():
        if name not in cls.model_fields:
            owners = " or ".join(repr(tag_of(m)) for m in members if name in m.model_fields)
            raise ConfigError(f"{where}{name} is a parameter of {tag} {owners}, not of {tag} {tag_of(cls)!r} "
                              f"({where}{tag}=... changes the {tag})")
        if isinstance(change, _Entries):
            models = _models_in(cls.model_fields[name].annotation)
            resolved[name] = (_apply(data.get(name), models, change, f"{where}{name}.") if models
                              else {**(data.get(name) or {}), **change})
        else:
            resolved[name] = change.model_dump() if isinstance(change, BaseModel) else change
    return cls.merge(data, resolved) if issubclass(cls, ConfigModel) else {**data, **resolved}


def plain(value: Any) -> Any:
    """NumPy scalars (a sweep's or a curriculum's draws) as Python numbers, inside dicts and lists too."""
    if isinstance(value, np.generic) and not isinstance(value, np.bool_):
        return value.item()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def text_type(annotation: Any) -> Callable[[str], Any]:
    """How a command line's text becomes a value of ``annotation``: ``int``, ``float``, ``str`` (a literal's
    choices too), or a comma-separated list of numbers; its ``__name__`` says what it expects."""
    if get_origin(annotation) is Literal:
        return str
    if get_origin(annotation) is list:
        return number_list(get_args(annotation)[0])
    args = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    return args[0] if args[0] in (int, float, str) else str


def number_list(kind: type) -> Callable[[str], list]:
    def parse(text: str) -> list:
        try:
            return [kind(x) for x in text.split(",")]
        except ValueError:
            raise ValueError(f"expected comma-separated {kind.__name__}s, e.g. 0,1; got {text!r}") from None
    parse.__name__ = f"comma-separated {kind.__name__}s"
    return parse


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for a in get_args(annotation) for m in _models_in(a)]


def tag_of(model: type[BaseModel]) -> Any:
    """The value of a model's ``Literal`` discriminator field (``structure``), if it has one."""
    for f in model.model_fields.values():
        if get_origin(f.annotation) is Literal and len(get_args(f.annotation)) == 1:
            return get_args(f.annotation)[0]
    return None


def _walk(root: type[BaseModel], loc: tuple) -> tuple[str, type[BaseModel] | None, type[BaseModel] | None]:
    """A pydantic error location as a dotted key (a discriminated union's tag left out), the model that holds its
    last part, and that part's own model."""
    names: list[str] = []
    cur: type[BaseModel] | None = root
    holder: type[BaseModel] | None = root
    parts = list(loc)
    i = 0
    while i < len(parts):
        part = parts[i]
        holder = cur
        if cur is not None and part in cur.model_fields:
            models = _models_in(cur.model_fields[part].annotation)
            if len(models) > 1:  # a discriminated union: the next part is the tag
                tagged = [m for m in models if i + 1 < len(parts) and tag_of(m) == parts[i + 1]]
                cur = tagged[0] if tagged else None
                i += 1 if tagged else 0
            else:
                cur = models[0] if models else None
        else:
            cur = None
        names.append(str(part) if not isinstance(part, int) else f"[{part}]")
        i += 1
    return ".".join(names).replace(".[", "["), holder, cur


_EXPECTED = {"int_type": "an integer", "int_from_float": "an integer", "int_parsing": "an integer",
             "float_type": "a number", "string_type": "a string", "dict_type": "a mapping"}


def config_error(err: ValidationError, root: type[BaseModel], context: dict | None = None) -> ConfigError:
    """A ConfigError for a ValidationError of ``root``: each problem with its dotted key and what was expected."""
    prefix = (context or {}).get("where")
    messages = []
    problems: list[dict[str, Any]] = [dict(e) for e in err.errors()]
    while problems:
        e = problems.pop(0)
        key, holder, _ = _walk(root, e["loc"])
        cause = (e.get("ctx") or {}).get("error")
        nested = getattr(cause, "problems", None)
        if nested:  # a nested model's own: under this one's key
            problems[:0] = [{**p, "loc": (*e["loc"], *p["loc"])} for p in nested]
        elif isinstance(cause, ConfigError):  # the config's own check: its message already names the key
            messages.append(str(cause))
        elif e["type"] == "extra_forbidden":
            tag = tag_of(holder) if holder is not None else None
            known = sorted(holder.model_fields) if holder is not None else []
            messages.append(f"unknown key {key}" + (f" for structure {tag!r}" if tag is not None else "")
                            + (f"; known: {', '.join(known)}" if known else ""))
        elif e["type"] == "union_tag_invalid":
            expected = (e.get("ctx") or {}).get("expected_tags", "")
            messages.append(f"{key}.{(e.get('ctx') or {}).get('discriminator', '').strip(chr(39))} must be one of "
                            f"{expected.replace(chr(39), '')}, got {(e.get('ctx') or {}).get('tag')!r}")
        elif e["type"] == "missing":
            messages.append(f"{key}: required")
        elif e["type"] in _EXPECTED:
            messages.append(f"{key} must be {_EXPECTED[e['type']]}, got {e['input']!r}")
        else:
            msg = e["msg"].replace("Input should be", "expected").replace("Value error, ", "")
            messages.append(f"{key}: {msg}, got {e['input']!r}" if key else f"{msg}, got {e['input']!r}")
    text = "; ".join(dict.fromkeys(messages))
    return ConfigError(f"{prefix}: {text}" if prefix else text)
