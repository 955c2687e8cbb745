"""API keys and roles.

Keys are 256-bit random secrets, so a plain SHA-256 of the secret is a safe
stored form (a slow password hash protects low-entropy passwords; it adds
nothing for random keys and would cost every request). The key's public prefix
finds the row; the hash is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.records import ApiKey

KEY_PREFIX = "occ"
FIXED_ROLES = ("admin", "facility", "finance")


class InvalidRole(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    name: str
    role: str

    @property
    def agency(self) -> str | None:
        return self.role.split(":", 1)[1] if self.role.startswith("agency:") else None

    @property
    def is_agency(self) -> bool:
        return self.agency is not None

    def has(self, *roles: str) -> bool:
        """True for admin always, or when the role is one of ``roles`` ("agency" matches any)."""
        if self.role == "admin":
            return True
        return self.role in roles or ("agency" in roles and self.is_agency)

    def may_see_agency(self, agency_id: str) -> bool:
        return not self.is_agency or self.agency == agency_id


def validate_role(role: str, known_agencies: set[str] | None = None) -> str:
    if role in FIXED_ROLES:
        return role
    if role.startswith("agency:") and len(role) > len("agency:"):
        agency = role.split(":", 1)[1]
        if known_agencies is not None and agency not in known_agencies:
            raise InvalidRole(
                f"unknown agency {agency!r} (known: {', '.join(sorted(known_agencies))})"
            )
        return role
    raise InvalidRole(f"role must be one of {', '.join(FIXED_ROLES)} or agency:<id>, not {role!r}")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, *, role: str, name: str) -> str:
    """Store a new key and return it in full; it cannot be shown again."""
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(ApiKey(id=key_id, name=name, role=role, secret_hash=_hash(secret)))
    session.commit()
    return f"{KEY_PREFIX}_{key_id}_{secret}"


def verify_key(session: Session, presented: str) -> Principal | None:
    try:
        prefix, key_id, secret = presented.split("_", 2)
    except ValueError:
        return None
    if prefix != KEY_PREFIX:
        return None
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None
    return Principal(key_id=row.id, name=row.name, role=row.role)


class KeyCache:
    """Keys verified in the last ``ttl_s`` seconds, so that a busy client (a
    dashboard polling live state) does not cost a database query per request.

    Only successful verifications are kept, hashed, and at most ``max_keys``
    of them. The price: a revoked key keeps working for up to ``ttl_s``.
    """

    def __init__(self, ttl_s: float, max_keys: int = 10_000):
        self.ttl_s = ttl_s
        self.max_keys = max_keys
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, presented: str) -> Principal | None:
        if self.ttl_s <= 0:
            return None
        digest = _hash(presented)
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[digest]
                return None
            return entry[1]

    def put(self, presented: str, principal: Principal) -> None:
        if self.ttl_s <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_keys:
                self._entries.clear()
            self._entries[_hash(presented)] = (time.monotonic() + self.ttl_s, principal)


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def revoke_key(session: Session, key_id: str) -> bool:
    from datetime import UTC, datetime

    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = datetime.now(UTC)
    session.commit()
    return True
