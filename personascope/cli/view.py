"""``personascope view``: the report page served live on loopback, rebuilt on every load,
for experiments still running."""

from __future__ import annotations

import argparse
import html
import signal
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from personascope.cli._common import Subparsers, arg, command
from personascope.cli.evaluate import REPORT_ARGS, page_of
from personascope.errors import PersonascopeError


def page_server(build: Callable[[], str], port: int = 0) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 (``port`` 0: a free one) answering ``/`` with ``build()``:
    loopback only, because the page shows every answer and memory of the experiment."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] not in ("/", "/index.html"):
                self._send(404, "text/plain", b"not found")
                return
            try:
                body, status = build().encode("utf-8"), 200
            except PersonascopeError as exc:  # e.g. no results yet: say so, and look again soon
                text = f"<meta http-equiv='refresh' content='5'><p>{html.escape(str(exc))} (retrying)</p>"
                body, status = text.encode("utf-8"), 503
            self._send(status, "text/html; charset=utf-8", body)

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")  # a reload always shows the newest runs
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the terminal shows the address, not every request

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    return server


def _view(args: argparse.Namespace) -> int:
    server = page_server(lambda: page_of(args, live=True)[0], args.port)
    host, port = server.server_address[:2]
    print(
        f"serving the report of {args.experiment_dir} at http://{host!s}:{port}/ (Ctrl-C stops)", flush=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
    print("stopped")
    return 0


def register(sub: Subparsers) -> None:
    command(
        sub,
        "view",
        "serve the report page live on 127.0.0.1 (rebuilt on every reload; Ctrl-C stops)",
        _view,
        *REPORT_ARGS,
        arg("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)"),
    )
