"""Booknetic's licence server (FS Code) as a loopback stub for the WordPress harness
(tests/wp_support.py): the stand-in Booknetic asks it for add-on migrations."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LicenceStub:
    """FS Code's licence server as Booknetic 5.2 meets it for an add-on it does not know:
    every request is recorded and a migration request is answered 404, so Booknetic stores no
    version record and asks again on the next request (as it does in production)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body: Any = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode(errors="replace")
                with stub._lock:
                    stub.calls.append((self.path, body))
                payload = b'{"error":{"message":"unknown add-on"}}'
                self.send_response(404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="licence-stub")
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def migration_requests(self, slug: str) -> int:
        """How many times Booknetic asked for the migrations of add-on `slug`."""
        with self._lock:
            return sum(1 for path, _ in self.calls
                       if path.rstrip("/").endswith(f"/addons/get_migrations/{slug}"))

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
