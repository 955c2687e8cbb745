"""Entrance counts (people counters) through the ingest's steps, fed bytes
directly: every outcome worked out by hand from the example site's entrance
f1-palvelu-ovi (zone f1-asiakas, counter c-f1-palvelu-ovi of agent-f1-lora)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from core.messages import RawMessage
from core.registry import Registry, Site, load_registry
from core.topics import Topics
from ingest.counts import CounterTotals
from ingest.pipeline import (
    CountsRules,
    Limits,
    Outcome,
    PresenceTopics,
    Reason,
    Rejected,
    dead_receipt,
    process,
)
from tests.conftest import EXAMPLE_SITES
from tests.ingest.messages import counts_payload, counts_topic

NOW = datetime(2026, 1, 5, 8, 1, tzinfo=UTC)
END = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
END_NS = 1_767_600_000 * 1_000_000_000  # 2026-01-05T08:00:00Z, worked out by hand
DOOR = "f1-palvelu-ovi"
TOPIC = counts_topic(DOOR)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(EXAMPLE_SITES)


def run(
    registry: Registry, payload: bytes, *, topic: str = TOPIC, rules: CountsRules | None = None
) -> Outcome:
    raw = RawMessage(topic=topic, payload=payload, qos=1, retain=False, received_at=NOW)
    return process(
        raw,
        topics=Topics(),
        registry=registry,
        limits=Limits(),
        now=NOW,
        known=PresenceTopics(registry, Topics()),
        counts=rules,
    )


def rejected(registry: Registry, payload: bytes, *, topic: str = TOPIC) -> Rejected:
    with pytest.raises(Rejected) as info:
        run(registry, payload, topic=topic)
    return info.value


def test_counts_become_one_point_with_the_entrance_tags(registry: Registry) -> None:
    out = run(
        registry,
        counts_payload(DOOR, END, in_count=7, out_count=3, seq=41, total_in=120, total_out=98),
    )
    assert len(out.points) == 1
    p = out.points[0]
    assert p.measurement == "entrance_counts"
    assert dict(p.tags) == {"site": "virastotalo", "entrance": DOOR, "zone": "f1-asiakas"}
    assert dict(p.fields) == {
        "in_count": 7,
        "out_count": 3,
        "interval_s": 600.0,
        "seq": 41,
        "sensor": "c-f1-palvelu-ovi",
        "agent": "agent-f1-lora",
        "hb": 600.0,  # no heartbeat_interval_s: the interval is the heartbeat
        "total_in": 120,
        "total_out": 98,
        "reset": 0,
    }
    assert p.time_ns == END_NS
    assert out.counts_reset is False
    # the edge agent keeps it in its outbox until confirmed
    assert out.receipt is not None
    assert (out.receipt.site, out.receipt.agent, out.receipt.seq) == (
        "virastotalo",
        "agent-f1-lora",
        41,
    )


def test_a_quiet_interval_is_stored_as_zeros(registry: Registry) -> None:
    out = run(registry, counts_payload(DOOR, END, heartbeat_interval_s=900.0))
    f = out.points[0].fields
    assert (f["in_count"], f["out_count"], f["hb"]) == (0, 0, 900.0)
    assert "total_in" not in f


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (counts_topic("nowhere"), counts_payload("nowhere", END), Reason.UNKNOWN_ENTRANCE),
        (counts_topic(DOOR), counts_payload("f1-other", END), Reason.TOPIC_MISMATCH),
        (counts_topic(DOOR, "elsewhere"), counts_payload(DOOR, END), Reason.UNKNOWN_SITE),
        (TOPIC, counts_payload(DOOR, END, sensor="c-forged"), Reason.IDENTITY_MISMATCH),
        (TOPIC, counts_payload(DOOR, END, agent="agent-f1"), Reason.IDENTITY_MISMATCH),
        (TOPIC, b"{not json", Reason.INVALID_JSON),
        (TOPIC, b"[1, 2]", Reason.SCHEMA),
        (TOPIC, counts_payload(DOOR, END, in_count=-1), Reason.SCHEMA),
        (TOPIC, counts_payload(DOOR, END, in_count="7"), Reason.SCHEMA),  # strict integers
        (TOPIC, counts_payload(DOOR, END, in_count=2.5), Reason.SCHEMA),
        (TOPIC, counts_payload(DOOR, END, interval_s=0), Reason.SCHEMA),
        (TOPIC, counts_payload(DOOR, END, total_in=-3), Reason.SCHEMA),
        (TOPIC, counts_payload(DOOR, END + timedelta(hours=1)), Reason.FUTURE_TIME),
        (TOPIC, counts_payload(DOOR, END - timedelta(days=31)), Reason.TOO_OLD),
    ],
)
def test_bad_counts_are_dead_letters(
    registry: Registry, topic: str, payload: bytes, reason: Reason
) -> None:
    assert rejected(registry, payload, topic=topic).reason is reason


def test_an_entrance_without_a_counter_takes_no_counts() -> None:
    site = yaml.safe_load((EXAMPLE_SITES / "virastotalo.yaml").read_text("utf-8"))
    del site["entrances"][0]["counter"]
    registry = Registry({"virastotalo": Site.model_validate(site)})
    exc = rejected(registry, counts_payload(DOOR, END))
    assert exc.reason is Reason.IDENTITY_MISMATCH
    assert "no counter bound" in exc.detail


def test_absurd_rates_are_dead_letters(registry: Registry) -> None:
    # 10,000 people in one minute: 10,000 per minute, over the 1000 default
    exc = rejected(registry, counts_payload(DOOR, END, in_count=10_000, interval_s=60))
    assert exc.reason is Reason.IMPLAUSIBLE_COUNT
    assert "10000 people a minute" in exc.detail
    # 1000 in + 0 out over 60 s is exactly at the ceiling: accepted
    assert run(registry, counts_payload(DOOR, END, in_count=1000, interval_s=60)).points
    # 600 + 401 over 60 s = 1001 a minute: rejected
    exc = rejected(registry, counts_payload(DOOR, END, in_count=600, out_count=401, interval_s=60))
    assert exc.reason is Reason.IMPLAUSIBLE_COUNT
    # the same 10,000 over a day (86,400 s) is 6.9 a minute: a busy day, accepted
    assert run(registry, counts_payload(DOOR, END, in_count=10_000, interval_s=86_400)).points
    # the ceiling is a setting
    strict = CountsRules(max_per_minute=5.0)
    with pytest.raises(Rejected):
        run(registry, counts_payload(DOOR, END, in_count=31, interval_s=360), rules=strict)
    assert run(registry, counts_payload(DOOR, END, in_count=30, interval_s=360), rules=strict)


def _reset(out: Outcome) -> int:
    value = out.points[0].fields["reset"]
    assert isinstance(value, int)
    return value


def test_a_total_below_the_intervals_own_count_is_a_reset(registry: Registry) -> None:
    # 5 in during the interval but the total is 2: the counter restarted in it
    out = run(registry, counts_payload(DOOR, END, in_count=5, total_in=2, total_out=0))
    assert _reset(out) == 1
    assert out.points[0].fields["in_count"] == 5  # stored as given


def test_totals_going_backwards_flag_the_interval_not_negative_deltas(registry: Registry) -> None:
    rules = CountsRules(totals=CounterTotals())
    step = timedelta(minutes=10)

    def at(k: int, tin: int, tout: int, i: int = 0, o: int = 0) -> Outcome:
        payload = counts_payload(
            DOOR, END + k * step - 4 * step, in_count=i, out_count=o, seq=k,
            total_in=tin, total_out=tout,
        )  # fmt: skip
        return run(registry, payload, rules=rules)

    assert _reset(at(0, 100, 90)) == 0
    assert _reset(at(1, 104, 93, 4, 3)) == 0
    # power cut: the totals restart; 2 in, 1 out in this interval
    third = at(2, 2, 1, 2, 1)
    assert _reset(third) == 1
    assert (third.points[0].fields["in_count"], third.points[0].fields["out_count"]) == (2, 1)
    assert _reset(at(3, 5, 1, 3, 0)) == 0  # counting on from the new zero
    # the redelivered reset interval is flagged again (its point overwrites itself alike)
    assert _reset(at(2, 2, 1, 2, 1)) == 1
    # a late interval between 0 and 1 is compared with interval 0 before it
    late = counts_payload(
        DOOR, END - 4 * step + step / 2, in_count=1, seq=9, total_in=101, total_out=90
    )
    assert _reset(run(registry, late, rules=rules)) == 0


def test_only_out_going_back_is_a_reset_too(registry: Registry) -> None:
    rules = CountsRules(totals=CounterTotals())
    first = counts_payload(DOOR, END - timedelta(minutes=10), total_in=10, total_out=10)
    second = counts_payload(DOOR, END, total_in=12, total_out=3, in_count=2)
    assert _reset(run(registry, first, rules=rules)) == 0
    assert _reset(run(registry, second, rules=rules)) == 1


def test_a_counts_dead_letter_is_confirmed_to_its_bound_agent_only(registry: Registry) -> None:
    known = PresenceTopics(registry, Topics())
    bad = counts_payload(DOOR, END, in_count=10_000, interval_s=60, seq=12)
    raw = RawMessage(topic=TOPIC, payload=bad, qos=1, retain=False, received_at=NOW)
    receipt = dead_receipt(raw, known=known)
    assert receipt is not None and (receipt.site, receipt.agent, receipt.seq) == (
        "virastotalo",
        "agent-f1-lora",
        12,
    )
    forged = json.loads(bad)
    forged["agent_id"] = "agent-f2"
    raw = RawMessage(
        topic=TOPIC, payload=json.dumps(forged).encode(), qos=1, retain=False, received_at=NOW
    )
    assert dead_receipt(raw, known=known) is None


def test_the_counter_agent_may_report_its_status(registry: Registry) -> None:
    payload = json.dumps(
        {"agent_id": "agent-f1-lora", "state": "online", "event_time": "2026-01-05T08:00:00Z"}
    ).encode()
    out = run(registry, payload, topic="occupancy/v1/virastotalo/agents/agent-f1-lora/status")
    assert out.points[0].measurement == "agent_status"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


def _outcome(registry: Registry, topic: str, payload: bytes, *, fast: bool) -> object:
    raw = RawMessage(topic=topic, payload=payload, qos=1, retain=False, received_at=NOW)
    known = PresenceTopics(registry, Topics()) if fast else None
    try:
        out = process(
            raw, topics=Topics(), registry=registry, limits=Limits(), now=NOW, known=known
        )
    except Rejected as exc:
        return (exc.reason, exc.detail)
    return (out.points, out.receipt, out.counts_reset)


_KEYS = ["entrance_id", "in_count", "out_count", "interval_s", "event_time", "seq",
         "total_in", "total_out", "sensor_id", "extra"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    key=st.sampled_from(_KEYS),
    value=_json,
    cut=st.integers(min_value=0, max_value=300),
)
def test_fast_path_agrees_with_the_named_steps(
    registry: Registry, key: str, value: object, cut: int
) -> None:
    # valid, invalid, truncated and absurd payloads: the fast path must give the
    # very points (and receipt), or the very rejection, of the step-by-step way
    good = counts_payload(DOOR, END, in_count=3, out_count=1, total_in=9, total_out=4)
    body = json.dumps({**json.loads(good), key: value}).encode()
    absurd = counts_payload(DOOR, END, in_count=cut * 100, interval_s=max(cut, 1) / 10)
    for payload in (body, body[:cut], good, absurd):
        for topic in (TOPIC, counts_topic("nowhere")):
            fast = _outcome(registry, topic, payload, fast=True)
            assert fast == _outcome(registry, topic, payload, fast=False)
