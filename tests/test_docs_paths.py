"""Every path the scripts and the docs name exists, and every module they run with `python -m` imports.

Read: README.md, docs/*.md, devops/*.sh and the Makefile, whole (prose, code spans, code blocks, shell comments).

What counts as a path, always relative to the repository's root:
- a token containing "/" whose first component is a top-level name the repository tracks (`git ls-files`: metta,
  games, docs, devops, tests, experiments, shaders, .ci, pyproject.toml, ...). Tokens are cut at whitespace, quotes,
  backticks, brackets, `=`, `,`, `;`, `|`, `&`; a leading `(` and trailing `.,:;)?!` or `:LINE` are dropped, and so
  is the scripts' `$ROOT/` (their name for the root). Nothing else is a claim about the repository: train_dir/ (a
  run's output) and .venv/ (made by setup) are not tracked, URLs start with a scheme (`https:`), system and home
  paths with `/` or `~`, a script's `$DIR/...` with a variable, and bare names (my_game.yaml, a user's file;
  `extends: metta.yaml`, resolved beside the game) have no "/".
- placeholders: a shell variable (`$X`, `${X}`, `$(X)`), a `<name>`, a `{a,b}` or an ALL-CAPS word (NAME, GAME,
  FILE) in a path stands for a name the user or the script picks. It becomes the glob `*`, and the glob must still
  match an existing path: games/NAME.yaml claims that games/ holds some .yaml.
- a directory tree in a code block (a block whose first line is `DIR/` then two spaces or the line's end, as in
  the README's Layout): each entry (a name ending in "/" or with an extension, then two spaces or the line's end) is
  a path under the entries above it with less indentation.
- a markdown link or image in README.md and docs/*.md that is not a URL: relative to the file, as a renderer reads
  it. A `#anchor` on a markdown target, in a link or a token, must be one of that file's headings (GitHub's slug);
  a pytest node `FILE::NAME` must name a function or class that FILE defines.
"Exists" means in this checkout (a fresh clone in CI). ALLOWED lists the few tokens that fit the rule without naming
a path of the repository, each with its reason; an entry no source uses any more is an error too.

Modules: every `python -m MODULE` (python, python3.11, .venv/bin/python, $PY, "$PY", $(PY), ...). The project's
own (metta...) are imported in one fresh interpreter, as runpy runs them (a package's __main__, whose main is
behind `if __name__ == "__main__"`), so a module that moved or breaks on import fails here. Any other module (pip,
venv) must only be found: venv's __main__ runs at import.
"""
import glob
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ALLOWED = {
    # docs/games.md quotes error messages about a user's game file, named x.yaml in the example
    "games/x.yaml",
}


def sources() -> list[str]:
    found = ["README.md", "Makefile"] + sorted(glob.glob("docs/*.md", root_dir=ROOT))
    return found + sorted(glob.glob("devops/*.sh", root_dir=ROOT))


def tracked_tops() -> set[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60).stdout
    tops = {p.split("/")[0] for p in out.split()}
    assert {"metta", "games", "docs", "devops"} <= tops, f"git ls-files in {ROOT} lists only {sorted(tops)}"
    return tops


TOKEN = re.compile(r"[^\s`'\"=,;\[\]|&]+")
ROOT_PREFIX = re.compile(r"^\$\{?ROOT\}?/")
PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\$\([^)]*\)|\$\w+|<[^>/]*>|\{[^}/]*\}|(?<!\w)[A-Z][A-Z0-9_]+(?![A-Za-z0-9_])")
TREE_ENTRY = re.compile(r"^( *)([\w.<>*-]+(?:/[\w.<>*-]+)*/?)(?:  |$)")
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
MODULE = re.compile(r"(?:python[\d.]*|\bPY)[\"')}]*\s+-m\s+([A-Za-z_][\w.]*)")


def path_tokens(text: str, tops: set[str]):
    """(line, path) for every token of ``text`` that claims a path of the repository (the rule above)."""
    for ln, line in enumerate(text.splitlines(), 1):
        for tok in TOKEN.findall(line):
            tok = ROOT_PREFIX.sub("", tok.lstrip("("))
            tok = re.sub(r"(:\d+(-\d+)?)?[.,:;)?!]*$", "", tok)
            if "/" in tok and tok.split("/")[0] in tops:
                yield ln, tok


def tree_paths(text: str, tops: set[str]):
    """(line, path) for every entry of a directory tree drawn in a code block (the rule above)."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].lstrip().startswith("```"):
            i += 1
            continue
        indent = len(lines[i]) - len(lines[i].lstrip())  # a fence in a list item: its block is indented as much
        start, i = i + 1, i + 1
        while i < len(lines) and not lines[i].lstrip().startswith("```"):
            i += 1
        block = [line[indent:] for line in lines[start:i]]
        i += 1
        first = TREE_ENTRY.match(block[0]) if block else None
        if not (first and first.group(1) == "" and first.group(2).endswith("/")):
            continue
        parents: list[tuple[int, str]] = []  # (indentation, directory) of the entries above
        for k, line in enumerate(block):
            m = TREE_ENTRY.match(line)
            if not m or not (m.group(2).endswith("/") or "." in m.group(2).lstrip(".")):
                continue
            indent, name = len(m.group(1)), m.group(2)
            while parents and parents[-1][0] >= indent:
                parents.pop()
            path = "/".join([p for _, p in parents] + [name.rstrip("/")])
            if name.endswith("/"):
                parents.append((indent, name.rstrip("/")))
            if path.split("/")[0] in tops:
                yield start + k + 1, path


def slug(heading: str) -> str:
    """GitHub's anchor for a markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(md_file: str) -> set[str]:
    with open(md_file, encoding="utf-8") as f:
        text = re.sub(r"^ *```.*?^ *```", "", f.read(), flags=re.S | re.M)  # a code block's "# ..." is no heading
    return {slug(h) for h in re.findall(r"^#{1,6}\s+(.*)$", text, flags=re.M)}


def missing(path: str, base: str = ROOT) -> str | None:
    """Why ``path`` (relative to ``base``) is not there, or None when it is."""
    path, _, fragment = path.partition("#")
    path, _, node = path.partition("::")  # a pytest node: FILE::FUNCTION (or ::CLASS::METHOD)
    pattern = PLACEHOLDER.sub("*", path)
    full = os.path.normpath(os.path.join(base, pattern))
    if os.path.relpath(full, ROOT).split(os.sep)[0] == "..":
        return "is outside the repository"
    hits = glob.glob(full) if "*" in pattern else ([full] if os.path.exists(full) else [])
    if not hits:
        return "does not exist" if pattern == path else f"matches nothing (as the glob {pattern})"
    if fragment and pattern.endswith(".md") and "*" not in pattern and fragment not in anchors(full):
        return f"has no heading #{fragment}"
    if node:
        with open(full, encoding="utf-8") as f:
            source = f.read()
        for name in node.split("::"):
            if not re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name.split('[')[0])}\b", source, re.M):
                return f"defines no {name.split('[')[0]}"
    return None


def problems(name: str, text: str, tops: set[str]) -> list[str]:
    found = []
    for ln, path in sorted(set(path_tokens(text, tops)) | set(tree_paths(text, tops))):
        why = None if path in ALLOWED else missing(path)
        if why:
            found.append(f"{name}:{ln}: {path} {why}")
    if name.endswith(".md"):
        for ln, line in enumerate(text.splitlines(), 1):
            for target in LINK.findall(line):
                if re.match(r"^[a-z][a-z+.-]*:", target) or target.startswith("#"):
                    continue  # a URL (https:, mailto:) or a heading of the same page
                why = missing(target, os.path.dirname(os.path.join(ROOT, name)))
                if why:
                    found.append(f"{name}:{ln}: the link {target} {why}")
    return found


def read(name: str) -> str:
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        return f.read()


def test_the_rule_flags_what_is_missing_and_leaves_what_is_not_a_path():
    tops = {"metta", "games", "docs", "tests"}
    text = "\n".join([
        "see metta/nope.py, (metta/env/presets.py:12) and `games/metta.yaml`. Or docs/training.md)?",
        "train_dir/NAME/eval, .venv/bin/python, https://x.org/metta/nope, ~/.cache/metta, /usr/lib/x, my_game.yaml",
        "--game=games/NAME.yaml, games/NOPE/x.yaml, games/curricula/$(CURRICULUM).yaml, metta/<x>.py",
        "[link](docs/training.md#does-it-learn) [gone](docs/training.md#no-such-heading)",
        "tests/test_docs_paths.py::test_every_path_named_exists[README.md] and tests/test_docs_paths.py::test_gone",
        "```",
        "metta/       the package",
        "  env/       the env",
        "    core.py  its core",
        "  gone.py    a file that moved",
        "games/",
        "```",
        "- a list item's tree:",
        "  ```",
        "  docs/     the docs",
        "    gone.md",
        "  ```",
    ])
    assert problems("README.md", text, tops) == [
        "README.md:1: metta/nope.py does not exist",
        "README.md:3: games/NOPE/x.yaml matches nothing (as the glob games/*/x.yaml)",
        "README.md:4: docs/training.md#no-such-heading has no heading #no-such-heading",
        "README.md:5: tests/test_docs_paths.py::test_gone defines no test_gone",
        "README.md:10: metta/gone.py does not exist",
        "README.md:16: docs/gone.md does not exist",
        "README.md:4: the link docs/training.md#no-such-heading has no heading #no-such-heading",
    ]


def test_the_check_reads_the_layout_and_the_scripts_paths():
    tops = tracked_tops()
    assert "metta/hub" in {p for _, p in tree_paths(read("README.md"), tops)}
    assert "metta/bench/peers/mettagrid_bench.py" in {p for _, p in path_tokens(read("devops/peer_bench.sh"), tops)}


def test_every_allowed_token_is_still_used():
    texts = [read(name) for name in sources()]
    unused = sorted(tok for tok in ALLOWED if not any(tok in text for text in texts))
    assert not unused, f"ALLOWED holds tokens no script or doc names any more: {unused}"


@pytest.mark.parametrize("name", sources())
def test_every_path_named_exists(name):
    found = problems(name, read(name), tracked_tops())
    assert not found, "paths that are not in the repository:\n" + "\n".join(found)


def modules_named(texts: dict[str, str]) -> dict[str, list[str]]:
    """Every module run with ``python -m`` in ``texts`` (name -> text), with where it is named."""
    named: dict[str, list[str]] = {}
    for name, text in texts.items():
        for ln, line in enumerate(text.splitlines(), 1):
            for mod in MODULE.findall(line):
                named.setdefault(mod.rstrip("."), []).append(f"{name}:{ln}")
    return named


CHECK_MODULES = r"""
import importlib, importlib.util, json, sys, traceback
bad = {}
for mod in json.loads(sys.argv[1]):
    try:
        spec = importlib.util.find_spec(mod)
        if spec is None:
            bad[mod] = "no such module"
            continue
        target = mod
        if spec.submodule_search_locations is not None:
            target = mod + ".__main__"
            if importlib.util.find_spec(target) is None:
                bad[mod] = "a package without __main__: python -m cannot run it"
                continue
        if mod.split(".")[0] == "metta":
            importlib.import_module(target)
    except BaseException:
        bad[mod] = traceback.format_exc(limit=-3)
print(json.dumps(bad))
"""


def unrunnable(modules) -> dict[str, str]:
    """The modules ``python -m`` could not run, each with why, checked in one fresh interpreter."""
    p = subprocess.run([sys.executable, "-c", CHECK_MODULES, json.dumps(sorted(modules))], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_the_module_rule_finds_every_spelling_and_flags_what_cannot_run():
    text = "\n".join([
        '"$PY" -m metta.bench.peers.report; $(PY) -m metta.validate games/metta.yaml',
        "run .venv/bin/python -m metta.nope, or `python3.11 -m venv`. The package: python -m metta.society.",
        'git commit -m "python is fine"',
    ])
    named = modules_named({"x.md": text})
    assert named == {"metta.bench.peers.report": ["x.md:1"], "metta.validate": ["x.md:1"], "metta.nope": ["x.md:2"],
                     "venv": ["x.md:2"], "metta.society": ["x.md:2"]}
    bad = unrunnable(named)
    assert sorted(bad) == ["metta.nope", "metta.society"]
    assert bad["metta.nope"] == "no such module" and "without __main__" in bad["metta.society"]


def test_every_module_named_imports():
    named = modules_named({name: read(name) for name in sources()})
    assert {"metta.sf_integration.train", "metta.validate", "metta.bench.peers.project_bench"} <= set(named)
    bad = unrunnable(named)
    assert not bad, "modules named with python -m that python -m cannot run:\n" + "\n".join(
        f"{mod} ({', '.join(named[mod])}): {why}" for mod, why in sorted(bad.items()))
