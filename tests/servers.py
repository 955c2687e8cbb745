"""Real Mosquitto, InfluxDB 1.x and PostgreSQL servers for tests and benchmarks.

Each server runs on free loopback ports in its own temporary folder, and can be
stopped and started again on the same port and data (for outage tests). A
missing binary raises ``MissingBinary`` with the command that installs it:
tests must never skip silently because a server is absent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MOSQUITTO_TUNING = REPO / "deploy" / "mosquitto" / "tuning.conf"


class MissingBinary(RuntimeError):
    pass


_handed_out: set[int] = set()


def _worker() -> tuple[int, int]:
    """This pytest-xdist worker's index and the number of workers ((0, 1) alone)."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return (int(name[2:]), count) if name.startswith("gw") and count > 1 else (0, 1)


def free_port() -> int:
    """A loopback port that nothing listens on, never one handed out before here.

    The port is free when asked but only taken when the server binds it, so
    under pytest-xdist two workers could be given the same one in between: each
    worker takes only ports of its own class (``port // 2 % workers``; Linux
    hands out mostly odd ports to ``bind(0)``, hence the halving), and none
    twice, so the workers' servers never meet on a port.
    """
    index, count = _worker()
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port // 2 % count == index and port not in _handed_out:
            _handed_out.add(port)
            return port


class _V6HTTPServer(ThreadingHTTPServer):
    address_family = socket.AF_INET6


@contextlib.contextmanager
def http_server(
    handler: type[BaseHTTPRequestHandler],
    host: str = "127.0.0.1",
    *,
    tls: ssl.SSLContext | None = None,
) -> Iterator[int]:
    """A threaded HTTP server of ``handler`` on a free port of ``host`` (an
    IPv4 or IPv6 loopback address; ``tls``: HTTPS), its port while it runs."""
    cls = _V6HTTPServer if ":" in host else ThreadingHTTPServer
    server = cls((host, 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def find_binary(name: str, package: str) -> str:
    # Debian keeps PostgreSQL's server programs off PATH, per major version
    versioned = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=_major, reverse=True)
    path = shutil.which(name) or next(
        (
            str(p)
            for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name, *versioned)
            if p.exists()
        ),
        None,
    )
    if path is None:
        raise MissingBinary(
            f"'{name}' is not installed; install it with: sudo apt-get install -y {package}"
        )
    return path


def _major(path: Path) -> int:
    version = path.parent.parent.name
    return int(version) if version.isdigit() else 0


def wait_for_port(
    port: int, timeout: float = 15.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before listening")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class _Server:
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path

    def _spawn(self, argv: list[str]) -> None:
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            argv, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        self._log.close()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


class MosquittoServer(_Server):
    """A Mosquitto broker with persistence and the project's tuning."""

    def __init__(self, workdir: Path, *, extra_conf: str = "", port: int | None = None):
        self.binary = find_binary("mosquitto", "mosquitto")
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.extra_conf = extra_conf
        self.log_path = self.workdir / "mosquitto.log"
        self.conf_path = self.workdir / "mosquitto.conf"

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def write_conf(self) -> None:
        tuning = MOSQUITTO_TUNING.read_text()
        # Started as root, Mosquitto drops to the 'mosquitto' user, which cannot
        # write its persistence file into this private temporary folder.
        user = "user root" if os.geteuid() == 0 else ""
        self.conf_path.write_text(
            f"""
{user}
per_listener_settings false
listener {self.port} 127.0.0.1
allow_anonymous true
persistence true
persistence_location {self.workdir}/
autosave_interval 1
log_dest stdout
log_type error
log_type warning
log_type notice
{tuning}
{self.extra_conf}
"""
        )

    def start(self) -> MosquittoServer:
        self.write_conf()
        self._spawn([self.binary, "-c", str(self.conf_path)])
        try:
            wait_for_port(self.port, proc=self.proc)
        except Exception as exc:
            raise RuntimeError(f"mosquitto did not start: {exc}\n{self.log_tail()}") from exc
        return self


class InfluxServer(_Server):
    """An InfluxDB 1.x server (Debian's ``influxdb``) on loopback."""

    def __init__(self, workdir: Path, *, auth: bool = False, port: int | None = None):
        self.binary = find_binary("influxd", "influxdb")
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.rpc_port = free_port()
        self.auth = auth
        self.log_path = self.workdir / "influxd.log"
        self.conf_path = self.workdir / "influxdb.conf"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_conf(self) -> None:
        w = self.workdir
        self.conf_path.write_text(
            f"""
reporting-disabled = true
bind-address = "127.0.0.1:{self.rpc_port}"
[meta]
  dir = "{w}/meta"
[data]
  dir = "{w}/data"
  wal-dir = "{w}/wal"
  query-log-enabled = false
  wal-fsync-delay = "0s"
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:{self.port}"
  auth-enabled = {"true" if self.auth else "false"}
  log-enabled = false
  max-body-size = 0
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
"""
        )

    def start(self) -> InfluxServer:
        self.write_conf()
        self._spawn([self.binary, "-config", str(self.conf_path)])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"influxd exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=0.5) as resp:
                    if resp.status == 204:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise RuntimeError(f"influxd did not answer /ping in 30 s:\n{self.log_tail()}")

    def query(self, q: str, db: str | None = None, **params: str) -> dict:  # type: ignore[type-arg]
        """Raw InfluxQL for test assertions (independent of the project's store)."""
        import json
        import urllib.parse

        args = {"q": q, **params}
        if db:
            args["db"] = db
        data = urllib.parse.urlencode(args).encode()
        with urllib.request.urlopen(f"{self.url}/query", data=data, timeout=30) as resp:
            return json.loads(resp.read())  # type: ignore[no-any-return]


class PostgresServer(_Server):
    """A PostgreSQL server (Debian's ``postgresql``) on loopback, trust auth,
    for the records database. PostgreSQL refuses to run as root, so under root
    the cluster is made and run as ``nobody``, in a folder of its own outside
    pytest's (root-only) temporary tree."""

    def __init__(self) -> None:
        import tempfile

        self.binary = find_binary("postgres", "postgresql")
        self.initdb = find_binary("initdb", "postgresql")
        self.workdir = Path(tempfile.mkdtemp(prefix="occupancy-pg-"))
        self.port = free_port()
        self.log_path = self.workdir / "postgres.log"
        self.user = "nobody" if os.geteuid() == 0 else None
        if self.user is not None:
            shutil.chown(self.workdir, user=self.user)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> PostgresServer:
        data = self.workdir / "data"
        subprocess.run(
            [self.initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
            check=True,
            capture_output=True,
            user=self.user,
        )
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [self.binary, "-D", str(data), "-p", str(self.port), "-k", str(self.workdir),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True, user=self.user,
        )  # fmt: skip
        wait_for_port(self.port, 30, self.proc)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        super().stop(sig)
        shutil.rmtree(self.workdir, ignore_errors=True)
