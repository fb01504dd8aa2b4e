"""Property-based fuzzing of the validator over random mutations of the shipped games (games/*.yaml).

For every mutant, ``validate_game(load_gdy(path))`` either returns or raises ConfigError: any other exception
is a bug (hypothesis shows its traceback and the smallest mutation that causes it), and so is an example
slower than the deadline. A mutant the validator calls valid must really run: a sample of the valid ones goes
through ``probe_game`` (Griddly in a child process); a crash, hang or error there after "valid" is a bug.

Two kinds of mutants:
- of the parsed document: delete a key or an item, replace a value by a random scalar, list or mapping,
  change a number (negative, huge, float), duplicate or rename objects, actions, variables and behaviours,
  change map characters, move a subtree elsewhere, add a key;
- of the raw text: flip bytes, truncate, delete a slice, insert YAML punctuation (anchors, aliases, tags,
  document markers, tabs) or random bytes.

Runs are deterministic (derandomize) and bounded by the profile below: ``METTA_FUZZ_PROFILE=metta-deep``
runs many more, randomised examples locally.
"""
import copy
import functools
import glob
import hashlib
import os
import random
import time

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from conftest import ROOT, config_error
from metta import ConfigError
from metta.griddly_ext.gdy import GameDoc, load_gdy
from metta.griddly_ext.probe import probe_game
from metta.griddly_ext.validation import validate_game

# No wall-clock deadline: the machine may be busy (training runs beside the tests). _check bounds each example's
# CPU time instead, which other processes do not inflate.
_COMMON = dict(deadline=None, database=None, print_blob=False,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CPU_SECONDS = 5.0  # per example: load and validate one mutant
# metta-ci: fixed examples, and no shrinking (it may take minutes): a failure shows the mutations it drew.
settings.register_profile("metta-ci", max_examples=80, derandomize=True,
                          phases=[Phase.explicit, Phase.generate], **_COMMON)
settings.register_profile("metta-deep", max_examples=3000, derandomize=False, **_COMMON)
FUZZ = settings.get_profile(os.environ.get("METTA_FUZZ_PROFILE", "metta-ci"))
PROBES = 3  # valid mutants run in Griddly per test (about 2 s each)


def _valid_games() -> list[str]:
    """The shipped games the validator accepts: mutants of these are the interesting ones (tests/test_games.py
    checks each shipped game itself)."""
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, "games", "*.yaml"))):
        try:
            validate_game(load_gdy(path))
        except ConfigError:
            continue
        out.append(path)
    return out


GAMES = _valid_games()
TEXTS = {path: open(path, "rb").read() for path in GAMES}
DOCS = {path: load_gdy(path).doc for path in GAMES}


def _names(doc) -> list[str]:
    """Every name the game defines, to make mutations that refer to real things."""
    out = {"_empty", "_boundary", "_dest", "src.energy", "dst.energy", "meta.x"}
    for section in ("Objects", "Actions"):
        for item in doc.get(section, []):
            out.add(item["Name"])
            out |= {v["Name"] for v in item.get("Variables", []) or []}
    out |= {v["Name"] for v in doc["Environment"].get("Variables", [])}
    return sorted(out)


def _keys(node, out=None) -> set:
    out = set() if out is None else out
    if isinstance(node, dict):
        out |= {k for k in node if isinstance(k, str)}
        for v in node.values():
            _keys(v, out)
    elif isinstance(node, list):
        for v in node:
            _keys(v, out)
    return out


NAMES = sorted({n for doc in DOCS.values() for n in _names(doc)})
KEYS = sorted({k for doc in DOCS.values() for k in _keys(doc)})
EDGE_INTS = [0, 1, -1, 2, 254, 255, 256, 63, 64, 65, 99, 100, 1000, 100_000, 1_000_001, 2**31 - 1, 2**31, -2**31,
             -2**31 - 1, 2**63, 10**30]

scalars = st.one_of(
    st.none(), st.booleans(), st.sampled_from(EDGE_INTS), st.integers(-2**40, 2**40),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8), st.sampled_from(NAMES),
    st.sampled_from(["", " ", ".", "A", "0", "AB", "é", "\t", "true", "null", "1.5", "src.", "dst.x"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4) | st.integers(0, 3), inner,
                                        max_size=3), max_leaves=6)
numbers = st.sampled_from(EDGE_INTS) | st.integers(-2**33, 2**33) | st.floats(-1e6, 1e6) | st.just(float("nan"))
MAP_CHARS = st.sampled_from(list("AWgcaXZ.0 9\t#*&-:é") + ["", "ab", "\n", "W W", None, 7])


@functools.lru_cache(maxsize=64)
def _permutation(n: int) -> list[int]:
    order = list(range(n))
    random.Random(n).shuffle(order)
    return order


def _spread(data, n: int, label: str) -> int:
    """An index in 0..n-1 spread over the whole range: hypothesis draws small integers far more often (and
    shrinks towards 0), which would mutate only the first keys and the leading comments; a fixed permutation
    keeps shrinking deterministic."""
    return _permutation(n)[data.draw(st.integers(0, n - 1), label=label)]


def _paths(node, path=()):
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, path + (i,))


def _get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def _mutate(data, doc) -> str:
    """Apply one random mutation to ``doc`` in place; return its description."""
    paths = list(_paths(doc))[1:]
    path = paths[_spread(data, len(paths), "path index")]
    parent, key = _get(doc, path[:-1]), path[-1]
    old = parent[key]
    kind = data.draw(st.sampled_from(["delete", "replace", "number", "duplicate", "rename", "map_char", "move",
                                      "add_key", "empty"]), label="mutation")
    if kind == "delete":
        del parent[key]
    elif kind == "replace":
        parent[key] = data.draw(values, label="value")
    elif kind == "number":
        parent[key] = data.draw(numbers, label="number")
    elif kind == "duplicate":
        if isinstance(parent, list):
            parent.insert(key + 1, copy.deepcopy(old))
        else:
            parent[data.draw(st.sampled_from(KEYS), label="copy to key")] = copy.deepcopy(old)
    elif kind == "rename":  # the nearest object, action, variable... around the path
        named = [p for p in (path[:i] for i in range(len(path), 0, -1)) if isinstance(_get(doc, p), dict)
                 and "Name" in _get(doc, p)]
        if not named:
            return "rename: nothing named here"
        target = _get(doc, named[0])
        target["Name"] = data.draw(st.sampled_from(NAMES) | st.text(max_size=6), label="new name")
        return f"rename {list(named[0])}: {old!r:.60} -> {target['Name']!r}"
    elif kind == "map_char":
        objects = [o for o in doc.get("Objects", []) if isinstance(o, dict)]
        if not objects:
            return "map_char: no objects"
        obj = objects[_spread(data, len(objects), "object")]
        obj["MapCharacter"] = data.draw(MAP_CHARS, label="character")
        return f"map_char {obj.get('Name')!r} -> {obj['MapCharacter']!r}"
    elif kind == "move":
        source = paths[_spread(data, len(paths), "source index")]
        parent[key] = copy.deepcopy(_get(doc, source))
        return f"move {source} -> {path}"
    elif kind == "add_key":
        target = old if isinstance(old, dict) else parent
        if not isinstance(target, dict):
            return "add_key: not in a mapping"
        target[data.draw(st.sampled_from(KEYS) | st.text(max_size=6), label="key")] = data.draw(values, label="value")
    elif kind == "empty":
        parent[key] = data.draw(st.sampled_from([{}, [], None, ""]), label="empty")
    return f"{kind} at {list(path)} (was {old!r:.60})"


def _dump(doc) -> str:
    """The mutant as a file's text (libyaml's emitter when present: PyYAML's own takes as long as validating)."""
    return yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False, allow_unicode=True)


def _check(path: str):
    """The property: the validator returns or raises ConfigError (anything else propagates and fails), within
    CPU_SECONDS."""
    start = time.process_time()
    try:
        return validate_game(load_gdy(path))
    except ConfigError as err:
        note(f"ConfigError: {str(err)[:300]}")
        return None
    finally:
        spent = time.process_time() - start
        assert spent < CPU_SECONDS, f"validating this mutant took {spent:.1f} s of CPU"


def _probe_sample(valid: dict, workdir) -> None:
    """Run a few of the valid mutants in Griddly: after "valid" it must not crash, hang or error."""
    picked = [valid[k] for k in sorted(valid)][:PROBES]
    print(f"{len(valid)} valid mutants; probing {len(picked)}:", *(d for d, _ in picked), sep="\n  ")
    for description, game in picked:
        try:
            probe_game(game)
        except ConfigError as err:
            kept = workdir / f"crash-{hashlib.sha256(game.to_yaml().encode()).hexdigest()[:12]}.yaml"
            kept.write_text(game.to_yaml())
            pytest.fail(f"valid, then failed in Griddly ({description}; kept as {kept}): {err}")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


@pytest.mark.timeout(300)
@pytest.mark.slow
def test_fuzz_document_mutations(workdir):
    valid: dict[str, tuple[str, object]] = {}
    original = {hashlib.sha256(_dump(d).encode()).hexdigest() for d in DOCS.values()}

    @FUZZ
    @given(st.data())
    def run(data):
        game = data.draw(st.sampled_from(GAMES), label="game")
        doc = copy.deepcopy(DOCS[game])
        steps = [_mutate(data, doc) for _ in range(data.draw(st.integers(1, 3), label="mutations"))]
        for s in steps:
            note(s)
        text = _dump(doc)
        path = workdir / "mutant.yaml"
        path.write_text(text, encoding="utf-8")
        result = _check(str(path))
        key = hashlib.sha256(text.encode()).hexdigest()
        if result is not None and key not in original:
            valid.setdefault(key, ("; ".join(steps), result))

    run()
    _probe_sample(valid, workdir)


@pytest.mark.timeout(300)
def test_fuzz_text_mutations(workdir):
    valid: dict[str, tuple[str, object]] = {}
    snippets = [b"&a ", b"*a", b"<<: *a\n", b": ", b"- ", b"{", b"}", b"[", b"]", b"\t", b'"', b"'", b"!!binary ",
                b"!!python/name:os.system ", b"%TAG ! tag:x\n", b"---\n", b"...\n", b"\n", b"#", b"? ", b"|\n",
                b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"2020-01-01", b".nan", b"0x1F", b"1e400", b"~"]

    @FUZZ
    @given(st.data())
    def run(data):
        game = data.draw(st.sampled_from(GAMES), label="game")
        raw = bytearray(TEXTS[game])
        steps = []
        for _ in range(data.draw(st.integers(1, 4), label="mutations")):
            at = _spread(data, len(raw) + 1, "offset")
            kind = data.draw(st.sampled_from(["flip", "truncate", "delete", "insert", "insert_bytes"]),
                             label="mutation")
            if kind == "flip" and at < len(raw):
                raw[at] ^= data.draw(st.integers(1, 255), label="xor")
            elif kind == "truncate":
                del raw[at:]
            elif kind == "delete":
                del raw[at:at + data.draw(st.integers(1, 200), label="length")]
            elif kind == "insert":
                raw[at:at] = data.draw(st.sampled_from(snippets), label="snippet")
            elif kind == "insert_bytes":
                raw[at:at] = data.draw(st.binary(min_size=1, max_size=8), label="bytes")
            steps.append(f"{kind} at {at}")
        note("; ".join(steps))
        path = workdir / "mutant-text.yaml"
        path.write_bytes(bytes(raw))
        result = _check(str(path))
        if result is not None and result.doc != DOCS[game]:
            valid.setdefault(hashlib.sha256(result.to_yaml().encode()).hexdigest(), ("; ".join(steps), result))

    run()
    _probe_sample(valid, workdir)


def test_the_shipped_game_is_fuzzed():
    assert os.path.join(ROOT, "games", "metta.yaml") in GAMES


# ---------------------------------------------------------------- bugs the fuzzing found, one test each
def _metta_doc():
    return copy.deepcopy(DOCS[os.path.join(ROOT, "games", "metta.yaml")])


def _action(doc, name):
    return next(a for a in doc["Actions"] if a["Name"] == name)


def test_a_date_as_a_key_is_a_config_error(tmp_path):
    """YAML reads ``2020-01-01:`` as a date: json.dumps raised TypeError on it as a key (a traceback)."""
    path = tmp_path / "date-key.yaml"
    path.write_text(open(os.path.join(ROOT, "games", "metta.yaml")).read() + "2020-01-01: party\n")
    with config_error(str(path), "Additional properties", "2020-01-01"):
        validate_game(load_gdy(path))


def test_an_input_that_is_not_a_mapping_is_a_config_error():
    """The schema leaves an InputMapping input's type open: ``1: 1`` raised AttributeError in the checker."""
    doc = _metta_doc()
    _action(doc, "move")["InputMapping"]["Inputs"][1] = 1
    with config_error("Inputs.1", "expected a mapping", "got 1"):
        validate_game(GameDoc(doc, "input.yaml"))


@pytest.mark.parametrize("commands", ["missing", []])
def test_a_conditional_command_without_commands_is_a_config_error(commands):
    """Passed validation, then Griddly refused the game: "Unknown or badly defined command lt"."""
    doc = _metta_doc()
    conditional = next(c for c in _action(doc, "shield")["Behaviours"][0]["Src"]["Commands"] if "lt" in c)["lt"]
    if commands == "missing":
        del conditional["Commands"]
    else:
        conditional["Commands"] = commands
    with config_error("shield", ".lt", "needs Arguments and at least one of Commands"):
        validate_game(GameDoc(doc, "conditional.yaml"))


@pytest.mark.parametrize("action", ["agent_tick", "mark"])
def test_an_action_without_behaviours_is_a_config_error(action):
    """Passed validation, then Griddly refused the game at reset: "IndexError: unordered_map::at"."""
    doc = _metta_doc()
    _action(doc, action)["Behaviours"] = []
    with config_error(f"({action}).Behaviours", "at least one behaviour"):
        validate_game(GameDoc(doc, "no-behaviours.yaml"))


@pytest.mark.parametrize("char", ["\n", "\r", "\u00a0"])
def test_a_whitespace_map_character_is_a_config_error(char):
    """A newline as MapCharacter passed validation, then broke the level rows Griddly reads."""
    doc = _metta_doc()
    next(o for o in doc["Objects"] if o["Name"] == "generator")["MapCharacter"] = char
    with config_error("MapCharacter (generator)", "whitespace"):
        validate_game(GameDoc(doc, "whitespace-char.yaml"))
