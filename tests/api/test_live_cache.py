"""The cached live snapshot follows every change, for every access scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.messages import AgentStatus, Presence
from tests.api.conftest import Api


def state_of(api: Api, role: str, space: str) -> str | None:
    body = api.get("/v1/sites/pieni/live", role).json()
    return next((s["state"] for s in body["spaces"] if s["space"] == space), None)


def test_snapshot_changes_after_presence_offline_and_sweep(sqlite_api: Api) -> None:
    board = sqlite_api.client.app.state.ctx.hub.board("pieni")  # type: ignore[attr-defined]
    now = datetime.now(UTC).replace(microsecond=0)

    def presence(space: str, occupied: bool, seq: int, at: datetime) -> None:
        board.apply_presence(
            Presence(
                space_id=space,
                agent_id="ag",
                sensor_id=f"s-{space}",
                occupied=occupied,
                event_time=at,
                seq=seq,
                kind="change",
                heartbeat_interval_s=60,
            )  # type: ignore[arg-type]
        )

    presence("a1", False, 1, now)
    assert state_of(sqlite_api, "facility", "a1") == "free"
    assert state_of(sqlite_api, "agency:aa", "a1") == "free"
    presence("a1", True, 2, now + timedelta(seconds=1))
    assert state_of(sqlite_api, "facility", "a1") == "occupied"
    assert state_of(sqlite_api, "agency:aa", "a1") == "occupied"
    assert state_of(sqlite_api, "agency:bb", "a1") is None  # never another agency's desk

    board.apply_status(
        AgentStatus(agent_id="ag", state="offline"), received_at=now + timedelta(seconds=2)
    )  # type: ignore[arg-type]
    assert state_of(sqlite_api, "facility", "a1") == "unknown"
    presence("a1", True, 3, now + timedelta(seconds=3))
    assert state_of(sqlite_api, "agency:aa", "a1") == "occupied"
    board.sweep(now + timedelta(seconds=3 + 151))  # 2.5 x 60 s of silence
    assert state_of(sqlite_api, "facility", "a1") == "unknown"
    assert state_of(sqlite_api, "agency:aa", "a1") == "unknown"
