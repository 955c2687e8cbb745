"""Renamed settings: an old environment variable still works, with a warning.

Operators set environment variables in ``.env`` files, compose files and
systemd units that an upgrade does not touch. When a setting is renamed (for
one spelling across the services), its old variable keeps working for a while:
the value is used as the new setting's and a warning names both variables.
When both are set the new one wins and the warning says the old one is ignored.

    class IngestSettings(RenamedEnvSettings):
        renamed_env: ClassVar[Mapping[str, str]] = {"password": "mqtt_password"}

reads ``OCCUPANCY_INGEST_PASSWORD`` into ``mqtt_password`` unless
``OCCUPANCY_INGEST_MQTT_PASSWORD`` is set. Only plain (not nested) settings.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource

log = logging.getLogger("occupancy.settings")


def env_name(settings_cls: type[BaseSettings], name: str) -> str:
    """The environment variable of a plain setting, e.g. OCCUPANCY_API_PORT."""
    return f"{settings_cls.model_config.get('env_prefix', '')}{name}".upper()


class _RenamedEnvSource(PydanticBaseSettingsSource):
    """Values of the old variables, keyed by the new setting names."""

    def __init__(self, settings_cls: type[BaseSettings], env: PydanticBaseSettingsSource):
        super().__init__(settings_cls)
        # The env source has read the environment once already (with its own
        # case rule); reading it again here could only disagree with it.
        self._vars: Mapping[str, str | None] = (
            env.env_vars if isinstance(env, EnvSettingsSource) else {}
        )
        self._case_sensitive = bool(self.config.get("case_sensitive", False))

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns the whole mapping

    def _get(self, name: str) -> str | None:
        return self._vars.get(name if self._case_sensitive else name.lower())

    def __call__(self) -> dict[str, Any]:
        cls = self.settings_cls
        renamed: Mapping[str, str] = getattr(cls, "renamed_env", {})
        found: dict[str, Any] = {}
        for old, new in renamed.items():
            old_var, new_var = env_name(cls, old), env_name(cls, new)
            value = self._get(old_var)
            if value is None:
                continue
            if self._get(new_var) is not None:
                log.warning("%s is ignored: %s, its new name, is set", old_var, new_var)
                continue
            log.warning(
                "%s is deprecated: rename it %s (the old name will stop working)",
                old_var,
                new_var,
            )
            found[new] = value
        return found


class RenamedEnvSettings(BaseSettings):
    """A settings class that still reads the old names of renamed settings."""

    #: old setting name -> new setting name (both without the env prefix)
    renamed_env: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier sources win: given values, then the new names, then the old.
        old = _RenamedEnvSource(settings_cls, env_settings)
        return init_settings, env_settings, old, dotenv_settings, file_secret_settings
