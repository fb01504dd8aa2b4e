"""The first pass: Griddly's own JSON schema (``griddly/resources/gdy-schema.json``), checked with ``jsonschema``,
with corrections where the schema lags the engine and plain words for the messages users meet most."""
from __future__ import annotations

import functools
import json
import os
import re
from typing import Any, Iterable

import jsonschema


@functools.lru_cache(maxsize=1)
def griddly_schema() -> dict:
    """The GDY JSON schema shipped inside the griddly wheel, with three corrections.

    The schema that ships with griddly 1.6.7 lags its engine in three places, each
    exercised by tests/test_rules.py against the engine itself:
    - conditional commands' ``Arguments`` refer to a single argument; the engine (and
      every Griddly example) takes a pair ``[a, b]``;
    - ``reward`` and ``exec.Delay`` accept only integers; the engine also resolves
      variable names there (Metta's named values).
    """
    import copy
    import importlib.util

    spec = importlib.util.find_spec("griddly")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("griddly is not installed: run devops/setup.sh")
    path = os.path.join(list(spec.submodule_search_locations)[0], "resources", "gdy-schema.json")
    with open(path) as fh:
        schema = copy.deepcopy(json.load(fh))
    beh = schema["properties"]["Actions"]["items"]["properties"]["Behaviours"]["definitions"]
    base = "#/properties/Actions/items/properties/Behaviours/definitions/"
    for cond in beh["behaviourDefinitionConditionalCommand"]["properties"].values():
        cond["properties"]["Arguments"] = {"$ref": base + "commandArgumentList"}
    int_or_name = {"oneOf": [{"type": "integer"}, {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_.]*$"}]}
    commands = beh["behaviourDefinitionCommand"]["properties"]
    commands["reward"] = dict(int_or_name, description=commands["reward"].get("description", ""))
    commands["exec"]["properties"]["Delay"] = dict(int_or_name)
    return schema


def _fmt_path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<top level>"


def _json_keys(node: Any) -> Any:
    """``node`` with every mapping key json.dumps cannot write (a YAML date ``2020-01-01:``) as a string."""
    if isinstance(node, dict):
        return {k if isinstance(k, (str, int, float, bool)) or k is None else str(k): _json_keys(v)
                for k, v in node.items()}
    if isinstance(node, list):
        return [_json_keys(v) for v in node]
    return node


def schema_errors(doc: dict) -> list[str]:
    validator = jsonschema.Draft7Validator(griddly_schema())
    # YAML reads `1:` as an integer key; JSON (and so the schema) only has string keys.
    doc = json.loads(json.dumps(_json_keys(doc), default=str))
    problems = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        # oneOf/anyOf failures: report the most specific sub-error
        best = jsonschema.exceptions.best_match([err]) if err.context else err
        msg = best.message
        if len(msg) > 300:
            msg = msg[:300] + "..."
        where = _fmt_path(best.absolute_path)
        problems.append(f"{where}: {msg}{_hint(where, msg)}")
    return problems


def _hint(where: str, msg: str) -> str:
    """Plain words for the schema messages users meet most."""
    if re.search(r"\.(eq|neq|gt|gte|lt|lte)\.Commands\[\d+\]$", where) and \
            re.search(r"'(eq|neq|gt|gte|lt|lte)' was unexpected", msg):
        return (" (nested conditional commands are not supported by Griddly 1.6: "
                "flatten them or move the condition into Preconditions)")
    return ""
