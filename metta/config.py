"""The base of every typed config (metta.env.config, the kinship structures of metta.society.kinship): unknown keys
refused, no coercion, immutable, and a bad value raised as ConfigError naming the dotted key."""
from __future__ import annotations

from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError

from metta.errors import ConfigError


class ConfigModel(BaseModel):
    """A typed config: unknown keys are refused, values are not coerced (``"1"`` is no integer), it is immutable,
    and a bad value raises ConfigError naming the dotted key and what was expected (never pydantic's
    ValidationError)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, validate_default=False)

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
