"""The test fixtures' own promise: a missing server binary is a clear failure
saying how to install it, never a silent skip."""

from __future__ import annotations

import pytest

from tests import servers


def test_missing_binary_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(servers.shutil, "which", lambda name: None)
    monkeypatch.setattr(servers, "Path", lambda p: tmp_path / "nowhere" / str(p).strip("/"))
    with pytest.raises(servers.MissingBinary) as err:
        servers.MosquittoServer(tmp_path)
    assert "sudo apt-get install -y mosquitto" in str(err.value)
    with pytest.raises(servers.MissingBinary) as err:
        servers.InfluxServer(tmp_path)
    assert "sudo apt-get install -y influxdb" in str(err.value)
