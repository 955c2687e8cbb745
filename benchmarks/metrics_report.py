"""Month and year utilisation reports for 1,000 desks: the vectorised metrics
(metrics) beside a straightforward per-space, per-event Python loop, in the
same run, with a check that both give the same figures.

The report: per desk opening, observed and occupied seconds over the period
(inside opening hours, holidays excluded) and the site's exact daily peak of
concurrent desks with its maximum and 90th percentile.

Input is synthetic, generated with numpy one month at a time (deterministic
seed): every desk sends a heartbeat every ``--hb`` seconds round the clock plus
a change message at each arrival and departure (up to three visits per open
day), 2 % of the desks fall silent for four hours once a month, and one agent is
offline for 30 minutes each month. Each implementation runs in a forked child
process, so its peak memory is its own: "peak MB" is the child's peak resident
set size minus its size at the start (the generated input of one month
included, the same for both).

    .venv/bin/python benchmarks/metrics_report.py            # month and year
    .venv/bin/python benchmarks/metrics_report.py --only month
"""

from __future__ import annotations

import argparse
import bisect
import multiprocessing as mp
import resource
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.calendar import month_bounds
from core.registry import Site
from metrics import (
    clip_to_opening,
    daily_peaks,
    opening_windows,
    p90,
    peak_summary,
    state_intervals,
    utilisation_table,
)

NS = 1_000_000_000
YEAR = 2026
SILENCE = 2.5
AGENTS = 10


def build_site(desks: int) -> Site:
    per_zone = 100
    zones = [
        {"id": f"z{i}", "name": f"Zone {i}", "floor": "f1", "agency": f"a{i % 5}"}
        for i in range((desks + per_zone - 1) // per_zone)
    ]
    spaces = [
        {
            "id": f"d{i:04d}",
            "type": "desk",
            "zone": f"z{i // per_zone}",
            "capacity": 1,
            "area_m2": 6.0,
            "geometry": {"x": float(i % 100), "y": float(i // 100), "w": 1.0, "h": 1.0},
            "sensor": {"id": f"s{i:04d}", "agent": f"agent-{i % AGENTS}"},
        }
        for i in range(desks)
    ]
    return Site.model_validate(
        {
            "id": "bench",
            "name": "Benchmark site",
            "timezone": "Europe/Helsinki",
            "opening_hours": {d: ["07:00-18:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
            "area_m2": desks * 12.0,
            "agencies": [
                {"id": f"a{i}", "name": f"A{i}", "headcount_htv": desks / 5} for i in range(5)
            ],
            "floors": [
                {"id": "f1", "name": "F1", "level": 1, "plan": {"width": 100, "height": 100}}
            ],
            "zones": zones,
            "spaces": spaces,
        }
    )


def generate_month(
    site: Site, month: int, hb_s: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Timestamp, pd.Timestamp]:
    rng = np.random.default_rng(1000 + month)
    lo, hi = month_bounds(site, YEAR, month)
    start, end = pd.Timestamp(lo), pd.Timestamp(hi)
    t0, t1 = int(start.value), int(end.value)
    n = len(site.spaces)
    hb = hb_s * NS
    k = (t1 - t0) // hb
    phase = rng.integers(0, hb, n)
    beat_t = (t0 + phase[:, None] + np.arange(k)[None, :] * hb).ravel()
    beat_d = np.repeat(np.arange(n), k)
    # Visits: up to three per desk and open day, one in each slot, never overlapping.
    win = opening_windows(site=site, start=start, end=end)
    day_open = pd.DatetimeIndex(win["start"]).as_unit("ns").asi8  # 07:00 local
    slots = [(0.5, 3.5), (4.0, 6.5), (7.0, 10.5)]  # hours after opening
    spell_d, spell_s, spell_e = [], [], []
    for a, b in slots:
        for day in day_open:
            come = rng.random(n) < 0.55
            s = day + ((a + rng.random(n) * (b - a - 0.5)) * 3600 * NS).astype(np.int64)
            e = s + ((0.25 + rng.random(n) * (b - a - 0.5)) * 3600 * NS).astype(np.int64)
            e = np.minimum(e, day + int(b * 3600 * NS))
            spell_d.append(np.flatnonzero(come))
            spell_s.append(s[come])
            spell_e.append(e[come])
    sd, ss, se = np.concatenate(spell_d), np.concatenate(spell_s), np.concatenate(spell_e)
    span = t1 - t0 + 1
    key_s = sd * span + (ss - t0)
    o = np.argsort(key_s)
    sd, ss, se, key_s = sd[o], ss[o], se[o], key_s[o]
    idx = np.searchsorted(key_s, beat_d * span + (beat_t - t0), side="right") - 1
    safe = np.maximum(idx, 0)
    beat_occ = (idx >= 0) & (sd[safe] == beat_d) & (beat_t < se[safe])
    t = np.concatenate([beat_t, ss, se])
    d = np.concatenate([beat_d, sd, sd])
    occ = np.concatenate([beat_occ, np.ones(len(ss), bool), np.zeros(len(se), bool)])
    # 2 % of the desks fall silent for four hours from 09:00 on the 10th open day.
    silent_desks = rng.choice(n, size=max(n // 50, 1), replace=False)
    quiet_from = day_open[min(9, len(day_open) - 1)] + 2 * 3600 * NS
    quiet = np.isin(d, silent_desks) & (t >= quiet_from) & (t < quiet_from + 4 * 3600 * NS)
    t, d, occ = t[~quiet], d[~quiet], occ[~quiet]
    o = np.argsort(t, kind="stable")
    names = pd.Categorical.from_codes(d[o], categories=[s.id for s in site.spaces])
    presence = pd.DataFrame(
        {
            "time": pd.to_datetime(t[o], unit="ns", utc=True),
            "space": names,
            "occupied": occ[o].astype(np.int8),
            "hb": np.full(len(o), float(hb_s)),
        }
    )
    off = day_open[min(4, len(day_open) - 1)] + 3 * 3600 * NS
    status = pd.DataFrame(
        {
            "time": pd.to_datetime(np.array([t0, off, off + 1800 * NS]), unit="ns", utc=True),
            "agent": ["agent-3", "agent-3", "agent-3"],
            "online": [1, 0, 1],
        }
    )
    return presence, status, start, end


# ---- the two implementations ------------------------------------------------
def vectorised(site: Site, months: list[int], hb_s: int) -> tuple[dict[str, Any], float]:
    seconds = 0.0
    clipped = []
    for month in months:
        presence, status, start, end = generate_month(site, month, hb_s)
        t = time.perf_counter()
        iv = state_intervals(presence=presence, status=status, site=site, start=start, end=end)
        clipped.append(clip_to_opening(intervals=iv, site=site, start=start, end=end))
        seconds += time.perf_counter() - t
        del presence, iv
    t = time.perf_counter()
    allc = pd.concat(clipped, ignore_index=True)
    table = utilisation_table(intervals=allc, site=site, by="space").set_index("space")
    daily = daily_peaks(intervals=allc, site=site, by="site")
    summary = peak_summary(daily=daily, by="site").iloc[0]
    seconds += time.perf_counter() - t
    return {
        "opening": table["opening_s"].to_dict(),
        "observed": table["observed_s"].to_dict(),
        "occupied": table["occupied_s"].to_dict(),
        "peaks": dict(zip(pd.to_datetime(daily["day"]).dt.date, daily["peak"], strict=True)),
        "max": int(summary["max_peak"]),
        "p90": float(summary["p90_peak"]),
    }, seconds


def loop(site: Site, months: list[int], hb_s: int) -> tuple[dict[str, Any], float]:
    """The obvious implementation: walk each space's events in time order."""
    seconds = 0.0
    ids = [s.id for s in site.spaces]
    agent_of = {s.id: s.sensor.agent for s in site.spaces if s.sensor}
    opening = dict.fromkeys(ids, 0.0)
    unknown = dict.fromkeys(ids, 0.0)
    occupied = dict.fromkeys(ids, 0.0)
    sweep: dict[date, list[tuple[int, int]]] = {}
    for month in months:
        presence, status, start, end = generate_month(site, month, hb_s)
        t = time.perf_counter()
        t0, t1 = int(start.value), int(end.value)
        win = opening_windows(site=site, start=start, end=end)
        w_s = [int(x.value) for x in win["start"]]
        w_e = [int(x.value) for x in win["end"]]
        w_day = [x.date() for x in pd.to_datetime(win["day"])]
        for day in w_day:
            sweep.setdefault(day, [])
        # Offline spells per agent: offline until the next online.
        spells: dict[str, list[list[int]]] = {}
        last_state: dict[str, int] = {}
        for ts, agent, online in zip(
            status["time"].tolist(),
            status["agent"].tolist(),
            status["online"].tolist(),
            strict=True,
        ):
            tn = int(ts.value)
            if online == 0 and last_state.get(agent, 1) == 1:
                spells.setdefault(agent, []).append([tn, t1])
            elif online == 1 and last_state.get(agent, 1) == 0:
                spells[agent][-1][1] = tn
            last_state[agent] = online
        ordered = presence.sort_values(["space", "time"], kind="stable")
        sp_list = ordered["space"].astype(str).tolist()
        t_list = ordered["time"].astype("int64").tolist()
        occ_list = ordered["occupied"].tolist()
        hb_list = ordered["hb"].tolist()
        i, n = 0, len(sp_list)
        while i < n:
            space = sp_list[i]
            j = i
            while j < n and sp_list[j] == space:
                j += 1
            times = t_list[i:j]
            # Segments (start, end, state) with 0 free, 1 occupied, 2 unknown.
            segs: list[list[int]] = []

            def push(
                s: int, e: int, st: int, segs: list[list[int]] = segs, lo: int = t0, hi: int = t1
            ) -> None:
                s, e = max(s, lo), min(e, hi)
                if s >= e:
                    return
                if segs and segs[-1][2] == st and segs[-1][1] == s:
                    segs[-1][1] = e
                else:
                    segs.append([s, e, st])

            push(t0, times[0], 2)
            for k in range(i, j):
                tk = t_list[k]
                nxt = t_list[k + 1] if k + 1 < j else t1
                deadline = tk + round(hb_list[k] * SILENCE * NS)
                push(tk, min(nxt, deadline), 1 if occ_list[k] else 0)
                if deadline < nxt:
                    push(deadline, nxt, 2)
            # The agent offline: unknown until online or the space's next message.
            for a, b in spells.get(agent_of[space], []):
                pos = bisect.bisect_right(times, a)
                if pos < len(times):
                    b = min(b, times[pos])
                out: list[list[int]] = []
                for s, e, st in segs:
                    if e <= a or s >= b:
                        out.append([s, e, st])
                        continue
                    if s < a:
                        out.append([s, a, st])
                    out.append([max(s, a), min(e, b), 2])
                    if e > b:
                        out.append([b, e, st])
                segs = out
            for s, e, st in segs:
                w = bisect.bisect_right(w_s, s) - 1
                w = max(w, 0)
                while w < len(w_s) and w_s[w] < e:
                    lo, hi = max(s, w_s[w]), min(e, w_e[w])
                    if lo < hi:
                        sec = (hi - lo) / NS
                        opening[space] += sec
                        if st == 2:
                            unknown[space] += sec
                        elif st == 1:
                            occupied[space] += sec
                            sweep[w_day[w]].append((lo, 1))
                            sweep[w_day[w]].append((hi, -1))
                    w += 1
            i = j
        seconds += time.perf_counter() - t
        del presence, ordered, sp_list, t_list, occ_list, hb_list
    t = time.perf_counter()
    peaks: dict[date, int] = {}
    for day, events in sweep.items():
        level = best = 0
        for _, delta in sorted(events):
            level += delta
            best = max(best, level)
        peaks[day] = best
    values = sorted(peaks.values())
    seconds += time.perf_counter() - t
    return {
        "opening": opening,
        "observed": {k: opening[k] - unknown[k] for k in ids},
        "occupied": occupied,
        "peaks": peaks,
        "max": max(values),
        "p90": p90(values),
    }, seconds


# ---- harness ----------------------------------------------------------------
def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _child(name: str, desks: int, months: list[int], hb_s: int, out: Any) -> None:
    site = build_site(desks)
    before = _rss_mb()
    fn = vectorised if name == "vectorised" else loop
    result, seconds = fn(site, months, hb_s)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.send((result, seconds, peak - before))
    out.close()


def run(name: str, desks: int, months: list[int], hb_s: int) -> tuple[dict[str, Any], float, float]:
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(name, desks, months, hb_s, send))
    proc.start()
    result = recv.recv()
    proc.join()
    return result  # type: ignore[no-any-return]


def agree(a: dict[str, Any], b: dict[str, Any]) -> str:
    for key in ("opening", "observed", "occupied"):
        worst = max(abs(a[key][s] - b[key][s]) for s in a[key])
        if worst > 1e-6 or set(a[key]) != set(b[key]):
            return f"NO ({key} differs by {worst} s)"
    if a["peaks"] != b["peaks"] or a["max"] != b["max"] or abs(a["p90"] - b["p90"]) > 1e-12:
        return "NO (peaks differ)"
    return "yes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--desks", type=int, default=1000)
    parser.add_argument("--hb", type=int, default=300, help="heartbeat interval, seconds")
    parser.add_argument("--only", choices=["month", "year"], default=None)
    args = parser.parse_args()
    reports = {"month": [3], "year": list(range(1, 13))}
    if args.only:
        reports = {args.only: reports[args.only]}
    site = build_site(args.desks)
    rows = []
    for label, months in reports.items():
        n_events = sum(len(generate_month(site, m, args.hb)[0]) for m in months[:1]) * len(months)
        fast, fast_s, fast_mb = run("vectorised", args.desks, months, args.hb)
        slow, slow_s, slow_mb = run("loop", args.desks, months, args.hb)
        rows.append(
            (
                label,
                args.desks,
                n_events,
                fast_s,
                fast_mb,
                slow_s,
                slow_mb,
                slow_s / fast_s,
                agree(fast, slow),
                fast["max"],
                fast["p90"],
            )
        )
        print(f"{label}: done", file=sys.stderr, flush=True)
    head = (
        "| report | desks | events (approx.) | vectorised s | vectorised peak MB | "
        "Python loop s | loop peak MB | speed-up | same figures | max peak | p90 peak |"
    )
    print(head)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
    for r in rows:
        print(
            f"| {r[0]} | {r[1]:,} | {r[2]:,} | {r[3]:.2f} | {r[4]:.0f} | {r[5]:.2f} | "
            f"{r[6]:.0f} | {r[7]:.1f}x | {r[8]} | {r[9]} | {r[10]:.1f} |"
        )
    print(
        f"\nheartbeat {args.hb} s; Python {sys.version.split()[0]}, "
        f"pandas {pd.__version__}, numpy {np.__version__}"
    )


if __name__ == "__main__":
    main()
