"""Upload dashboards to an existing Grafana through its HTTP API (grafana-client).

Idempotent: the folder is found or created by uid, and each dashboard is saved
under its fixed uid with ``overwrite`` so a second push replaces the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dashboards.build import FOLDER_UID
from dashboards.model import Json


class PushError(Exception):
    """Grafana refused or could not be reached; the message says what to do."""


def _explain(exc: Exception, url: str) -> PushError:
    from grafana_client.client import (
        GrafanaClientError,
        GrafanaServerError,
        GrafanaUnauthorizedError,
    )

    if isinstance(exc, GrafanaUnauthorizedError):
        return PushError(
            f"Grafana at {url} refused the token: create a service account token "
            "with the Editor role and pass it with --token"
        )
    if isinstance(exc, GrafanaClientError):
        return PushError(f"Grafana at {url} refused the request: {exc}")
    if isinstance(exc, GrafanaServerError):
        return PushError(f"Grafana at {url} failed: {exc}")
    return PushError(f"cannot reach Grafana at {url} ({exc}); check --url")


def ensure_folder(api: Any, *, title: str, uid: str = FOLDER_UID) -> str:
    from grafana_client.client import GrafanaClientError

    try:
        api.folder.get_folder(uid)
    except GrafanaClientError as exc:
        if getattr(exc, "status_code", None) != 404:
            raise
        api.folder.create_folder(title, uid=uid)
    return uid


def push_dashboards(
    *, url: str, token: str, models: Sequence[Json], folder: str = "Occupancy", timeout: float = 10
) -> list[tuple[str, str]]:
    """Returns (uid, Grafana URL path) per dashboard."""
    from grafana_client import GrafanaApi

    api = GrafanaApi.from_url(url, credential=token, timeout=timeout)
    pushed = []
    try:
        folder_uid = ensure_folder(api, title=folder)
        for model in models:
            # "id" must be absent/None so Grafana matches on uid, not on an
            # internal id from another instance.
            body = {
                "dashboard": {**model, "id": None},
                "folderUid": folder_uid,
                "overwrite": True,
                "message": "occupancy dashboards push",
            }
            answer = api.dashboard.update_dashboard(body)
            pushed.append((model["uid"], str(answer.get("url", ""))))
    except PushError:
        raise
    except Exception as exc:
        raise _explain(exc, url) from exc
    return pushed
