"""An embedded MQTT broker (amqtt, pure Python) for ``occupancy up``.

It lets the platform run on a fresh machine with no services installed. It
speaks MQTT 3.1.1 only and keeps sessions in memory: fine for a laptop demo and
development, not for production, where Mosquitto (or a cluster) is used.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from typing import Any

from amqtt.plugins.base import BaseAuthPlugin
from amqtt.session import Session

log = logging.getLogger(__name__)


class BrokerStartError(RuntimeError):
    pass


class OpenAuthPlugin(BaseAuthPlugin):
    """Lets every local client in, as an identified (not anonymous) session.

    amqtt keeps no queued messages for anonymous persistent sessions, so with
    its AnonymousAuthPlugin whatever was published while the ingest restarted
    would be lost. Local development only: the broker binds to loopback.
    """

    @dataclass
    class Config:
        """No options (amqtt warns about plugins without a config)."""

    async def authenticate(self, *, session: Session) -> bool:
        return True


class EmbeddedBroker:
    def __init__(self, host: str = "127.0.0.1", port: int = 1883):
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> EmbeddedBroker:
        self._thread = threading.Thread(target=self._run, name="embedded-broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise BrokerStartError(f"embedded MQTT broker did not start in {timeout} s")
        if self._error is not None:
            raise BrokerStartError(
                f"embedded MQTT broker could not listen on {self.host}:{self.port}: {self._error}"
            ) from self._error
        log.info("embedded MQTT broker listening on %s", self.url)
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._start())
        except BaseException as exc:  # reported to start() in the caller's thread
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        loop.run_forever()
        loop.close()

    async def _start(self) -> None:
        from amqtt.broker import Broker

        # Only our auth plugin: amqtt's default ones log every packet at INFO.
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {f"{__name__}.OpenAuthPlugin": {}},
        }
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        self._broker = Broker(config)
        await self._broker.start()

    def stop(self, timeout: float = 10.0) -> None:
        loop, broker = self._loop, self._broker
        if loop is None or broker is None or not loop.is_running():
            return
        fut = asyncio.run_coroutine_threadsafe(broker.shutdown(), loop)
        try:
            fut.result(timeout)
        except Exception as exc:  # shutting down anyway
            log.warning("embedded broker shutdown: %s", exc)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout)
