"""Where a demo run writes: its output folder, its own signing key and its database.

A rerun replaces what an earlier demo wrote under the output folder, and nothing else.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Final

from ..errors import RecordConflictError
from ..records import Database, Signer

__all__ = ["DEMO_DATABASE_FILE", "DEMO_KEY_FILE", "demo_signing_key", "prepare_output"]

#: The demo's SQLite file under the output folder, when no database is configured.
DEMO_DATABASE_FILE: Final = "vein2vein-demo.db"
#: The demo's own signing key under the output folder, when the service has none configured.
DEMO_KEY_FILE: Final = "demo-signing-key.pem"
#: What the demo writes under its output folder (folders, then files).
_FOLDERS: Final = (
    "batch-records",
    "intake",
    "release",
    "coa",
    "process",
    "comparability",
    "clinical",
    "invivo",
    "singlecell",
)
_FILES: Final = ("summary.json", "README.txt")


def demo_signing_key(out: Path, configured: Path | None) -> Path:
    """The configured signing key, else the demo's own under ``out`` (made if missing)."""
    if configured is not None:
        return configured
    out.mkdir(parents=True, exist_ok=True)  # an ordinary folder; only the key is private
    key = out.resolve() / DEMO_KEY_FILE
    if not key.exists():
        Signer.generate(key)
    return key


def _clear_previous_run(out: Path, *, database_file: bool) -> None:
    """Remove what an earlier demo wrote under ``out``, and nothing else."""
    if out.exists() and not out.is_dir():
        msg = f"--out {out} is a file; the demo needs a folder"
        raise RecordConflictError(msg)
    for folder in _FOLDERS:
        shutil.rmtree(out / folder, ignore_errors=True)
    names = list(_FILES)
    if database_file:
        names += [DEMO_DATABASE_FILE, f"{DEMO_DATABASE_FILE}-wal", f"{DEMO_DATABASE_FILE}-shm"]
        shutil.rmtree(out / "witness", ignore_errors=True)  # it witnessed the old file
    for name in names:
        (out / name).unlink(missing_ok=True)


def prepare_output(out: Path, *, database: Database | None, signing_key: Path) -> Database:
    """Clear an earlier demo's outputs under ``out``; the database the demo runs on.

    Parameters
    ----------
    out
        The output folder (a file there is refused).
    database
        A configured database, which must be empty; None for a fresh SQLite file
        (:data:`DEMO_DATABASE_FILE`) under ``out``, replacing an earlier demo's.
    signing_key
        The key the fresh SQLite database signs with.

    Raises
    ------
    RecordConflictError
        ``database`` is not empty, or ``out`` is a file.
    """
    if database is not None:
        if database.current_revision() is not None:
            msg = f"{database!r} is not empty; the demo needs an empty database"
            raise RecordConflictError(msg)
        _clear_previous_run(out, database_file=False)
        return database
    _clear_previous_run(out, database_file=True)
    return Database(f"sqlite:///{(out / DEMO_DATABASE_FILE).resolve()}", signing_key=signing_key)
