"""An httpx client that connects only where the outbound policy allows
(``core.outbound``), checked at connection time against the address actually
connected to.

httpx resolves and connects in httpcore's network backend
(``httpcore.ConnectionPool(network_backend=...)``, whose ``connect_tcp`` gets
the URL's host and port). The guarded backend resolves the host once, checks
every answer, and connects to a checked address by its number, so the
resolver is not asked again between the check and the connection (DNS
rebinding). TLS still verifies the certificate against the URL's host name:
httpcore passes that name to ``start_tls`` separately. Every hop of a
followed redirect opens its connection here too, so a redirect to an internal
address is refused like the address itself.

No proxy is used (``trust_env`` off): behind a proxy the check would see only
the proxy's address.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable

import httpcore
import httpx

from core.outbound import OutboundPolicy, OutboundRefused

__all__ = ["OutboundRefused", "guarded_client"]


class _GuardedBackend(httpcore.NetworkBackend):
    def __init__(self, policy: OutboundPolicy):
        self.policy = policy
        self.inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in self.policy.addresses(host, port):
            try:
                return self.inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc  # the next address, as socket.create_connection would
        assert failure is not None  # addresses() answers at least one
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise OutboundRefused("the server does not call Unix sockets for a URL it was given")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    def __init__(self, policy: OutboundPolicy, *, verify: ssl.SSLContext | bool = True):
        super().__init__(trust_env=False)
        # httpx's HTTPTransport takes no network backend of its own; its pool
        # is replaced by one that has the guarded backend
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            network_backend=_GuardedBackend(policy),
        )


def guarded_client(
    policy: OutboundPolicy,
    *,
    timeout: float,
    follow_redirects: bool,
    verify: ssl.SSLContext | bool = True,
) -> httpx.Client:
    """A client for URLs API users gave. Raises ``OutboundRefused`` (not an
    ``httpx.HTTPError``) from a request to a refused address. ``verify``:
    the TLS context (default: the system's CAs)."""
    return httpx.Client(
        transport=GuardedTransport(policy, verify=verify),
        timeout=timeout,
        follow_redirects=follow_redirects,
        trust_env=False,
    )
