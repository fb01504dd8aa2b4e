"""Watch a replay in a browser.

    python -m metta.viz.replay FILE.replay.json.gz [--out PAGE.html] [--serve [--port N]]

writes a self-contained viewer page (default: beside the replay, ``FILE.replay.html``) that
works offline: open it in a browser. ``--serve`` also serves it on http://127.0.0.1:PORT/
until stopped (Ctrl-C). See docs/replay.md.
"""
from __future__ import annotations

import argparse
import sys

from metta.errors import ConfigError
from metta.runtime.lifetime import run_command


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m metta.viz.replay", description=__doc__.split("\n\n")[0])
    ap.add_argument("replay", help="a replay file (*.replay.json.gz), as evaluate and the eval suite write them")
    ap.add_argument("--out", default=None, help="where to write the page (default: beside the replay, .html)")
    ap.add_argument("--serve", action="store_true", help="serve the page on 127.0.0.1 until stopped")
    ap.add_argument("--port", type=int, default=8000, help="the port to serve on (0: any free one)")
    args = ap.parse_args(argv)
    return run_command(lambda stops: run(args, stops))


def run(args, stops=None) -> int:
    from metta.viz.replay.viewer import PageServer, write_page

    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port must be in 0..65535, got {args.port}")
    page = write_page(args.replay, args.out)
    print(f"wrote {page}")
    if not args.serve:
        return 0
    try:
        server = PageServer(page, args.port).start()
    except OSError as err:
        raise ConfigError(f"cannot serve on 127.0.0.1:{args.port} ({err.strerror}): pick another --port") from None
    print(f"serving {server.url} (Ctrl-C to stop)", flush=True)
    assert server._thread is not None  # start() made it
    try:
        server._thread.join()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
