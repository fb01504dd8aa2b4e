"""Importing a module whose import talks: the old gym package prints a deprecation banner on stderr when it is
first imported (griddly and Sample Factory both import it), and griddly warns at import."""
from __future__ import annotations

import contextlib
import importlib
import io
import sys
import warnings
from types import ModuleType


@contextlib.contextmanager
def _quiet_stderr():
    saved = sys.stderr
    sys.stderr = io.StringIO()
    try:
        yield
    finally:
        sys.stderr = saved


def quiet_import(name: str) -> ModuleType:
    """Import ``name`` once with its banner and warnings hidden; the module (already imported: as it is)."""
    if name not in sys.modules:
        with warnings.catch_warnings(), _quiet_stderr():
            warnings.simplefilter("ignore")
            importlib.import_module(name)
    return sys.modules[name]
