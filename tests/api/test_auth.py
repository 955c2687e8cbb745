from __future__ import annotations

from pathlib import Path

import pytest

from api.auth import InvalidRole, Principal, create_key, revoke_key, validate_role, verify_key
from api.records import ApiKey, make_engine, make_sessionmaker


def test_keys_are_stored_hashed_and_verified(tmp_path: Path) -> None:
    sessions = make_sessionmaker(make_engine(f"sqlite:///{tmp_path}/api.db"))
    with sessions() as s:
        key = create_key(s, role="agency:vero", name="Vero finance")
        row = s.get(ApiKey, key.split("_")[1])
        assert row is not None and key.split("_", 2)[2] not in row.secret_hash
        p = verify_key(s, key)
        assert p == Principal(key_id=row.id, name="Vero finance", role="agency:vero")
        assert p.agency == "vero" and p.may_see_agency("vero") and not p.may_see_agency("dvv")
        assert verify_key(s, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
        assert verify_key(s, "garbage") is None
        assert revoke_key(s, row.id)
        assert verify_key(s, key) is None


def test_roles() -> None:
    assert validate_role("facility") == "facility"
    assert validate_role("agency:vero", {"vero"}) == "agency:vero"
    with pytest.raises(InvalidRole):
        validate_role("agency:nobody", {"vero"})
    with pytest.raises(InvalidRole):
        validate_role("root")
    admin = Principal("k", "n", "admin")
    assert admin.has("finance") and Principal("k", "n", "agency:x").has("agency")
    assert not Principal("k", "n", "facility").has("finance")


def test_key_cache_trusts_a_verified_key_for_its_ttl_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from api import auth

    clock = [100.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    cache = auth.KeyCache(ttl_s=5)
    p = Principal("k", "n", "facility")
    assert cache.get("occ_k_secret") is None
    cache.put("occ_k_secret", p)
    assert cache.get("occ_k_secret") == p
    assert cache.get("occ_k_other") is None
    clock[0] += 5.01  # a revoked key stops working once its entry expires
    assert cache.get("occ_k_secret") is None
    off = auth.KeyCache(ttl_s=0)
    off.put("occ_k_secret", p)
    assert off.get("occ_k_secret") is None
