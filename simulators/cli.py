"""``occupancy simulate``: simulated agents live over MQTT, or ``backfill`` into a store.

Only light imports at the top (typer, core, settings); numpy, paho and the
stores load inside the commands.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import typer

from core.cli_settings import Given, SettingsError, settings_options
from core.registry import Site, load_registry
from core.yamlfile import ConfigError
from simulators.settings import PublisherSettings
from storage import StoreSettings

app = typer.Typer(
    help="Simulated sensors and people: live over MQTT, or months of history into a store.",
    no_args_is_help=False,
)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(2)


def _load_site(site_file: Path | None, registry: Path | None, site_id: str | None) -> Site:
    try:
        if site_file is not None:
            reg = load_registry(site_file)
        elif registry is not None:
            reg = load_registry(registry)
        else:
            raise _fail("give --site FILE (or --registry FOLDER with --site-id)")
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    if site_id is not None:
        found = reg.get(site_id)
        if found is None:
            raise _fail(f"no site {site_id!r} in the registry (have: {', '.join(reg.ids)})")
        return found
    if len(reg) != 1:
        raise _fail(f"the registry holds {len(reg)} sites; choose one with --site-id")
    return next(iter(reg))


def _time_range(from_: str, to: str, site: Site) -> tuple[datetime, datetime]:
    start = _parse_time(from_, site, "--from")
    end = _parse_time(to, site, "--to")
    if end <= start:
        raise _fail(f"--to {to} must be after --from {from_}")
    return start, end


def _scenario(path: Path | None, seed: int, no_faults: bool) -> Any:
    from simulators.scenario import Scenario, load_scenario

    try:
        sc = load_scenario(path) if path is not None else Scenario()
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    sc = sc.with_seed(seed)
    return sc.without_faults() if no_faults else sc


def _parse_time(text: str, site: Site, option: str) -> datetime:
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=site.tz)
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(f"{option} {text!r} is not a date (2026-01-01) or ISO time") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=site.tz)


@app.callback(invoke_without_command=True)
@settings_options(PublisherSettings)
def live(
    ctx: typer.Context,
    given: Given[PublisherSettings],
    site_file: Path | None = typer.Option(None, "--site", help="Site YAML file."),
    registry: Path | None = typer.Option(None, "--registry", help="Folder of site files."),
    site_id: str | None = typer.Option(None, "--site-id", help="Site id within --registry."),
    seed: int = typer.Option(1, "--seed", help="Same seed, same people, same messages."),
    speed: float = typer.Option(1.0, "--speed", help="Simulated seconds per second."),
    start: str | None = typer.Option(None, "--start", help="Simulated start (default: now)."),
    demo: bool = typer.Option(False, "--demo", help="Start on an open working morning now."),
    duration: float | None = typer.Option(
        None, "--duration", help="Stop after so many wall seconds."
    ),
    scenario_file: Path | None = typer.Option(None, "--scenario", help="Scenario YAML file."),
    no_faults: bool = typer.Option(False, "--no-faults", help="Inject no faults."),
    events: Path | None = typer.Option(
        None, "--events", help="Also write every message as JSON lines."
    ),
    truth: Path | None = typer.Option(None, "--truth", help="Write the truth here on exit."),
) -> None:
    """Publish live like real edge agents (one per floor, or as the scenario says).
    Broker settings come from OCCUPANCY_SIM_* variables; options override them."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        settings = given.settings()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    site = _load_site(site_file, registry, site_id)
    sc = _scenario(scenario_file, seed, no_faults)
    from simulators.publisher import demo_start

    begin = demo_start(site) if demo else (_parse_time(start, site, "--start") if start else None)
    _publish(
        site,
        sc,
        settings,
        speed=speed,
        start=begin,
        demo=demo,
        duration=duration,
        events=events,
        truth=truth,
    )


def _publish(
    site: Site,
    sc: Any,
    settings: PublisherSettings,
    *,
    speed: float,
    start: datetime | None,
    demo: bool,
    duration: float | None,
    events: Path | None,
    truth: Path | None,
) -> None:
    from simulators.mqtt import probe_broker
    from simulators.publisher import LiveSimulator, write_events
    from simulators.truth import write_truth

    broker_url = settings.broker_url
    try:
        probe_broker(broker_url)
    except OSError as exc:
        raise _fail(
            f"cannot reach the MQTT broker at {broker_url} ({exc}); start it or fix --broker-url"
        ) from None
    out = write_events(events) if events else None
    try:
        sim = LiveSimulator(
            site, sc, settings, speed=speed, start=start, shift_to_now=demo, events_out=out
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sim.start()
    typer.echo(
        f"simulating {site.id}: {sim.layout.n} sensors on {len(sim.layout.agent_ids)} agents, "
        f"speed x{speed:g}, seed {sc.seed}, broker {broker_url} (Ctrl-C to stop)",
        err=True,
    )
    t0 = time.monotonic()
    try:
        while not stop.is_set() and sim.running:
            if duration is not None and time.monotonic() - t0 >= duration:
                break
            stop.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        if out is not None:
            out.close()
    if sim.error is not None:
        raise _fail(f"the simulator stopped: {sim.error}")
    typer.echo(f"sent {dict(sim.sent)}", err=True)
    if truth is not None:
        write_truth(sim.truth(), truth)
        typer.echo(f"wrote {truth}", err=True)


@app.command("backfill")
@settings_options(StoreSettings, prefix="store", into="store_given")
def backfill_cmd(
    store_given: Given[StoreSettings],
    site_file: Path | None = typer.Option(None, "--site", help="Site YAML file."),
    registry: Path | None = typer.Option(None, "--registry", help="Folder of site files."),
    site_id: str | None = typer.Option(None, "--site-id", help="Site id within --registry."),
    from_: str = typer.Option(..., "--from", help="First day (2026-01-01) or ISO time."),
    to: str = typer.Option(..., "--to", help="End, exclusive (2026-02-01) or ISO time."),
    seed: int = typer.Option(1, "--seed"),
    scenario_file: Path | None = typer.Option(None, "--scenario", help="Scenario YAML file."),
    no_faults: bool = typer.Option(False, "--no-faults", help="Inject no faults."),
    truth: Path | None = typer.Option(
        None, "--truth", help="Write the truth JSON (and .ics/.csv bookings) here."
    ),
) -> None:
    """Write simulated history straight into a store, with the truth beside it."""
    site = _load_site(site_file, registry, site_id)
    sc = _scenario(scenario_file, seed, no_faults)
    start, end = _time_range(from_, to, site)

    from rich.progress import (
        BarColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from simulators.backfill import backfill
    from simulators.truth import write_bookings, write_truth
    from storage import StoreError, StoreUnavailable, open_store
    from storage.marks import MarkingStore

    try:
        store_settings = store_given.settings()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    try:
        store = open_store(store_settings)
        store.ping()
    except (StoreError, OSError) as exc:
        raise _fail(
            f"cannot open the store at {store_settings.url} ({exc}); start it or fix --store-url"
        ) from None
    days = (end - start) / timedelta(days=1)
    with Progress(
        TextColumn("[bold]backfill[/] {task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f} %"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        transient=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task(f"{site.id} {days:g} days", total=1.0)

        def progress(done: float, total: float) -> None:
            bar.update(task, completed=done / total if total else 1.0)

        try:
            marking = MarkingStore(store, {site.id: site.tz})
            result = backfill(site, sc, marking, start, end, progress=progress)
        except StoreUnavailable as exc:
            raise _fail(
                f"the store went away during the backfill ({exc}); start it and run again"
            ) from None
        except (StoreError, ValueError) as exc:
            raise _fail(f"backfill failed: {exc}") from None
        finally:
            store.close()
    typer.echo(
        f"{result.points} points ({result.changes} changes, {result.heartbeats} heartbeats, "
        f"{result.health_reports} health reports, {result.status} status, "
        f"{result.counts} entrance counts) "
        f"in {result.seconds:.1f} s",
        err=True,
    )
    if truth is not None and result.truth is not None:
        write_truth(result.truth, truth, sc.model_dump(mode="json"))
        ics, csv_path = write_bookings(
            result.truth, site, truth.with_name(truth.stem + "-bookings")
        )
        typer.echo(f"wrote {truth}, {ics}, {csv_path}", err=True)


@app.command("truth")
def truth_cmd(
    site_file: Path | None = typer.Option(None, "--site", help="Site YAML file."),
    registry: Path | None = typer.Option(None, "--registry"),
    site_id: str | None = typer.Option(None, "--site-id"),
    from_: str = typer.Option(..., "--from"),
    to: str = typer.Option(..., "--to"),
    seed: int = typer.Option(1, "--seed"),
    scenario_file: Path | None = typer.Option(None, "--scenario"),
    no_faults: bool = typer.Option(False, "--no-faults"),
    out: Path = typer.Option(Path("out/truth.json"), "--out"),
    events: Path | None = typer.Option(
        None, "--events", help="Also write every message as JSON lines."
    ),
) -> None:
    """Write the truth (and bookings as .ics/.csv) of a range without a broker or store."""
    site = _load_site(site_file, registry, site_id)
    sc = _scenario(scenario_file, seed, no_faults)
    start, end = _time_range(from_, to, site)
    from simulators.layout import build_layout
    from simulators.publisher import event_line, message_stream
    from simulators.truth import collect_truth, write_bookings, write_truth

    try:
        layout = build_layout(site, sc)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    truth = collect_truth(layout, start, end)
    write_truth(truth, out, sc.model_dump(mode="json"))
    ics, csv_path = write_bookings(truth, site, out.with_name(out.stem + "-bookings"))
    typer.echo(f"wrote {out}, {ics}, {csv_path}", err=True)
    if events is not None:
        events.parent.mkdir(parents=True, exist_ok=True)
        with events.open("w", encoding="utf-8") as fh:
            for msg in message_stream(site, sc, start.astimezone(UTC), end.astimezone(UTC)):
                fh.write(event_line(msg))
        typer.echo(f"wrote {events}", err=True)
