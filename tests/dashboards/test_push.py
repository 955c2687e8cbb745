"""``occupancy dashboards push`` against a small local HTTP server standing in
for Grafana's HTTP API: no Grafana server can run here (it is not in Debian's
archive), so the test records the requests the push sends and answers
like Grafana does (404 for an unknown folder, then 200)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from typer.testing import CliRunner

from dashboards.cli import app


class FakeGrafana:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.folders: set[str] = set()
        self.dashboards: dict[str, dict[str, Any]] = {}
        self.token = "glsa_test"
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body: Any = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append((method, self.path, dict(self.headers), body))
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._answer(401, {"message": "invalid API key"})
                if method == "GET" and self.path.startswith("/api/folders/"):
                    uid = self.path.rsplit("/", 1)[1]
                    if uid in fake.folders:
                        return self._answer(200, {"uid": uid, "title": "Occupancy"})
                    return self._answer(404, {"message": "folder not found"})
                if method == "POST" and self.path == "/api/folders":
                    fake.folders.add(body["uid"])
                    return self._answer(200, {"uid": body["uid"], "title": body["title"]})
                if method == "POST" and self.path == "/api/dashboards/db":
                    uid = body["dashboard"]["uid"]
                    if uid in fake.dashboards and not body.get("overwrite"):
                        return self._answer(412, {"status": "name-exists"})
                    fake.dashboards[uid] = body
                    return self._answer(200, {"status": "success", "uid": uid, "url": f"/d/{uid}"})
                return self._answer(404, {"message": "not found"})

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    g = FakeGrafana()
    g.thread.start()
    yield g
    g.server.shutdown()
    g.server.server_close()


UIDS = {
    "occupancy-live",
    "occupancy-utilisation",
    "occupancy-efficiency",
    "occupancy-charges",
    "occupancy-service",
    "occupancy-energy",
}


def test_push_creates_folder_once_and_overwrites_by_uid(grafana: FakeGrafana) -> None:
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, ["push", "--url", grafana.url, "--token", grafana.token])
        assert result.exit_code == 0, result.output
    assert set(grafana.dashboards) == UIDS
    folder_creations = [r for r in grafana.requests if r[:2] == ("POST", "/api/folders")]
    assert len(folder_creations) == 1 and folder_creations[0][3] == {
        "title": "Occupancy",
        "uid": "occupancy",
    }
    saves = [r[3] for r in grafana.requests if r[:2] == ("POST", "/api/dashboards/db")]
    assert len(saves) == 2 * len(UIDS)  # every dashboard, twice
    for body in saves:
        assert body["overwrite"] is True and body["folderUid"] == "occupancy"
        assert body["dashboard"]["id"] is None and body["dashboard"]["uid"] in UIDS
    assert "/d/occupancy-live" in result.output


def test_push_with_a_bad_token_says_what_to_do(grafana: FakeGrafana) -> None:
    result = CliRunner().invoke(app, ["push", "--url", grafana.url, "--token", "wrong"])
    assert result.exit_code == 2
    assert "refused the token" in result.output
    assert "Traceback" not in result.output


def test_push_to_nothing_listening_is_one_line() -> None:
    from tests.servers import free_port

    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["push", "--url", url, "--token", "t"])
    assert result.exit_code == 2
    assert f"cannot reach Grafana at {url}" in result.output
