"""Settings from environment variables (``VEIN2VEIN_*``) and an optional TOML file.

The TOML file is ``vein2vein.toml`` in the working directory, or the path in
``VEIN2VEIN_CONFIG``. Environment variables win over the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["Settings", "configured_signing_key", "default_signing_key_path", "get_settings"]

DEFAULT_DATABASE_URL = "sqlite:///vein2vein.db"


def default_signing_key_path() -> Path:
    """Where ``vein2vein init`` puts the signing key when none is configured.

    ``$XDG_CONFIG_HOME/vein2vein/signing-key.pem`` (``~/.config/...`` by default):
    the service's own configuration folder, outside the database's reach.
    """
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "vein2vein" / "signing-key.pem"


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
    signing_key
        PEM file of the service's Ed25519 private key, which seals the audit trail
        and binds electronic signatures (``VEIN2VEIN_SIGNING_KEY``). When unset, the
        file at :func:`default_signing_key_path` is used if it exists.
    witness_dir
        Folder of the witness files that remember each database's latest sealed
        chain head (``VEIN2VEIN_WITNESS_DIR``); ``witness/`` next to the key when unset.
    """

    model_config = SettingsConfigDict(env_prefix="VEIN2VEIN_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    user: str | None = None
    data_dir: Path = Path("../shared/data")
    signing_key: Path | None = None
    witness_dir: Path | None = None

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


def configured_signing_key() -> Path | None:
    """The key file the settings name, else the default one if it exists, else ``None``."""
    configured = get_settings().signing_key
    if configured is not None:
        return configured
    default = default_signing_key_path()
    return default if default.exists() else None
