"""Serving WSGI apps with waitress: in the foreground (`bkntc-sms serve`) or in a thread
(the demo and the browser tests run the very same server)."""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from waitress import serve, wasyncore
from waitress.server import create_server

logger = logging.getLogger(__name__)


def serve_forever(app: Any, host: str, port: int, threads: int = 8) -> None:
    serve(app, host=host, port=port, threads=threads, ident="bkntc-sms")


class BackgroundServer:
    """A waitress server on its own thread; `url` once started, `stop()` to end it."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, threads: int = 8):
        self._server = create_server(app, host=host, port=port, threads=threads,
                                     ident="bkntc-sms")
        self.host = host
        self.port = int(self._server.effective_port)  # type: ignore[union-attr]
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._run, name=f"http-{self.port}",
                                        daemon=True)

    def _run(self) -> None:
        with contextlib.suppress(OSError):  # stop() closed the listening socket
            self._server.run()

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the listener AND every open (keep-alive) connection from inside the
        server's own loop, so its thread ends at once instead of waiting for clients."""
        server: Any = self._server
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        self._thread.join(timeout=10)
        server.task_dispatcher.shutdown()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
