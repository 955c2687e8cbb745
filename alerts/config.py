"""Settings of the alert engine, part of the API's settings (``alerts``):
environment variables ``OCCUPANCY_API_ALERTS__<NAME>``."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.datadir import data_dir


def _in_data_dir(p: Path | None) -> Path | None:
    if p is None:
        return None
    p = p.expanduser()
    return p if p.is_absolute() else data_dir() / p


class AlertSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(True, description="false: no alert evaluation in the API.")
    rules: Path = Field(
        Path("alerts.yaml"),
        validate_default=True,  # the default too lies in the data directory
        description="Rules file (relative: in the data directory); a missing file means "
        "only the rules made through the API.",
    )
    tick_s: float = Field(15, gt=0, description="Seconds between evaluations.")
    digest_s: float = Field(
        300, gt=0, description="One e-mail per recipient per this many seconds."
    )
    smtp_host: str | None = Field(None, description="SMTP server; unset: no e-mail.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port (submission).")
    smtp_starttls: bool = Field(
        True, description="Upgrade with STARTTLS before authenticating (required with a user)."
    )
    smtp_user: str | None = Field(None, description="SMTP user name.")
    smtp_password_file: Path | None = Field(
        None, description="File holding the SMTP password (relative: in the data directory)."
    )
    smtp_ca_file: Path | None = Field(
        None, description="CA bundle to verify the SMTP server (default: the system's CAs)."
    )
    smtp_from: str | None = Field(None, description="Sender address of alert e-mails.")
    smtp_timeout_s: float = Field(10, gt=0, description="SMTP connect and command timeout.")

    @field_validator("rules", "smtp_password_file", "smtp_ca_file", mode="after")
    @classmethod
    def _resolve(cls, v: Path | None) -> Path | None:
        return _in_data_dir(v)

    @model_validator(mode="after")
    def _smtp(self) -> AlertSettings:
        if self.smtp_host is None:
            return self
        if not self.smtp_from:
            raise ValueError("smtp_from is required when smtp_host is set")
        if self.smtp_user and not self.smtp_password_file:
            raise ValueError("smtp_password_file is required when smtp_user is set")
        if self.smtp_user and not self.smtp_starttls:
            # a password must not cross the network in clear text
            raise ValueError("smtp_starttls must be true when smtp_user is set")
        return self

    def smtp_password(self) -> str | None:
        """The password, read at start-up (a missing file is a start-up error)."""
        if self.smtp_password_file is None:
            return None
        try:
            return self.smtp_password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(
                f"cannot read smtp_password_file {self.smtp_password_file}: {exc.strerror}"
            ) from None
