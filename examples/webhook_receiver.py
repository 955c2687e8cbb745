#!/usr/bin/env python3
"""A sample webhook receiver: verifies Standard Webhooks signatures with the
Python standard library only, and prints each verified event.

    WEBHOOK_SECRET=whsec_... python3 examples/webhook_receiver.py --port 9000

Then subscribe http://<this host>:9000/ (docs/integrations.md). Requests with
a missing, wrong or stale signature get 401; a repeated webhook-id gets 200
without being processed again (deliveries are at least once).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import json
import os
import sys
import time
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOLERANCE_S = 5 * 60  # reject timestamps further than this from our clock (replays)
SEEN_MAX = 10_000


class VerificationError(Exception):
    pass


def verify(secrets: list[str], headers: dict[str, str], body: bytes, now: float) -> None:
    """Raises VerificationError unless one signature matches one of ``secrets``.

    Several secrets: during a rotation on the sending side, configure both the
    new and the old one here until the old one's grace period ends."""
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    signatures = headers.get("webhook-signature", "").split()
    if not (msg_id and stamp.isdigit() and signatures):
        raise VerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    if abs(now - int(stamp)) > TOLERANCE_S:
        raise VerificationError("timestamp outside the tolerance")
    signed = f"{msg_id}.{stamp}.".encode() + body  # the raw body, not re-serialised JSON
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        for item in signatures:
            version, _, value = item.partition(",")
            if version == "v1" and hmac.compare_digest(value, expected):
                return
    raise VerificationError("no matching signature")


def make_handler(secrets: list[str]) -> type[BaseHTTPRequestHandler]:
    seen: OrderedDict[str, None] = OrderedDict()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                verify(secrets, headers, body, time.time())
            except VerificationError as exc:
                self._answer(401, str(exc))
                return
            msg_id = headers["webhook-id"]
            if msg_id not in seen:
                seen[msg_id] = None
                if len(seen) > SEEN_MAX:
                    seen.popitem(last=False)
                event = json.loads(body)
                # here a booking system would release the room of a booking.no_show
                print(json.dumps({"webhook_id": msg_id, **event}, ensure_ascii=False), flush=True)
            self._answer(200, "ok")

        def _answer(self, status: int, text: str) -> None:
            data = text.encode()
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            return None

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args(argv)
    secrets = os.environ.get("WEBHOOK_SECRET", "").split()
    if not secrets or not all(s.startswith("whsec_") for s in secrets):
        print("set WEBHOOK_SECRET to the subscription's whsec_ secret(s)", file=sys.stderr)
        return 2
    server = ThreadingHTTPServer((args.host, args.port), make_handler(secrets))
    print(f"listening on http://{args.host}:{server.server_address[1]}/", file=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
