"""A game file cannot hang or exhaust the loader: past the limits in metta.griddly_ext.gdy it is refused while
the YAML is read, before anything is expanded, with a message naming the file, the limit and its value.

Times here are generous bounds that prove "no hang" (the bomb used to run past 60 s at 2.4 GB and growing),
not figures: the assertions that matter are which limit refused the file.
"""
import glob
import os
import subprocess
import sys
import time
import tracemalloc

import pytest

from conftest import GAME, ROOT, config_error
from metta.griddly_ext.gdy import MAX_ALIASES, MAX_BYTES, MAX_DEPTH, MAX_NODES, load_gdy, parse_gdy

# "Billion laughs": nine levels of nine aliases each, 10**9 strings once expanded, in a few hundred bytes.
BOMB = 'Version: "0.1"\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{b}: &{b} [{','.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi"))


def test_the_bomb_is_a_few_hundred_bytes():
    assert 300 < len(BOMB) < 500


def test_alias_bomb_is_refused_by_the_node_limit_without_expanding(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    tracemalloc.start()
    start = time.perf_counter()
    with config_error(str(path), "refused", f"more than {MAX_NODES:,} YAML nodes with aliases expanded",
                      "alias bomb"):
        load_gdy(path)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 5, elapsed
    assert peak < 20_000_000, peak  # bytes: nothing was expanded


def test_validate_cli_refuses_the_bomb_without_a_traceback(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)
    proc = subprocess.run([sys.executable, "-m", "metta.validate", str(path)], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert proc.returncode == 1, proc
    assert proc.stderr.startswith("error: ") and str(path) in proc.stderr and "alias bomb" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_recursive_alias_is_refused():
    with config_error("refused", "alias *x", "contains it"):
        parse_gdy("a: &x [1, *x]\n", "rec.yaml")


def test_too_many_aliases_are_refused():
    text = "a: &x 1\nb: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n"
    with config_error("refused", f"more than {MAX_ALIASES} aliases"):
        parse_gdy(text)


def test_a_few_aliases_and_merge_keys_still_load():
    doc = parse_gdy("base: &base {cost: 1, cooldown: 2}\nuse: {<<: *base, cost: 3}\nalso: *base\n").doc
    assert doc["use"] == {"cost": 3, "cooldown": 2} and doc["also"] == {"cost": 1, "cooldown": 2}


@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{a: ", "}"), ("- ", "")])
def test_absurd_nesting_is_refused_by_the_depth_limit(opening, closing):
    depth = 5000
    if opening == "- ":  # block style: one more indented level a line
        text = "a:\n" + "".join("  " * (i + 1) + "-\n" for i in range(depth)) + "  " * (depth + 1) + "1\n"
    else:
        text = "a: " + opening * depth + "1" + closing * depth + "\n"
    start = time.perf_counter()
    with config_error("deep.yaml"):  # ours ("nested more than 64") or libyaml's own depth limit
        parse_gdy(text, "deep.yaml")
    assert time.perf_counter() - start < 5


def test_nesting_just_past_the_limit_names_it():
    text = "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n"  # the mapping is one more level
    with config_error("refused", f"nested more than {MAX_DEPTH} levels deep"):
        parse_gdy(text)
    parse_gdy("a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n")


def test_too_many_nodes_are_refused():
    text = "a: [" + ",".join(["1"] * (MAX_NODES + 1)) + "]\n"
    with config_error("refused", f"more than {MAX_NODES:,} YAML nodes"):
        parse_gdy(text)


def test_files_past_the_byte_limit_are_refused_unread(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * MAX_BYTES + "\n")
    with config_error(str(path), "refused", f"more than {MAX_BYTES:,} bytes"):
        load_gdy(path)
    with config_error("/dev/zero", "refused", f"more than {MAX_BYTES:,} bytes"):
        load_gdy("/dev/zero")  # endless: only MAX_BYTES + 1 bytes are read
    with config_error("refused", f"more than {MAX_BYTES:,} bytes"):
        parse_gdy("#" * (MAX_BYTES + 1))


def test_duplicate_keys_are_refused_with_both_lines():
    with config_error("dup.yaml", "duplicate key 'Objects' at line 3", "also at line 2"):
        parse_gdy("Version: '0.1'\nObjects: []\nObjects: [1]\n", "dup.yaml")


@pytest.mark.parametrize("text, words", [
    ("", ["must be a YAML mapping", "empty file"]),
    ("- a\n- b\n", ["must be a YAML mapping", "a list"]),
    ("just a scalar\n", ["must be a YAML mapping", "a str"]),
    ("a: 1\n---\nb: 2\n", ["not valid YAML", "line 2"]),
    ("a: \x00\n", ["not valid YAML", "#x0000"]),
    ("a: *nowhere\n", ["not valid YAML", "undefined alias"]),
    ("? [1, 2]\n: 3\n", ["not valid YAML", "unhashable key"]),
    ("a: !!python/object:os.system echo\n", ["not valid YAML", "python/object"]),
])
def test_odd_yaml_is_a_clear_error(text, words):
    with config_error("odd.yaml", *words):
        parse_gdy(text, "odd.yaml")


def test_the_shipped_games_are_well_inside_the_limits():
    games = sorted(glob.glob(os.path.join(ROOT, "games", "*.yaml")))
    assert GAME in games
    for path in games:
        assert os.path.getsize(path) < MAX_BYTES // 10
        load_gdy(path)
