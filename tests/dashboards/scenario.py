"""A small hand-made scenario written as line protocol, with every expected
figure of the dashboard tests worked out by hand from it (see the comments).

Site s1 is the one looked at; site s2 exists only to prove the site filter.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

# The "now" of the live panels: their queries are run with an explicit range
# ending here, exactly as Grafana would at that moment.
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MON = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
# Local (Europe/Helsinki, UTC+2 in winter) month starts, in UTC.
JAN = datetime(2025, 12, 31, 22, tzinfo=UTC)
FEB = datetime(2026, 1, 31, 22, tzinfo=UTC)


def _ns(t: datetime) -> int:
    return int(t.timestamp()) * 1_000_000_000


def _fields(fields: Mapping[str, object]) -> str:
    out = []
    for k, v in fields.items():
        if isinstance(v, bool):
            raise TypeError("flags are ints in this schema")
        if isinstance(v, int):
            out.append(f"{k}={v}i")
        elif isinstance(v, float):
            out.append(f"{k}={v!r}")
        else:
            out.append(f'{k}="{v}"')
    return ",".join(out)


def _escape(tag_value: str) -> str:
    # line protocol escapes commas, equals signs and spaces in tag values
    for c in ",= ":
        tag_value = tag_value.replace(c, "\\" + c)
    return tag_value


def line(
    measurement: str, tags: Mapping[str, str], fields: Mapping[str, object], t: datetime
) -> str:
    tag_text = ",".join(f"{k}={_escape(v)}" for k, v in sorted(tags.items()))
    return f"{measurement},{tag_text} {_fields(fields)} {_ns(t)}"


SPACES = {
    "d1": {"site": "s1", "floor": "f1", "zone": "z1", "space": "d1", "space_type": "desk"},
    "d2": {"site": "s1", "floor": "f1", "zone": "z1", "space": "d2", "space_type": "desk"},
    "d3": {"site": "s1", "floor": "f2", "zone": "z2", "space": "d3", "space_type": "desk"},
    "r1": {"site": "s1", "floor": "f2", "zone": "z2", "space": "r1", "space_type": "meeting_room"},
    "x1": {"site": "s2", "floor": "f1", "zone": "za", "space": "x1", "space_type": "desk"},
}


def presence() -> list[str]:
    """Latest report per space within the 13-minute live window (09:47-10:00):
    d1 free (09:55; its 09:40 'occupied' is superseded), d2 occupied (09:57),
    r1 occupied with 4 people (09:56), d3 silent since 09:30 (unknown now).
    => occupied 2, reporting 3, people 4; f1 1/2, f2 1/1; z1 1/2, z2 1/1."""
    m = timedelta(minutes=1)
    events = [
        ("d1", NOW - 20 * m, 1, None),
        ("d1", NOW - 5 * m, 0, None),
        ("d2", NOW - 3 * m, 1, None),
        ("r1", NOW - 4 * m, 1, 4),
        ("d3", NOW - 30 * m, 1, None),
        ("x1", NOW - 2 * m, 1, None),
    ]
    out = []
    for seq, (space, t, occ, count) in enumerate(events, start=1):
        fields: dict[str, object] = {"occupied": occ, "seq": seq, "sensor": f"pir-{space}"}
        if count is not None:
            fields["count"] = count
        fields.update({"agent": "a1", "kind": "change", "hb": 300.0})
        out.append(line("presence", SPACES[space], fields, t))
    return out


def agents() -> list[str]:
    """a1 went offline an hour ago; a2 came back online; a3's last status is
    older than the 30-day window; b1 is at the other site. => offline: a1."""
    h = timedelta(hours=1)
    rows = [
        ("s1", "a1", NOW - 48 * h, 1),
        ("s1", "a1", NOW - h, 0),
        ("s1", "a2", NOW - 72 * h, 0),
        ("s1", "a2", NOW - 48 * h, 1),
        ("s1", "a3", NOW - 40 * 24 * h, 0),
        ("s2", "b1", NOW - h, 0),
    ]
    return [line("agent_status", {"site": s, "agent": a}, {"online": o}, t) for s, a, t, o in rows]


def sensor_health() -> list[str]:
    """Within the last hour: sa's latest battery is 12 % (listed: below the
    api's 15 %), sb is not ok
    (listed), sc is fine, sd was not ok two hours ago but is ok now; the s2
    sensor is at the other site; se at exactly 15 % is not low.
    => sa (ok 1, 12.0), sb (ok 0, 90.0)."""
    m = timedelta(minutes=1)
    rows = [
        ("s1", "a1", "sa", "d1", NOW - 30 * m, 1, 80.0),
        ("s1", "a1", "sa", "d1", NOW - 10 * m, 1, 12.0),
        ("s1", "a2", "se", "d2", NOW - 10 * m, 1, 15.0),
        ("s1", "a1", "sb", "d2", NOW - 20 * m, 0, 90.0),
        ("s1", "a2", "sc", "r1", NOW - 20 * m, 1, 50.0),
        ("s1", "a2", "sd", "d3", NOW - 120 * m, 0, 60.0),
        ("s1", "a2", "sd", "d3", NOW - 5 * m, 1, 70.0),
        ("s2", "b1", "sx", "x1", NOW - 5 * m, 0, 10.0),
    ]
    return [
        line(
            "sensor_health",
            {"site": s, "agent": a, "sensor": sn, "space": sp},
            {"ok": ok, "battery_pct": b, "last_seen_ns": _ns(t)},
            t,
        )
        for s, a, sn, sp, t, ok, b in rows
    ]


def utilisation() -> list[str]:
    """15-minute rows (occupied_s, observed_s, opening_s) on Monday 2 March and
    Tuesday 3 March 2026 (UTC):

        bucket      d1 (f1 z1 desk)   r1 (f2 z2 meeting_room)
        Mon 08:00   900 900 900         0 900 900
        Mon 08:15   450 900 900       900 900 900
        Mon 08:30     0 900 900       900 900 900
        Mon 08:45     0 450 900       450 900 900
        Mon 09:00   900 900 900         0   0 900
        Mon 20:00     0   0   0       (closed)
        Tue 08:00   300 900 900       600 900 900

    d1: occupied 2550, observed 4950, opening 5400; r1: 2850, 4500, 5400.
    Site: 5400 / 9450 = 4/7 utilisation, 9450 / 10800 = 0.875 coverage.
    Hourly sums: Mon 08 3600/6750, Mon 09 900/900, Mon 20 0/0, Tue 08 900/1800.
    Daily per zone: z1 Mon 2250/4050, Tue 300/900; z2 Mon 2250/3600, Tue 600/900.
    Busy spaces per open bucket (occupied / 900): Mon 1, 1.5, 1, 0.5, 1 -> peak
    1.5, mean 1.0; Tue 1 -> peak 1, mean 1 (Helsinki days start 22:00 UTC).
    """
    q = timedelta(minutes=15)
    h = timedelta(hours=1)
    d1 = [
        (MON + 8 * h, 900, 900, 900),
        (MON + 8 * h + q, 450, 900, 900),
        (MON + 8 * h + 2 * q, 0, 900, 900),
        (MON + 8 * h + 3 * q, 0, 450, 900),
        (MON + 9 * h, 900, 900, 900),
        (MON + 20 * h, 0, 0, 0),
        (MON + 32 * h, 300, 900, 900),
    ]
    r1 = [
        (MON + 8 * h, 0, 900, 900),
        (MON + 8 * h + q, 900, 900, 900),
        (MON + 8 * h + 2 * q, 900, 900, 900),
        (MON + 8 * h + 3 * q, 450, 900, 900),
        (MON + 9 * h, 0, 0, 900),
        (MON + 32 * h, 600, 900, 900),
    ]
    x1 = [(MON + 8 * h, 900, 900, 900)]
    out = []
    for space, rows in (("d1", d1), ("r1", r1), ("x1", x1)):
        for t, occ, obs, opening in rows:
            fields = {
                "occupied_s": float(occ),
                "opening_s": float(opening),
                "observed_s": float(obs),
            }
            out.append(line("utilisation", SPACES[space], fields, t))
    return out


EFFICIENCY_FIELDS = (
    "m2_per_htv",
    "target_m2_per_htv",
    "use_rate",
    "desk_sharing_ratio",
    "peak_desks",
    "p90_peak_desks",
    "headcount_htv",
    "utilisation",
    "coverage",
)
EFFICIENCY = {
    ("s1", "vero", "2026-01"): (12.0, 10.0, 0.6, 1.25, 90.0, 85.0, 150.0, 0.45, 0.98),
    ("s1", "vero", "2026-02"): (11.5, 10.0, 0.62, 1.25, 93.0, 88.0, 150.0, 0.47, 0.97),
    ("s1", "dvv", "2026-01"): (13.0, 10.0, 0.5, 1.1, 60.0, 55.0, 120.0, 0.40, 0.95),
    ("s1", "dvv", "2026-02"): (12.8, 10.0, 0.52, 1.1, 62.0, 58.0, 120.0, 0.41, 0.96),
    ("s1", "_site", "2026-01"): (12.4, 10.0, 0.55, 1.2, 150.0, 140.0, 270.0, 0.43, 0.965),
    ("s1", "_site", "2026-02"): (12.1, 10.0, 0.57, 1.2, 155.0, 146.0, 270.0, 0.44, 0.965),
    ("s2", "vero", "2026-02"): (20.0, 10.0, 0.9, 2.0, 10.0, 9.0, 20.0, 0.8, 0.9),
}
MONTH_START = {"2026-01": JAN, "2026-02": FEB}


def heatmap() -> list[str]:
    """The api's hourly rows of the utilisation rows above, per zone, space
    type and local hour (Helsinki, UTC+2): (occupied_s, observed_s, opening_s)

        d1 z1 desk          Mon 10: 1350 3150 3600   Mon 11: 900 900 900
                            Mon 22:    0    0    0   Tue 10: 300 900 900
        r1 z2 meeting_room  Mon 10: 2250 3600 3600   Mon 11:   0   0 900
                            Tue 10:  600  900  900
        x1 (site s2)        Mon 10:  900  900  900

    Cells of s1 (rows without observed time left out): Mon 10 3600/6750,
    Mon 11 900/900, Tue 10 900/1800; Mon 22 has no cell. Floor f1: Mon 10
    1350/3150, Mon 11 1, Tue 10 1/3."""
    h = timedelta(hours=1)
    rows = [
        ("d1", MON + 8 * h, "1 Mon", "10", 1350, 3150, 3600),
        ("d1", MON + 9 * h, "1 Mon", "11", 900, 900, 900),
        ("d1", MON + 20 * h, "1 Mon", "22", 0, 0, 0),
        ("d1", MON + 32 * h, "2 Tue", "10", 300, 900, 900),
        ("r1", MON + 8 * h, "1 Mon", "10", 2250, 3600, 3600),
        ("r1", MON + 9 * h, "1 Mon", "11", 0, 0, 900),
        ("r1", MON + 32 * h, "2 Tue", "10", 600, 900, 900),
        ("x1", MON + 8 * h, "1 Mon", "10", 900, 900, 900),
    ]
    out = []
    for space, t, weekday, hour, occ, obs, opening in rows:
        tags = {k: v for k, v in SPACES[space].items() if k != "space"}
        tags |= {"weekday": weekday, "hour": hour}
        fields = {
            "occupied_s": float(occ),
            "opening_s": float(opening),
            "observed_s": float(obs),
        }
        out.append(line("heatmap", tags, fields, t))
    return out


def peaks() -> list[str]:
    """Exact daily peaks (not derivable from the rows above: written by hand
    as the api would), at the local day starts (22:00 UTC the day before):
    s1 f1 Mon 2 Tue 1, f2 Mon 1 Tue 1, whole site Mon 3 Tue 2; s2 Mon 9."""
    mon, tue = MON - timedelta(hours=2), MON + timedelta(hours=22)
    rows = [
        ("s1", "f1", mon, 2),
        ("s1", "f1", tue, 1),
        ("s1", "f2", mon, 1),
        ("s1", "f2", tue, 1),
        ("s1", "_site", mon, 3),
        ("s1", "_site", tue, 2),
        ("s2", "_site", mon, 9),
    ]
    return [
        line("peaks", {"site": s, "floor": f}, {"peak": float(p), "spaces": 2.0}, t)
        for s, f, t, p in rows
    ]


def efficiency() -> list[str]:
    return [
        line(
            "efficiency",
            {"site": s, "agency": a, "month": mo},
            dict(zip(EFFICIENCY_FIELDS, values, strict=True)),
            MONTH_START[mo],
        )
        for (s, a, mo), values in EFFICIENCY.items()
    ]


# (site, agency, month, line): amount_eur, hours, weighted_hours, coverage, estimated
# Each month of s1 sums to the cost of 10 000.00: Jan vero 6000.00 + dvv 4000.00,
# Feb vero 5000.25 + dvv 4999.75.
CHARGES = {
    ("s1", "vero", "2026-01", "base"): (3000.0, 0.0, 0.0, 1.0, 0),
    ("s1", "vero", "2026-01", "desk"): (2500.5, 1000.0, 1000.0, 0.95, 0),
    ("s1", "vero", "2026-01", "meeting_room"): (499.5, 100.0, 200.0, 0.9, 0),
    ("s1", "dvv", "2026-01", "base"): (2400.0, 0.0, 0.0, 1.0, 0),
    ("s1", "dvv", "2026-01", "desk"): (1600.0, 640.0, 640.0, 0.92, 0),
    ("s1", "vero", "2026-02", "base"): (3000.0, 0.0, 0.0, 1.0, 0),
    ("s1", "vero", "2026-02", "desk"): (2000.25, 800.0, 800.0, 0.7, 1),
    ("s1", "dvv", "2026-02", "base"): (2400.0, 0.0, 0.0, 1.0, 0),
    ("s1", "dvv", "2026-02", "desk"): (2599.75, 1040.0, 1040.0, 0.93, 0),
    ("s2", "vero", "2026-02", "desk"): (777.0, 10.0, 10.0, 1.0, 0),
}


def charges() -> list[str]:
    out = []
    for (s, a, mo, ln), (amount, hours, weighted, cov, est) in CHARGES.items():
        fields = {
            "amount_eur": amount,
            "hours": hours,
            "weighted_hours": weighted,
            "coverage": cov,
            "estimated": est,
            "tariff_version": "2026-01",
        }
        out.append(
            line(
                "charges",
                {"site": s, "agency": a, "month": mo, "line": ln},
                fields,
                MONTH_START[mo],
            )
        )
    return out


# Energy hours (summary_energy_hours), Monday 2 March, local hours (UTC+2):
#   s1 f1 z1 08h: conditioned 1 h, empty 0.5 h, floor empty 0.25 h
#   s1 f1 z1 09h: conditioned 1 h, empty 1 h, floor empty 1 h
#   s1 f2 z2 08h: conditioned 1 h, empty 0, unknown 0.5 h
#   s2 f1 za 08h: conditioned 1 h, empty 1 h (only for the site filter)
# s1: empty 1.5 of 3 conditioned h (0.5), unknown 0.5 h (1/6), floor empty
# 1.25 h (5/12); per zone: z1 1.5 h of 2 (0.75), z2 0 of 1 (0).
HOUR_NS = 3_600_000_000_000
ENERGY = [
    ("s1", "f1", "z1", 8, (HOUR_NS, HOUR_NS // 2, 0, HOUR_NS // 4, 0)),
    ("s1", "f1", "z1", 9, (HOUR_NS, HOUR_NS, 0, HOUR_NS, 0)),
    ("s1", "f2", "z2", 8, (HOUR_NS, 0, HOUR_NS // 2, 0, HOUR_NS // 2)),
    ("s2", "f1", "za", 8, (HOUR_NS, HOUR_NS, 0, HOUR_NS, 0)),
]


def energy() -> list[str]:
    names = ("conditioned_ns", "empty_ns", "unknown_ns", "floor_empty_ns", "floor_unknown_ns")
    return [
        line(
            "summary_energy_hours",
            {"site": s, "floor": f, "zone": z},
            {**dict(zip(names, v, strict=True)), "gen": 1},
            MON + timedelta(hours=h - 2),
        )
        for s, f, z, h, v in ENERGY
    ]


def all_lines() -> list[str]:
    return (
        energy()
        + presence()
        + agents()
        + sensor_health()
        + utilisation()
        + heatmap()
        + peaks()
        + efficiency()
        + charges()
    )
