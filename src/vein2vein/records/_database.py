"""Engine, sessions and the unit of work: the only place that opens a transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from .._settings import get_settings
from ..errors import (
    AccountDisabledError,
    AccountLockedError,
    DatabaseBusyError,
    InvalidInputError,
    RecordConflictError,
    RecordNotFoundError,
    Vein2veinError,
)
from . import audit
from ._actor import SYSTEM, Actor
from ._keyfile import Signer
from ._schema import Audited, User
from ._seal import SEAL_INFO, Seal

__all__ = ["Database", "UnitOfWork"]

M = TypeVar("M", bound=Audited)


def _alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("vein2vein.records") / "migrations"))
    cfg.attributes["engine"] = engine
    return cfg


def _configure_sqlite(engine: Engine, url: URL, *, writer: bool, busy_timeout_s: float) -> None:
    in_memory = url.database in (None, "", ":memory:")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite recipe).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        if not in_memory:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        if not writer:
            cur.execute("PRAGMA query_only=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers: IMMEDIATE takes the write lock before the first read, so every check a
        # unit of work makes sees the state it then changes. Readers: a deferred BEGIN
        # reads a WAL snapshot beside a writer and never waits for one.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


def _is_lock_timeout(exc: OperationalError) -> bool:
    # SQLite: "database is locked" after busy_timeout; PostgreSQL: lock_not_available.
    return getattr(exc.orig, "sqlstate", None) == "55P03" or "database is locked" in str(exc.orig)


def _configure_postgresql(engine: Engine, *, lock_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # A writer waiting for the chain lock gives up after this and says so.
        autocommit = dbapi_conn.autocommit
        dbapi_conn.autocommit = True
        with dbapi_conn.cursor() as cur:
            cur.execute(f"SET lock_timeout = {int(lock_timeout_s * 1000)}")
        dbapi_conn.autocommit = autocommit


@contextmanager
def _busy_as_error(db: Database) -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        if not _is_lock_timeout(exc):
            raise
        msg = (
            f"the database is busy: another writer held its lock for more than "
            f"{db.lock_timeout_s:g} s; nothing was written, try again"
        )
        raise DatabaseBusyError(msg) from None


class UnitOfWork:
    """One transaction on behalf of one actor; data rows and audit rows commit together.

    Obtain one from :meth:`Database.unit_of_work`; do not construct it directly.
    """

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    def add(self, obj: M) -> M:
        """Insert a record and flush, so it has its id and its audit entry."""
        self.session.add(obj)
        self.flush()
        return obj

    def add_all(self, objs: Iterable[M]) -> list[M]:
        """Insert many records in one flush (bulk paths such as instrument imports)."""
        added = list(objs)
        self.session.add_all(added)
        self.flush()
        return added

    def change(self, obj: M, *, reason: str | None = None, **values: Any) -> M:
        """Set fields of a record and flush; ``reason`` is recorded with the change.

        A reason is required when the record is signed or in a released state.
        """
        for key, value in values.items():
            if not hasattr(type(obj), key):
                msg = f"{obj.__record_kind__} has no field {key!r}"
                raise InvalidInputError(msg, field=key)
            setattr(obj, key, value)
        previous = self.session.info.get("vein2vein.reason")
        if reason is not None:
            audit.set_reason(self.session, reason)
        try:
            self.flush()
        finally:
            audit.set_reason(self.session, previous)
        return obj

    def flush(self) -> None:
        """Flush pending writes, turning constraint violations into domain errors."""
        try:
            self.session.flush()
        except IntegrityError as exc:
            msg = f"the write conflicts with a stored record: {exc.orig}"
            raise RecordConflictError(msg) from exc

    def get(self, model: type[M], key: int | str) -> M:
        """A record by primary key (int) or by its natural key (str)."""
        return get_record(self.session, model, key)


def get_record(session: Session, model: type[M], key: int | str) -> M:
    """A record by primary key (int) or natural key (str); RecordNotFoundError if absent."""
    obj: M | None
    if isinstance(key, int) or (
        isinstance(key, str) and key.isdigit() and not model.__natural_key__
    ):
        obj = session.get(model, int(key))
    elif model.__natural_key__ is not None:
        column = getattr(model, model.__natural_key__)
        obj = session.scalars(select(model).where(column == key)).one_or_none()
        if obj is None and key.isdigit():
            obj = session.get(model, int(key))
    else:
        obj = None
    if obj is None:
        msg = f"no {model.__record_kind__} {key!r}"
        raise RecordNotFoundError(msg)
    return obj


class Database:
    """The system of record: an engine, a session factory, and the schema's migrations.

    Parameters
    ----------
    url
        SQLAlchemy URL. Defaults to ``VEIN2VEIN_DATABASE_URL`` or the settings file,
        else ``sqlite:///vein2vein.db``.
    signing_key
        The service's Ed25519 key (a PEM file, or a loaded
        :class:`~vein2vein.records.keys.Signer`) that seals the trail and binds
        signatures. Defaults to the ``signing_key`` setting (``VEIN2VEIN_SIGNING_KEY``).
    witness_dir
        Folder of the witness files; defaults to the ``witness_dir`` setting, else
        ``witness/`` next to the key file.
    """

    def __init__(
        self,
        url: str | URL | None = None,
        *,
        echo: bool = False,
        signing_key: str | Path | Signer | None = None,
        witness_dir: str | Path | None = None,
    ) -> None:
        settings = get_settings()
        self.url = make_url(url if url is not None else settings.database_url)
        if self.url.drivername == "postgresql":
            self.url = self.url.set(drivername="postgresql+psycopg")
        self.lock_timeout_s = settings.lock_timeout_s
        self.engine = self._engine(writer=True, echo=echo)
        # Readers see one consistent snapshot (the chain and the records it covers, as
        # `audit verify` needs) and never wait for a writer: on SQLite an engine of their
        # own, deferred and query-only over WAL; on PostgreSQL read-only REPEATABLE READ.
        # An in-memory SQLite database exists once per connection: one engine for both.
        self._read_engine: Engine = self.engine
        if self.backend == "sqlite" and self.url.database not in (None, "", ":memory:"):
            self._read_engine = self._engine(writer=False, echo=echo)
        elif self.backend == "postgresql":
            self._read_engine = self.engine.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        self.seal = Seal.configure(self.url, signing_key=signing_key, witness_dir=witness_dir)
        self._sessions = sessionmaker(
            self.engine, expire_on_commit=False, autoflush=True, info={SEAL_INFO: self.seal}
        )
        # Readers know the seal too: `audit verify` checks the key and the witness.
        self._read_sessions = sessionmaker(
            self._read_engine, expire_on_commit=False, info={SEAL_INFO: self.seal}
        )
        audit.install(self._sessions)

    def _engine(self, *, writer: bool, echo: bool) -> Engine:
        kwargs: dict[str, Any] = {"echo": echo}
        if self.url.get_backend_name() == "sqlite":
            kwargs["connect_args"] = {"timeout": self.lock_timeout_s}
            if writer and self.url.database not in (None, "", ":memory:"):
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(self.url, **kwargs)
        if self.url.get_backend_name() == "sqlite":
            _configure_sqlite(engine, self.url, writer=writer, busy_timeout_s=self.lock_timeout_s)
        elif self.url.get_backend_name() == "postgresql":
            _configure_postgresql(engine, lock_timeout_s=self.lock_timeout_s)
        return engine

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.url.get_backend_name()

    # ------------------------------------------------------------------ schema

    def upgrade(self, revision: str = "head") -> None:
        """Create or migrate the schema with Alembic (idempotent).

        At the head revision, with a signing key configured, a database that has no
        key yet gets it, and its existing trail is adopted (see
        :func:`vein2vein.records.keys.adopt`).
        """
        command.upgrade(_alembic_config(self.engine), revision)
        if self.seal.configured and self.current_revision() == self.head_revision():
            from .keys import adopt  # keys builds on the unit of work defined here

            adopt(self)

    def downgrade(self, revision: str) -> None:
        """Migrate the schema back to ``revision`` (``base`` empties the database)."""
        command.downgrade(_alembic_config(self.engine), revision)

    def head_revision(self) -> str:
        """The newest migration this package ships."""
        script = ScriptDirectory.from_config(_alembic_config(self.engine))
        head = script.get_current_head()
        if head is None:
            msg = "this installation of vein2vein ships no schema migrations"
            raise RuntimeError(msg)
        return head

    def current_revision(self) -> str | None:
        """The migration the database is at, or ``None`` for an empty database."""
        with self._read_engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def check_schema(self) -> None:
        """Refuse to work on a database that is not at the package's schema version."""
        current, head = self.current_revision(), self.head_revision()
        if current != head:
            state = "has no schema" if current is None else f"is at schema {current}"
            msg = (
                f"the database {self!r} {state}; this vein2vein needs schema {head}. "
                "Run `vein2vein init` (it creates or upgrades the schema)."
            )
            raise Vein2veinError(msg)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        self._read_engine.dispose()

    # ------------------------------------------------------------------ sessions

    @contextmanager
    def unit_of_work(self, actor: Actor, *, reason: str | None = None) -> Iterator[UnitOfWork]:
        """A transaction that commits on success and rolls back on any error.

        Every audited write in it is recorded as ``actor``, with ``reason``. The write lock
        is taken when it opens, before anything is read, so every check a state transition
        makes holds until it commits (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the audit
        chain's advisory lock). Do slow work that needs no record, such as password
        verification (:func:`~vein2vein.records.reauthenticate`), before opening it.

        Raises
        ------
        DatabaseBusyError
            Another writer held the lock longer than ``lock_timeout_s``.
        """
        with self._sessions() as session, _busy_as_error(self):
            audit.bind_actor(session, actor)
            audit.set_reason(session, reason)
            try:
                audit.serialize_writers(session)
                yield UnitOfWork(session, actor)
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; closed (never committed) at the end.

        On SQLite it reads a snapshot beside any writer without waiting and cannot write.
        Objects loaded in it stay readable afterwards, detached.
        """
        with self._read_sessions() as session, _busy_as_error(self):
            yield session

    def actor(self, username: str) -> Actor:
        """The :class:`Actor` for an active, unlocked user (no credential is checked).

        For in-process callers that act on their own authority (the demo, tests);
        shells prove who is acting with :mod:`vein2vein.records.authentication`.

        Raises
        ------
        RecordNotFoundError
            No such user.
        AccountDisabledError, AccountLockedError
            The user is deactivated or locked.
        """
        with self.read() as session:
            user = session.scalars(select(User).where(User.username == username)).one_or_none()
            if user is None:
                msg = f"no user {username!r}; add one with `vein2vein user add`"
                raise RecordNotFoundError(msg)
            if not user.active:
                msg = f"user {username!r} is deactivated"
                raise AccountDisabledError(msg)
            if user.locked_at is not None:
                msg = f"user {username!r} is locked after repeated failed password attempts"
                raise AccountLockedError(msg)
            return Actor(user_id=user.id, username=user.username, role=str(user.role))

    @property
    def system(self) -> Actor:
        """The bootstrap actor (schema creation, first administrator)."""
        return SYSTEM
