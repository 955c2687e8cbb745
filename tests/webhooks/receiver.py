"""A real local HTTP receiver of webhooks that checks every signature itself
(the HMAC is computed here, from the specification, not by ``webhooks.signing``)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def expected_signature(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, msg_id.encode() + b"." + timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


@dataclass
class Hit:
    at: float  # time.monotonic() on arrival
    msg_id: str
    timestamp: str
    signatures: list[str]
    body: bytes
    status: int  # what the receiver answered

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)

    def signed_by(self, secret: str) -> bool:
        want = expected_signature(secret, self.msg_id, self.timestamp, self.body)
        return any(hmac.compare_digest(want, s) for s in self.signatures)


@dataclass
class Receiver:
    """``answer(hit_number, body) -> status``: 200 by default."""

    port: int = 0
    answer: Callable[[int, dict[str, Any]], int] = lambda _n, _body: 200
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with receiver.lock:
                    n = len(receiver.hits)
                    status = receiver.answer(n, json.loads(body))
                    receiver.hits.append(
                        Hit(
                            at=time.monotonic(),
                            msg_id=self.headers["webhook-id"],
                            timestamp=self.headers["webhook-timestamp"],
                            signatures=self.headers["webhook-signature"].split(" "),
                            body=body,
                            status=status,
                        )
                    )
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def ok_hits(self) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if 200 <= h.status < 300]

    def wait_for(self, predicate: Callable[[Receiver], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return
            time.sleep(0.02)
        raise AssertionError(f"receiver: condition not met in {timeout} s; hits={self.hits}")
