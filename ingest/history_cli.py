"""``occupancy import``: load past presence from a CSV or JSON-lines file
straight into the store (docs/integrations.md, "History import").

Exit status: 0 when every row was imported, 1 when some rows were rejected
(the good ones are stored; the bad ones are listed and written to the
rejects file), 2 when nothing could be done (bad options, no file, store down).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from core.cli_settings import Given, SettingsError, settings_options
from core.datadir import data_path
from storage import StoreSettings

if TYPE_CHECKING:
    from core.registry import Site
    from ingest.history import BadRow, ImportOptions, Parsed
    from storage.base import Store

app = typer.Typer(help="Import past presence from CSV or JSON lines into the store.")

BATCH = 5_000


def _fail(message: str) -> typer.Exit:
    typer.echo(f"occupancy import: {message}", err=True)
    return typer.Exit(2)


@app.callback(invoke_without_command=True)
@settings_options(StoreSettings, prefix="store", into="store_given")
def import_history(
    store_given: Given[StoreSettings],
    path: Path = typer.Argument(..., help="The CSV or JSON-lines file."),
    fmt: str | None = typer.Option(
        None, "--format", help="csv or jsonl (default: from the file's suffix)."
    ),
    site_file: Path | None = typer.Option(None, "--site", help="A site file."),
    registry: Path | None = typer.Option(None, help="A folder of site files (with --site-id)."),
    site_id: str | None = typer.Option(None, help="Which site of --registry."),
    time_column: str = typer.Option("time", help="Column of the event time."),
    occupied_column: str = typer.Option(
        "occupied", help="Column of the state: 0/1, true/false or occupied/free."
    ),
    space_column: str | None = typer.Option(None, help="Column of the space id."),
    sensor_column: str | None = typer.Option(
        None, help="Column of the sensor id (mapped to its space by the site file)."
    ),
    space: str | None = typer.Option(None, help="Every row is this space (a one-room file)."),
    count_column: str | None = typer.Option(None, help="Column of the people count, if any."),
    timezone: str | None = typer.Option(
        None,
        help="Time zone of naive timestamps (e.g. Europe/Helsinki); without it they are refused.",
    ),
    time_format: str | None = typer.Option(
        None, help="strptime format of the times (default: ISO 8601)."
    ),
    heartbeat_s: float | None = typer.Option(
        None, help="The source's sampling period, s (default: the site's heartbeat_s)."
    ),
    max_gap_s: float = typer.Option(
        3600.0, help="A state holds until the next row when that row comes within this many s."
    ),
    occupied_values: str | None = typer.Option(
        None, help="Comma-separated values meaning occupied (default: 1,true,yes,occupied,on)."
    ),
    free_values: str | None = typer.Option(
        None, help="Comma-separated values meaning free (default: 0,false,no,free,vacant,...)."
    ),
    rejects: Path | None = typer.Option(
        None,
        help="CSV of rejected rows (default: import/NAME.rejects.csv in the data directory).",
    ),
    show: int = typer.Option(10, help="How many rejected rows to print."),
) -> None:
    """Validate every row by the contract's rules, store the good ones (re-running
    is harmless), mark their summary days dirty, and report the bad ones by line."""
    from ingest import history
    from storage import open_store
    from storage.base import StoreError

    site = _site(site_file, registry, site_id)
    opts = _options(
        site,
        columns=history.ColumnMap(
            time=time_column,
            occupied=occupied_column,
            space=space_column,
            sensor=sensor_column,
            count=count_column,
            fixed_space=space,
        ),
        timezone=timezone,
        time_format=time_format,
        heartbeat_s=heartbeat_s,
        max_gap_s=max_gap_s,
        occupied_values=occupied_values,
        free_values=free_values,
    )
    kind = _format(path, fmt)
    try:
        store_settings = store_given.settings()
        store = open_store(store_settings)
        store.ping()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    except (StoreError, OSError) as exc:
        raise _fail(f"cannot open the store ({exc}); start it or fix --store-url") from None
    try:
        parsed, written = _run(path, kind, site, opts, store)
    finally:
        store.close()
    _report(parsed, written, path, rejects, show)
    if parsed.bad:
        raise typer.Exit(1)


def _site(site_file: Path | None, registry: Path | None, site_id: str | None) -> Site:
    from core.registry import load_registry
    from core.yamlfile import ConfigError

    if (site_file is None) == (registry is None):
        raise _fail("give exactly one of --site FILE or --registry DIR")
    try:
        reg = load_registry(site_file or registry)  # type: ignore[arg-type]
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    if site_id is None:
        if len(reg) != 1:
            raise _fail(f"the registry holds {len(reg)} sites: choose one with --site-id")
        return next(iter(reg))
    found = reg.get(site_id)
    if found is None:
        raise _fail(f"no site {site_id!r} in the registry (it has {', '.join(reg.ids)})")
    return found


def _options(site: Site, *, columns: Any, timezone: str | None, **given: Any) -> ImportOptions:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from ingest.history import FREE_VALUES, OCCUPIED_VALUES, ImportOptions

    named = [n for n in (columns.space, columns.sensor, columns.fixed_space) if n is not None]
    if len(named) != 1:
        raise _fail("name the space exactly one way: --space-column, --sensor-column or --space")
    if columns.fixed_space is not None and not site.has_space(columns.fixed_space):
        raise _fail(f"--space {columns.fixed_space!r} is not a space of site {site.id!r}")
    tz = None
    if timezone is not None:
        try:
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise _fail(f"--timezone {timezone!r} is not an IANA time zone") from None
    heartbeat = given["heartbeat_s"] if given["heartbeat_s"] is not None else site.heartbeat_s
    for name, value in (("--heartbeat-s", heartbeat), ("--max-gap-s", given["max_gap_s"])):
        if not 0 < value <= 86_400:
            raise _fail(f"{name} {value:g} must be above 0 and at most 86400 (a day)")
    occ = _values(given["occupied_values"], OCCUPIED_VALUES)
    free = _values(given["free_values"], FREE_VALUES)
    if set(occ) & set(free):
        raise _fail(f"values both occupied and free: {', '.join(sorted(set(occ) & set(free)))}")
    return ImportOptions(
        columns=columns,
        timezone=tz,
        time_format=given["time_format"],
        heartbeat_s=float(heartbeat),
        max_gap_s=float(given["max_gap_s"]),
        occupied_values=occ,
        free_values=free,
    )


def _values(text: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if text is None:
        return default
    return tuple(v.strip().lower() for v in text.split(",") if v.strip())


def _format(path: Path, fmt: str | None) -> str:
    if not path.is_file():
        raise _fail(f"no file {path}")
    if fmt is None:
        suffix = path.suffix.lower()
        fmt = {".csv": "csv", ".txt": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}.get(suffix)
        if fmt is None:
            raise _fail(f"cannot tell the format of {path.name}: give --format csv or jsonl")
    if fmt not in ("csv", "jsonl"):
        raise _fail(f"unknown --format {fmt!r}: use csv or jsonl")
    return fmt


def _run(
    path: Path, kind: Any, site: Site, opts: ImportOptions, store: Store
) -> tuple[Parsed, int]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from core.timeutil import utcnow
    from ingest import history

    if kind == "csv":
        try:
            missing, header = history.missing_columns(path, opts.columns)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise _fail(f"cannot read {path}: {exc}") from None
        if missing:
            raise _fail(
                f"{path.name} has no column {', '.join(map(repr, missing))} "
                f"(its header: {', '.join(header) or 'empty'}); map the columns with "
                "--time-column, --occupied-column, ..."
            )
    total = max(history.count_lines(path) - (1 if kind == "csv" else 0), 0)
    with Progress(
        TextColumn("[bold]import[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        transient=not sys.stderr.isatty(),
    ) as bar:
        reading = bar.add_task(f"reading {path.name}", total=total)
        try:
            parsed = history.parse_records(
                history.read_records(path, kind),
                site=site,
                opts=opts,
                now=utcnow(),
                progress=lambda n: bar.advance(reading, n),
            )
        except history.NaiveTime as exc:
            raise _fail(str(exc)) from None
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise _fail(f"cannot read {path}: {exc}") from None
        bar.update(reading, completed=total)
        writing = bar.add_task("writing", total=len(parsed.messages))
        written = _write(parsed, site, store, lambda n: bar.advance(writing, n))
    return parsed, written


def _write(parsed: Parsed, site: Site, store: Store, advance: Any) -> int:
    """Write the points in batches through the marking store (their summary days
    become dirty); a point the store refuses becomes a bad row."""
    from ingest.history import BadRow
    from storage.base import PartialWriteError, StoreError
    from storage.marks import MarkingStore
    from storage.points import presence_point

    marking = MarkingStore(store, {site.id: site.tz})
    written = 0
    for lo in range(0, len(parsed.messages), BATCH):
        msgs = parsed.messages[lo : lo + BATCH]
        points = [presence_point(site, m) for m in msgs]
        try:
            marking.write(points)
            written += len(points)
        except PartialWriteError as exc:
            line_of = {id(p): parsed.lines[lo + i] for i, p in enumerate(points)}
            parsed.bad.extend(
                BadRow(line_of[id(r.point)], f"store_rejected: {r.reason}") for r in exc.rejected
            )
            written += exc.written
        except StoreError as exc:
            raise _fail(
                f"the store failed after {written} points ({exc}); run the same import "
                "again when it answers: re-importing writes the same points, no duplicates"
            ) from None
        advance(len(points))
    parsed.bad.sort(key=lambda b: b.line)
    return written


def _report(parsed: Parsed, written: int, path: Path, rejects: Path | None, show: int) -> None:
    dup = f", {parsed.duplicates} exact duplicate rows skipped" if parsed.duplicates else ""
    typer.echo(f"imported {written} points from {path}{dup}", err=True)
    if not parsed.bad:
        return
    target = rejects or data_path("import", f"{path.name}.rejects.csv")
    _write_rejects(parsed.bad, target)
    typer.echo(f"{len(parsed.bad)} rows rejected (all in {target}):", err=True)
    for bad in parsed.bad[: max(show, 0)]:
        typer.echo(f"  line {bad.line}: {bad.reason}", err=True)
    if len(parsed.bad) > show:
        typer.echo(f"  ... and {len(parsed.bad) - show} more", err=True)


def _write_rejects(bad: list[BadRow], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["line", "reason", "row"])
        for b in bad:
            out.writerow([b.line, b.reason, b.raw])
