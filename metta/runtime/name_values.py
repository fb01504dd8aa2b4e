"""``NAME=VALUE`` pairs from the command line (``--override attack.cost=20``, ``--bodies light=1,heavy=1``)."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from metta.errors import UsageError


def parse_name_values(items: Iterable[str] | None, convert: Callable[[str], object], flag: str,
                      expected: str, example: str) -> dict:
    """``{name: convert(value)}`` of each ``NAME=VALUE`` in ``items``; otherwise UsageError (a command line's:
    metta.errors) naming ``flag``, the bad item, what was ``expected`` (e.g. ``NAME=INTEGER``) and an ``example``."""
    out = {}
    for item in items or ():
        name, sep, value = str(item).partition("=")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = convert(value)
        except ValueError:
            raise UsageError(f"{flag} {item!r}: expected {expected}, e.g. {flag} {example}") from None
    return out
