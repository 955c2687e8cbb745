"""Upload dashboards to an existing Grafana through its HTTP API.

Three calls of Grafana's HTTP API are all a push needs, so they are made with
httpx (already a server dependency) rather than grafana-client: that library
pulls in niquests and urllib3-future, which shadow urllib3 and break other
tools in the same environment (schemathesis among them, issue 20).

Idempotent: the folder is found or created by uid, and each dashboard is saved
under its fixed uid with ``overwrite`` so a second push replaces the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from dashboards.build import FOLDER_UID
from dashboards.model import Json


class PushError(Exception):
    """Grafana refused or could not be reached; the message says what to do."""


def _checked(resp: httpx.Response, url: str) -> Any:
    if resp.status_code == 401:
        raise PushError(
            f"Grafana at {url} refused the token: create a service account token "
            "with the Editor role and pass it with --token"
        )
    if resp.status_code >= 500:
        raise PushError(f"Grafana at {url} failed: {resp.status_code} {resp.text[:200]}")
    if resp.status_code >= 400:
        raise PushError(
            f"Grafana at {url} refused the request: {resp.status_code} {resp.text[:200]}"
        )
    return resp.json()


def ensure_folder(client: httpx.Client, url: str, *, title: str, uid: str = FOLDER_UID) -> str:
    resp = client.get(f"/api/folders/{uid}")
    if resp.status_code == 404:
        _checked(client.post("/api/folders", json={"title": title, "uid": uid}), url)
    else:
        _checked(resp, url)
    return uid


def push_dashboards(
    *, url: str, token: str, models: Sequence[Json], folder: str = "Occupancy", timeout: float = 10
) -> list[tuple[str, str]]:
    """Returns (uid, Grafana URL path) per dashboard."""
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    pushed = []
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=timeout) as client:
            folder_uid = ensure_folder(client, url, title=folder)
            for model in models:
                # "id" must be absent/None so Grafana matches on uid, not on an
                # internal id from another instance.
                body = {
                    "dashboard": {**model, "id": None},
                    "folderUid": folder_uid,
                    "overwrite": True,
                    "message": "occupancy dashboards push",
                }
                answer = _checked(client.post("/api/dashboards/db", json=body), url)
                pushed.append((model["uid"], str(answer.get("url", ""))))
    except httpx.HTTPError as exc:
        raise PushError(f"cannot reach Grafana at {url} ({exc}); check --url") from exc
    return pushed
