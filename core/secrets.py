"""Placeholder secrets: the values of ``.env.example`` and the usual stand-ins.

A service started in production refuses any of these (DESIGN.md, "Security
and privacy"). Every placeholder of ``.env.example`` starts with ``change-me``,
so the whole family is refused, not a list of exact spellings that a new
variable would slip past.
"""

from __future__ import annotations

from pydantic import SecretStr

_PREFIXES = ("change-me", "changeme", "change_me")
_WORDS = {"password", "secret", "admin", "test", "example", "default"}


def is_placeholder(value: str) -> bool:
    """Whether ``value`` is a stand-in rather than a real secret."""
    text = value.strip().lower()
    return text.startswith(_PREFIXES) or text in _WORDS


def refuse_placeholders(secrets: dict[str, SecretStr | None]) -> None:
    """Raise ``ValueError`` naming the first setting that holds a placeholder."""
    for name, secret in secrets.items():
        if secret is not None and is_placeholder(secret.get_secret_value()):
            raise ValueError(f"{name} is a placeholder; set a real secret in production")
