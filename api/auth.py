"""API keys and roles.

Keys are 256-bit random secrets, so a plain SHA-256 of the secret is a safe
stored form (a slow password hash protects low-entropy passwords; it adds
nothing for random keys and would cost every request). The key's public prefix
finds the row; the hash is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

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
    expires_at: datetime | None = None

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


def create_key(
    session: Session, *, role: str, name: str, expires_at: datetime | None = None
) -> str:
    """Store a new key and return it in full; it cannot be shown again."""
    if expires_at is not None and expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(id=key_id, name=name, role=role, secret_hash=_hash(secret), expires_at=expires_at)
    )
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
    if row is None or not is_active(row):
        return None
    if not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None
    return Principal(key_id=row.id, name=row.name, role=row.role, expires_at=_aware(row.expires_at))


def _aware(at: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes for DateTime(timezone=True); they were stored as UTC
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


def is_active(row: ApiKey, now: datetime | None = None) -> bool:
    if row.revoked_at is not None:
        return False
    expires = _aware(row.expires_at)
    return expires is None or (now or datetime.now(UTC)) < expires


def key_active(session: Session, key_id: str) -> bool:
    """Whether the key is still neither revoked nor expired (for open streams)."""
    row = session.get(ApiKey, key_id)
    return row is not None and is_active(row)


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
            principal = entry[1]
            expired = principal.expires_at is not None and principal.expires_at <= datetime.now(UTC)
            if entry[0] < time.monotonic() or expired:
                del self._entries[digest]
                return None
            return principal

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
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = datetime.now(UTC)
    session.commit()
    return True


_TOKEN_IN_QUERY = re.compile(r"(access_token=)[^&\s]*", re.IGNORECASE)


def redact(text: str) -> str:
    return _TOKEN_IN_QUERY.sub(r"\1[redacted]", text)


class AccessTokenRedactor(logging.Filter):
    """Blanks ``access_token=`` in access-log lines: the SSE stream accepts its
    key in the query string (EventSource sends no headers), and a key in a log
    file is a leaked key."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str) and "access_token" in record.msg:
            record.msg = redact(record.msg)
        return True


def redact_access_log(logger_name: str = "uvicorn.access") -> None:
    """Installs the redactor once on the access logger (idempotent)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, AccessTokenRedactor) for f in logger.filters):
        logger.addFilter(AccessTokenRedactor())
