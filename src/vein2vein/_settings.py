"""Settings from environment variables (``VEIN2VEIN_*``) and an optional TOML file.

The TOML file is ``vein2vein.toml`` in the working directory, or the path in
``VEIN2VEIN_CONFIG``. Environment variables win over the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["Settings", "get_settings"]

DEFAULT_DATABASE_URL = "sqlite:///vein2vein.db"


def _config_file() -> Path:
    return Path(os.environ.get("VEIN2VEIN_CONFIG", "vein2vein.toml"))


class Settings(BaseSettings):
    """Runtime configuration of vein2vein.

    Attributes
    ----------
    database_url
        SQLAlchemy URL of the system of record. SQLite (WAL mode) by default;
        ``postgresql+psycopg://user:pass@host/db`` selects PostgreSQL.
    user
        Username that CLI commands act as when ``--user`` is not given.
    data_dir
        Folder holding the shared real datasets (CARPALL, SPC textbook data).
    lock_timeout_s
        How long a writer waits for another writer's lock before it gives up with
        :class:`~vein2vein.errors.DatabaseBusyError` (SQLite ``busy_timeout``,
        PostgreSQL ``lock_timeout``).
    """

    model_config = SettingsConfigDict(env_prefix="VEIN2VEIN_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    user: str | None = None
    data_dir: Path = Path("../shared/data")
    lock_timeout_s: float = Field(default=30.0, gt=0, le=3600)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read init arguments, then the environment, then the TOML file."""
        toml = TomlConfigSettingsSource(settings_cls, toml_file=_config_file())
        return (init_settings, env_settings, toml)


def get_settings() -> Settings:
    """Read the settings afresh (the environment may change between calls in tests)."""
    return Settings()
