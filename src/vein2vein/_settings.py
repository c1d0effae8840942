"""Settings from environment variables (``VEIN2VEIN_*``) and an optional TOML file.

The TOML file is ``vein2vein.toml`` in the working directory, or the path in
``VEIN2VEIN_CONFIG``. Environment variables win over the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .errors import InvalidInputError

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
        Whose login session (or password) CLI commands use when ``--user`` is not given;
        a name alone proves nothing (see ``vein2vein login``).
    data_dir
        Folder holding the shared real datasets (CARPALL, SPC textbook data).
    lock_timeout_s
        How long a writer waits for another writer's lock before it gives up with
        :class:`~vein2vein.errors.DatabaseBusyError` (SQLite ``busy_timeout``,
        PostgreSQL ``lock_timeout``).
    session_dir
        Folder of the CLI's login-session files (one per database and user, readable
        by their owner only). Defaults to ``$XDG_STATE_HOME/vein2vein/sessions``.
    lockout_attempts
        Consecutive failed password attempts that lock an account (21 CFR 11.300(d)).
    password_min_length
        Fewest characters a new password may have (at least 8).
    password_max_age_days
        Days a password stays valid before it must be changed; 0 means no expiry.
    session_idle_minutes
        A login session ends after this long without use.
    session_lifetime_hours
        A login session ends this long after login, used or not.
    token_max_age_days
        Longest validity an API token may be given (and its default).
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
    lock_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    session_dir: Path | None = None
    lockout_attempts: int = 5
    password_min_length: int = 12
    password_max_age_days: int = 90
    session_idle_minutes: int = 30
    session_lifetime_hours: int = 12
    token_max_age_days: int = 365
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
    """Read the settings afresh (the environment may change between calls in tests).

    Raises
    ------
    InvalidInputError
        A setting that does not parse (``VEIN2VEIN_LOCKOUT_ATTEMPTS=many``), named.
    """
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        msg = f"setting {field} (VEIN2VEIN_{field.upper()}): {first['msg']}"
        raise InvalidInputError(msg, field=field) from None


def configured_signing_key() -> Path | None:
    """The key file the settings name, else the default one if it exists, else ``None``."""
    configured = get_settings().signing_key
    if configured is not None:
        return configured
    default = default_signing_key_path()
    return default if default.exists() else None
