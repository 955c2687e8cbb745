"""The outbound address policy (core/outbound.py): which addresses a URL an API
user gave may reach. The expected kinds are the ranges of RFC 1918, RFC 6598,
RFC 3927, RFC 4193, RFC 4291 and RFC 6052, written out here, not read from
the code's table."""

from __future__ import annotations

import ipaddress
import re

import pytest

from core.outbound import OutboundPolicy, OutboundRefused, parse_allowed, refused_kind

KINDS = [
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.1.2.3", "private (RFC 1918)"),
    ("172.16.0.1", "private (RFC 1918)"),
    ("172.31.255.255", "private (RFC 1918)"),
    ("192.168.1.1", "private (RFC 1918)"),
    ("100.64.0.1", "carrier-grade NAT (RFC 6598)"),
    ("100.127.255.254", "carrier-grade NAT (RFC 6598)"),
    ("169.254.169.254", "link-local"),  # the cloud metadata service
    ("224.0.0.251", "multicast"),
    ("0.0.0.0", "unspecified"),
    ("255.255.255.255", "reserved"),
    ("192.0.2.10", "non-public"),  # documentation (TEST-NET-1)
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fe80::1", "link-local"),
    ("fd12:3456::1", "private (unique local)"),
    ("ff02::1", "multicast"),
    ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
    ("::ffff:10.0.0.1", "private (RFC 1918)"),
    ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 of 169.254.169.254
    ("2002:c0a8:101::1", "private (RFC 1918)"),  # 6to4 of 192.168.1.1
    # public ones, just outside the ranges above
    ("172.32.0.1", None),
    ("100.128.0.1", None),
    ("8.8.8.8", None),
    ("2001:4860:4860::8888", None),
    ("::ffff:8.8.8.8", None),
]


@pytest.mark.parametrize(("address", "kind"), KINDS)
def test_each_range_is_refused_with_its_name(address: str, kind: str | None) -> None:
    assert refused_kind(ipaddress.ip_address(address)) == kind


# Spellings of loopback and link-local addresses, resolved by the system's own
# resolver (getaddrinfo, as an HTTP client would): decimal, octal, hex and
# short IPv4 forms, IPv6 forms, and "localhost" from /etc/hosts.
SPELLINGS = [
    ("http://2130706433/", "127.0.0.1, a loopback"),
    ("http://0177.0.0.1/", "127.0.0.1, a loopback"),
    ("http://0x7f000001/", "127.0.0.1, a loopback"),
    ("http://127.1:8086/api/v2/write", "127.0.0.1, a loopback"),
    ("http://[::1]:3000/", "::1, a loopback"),
    ("http://[::ffff:127.0.0.1]/", "(that is 127.0.0.1), a loopback"),
    ("http://[fe80::1]/", "fe80::1, a link-local"),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local"),
    ("https://localhost/", "localhost resolves to 127.0.0.1, a loopback"),
    ("http://LOCALHOST./", "resolves to 127.0.0.1, a loopback"),
    ("http://0.0.0.0:8000/", "0.0.0.0, an unspecified"),
]


@pytest.mark.parametrize(("url", "said"), SPELLINGS)
def test_every_spelling_of_an_internal_address_is_refused(url: str, said: str) -> None:
    with pytest.raises(OutboundRefused) as caught:
        OutboundPolicy().check_url(url)
    assert said in str(caught.value)
    assert "outbound_allowed_networks" in str(caught.value)


def test_a_public_address_and_an_unresolvable_name() -> None:
    OutboundPolicy().check_url("https://8.8.8.8/hook")
    OutboundPolicy().check_url("https://[2001:4860:4860::8888]:8443/hook")
    # .invalid never resolves (RFC 6761): nothing to check, so it is refused
    with pytest.raises(OutboundRefused, match="does not resolve"):
        OutboundPolicy().check_url("https://receiver.invalid/hook")


def hosts(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    """A hosts-file style resolver. Used because no real name resolves to a
    private address on the test machine and the system resolver cannot be
    pointed at a DNS server of the test's own (/etc/resolv.conf is outside
    the repository). "localhost" above is the real-resolver case."""

    def resolve(host: str, _port: int) -> list[str]:
        if host not in table:
            raise OSError(f"{host}: unknown")
        return table[host]

    return resolve


def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    policy = OutboundPolicy(
        resolver=hosts(
            {
                "influx.corp.example": ["10.20.0.7"],
                "split.example": ["93.184.216.34", "192.168.0.10"],
                "v6.example": ["fd00::8086"],
                "public.example": ["93.184.216.34", "2606:2800:220:1::1"],
            }
        )
    )
    said = "influx.corp.example resolves to 10.20.0.7"
    with pytest.raises(OutboundRefused, match=re.escape(said)):
        policy.check_url("https://influx.corp.example/api/v2/query")
    # one internal answer among public ones: the name is not called at all
    with pytest.raises(OutboundRefused, match=re.escape("192.168.0.10, a private")):
        policy.check_url("https://split.example/")
    with pytest.raises(OutboundRefused, match="fd00::8086, a private"):
        policy.check_url("https://v6.example/")
    policy.check_url("https://public.example/hook")
    assert policy.addresses("public.example", 443) == ["93.184.216.34", "2606:2800:220:1::1"]


def test_the_allow_list_admits_networks_and_named_hosts_only() -> None:
    policy = OutboundPolicy.from_setting(
        "10.20.0.0/16, 127.0.0.0/8 calendar.corp.example",
        resolver=hosts(
            {
                "influx.corp.example": ["10.20.0.7"],
                "calendar.corp.example": ["192.168.5.5"],
                "grafana.corp.example": ["10.30.0.3"],
                "localhost": ["127.0.0.1"],
            }
        ),
    )
    policy.check_url("https://influx.corp.example/")  # in 10.20.0.0/16
    policy.check_url("https://calendar.corp.example/rooms.ics")  # named
    policy.check_url("https://CALENDAR.corp.example./rooms.ics")  # the same name
    policy.check_url("http://localhost:8000/")
    policy.check_url("http://[::ffff:127.0.0.1]:8000/")  # the mapped form of 127/8
    with pytest.raises(OutboundRefused, match=re.escape("10.30.0.3")):
        policy.check_url("https://grafana.corp.example/")
    with pytest.raises(OutboundRefused, match="::1, a loopback"):
        policy.check_url("http://[::1]/")  # 127.0.0.0/8 is IPv4 only
    with pytest.raises(OutboundRefused, match=re.escape("169.254.169.254")):
        policy.check_url("http://169.254.169.254/")


def test_a_named_host_does_not_admit_its_address_under_another_name() -> None:
    policy = OutboundPolicy.from_setting("localhost")
    policy.check_url("http://localhost/")
    with pytest.raises(OutboundRefused, match=re.escape("127.0.0.1, a loopback")):
        policy.check_url("http://127.0.0.1/")


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("127.0.0.1/8", "has host bits set"),
        ("999.1.1.1", "is not a network"),
        ("10.0.0.0/33", "is not a network"),
        ("fe80::/200", "is not a network"),
        ("intranet_calendar", "neither a network nor a host name"),
        ("http://calendar.corp/", "neither a network nor a host name"),
    ],
)
def test_a_bad_allow_list_entry_is_named(setting: str, said: str) -> None:
    with pytest.raises(ValueError, match="outbound_allowed_networks") as caught:
        parse_allowed(setting)
    assert said in str(caught.value) and setting in str(caught.value)


def test_the_allow_list_parses_to_networks_and_hosts() -> None:
    networks, names = parse_allowed(" 127.0.0.0/8,::1  10.0.0.5 Calendar.Corp.example. ")
    assert [str(n) for n in networks] == ["127.0.0.0/8", "::1/128", "10.0.0.5/32"]
    assert names == {"calendar.corp.example"}
    assert parse_allowed("") == ((), frozenset())
