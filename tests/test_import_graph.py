"""The import graph of ``metta/``: no cycles (function-local imports included), and imports without side effects
that matter: the Hub loads no Sample Factory, and importing the Sample Factory adapter leaves torch as it was."""
from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "metta"


def module_files(root: str = ROOT) -> dict[str, str]:
    """``{dotted module name: path}`` of every module of the package (a package is its ``__init__``)."""
    out = {}
    for folder, dirs, files in os.walk(os.path.join(root, PACKAGE)):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
        for name in sorted(files):
            if name.endswith(".py"):
                parts = os.path.relpath(os.path.join(folder, name), root)[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts.pop()
                out[".".join(parts)] = os.path.join(folder, name)
    return out


def imported_names(module: str, path: str) -> set[str]:
    """Every module name ``module`` imports anywhere in its file (in functions too), relative imports resolved;
    ``from a import b`` names ``a.b`` as well as ``a``, since ``b`` may be a submodule."""
    with open(path, encoding="utf-8") as fh:
        tree = ast.parse(fh.read(), path)
    is_package = os.path.basename(path) == "__init__.py"
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[:len(base) - node.level + is_package]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def import_graph(root: str = ROOT) -> dict[str, set[str]]:
    """``{module: the package's modules it imports}``. Importing ``a.b.c`` runs ``a`` and ``a.b`` too, but those are
    the importer's parents' concern: an edge goes to the named module only (its package when it names no module)."""
    files = module_files(root)
    graph = {}
    for module, path in files.items():
        edges = set()
        for name in imported_names(module, path):
            if name.split(".")[0] != PACKAGE:
                continue
            while name and name not in files:  # `from metta.x import some_function`: the module is metta.x
                name = name.rpartition(".")[0]
            if name and name != module:
                edges.add(name)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    out.append(sorted(component))
    return out


def test_finds_a_cycle_through_a_function_local_import(tmp_path):
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "a.py").write_text("from metta.sub.b import thing\n")
    (pkg / "sub" / "b.py").write_text("def thing():\n    from . import a\n")
    (pkg / "sub" / "c.py").write_text("from .a import thing\n")
    assert cycles(import_graph(str(tmp_path))) == [["metta.sub.a", "metta.sub.b"]]


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles among metta's modules (function-local imports included): " + "; ".join(
        " <-> ".join(c) for c in found)


def _run(code: str, **env: str) -> None:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": ROOT, **env})
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("module", ["metta.hub", "metta.hub.cli"])
def test_the_hub_imports_without_sample_factory(module):
    _run(f"import sys, {module}\n"
         "loaded = sorted(m for m in sys.modules if m.split('.')[0] == 'sample_factory')\n"
         "assert not loaded, loaded\n")


def test_importing_the_adapter_changes_nothing():
    """No safe globals for torch's loader, no parent-death watcher (armed, it would adopt its own children), no
    thread: every module of the package imported, the process is as it was."""
    from metta.runtime.lifetime import PARENT_ENV, process_record

    modules = sorted(m for m in module_files() if m.startswith("metta.sf_integration"))
    _run("import importlib, os, threading, torch.serialization as s\n"
         "before, threads = list(s.get_safe_globals()), threading.active_count()\n"
         f"for m in {modules!r}:\n"
         "    importlib.import_module(m)\n"
         "assert list(s.get_safe_globals()) == before, s.get_safe_globals()\n"
         f"assert os.environ[{PARENT_ENV!r}] == {process_record()!r}, 'a parent-death watcher was armed'\n"
         "assert threading.active_count() == threads, threading.enumerate()\n",
         **{PARENT_ENV: process_record()})
