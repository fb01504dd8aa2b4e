"""The house's sizes, held: a module of ``metta/`` past 400 lines is usually two concepts, the Sample Factory
adapter (``metta/sf_integration/``) stays under 2,000 lines, and a game overlay (a file with ``extends:``) says
only what changes, in under 150 lines. Lines are counted as ``wc -l`` counts them."""
from __future__ import annotations

import glob
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULE_LINES = 400
ADAPTER_LINES = 2000
OVERLAY_LINES = 150


def lines(path: str) -> int:
    with open(path, "rb") as fh:
        return fh.read().count(b"\n")


def modules(folder: str) -> list[str]:
    return sorted(glob.glob(os.path.join(ROOT, folder, "**", "*.py"), recursive=True))


def test_counts_lines_as_wc_does(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("a = 1\n\nb = 2\n")
    assert lines(str(path)) == 3


def test_no_module_is_past_400_lines():
    long = {os.path.relpath(p, ROOT): n for p in modules("metta") if (n := lines(p)) > MODULE_LINES}
    assert not long, f"modules past {MODULE_LINES} lines (split them by concept): {long}"


def test_the_sample_factory_adapter_stays_small():
    files = modules(os.path.join("metta", "sf_integration"))
    assert len(files) >= 8  # env, model, config, train, policy, checkpoints, supervisor, patches
    total = sum(lines(p) for p in files)
    assert total < ADAPTER_LINES, f"metta/sf_integration/ is {total} lines; it holds only the adapter"


def test_every_overlay_says_only_what_changes():
    overlays = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "games", "*.yaml"))):
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
        if isinstance(doc, dict) and "extends" in doc:
            overlays[os.path.basename(path)] = lines(path)
    assert len(overlays) >= 3  # builders, postures, resource_chain
    long = {name: n for name, n in overlays.items() if n >= OVERLAY_LINES}
    assert not long, f"overlays of {OVERLAY_LINES} lines or more: {long}"
