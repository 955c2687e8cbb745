"""The outbound address policy: which addresses the server may connect to
when it calls a URL an API user gave (webhook subscriptions, booking feeds).

Such a URL is server-side request forgery waiting to happen: a key holder
names ``http://127.0.0.1:8086/`` (the InfluxDB HTTP API), Grafana, the cloud
metadata service at 169.254.169.254 or a neighbour of the records database,
and the server sends the request from inside the network. So an address is
refused when it is loopback, private (RFC 1918, IPv6 unique local),
link-local, multicast, unspecified, carrier-grade NAT (RFC 6598) or otherwise
not globally routable, unless the administrator's allow-list
(``outbound_allowed_networks``) names its network or the URL's host name.

The check runs twice: when the URL is given (``check_url``: a clear 422) and
at every connection (``addresses``, used by ``core.outbound_http``), against
the very address then connected to, so a name that resolves to a public
address at creation and to 127.0.0.1 later (DNS rebinding) is still refused.
Light: the standard library only.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> the addresses it resolves to, as getaddrinfo would give them
Resolver = Callable[[str, int], list[str]]

SETTING = "outbound_allowed_networks"

# What each refused range is, for the message; anything else not globally
# routable (documentation, benchmarking, reserved ranges) is refused as such.
_NAMED: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("10.0.0.0/8", "private (RFC 1918)"),
    ("100.64.0.0/10", "carrier-grade NAT (RFC 6598)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private (RFC 1918)"),
    ("192.168.0.0/16", "private (RFC 1918)"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fc00::/7", "private (unique local)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
)
NAMED_RANGES: tuple[tuple[Network, str], ...] = tuple(
    (ipaddress.ip_network(net), what) for net, what in _NAMED
)
# IPv6 forms that carry an IPv4 address the packets end up at
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NETWORKISH = re.compile(r"[0-9a-f:.]+(/[0-9]+)?")


class OutboundRefused(ValueError):
    """A URL or address the policy does not let the server call."""


def embedded_v4(ip: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4), if any."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    return None


def refused_kind(ip: Address) -> str | None:
    """Why the address is refused by default (None: a public address)."""
    inner = embedded_v4(ip)
    if inner is not None:
        return refused_kind(inner)
    for net, what in NAMED_RANGES:
        if ip.version == net.version and ip in net:
            return what
    if not ip.is_global:
        return "non-public"
    return None


def _address(text: str) -> Address:
    # getaddrinfo gives IPv6 link-local answers with their zone ("fe80::1%eth0")
    return ipaddress.ip_address(text.split("%", 1)[0])


def _is_literal(host: str) -> bool:
    try:
        _address(host)
    except ValueError:
        return False
    return True


def system_resolver(host: str, port: int) -> list[str]:
    answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(a[4][0]) for a in answers))


def _host_key(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def parse_allowed(text: str) -> tuple[tuple[Network, ...], frozenset[str]]:
    """The allow-list setting: comma- or space-separated networks (CIDR or a
    single address) and host names. Raises ValueError naming a bad entry."""
    networks: list[Network] = []
    hosts: set[str] = set()
    for raw in text.replace(",", " ").split():
        entry = _host_key(raw)
        try:
            networks.append(ipaddress.ip_network(entry, strict=True))
            continue
        except ValueError as exc:
            if _NETWORKISH.fullmatch(entry) and (":" in entry or entry[0].isdigit()):
                raise ValueError(f"{SETTING}: {raw!r} is not a network: {exc}") from None
        label = entry.replace("-", "").split(".")
        if not all(part.isalnum() and part.isascii() for part in label):
            raise ValueError(f"{SETTING}: {raw!r} is neither a network nor a host name")
        hosts.add(entry)
    return tuple(networks), frozenset(hosts)


@dataclass(frozen=True)
class OutboundPolicy:
    """Empty allow-list by default: only public addresses."""

    networks: tuple[Network, ...] = ()
    hosts: frozenset[str] = frozenset()
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_setting(cls, text: str, *, resolver: Resolver = system_resolver) -> OutboundPolicy:
        networks, hosts = parse_allowed(text)
        return cls(networks, hosts, resolver)

    def _allowed(self, ip: Address) -> bool:
        inner = embedded_v4(ip)
        return any(ip in n or (inner is not None and inner in n) for n in self.networks)

    def refusal(self, host: str, ip: Address) -> str | None:
        """Why connecting to ``ip`` for ``host`` is refused (None: allowed)."""
        if _host_key(host) in self.hosts or self._allowed(ip):
            return None
        kind = refused_kind(ip)
        if kind is None:
            return None
        named = "" if _host_key(host) == str(ip) else f"{host} resolves to "
        inner = embedded_v4(ip)
        shown = f"{ip} (that is {inner})" if inner is not None else str(ip)
        article = "an" if kind[0] in "aeiou" else "a"
        return (
            f"{named}{shown}, {article} {kind} address: the server calls no internal "
            f"address unless the administrator lists it in {SETTING}"
        )

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for ``host``, each checked; raises
        OutboundRefused if any answer is refused (a name with one internal
        answer is not called at all) or the name does not resolve."""
        key = _host_key(host)
        try:
            # an address literal needs no lookup; other spellings of one
            # (2130706433, 0177.0.0.1) are the resolver's, as the client's are
            answers = [str(_address(key))] if _is_literal(key) else self.resolver(key, port)
        except (OSError, UnicodeError) as exc:
            raise OutboundRefused(f"{host} does not resolve ({exc})") from None
        if not answers:
            raise OutboundRefused(f"{host} does not resolve")
        for text in answers:
            reason = self.refusal(host, _address(text))
            if reason is not None:
                raise OutboundRefused(reason)
        return answers

    def check_url(self, url: str) -> None:
        """Raises OutboundRefused unless the server may call ``url`` now."""
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise OutboundRefused(f"bad port ({exc})") from None
        if not parts.hostname:
            raise OutboundRefused(f"no host in {url!r}")
        self.addresses(parts.hostname, port)
