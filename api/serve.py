"""Running the app under uvicorn so that Ctrl-C also ends open event streams.

uvicorn waits for open connections before it shuts the app down, and an event
stream never ends by itself; so the signal handler tells the app first.
"""

from __future__ import annotations

import contextlib
import socket
from types import FrameType

import uvicorn
from fastapi import FastAPI


class _Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: FastAPI):
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._app.state.ctx.closing.set()
        super().handle_exit(sig, frame)


def port_unavailable(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on (e.g. "Address already in use"), or None.

    SO_REUSEADDR as the servers themselves set it: connections of a server just
    stopped, lingering in TIME_WAIT, must not count as "in use".
    """
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def serve(app: FastAPI, *, host: str, port: int, log_level: str = "info") -> None:
    """Serve until Ctrl-C or SIGTERM; returns normally after a clean stop."""
    server = _Server(
        uvicorn.Config(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5),
        app,
    )
    # uvicorn re-raises the Ctrl-C it handled; stopping is what was asked for
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
