"""``occupancy up``: the whole platform in one process, for a laptop or a demo.

Embedded MQTT broker (unless --broker-url), simulator, ingest, store (SQLite
unless --store-url) and the API with its live page. Ctrl-C stops everything,
in the reverse order of starting.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from pathlib import Path

import typer

from core.datadir import ENV as DATA_DIR_ENV
from core.datadir import checkout_root, example_sites
from core.datadir import data_dir as default_data_dir

app = typer.Typer(help="Run the whole platform locally (embedded broker and store).")
log = logging.getLogger(__name__)


def _port_problem(host: str, port: int, what: str, option: str) -> str | None:
    from api.serve import port_unavailable

    problem = port_unavailable(host, port)
    if problem is None:
        return None
    return f"{what} port {host}:{port} is not free ({problem}); choose another with {option}"


def _example_tariffs() -> Path | None:
    root = checkout_root()
    return root / "examples" / "tariffs" if root is not None else None


def _speed_problem(speed: float) -> str | None:
    """Why a simulator speed cannot run live against the ingest, if it cannot.

    The simulated clock starts at now. Faster than real time it runs ahead of
    the clock by (speed - 1) seconds a second, and once an event time is more
    than the ingest's max_future_s ahead the ingest dead-letters it as "future
    time". No setting makes that agree for long, so ``up`` refuses it.
    """
    from ingest.config import IngestSettings

    if speed <= 0:
        return f"--speed {speed:g}: must be positive"
    if speed <= 1:
        return None
    limit = IngestSettings.model_fields["max_future_s"].default
    return (
        f"--speed {speed:g} runs the simulated clock ahead of real time: after "
        f"{limit / (speed - 1):.0f} s its event times would be more than the ingest's "
        f"max_future_s ({limit:g} s) in the future and be dead-lettered as 'future "
        "time'. A live demo runs at --speed 1 (or slower); for weeks of history in "
        "minutes use `occupancy simulate backfill`."
    )


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(2)


@app.callback(invoke_without_command=True)
def up(
    registry: Path = typer.Option(
        default_factory=example_sites,
        show_default="examples/sites of the checkout",
        help="Site file or folder of site files.",
    ),
    data_dir: Path = typer.Option(
        default_factory=default_data_dir,
        envvar=DATA_DIR_ENV,
        show_default="var/ of the checkout",
        help="Where the embedded store, the API's records and the ingest's spool live.",
    ),
    host: str = typer.Option("127.0.0.1", help="Address of the API and the embedded broker."),
    port: int = typer.Option(8000, help="API port."),
    mqtt_port: int = typer.Option(1883, help="Embedded broker port."),
    broker_url: str | None = typer.Option(
        None,
        help="Use this broker (e.g. mqtt://127.0.0.1:1883 Mosquitto) instead of the embedded one.",
    ),
    mqtt_protocol: str = typer.Option("3.1.1", help="3.1.1 (embedded broker) or 5 (Mosquitto)."),
    store_url: str | None = typer.Option(
        None, help="sqlite:///file.db or http://influx:8086 (default: occupancy.db in --data-dir)."
    ),
    store_database: str = typer.Option(
        "occupancy", help="InfluxDB database, with an http store URL."
    ),
    store_raw_retention_days: int | None = typer.Option(
        None, min=1, help="Days of raw points to keep; the daily summaries are kept (default: all)."
    ),
    simulate: bool = typer.Option(True, help="Run the simulator on every site."),
    speed: float = typer.Option(
        1.0, help="Simulated seconds per real second, at most 1 (faster runs ahead of the clock)."
    ),
    seed: int = typer.Option(1, help="Simulator seed."),
    tariffs: Path | None = typer.Option(
        default_factory=_example_tariffs,
        show_default="examples/tariffs of the checkout",
        help="Tariff file or folder for the charges endpoints.",
    ),
) -> None:
    """Start broker, simulator, ingest, store and API; print keys and the page's link."""
    from api.auth import create_key
    from core.registry import load_registry
    from core.yamlfile import ConfigError

    problem = _speed_problem(speed) if simulate else None
    if problem:
        raise _fail(problem)
    try:
        reg = load_registry(registry)
    except ConfigError as exc:
        raise _fail(f"invalid site registry:\n{exc}") from None
    if mqtt_protocol not in ("3.1.1", "5"):
        raise _fail("--mqtt-protocol must be 3.1.1 or 5")
    problem = _port_problem(host, port, "API", "--port")
    if broker_url is None:
        problem = problem or _port_problem(host, mqtt_port, "MQTT", "--mqtt-port or --broker-url")
    if problem:
        raise _fail(problem)

    from api.app import create_app
    from api.config import ApiSettings
    from api.records import make_engine, make_sessionmaker
    from api.serve import serve
    from ingest.config import IngestSettings
    from ingest.service import IngestService
    from occupancy.broker import BrokerStartError, EmbeddedBroker
    from storage import StoreError, StoreSettings, open_store

    data_dir.mkdir(parents=True, exist_ok=True)
    store_settings = StoreSettings(
        url=store_url or f"sqlite:///{(data_dir / 'occupancy.db').resolve()}",
        database=store_database,
        raw_retention_days=store_raw_retention_days,
    )
    with ExitStack() as stack:
        if broker_url is None:
            try:
                broker = EmbeddedBroker(host, mqtt_port).start()
            except BrokerStartError as exc:
                raise _fail(str(exc)) from None
            stack.callback(broker.stop)
            url = broker.url
            mqtt_protocol = "3.1.1"  # amqtt speaks MQTT 3.1.1 only
        else:
            url = broker_url
        try:
            store = open_store(store_settings)
            store.ping()
        except (StoreError, ValueError) as exc:
            raise _fail(f"cannot open the store {store_settings.url}: {exc}") from None
        stack.callback(store.close)

        ingest = IngestService(
            IngestSettings(
                registry=registry,
                broker_url=url,
                protocol=mqtt_protocol,
                spool_dir=data_dir / "ingest" / "spool",
                dead_letter_dir=data_dir / "ingest" / "dead-letters",
                metrics_port=None,
                store=store_settings,
            ),
            reg,
            store,
        )
        ingest.start()
        stack.callback(ingest.stop)

        if simulate:
            from simulators.publisher import LiveSimulator, PublisherSettings, demo_start
            from simulators.scenario import Scenario

            for site in reg:
                sim = LiveSimulator(
                    site,
                    Scenario(seed=seed),
                    PublisherSettings(broker_url=url, protocol=mqtt_protocol),
                    speed=speed,
                    start=demo_start(site),
                    shift_to_now=True,
                )
                sim.start()
                stack.callback(sim.stop)

        api_settings = ApiSettings(
            registry=registry,
            store=store_settings,
            records_url=f"sqlite:///{(data_dir / 'api.db').resolve()}",
            host=host,
            port=port,
            broker_url=url,
            mqtt_protocol=mqtt_protocol,
            tariffs=tariffs if tariffs is not None and tariffs.exists() else None,
        )
        sessions = make_sessionmaker(make_engine(api_settings.records_url))
        with sessions() as session:
            keys = {
                role: create_key(session, role=role, name=f"occupancy up ({role})")
                for role in (
                    "facility",
                    "finance",
                    "admin",
                    f"agency:{next(iter(reg)).agencies[0].id}",
                )
            }
        base = f"http://{host}:{port}"
        typer.echo(
            "\n".join(
                [
                    "",
                    f"Live floor plan:  {base}/ui/#key={keys['facility']}",
                    f"API docs:         {base}/docs",
                    "Development API keys (Authorization: Bearer <key>):",
                    *(f"  {role:<22} {key}" for role, key in keys.items()),
                    f"Broker: {url}   Store: {store_settings.url}",
                    "Press Ctrl-C to stop.",
                    "",
                ]
            )
        )
        serve(
            create_app(api_settings, registry=reg, store=store),
            host=host,
            port=port,
            log_level="warning",
        )
        typer.echo("stopping...")
