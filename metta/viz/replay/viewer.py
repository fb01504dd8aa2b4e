"""The replay viewer: one self-contained HTML page per replay, and a local server for it.

The page is ``static/viewer.html`` with the package's own ``viewer.css`` and ``viewer.js``
inlined and the replay file's gzip bytes embedded (base64); the browser decompresses them
itself (``DecompressionStream``). It loads nothing from anywhere: it works from disk, offline.

A replay is a shared file, so untrusted data: the script puts its strings on the page as text only
(``viewer.js`` builds elements, never markup), and the page carries a Content-Security-Policy that runs only
its own inlined script and style (by hash), so an injected inline handler or script does not run, and that
forbids every network load (``content_security_policy``).
"""
from __future__ import annotations

import base64
import hashlib
import html
import http.server
import os
import threading

from metta.runtime.files import write_text
from metta.viz.replay.format import read_replay

STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
_SLOTS = {"/*METTA_CSS*/": "viewer.css", "/*METTA_JS*/": "viewer.js"}
_DATA_SLOT = "METTA_REPLAY_BASE64"


def _static(name: str) -> str:
    with open(os.path.join(STATIC, name), encoding="utf-8") as fh:
        return fh.read()


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def content_security_policy(script: str, style: str) -> str:
    """Nothing but the page's own inline ``script`` and ``style`` (by hash) runs or applies; no inline event
    handler, no other script, no network load of any kind (the favicon is a ``data:`` URL)."""
    return (f"default-src 'none'; script-src {_sha256(script)}; style-src {_sha256(style)}; img-src data:; "
            "base-uri 'none'; form-action 'none'")


def build_page(replay_path: str) -> str:
    """The viewer page of the replay in ``replay_path`` (checked first: ConfigError for a bad file)."""
    replay = read_replay(replay_path)
    with open(replay_path, "rb") as fh:
        blob = base64.b64encode(fh.read()).decode("ascii")
    inlined = {slot: _static(name).replace("</script", "<\\/script").replace("</style", "<\\/style")
               for slot, name in _SLOTS.items()}
    page = _static("viewer.html")
    for slot, text in inlined.items():
        page = page.replace(slot, text)
    csp = content_security_policy(inlined["/*METTA_JS*/"], inlined["/*METTA_CSS*/"])
    title = f"{replay['env']}, seed {replay['seed']}, {replay['policy'] or 'policy'}"
    return (page.replace("METTA_CSP", html.escape(csp)).replace("METTA_TITLE", html.escape(title))
            .replace(_DATA_SLOT, blob))


def default_page_path(replay_path: str) -> str:
    base = replay_path[:-len(".json.gz")] if replay_path.endswith(".json.gz") else replay_path
    return base + ".html"


def write_page(replay_path: str, out: str | None = None) -> str:
    """Write the viewer of ``replay_path`` to ``out`` (default: beside it, ``.html``), atomically; return its path."""
    out = out or default_page_path(replay_path)
    page = build_page(replay_path)
    if os.path.dirname(out):
        os.makedirs(os.path.dirname(out), exist_ok=True)
    write_text(out, page)
    return out


class PageServer:
    """Serves one page at ``/`` (and nothing else) on 127.0.0.1; ``port`` 0 takes a free one. ``url`` once started."""

    def __init__(self, page_path: str, port: int = 0):
        page = open(page_path, "rb").read()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server name
                if self.path.split("?")[0] in ("/", "/index.html", "/" + os.path.basename(page_path)):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                else:
                    self.send_error(404, "this server serves one replay page, at /")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self._thread: threading.Thread | None = None  # serving, once started

    def start(self) -> "PageServer":
        self._thread = thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
