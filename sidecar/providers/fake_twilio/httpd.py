"""The socket side: a threading HTTP/1.1 server whose handlers hand each request to the
FakeTwilio and write its Reply (or, for a simulated timeout, nothing)."""

from __future__ import annotations

import contextlib
import logging
import socketserver
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import FakeTwilio

logger = logging.getLogger(__name__)


class FakeTwilioHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # 64 concurrent clients connect without a refused SYN

    def __init__(self, address: tuple[str, int], fake: FakeTwilio) -> None:
        self.fake = fake
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind() resolves the FQDN, which can stall on a sandbox's DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class _Handler(BaseHTTPRequestHandler):
    server: FakeTwilioHTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, as requests.Session expects
    server_version, sys_version = "FakeTwilio/1.0", ""
    timeout = 60  # an idle keep-alive connection is closed after this many seconds
    disable_nagle_algorithm = True  # else headers and body meet delayed ACKs: +40 ms a call

    def setup(self) -> None:
        super().setup()
        with self.server.fake._lock:
            self.server.fake._connections.add(self.connection)

    def finish(self) -> None:
        with self.server.fake._lock:
            self.server.fake._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        raw = self.rfile.read(length) if length > 0 else b""
        reply = self.server.fake._handle(method, self.path, self.headers.get("Authorization"), raw)
        if reply.hang:
            self.close_connection = True  # the client gave up long ago; answer nothing
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.address_string(), format % args)
