"""``occupancy charges``: a site's usage-based charges for one month.

Reads presence and agent status from the store, bookings from iCalendar/CSV
files, the tariff from its YAML file; writes the charges as CSV, XLSX, JSON or a
PDF statement, and optionally the ``charges`` measurement for Grafana.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from core.cli_settings import Given, SettingsError, settings_options
from core.yamlfile import ConfigError
from storage import StoreSettings

if TYPE_CHECKING:
    from charging.bookings import Booking
    from charging.charges import MonthCharges
    from charging.tariff import Tariff
    from core.registry import Site

app = typer.Typer(help="Monthly usage-based charges per agency (docs/charging.md).")


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(2)


@app.callback(invoke_without_command=True)
@settings_options(StoreSettings, prefix="store", into="store_given")
def charges(
    store_given: Given[StoreSettings],
    site_file: Path | None = typer.Option(None, "--site", help="A site file."),
    registry: Path | None = typer.Option(None, help="A folder of site files (with --site-id)."),
    site_id: str | None = typer.Option(None, help="Which site of --registry."),
    month: str = typer.Option(..., help="Local calendar month, e.g. 2026-11."),
    tariffs: Path = typer.Option(
        ..., "--tariffs", help="Tariff file (YAML), or a folder of tariff files."
    ),
    bookings: list[Path] = typer.Option(
        [], "--bookings", help="Bookings file (.ics or .csv); repeat for several."
    ),
    fmt: str = typer.Option("csv", "--format", help="csv, xlsx, json or pdf."),
    lang: str = typer.Option("fi", "--lang", help="Statement language: fi, sv or en."),
    csv_dialect: str = typer.Option(
        "locale",
        "--csv-dialect",
        help="locale (fi, sv: semicolon and decimal comma, with BOM) or rfc4180.",
    ),
    agency: str | None = typer.Option(None, help="Only this agency's statement."),
    out: Path | None = typer.Option(None, help="Output file (default: standard output)."),
    api_url: str | None = typer.Option(
        None, help="The API's address, for the PDF's audit links (default: paths only)."
    ),
    write_points: bool = typer.Option(
        False, help="Also write the 'charges' measurement to the store for Grafana."
    ),
    silence_factor: float = typer.Option(2.5, help="Unknown after this many heartbeats."),
    merge_gap_s: float = typer.Option(0, help="Count free gaps shorter than this as occupied."),
) -> None:
    """Compute one month's charges of a site and write them out."""
    from charging.statements import CSV_DIALECTS, FORMATS, LANGS

    if fmt not in FORMATS:
        raise _fail(f"unknown --format {fmt!r}: use one of {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise _fail(f"unknown --lang {lang!r}: use one of {', '.join(LANGS)}")
    if csv_dialect not in CSV_DIALECTS:
        raise _fail(f"unknown --csv-dialect {csv_dialect!r}: use one of {', '.join(CSV_DIALECTS)}")
    if fmt in {"xlsx", "pdf"} and out is None:
        raise _fail(f"--format {fmt} is binary: give --out FILE")
    try:
        site = _site(site_file, registry, site_id)
        from charging.bookings import read_bookings
        from charging.charges import parse_month
        from charging.monthrun import month_window
        from charging.tariff import load_tariff_for_site

        parse_month(month)
        tariff_obj = load_tariff_for_site(tariffs, site.id)
        start, end = month_window(site=site, month=month, tariff=tariff_obj)
        booked = read_bookings(bookings, site=site, start=start, end=end)
    except (ConfigError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if agency is not None and agency not in {a.id for a in site.agencies}:
        raise _fail(f"unknown --agency {agency!r} at site {site.id!r}")

    result = _charge(
        store_given, site, month, tariff_obj, booked, silence_factor, merge_gap_s, write_points
    )
    _write(result, site, fmt, agency, out, lang=lang, csv_dialect=csv_dialect, api_url=api_url)


def _charge(
    store_given: Given[StoreSettings],
    site: Site,
    month: str,
    tariff_obj: Tariff,
    booked: list[Booking],
    silence_factor: float,
    merge_gap_s: float,
    write_points: bool,
) -> MonthCharges:
    from charging.monthrun import FutureMonthError, charge_month, refuse_future
    from charging.points import charge_points
    from storage import open_store
    from storage.base import StoreError, StoreMissing, StoreUnavailable

    now = datetime.now(UTC)
    try:
        refuse_future(site=site, month=month, now=now)
        store_settings = store_given.settings()
        store = open_store(store_settings, create=False)  # a read: never make a store
    except FutureMonthError as exc:
        raise _fail(str(exc)) from None
    except SettingsError as exc:
        raise _fail(f"store settings: {exc.problems}") from None
    except StoreMissing as exc:
        raise _fail(f"{exc} (check --store-url)") from None
    except StoreUnavailable as exc:
        raise _fail(f"store unreachable: {exc} (start it or fix --store-url)") from None
    except (StoreError, ValueError) as exc:
        raise _fail(f"store settings: {exc}") from None
    try:
        result = charge_month(
            store=store,
            site=site,
            month=month,
            tariff=tariff_obj,
            bookings=booked,
            silence_factor=silence_factor,
            merge_gap_s=merge_gap_s,
            raw_retention_days=store_settings.raw_retention_days,
            now=now,
        )
        if write_points:
            store.write(charge_points(result))
    except StoreUnavailable as exc:
        raise _fail(f"store unreachable: {exc} (start it or fix --store-url)") from None
    except StoreError as exc:
        raise _fail(f"store refused the request: {exc}") from None
    except (ConfigError, ValueError) as exc:
        raise _fail(str(exc)) from None
    finally:
        store.close()
    return result


def _write(
    result: MonthCharges,
    site: Site,
    fmt: str,
    agency: str | None,
    out: Path | None,
    *,
    lang: str,
    csv_dialect: str,
    api_url: str | None,
) -> None:
    from charging.statements import render

    month = result.month
    if all(ln.coverage == 0 for ln in result.lines if ln.line != "base"):
        typer.echo(
            f"warning: no presence data for {site.id} in {month}: nothing was observed, "
            "so the whole cost is allocated by headcount",
            err=True,
        )
    if result.provisional:
        typer.echo(
            f"provisional: {month} is in progress; the figures run to "
            f"{result.period_end.astimezone(site.tz):%Y-%m-%d %H:%M} ({site.timezone}) and the "
            f"cost is pro rata to the elapsed opening time ({float(result.elapsed_share):.2%})",
            err=True,
        )
    data = render(
        result,
        fmt,
        agency=agency,
        lang=lang,
        site=site,
        csv_dialect=csv_dialect,
        api_url=api_url,
    )
    if out is None:
        typer.echo(data.decode(), nl=False)
    else:
        try:
            out.write_bytes(data)
        except OSError as exc:
            raise _fail(f"cannot write {out}: {exc.strerror}") from None
        total = sum(ln.amount_cents for ln in result.lines) / 100
        typer.echo(
            f"{site.id} {month}: {len(result.lines)} lines, {total:.2f} {result.currency}, "
            f"inputs {result.inputs_hash[:12]} -> {out}",
            err=True,
        )


def _site(site_file: Path | None, registry: Path | None, site_id: str | None) -> Site:
    from core.registry import load_registry, load_site

    if (site_file is None) == (registry is None):
        raise ConfigError("give exactly one of --site FILE or --registry DIR")
    if site_file is not None:
        return load_site(site_file)
    assert registry is not None
    reg = load_registry(registry)
    if site_id is None:
        if len(reg) != 1:
            raise ConfigError(f"--registry holds {len(reg)} sites: choose one with --site-id")
        return next(iter(reg))
    site = reg.get(site_id)
    if site is None:
        raise ConfigError(f"no site {site_id!r} in {registry} (it has {', '.join(reg.ids)})")
    return site
