"""The HTTP front: a stdlib threading server on loopback that delegates to `responses.handle`."""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import cast
from urllib.parse import urlsplit

from pipeline.simulator.config import SimulatorConfig
from pipeline.simulator.gateway import SimulatorState
from pipeline.simulator.responses import Reply, Request, error_reply

logger = logging.getLogger(__name__)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    # Without this, Nagle + delayed ACK cap a keep-alive connection at ~23 requests/s.
    disable_nagle_algorithm = True
    server_version = "HyperSimulator/1.0"
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True  # the body's end is unknown: the stream is unusable
            self._send(error_reply(400, 7, "Please fill up the required fields."))
            return
        body = self.rfile.read(length) if length else b""
        request = Request(
            self.command,
            self.path,
            # Message looks headers up case-insensitively, as HTTP wants; a dict would not.
            cast(Mapping[str, str], self.headers),
            body,
        )
        try:
            reply = self.server.state.serve(request, datetime.now(UTC), self.client_address[0])
        except Exception:
            logger.exception("simulator failed on %s %s", self.command, urlsplit(self.path).path)
            reply = error_reply(500, 5, "Technical error")
        if reply.delay_seconds > 0:
            time.sleep(reply.delay_seconds)
        if reply.reset:
            self._reset()
            return
        try:
            self._send(reply)
        except OSError:  # the client gave up (read timeout) and closed: nothing to answer
            self.close_connection = True

    def _reset(self) -> None:
        """Drop the connection with a TCP RST, as a crashing proxy would."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _send(self, reply: Reply) -> None:
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Path only: a query string may carry API_Password.
        logger.debug("%s %s -> %s", self.command, urlsplit(self.path).path, code)

    def log_message(self, format: str, *args: object) -> None:
        """Silenced: the base class would echo request lines (and so query strings)."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # idle keep-alive connections must not block shutdown

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.state = SimulatorState(config)
        super().__init__((config.host, config.port), _Handler)


class SimulatorServer:
    """A simulated Hyper instance serving in a daemon thread; use as a context manager."""

    def __init__(self, config: SimulatorConfig = SimulatorConfig()) -> None:  # noqa: B008
        self.config = config
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SimulatorServer:
        if self._httpd is not None:
            raise RuntimeError("simulator already started")
        self._httpd = _HTTPServer(self.config)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"hyper-simulator-{self._httpd.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = self._thread = None

    @property
    def state(self) -> SimulatorState:
        """Tokens, rate windows and per-client attempt counts (for tests and benches)."""
        if self._httpd is None:
            raise RuntimeError("simulator not started")
        return self._httpd.state

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("simulator not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
