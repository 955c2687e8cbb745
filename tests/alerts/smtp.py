"""A real local SMTP server (aiosmtpd) that offers STARTTLS with a
certificate from a throw-away CA (trustme), requires it before AUTH LOGIN or
PLAIN, and keeps every message it accepts."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.servers import free_port

USER = "alerts@example.org"
PASSWORD = "s3cret-for-tests"


@dataclass
class Received:
    message: EmailMessage
    rcpt: list[str]
    tls: bool
    login: str | None


@dataclass
class SmtpServer:
    port: int
    ca_file: Path
    password_file: Path
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= n:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"expected {n} message(s), got {len(self.received)}")


class _Handler:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        data = session.auth_data
        login = (
            data.login.decode()
            if session.authenticated and isinstance(data, LoginPassword)
            else None
        )
        got = Received(msg, list(envelope.rcpt_tos), session.ssl is not None, login)  # type: ignore[arg-type]
        with self.server.lock:
            self.server.received.append(got)
        return "250 OK"


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login == USER.encode()
        and data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False, auth_data=data if ok else None)


@contextmanager
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(tls)
    ca_file = tmp_path / "smtp-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    password_file = tmp_path / "smtp-password"
    password_file.write_text(PASSWORD + "\n")
    server = SmtpServer(free_port(), ca_file, password_file)
    controller = Controller(
        _Handler(server),
        hostname="127.0.0.1",
        port=server.port,
        tls_context=tls,
        require_starttls=True,
        authenticator=_authenticate,
        auth_required=True,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
