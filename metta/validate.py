"""Check a game file: ``python -m metta.validate FILE [--override NAME=VALUE ...]``.

Exit 0 when the file is a valid Metta game (schema, semantics, and a trial run in
Griddly in a child process), 1 with a message naming the file and the keys otherwise.
"""
from __future__ import annotations

import argparse
import sys

from metta.runtime.lifetime import run_command


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m metta.validate", description=__doc__.split("\n\n")[0])
    ap.add_argument("file", help="a GDY game file in the shape of games/metta.yaml")
    ap.add_argument("--override", action="append", default=[], metavar="NAME=VALUE",
                    help="override a named value before validating (repeatable)")
    ap.add_argument("--no-probe", action="store_true", help="skip the trial run in Griddly")
    args = ap.parse_args(argv)
    return run_command(lambda stops: _check(args))


def _check(args) -> int:
    from metta.griddly_ext.gdy import load_gdy
    from metta.griddly_ext.probe import probe_game
    from metta.griddly_ext.validation import validate_game
    from metta.env.game_facts import GameFacts
    from metta.runtime.name_values import parse_name_values

    game = load_gdy(args.file)
    game = validate_game(game.with_overrides(parse_name_values(args.override, int, "--override", "NAME=INTEGER",
                                                                   "attack.cost=20")))
    GameFacts.of(game)  # the Metta: section
    if not args.no_probe:
        probe_game(game)
    n_actions = len(game.doc.get("Actions", []))
    print(f"ok: {args.file}: {len(game.objects())} objects, {n_actions} actions, "
          f"{len(game.named_values())} named values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
