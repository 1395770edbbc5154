"""The witness over HTTP (C2SP tlog-witness): ``POST <prefix>/add-checkpoint`` and the
monitoring ``GET <prefix>/<origin hash>/checkpoint``, on the standard library's
``http.server`` with HTTP/1.1 keep-alive (the spec: witnesses SHOULD support it).

Loopback by default: a witness for a neighbouring library sits behind its own reverse
proxy (TLS) or an https-bastion; exposing the key-holding process directly is the
operator's choice, made with ``--listen``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO

from ledger.witness.service import MAX_BODY, TEXT, Response, add_checkpoint
from ledger.witness.state import WitnessDir, origin_hash

_CHECKPOINT_PATH = re.compile(r"/([0-9a-f]{64})/checkpoint")


class WitnessServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        address: tuple[str, int],
        witness: WitnessDir,
        clock: Callable[[], datetime],
        prefix: str = "",
        log: TextIO | None = sys.stderr,
    ) -> None:
        self.witness = witness
        self.clock = clock
        self.prefix = prefix.rstrip("/")
        self.log = log
        super().__init__(address, WitnessHandler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}{self.prefix}"


class WitnessHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: without TCP_NODELAY the body waits for the
    # peer's delayed ACK (~40 ms on Linux) on every keep-alive request.
    disable_nagle_algorithm = True
    server: WitnessServer
    server_version = "custodes-witness"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        if self.path != f"{self.server.prefix}/add-checkpoint":
            self.close_connection = True  # the body was not read: the stream is unusable
            self._send(Response(404, b"not found: POST <prefix>/add-checkpoint\n"))
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self.close_connection = True
            self._send(Response(411, b"Content-Length required\n"))
            return
        if int(length) > MAX_BODY:
            self.close_connection = True
            self._send(Response(413, b"request body too large\n"))
            return
        body = self.rfile.read(int(length))
        self._send(add_checkpoint(self.server.witness, body, self.server.clock()))

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        prefix = self.server.prefix
        match = (
            _CHECKPOINT_PATH.fullmatch(self.path[len(prefix) :])
            if self.path.startswith(prefix)
            else None
        )
        if match is None:
            self._send(Response(404, b"not found\n"))
            return
        for origin in self.server.witness.logs:
            if origin_hash(origin) == match.group(1):
                latest = self.server.witness.latest(origin)
                if latest is not None:
                    self._send(Response(200, latest.note.encode("utf-8"), TEXT))
                    return
        self._send(Response(404, b"this witness has not cosigned a checkpoint of that log\n"))

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        if self.server.log is not None:
            self.server.log.write(
                f"{self.log_date_time_string()} {self.address_string()} {format % args}\n"
            )
            self.server.log.flush()
