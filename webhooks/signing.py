"""Signatures of deliveries as the Standard Webhooks specification (v1.0.0) says.

A secret is ``whsec_`` + base64 of 24..64 random bytes; the HMAC key is the
decoded bytes. The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``
and the ``webhook-signature`` header is a space-separated list of
``v1,<base64 HMAC-SHA256>``, one per secret in force (several during a
rotation), so a receiver accepts the message if any one matches.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence

PREFIX = "whsec_"
SECRET_BYTES = 32


class BadSecret(ValueError):
    pass


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret; BadSecret for anything else."""
    if not secret.startswith(PREFIX):
        raise BadSecret("a webhook secret starts with whsec_")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise BadSecret("a webhook secret is whsec_ followed by base64") from None
    if not 24 <= len(key) <= 64:
        raise BadSecret("a webhook secret holds 24 to 64 bytes")
    return key


def signature(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(
    secrets_in_force: Sequence[str], *, msg_id: str, timestamp: int, body: bytes
) -> str:
    return " ".join(
        signature(s, msg_id=msg_id, timestamp=timestamp, body=body) for s in secrets_in_force
    )


def headers(
    secrets_in_force: Sequence[str], *, msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets_in_force, msg_id=msg_id, timestamp=timestamp, body=body
        ),
        "content-type": "application/json",
    }
