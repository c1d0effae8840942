"""PostgreSQL role separation: the schema owner migrates, the application role works.

The application role gets what daily work needs and no more: ``SELECT, INSERT`` on
the append-only tables (the audit trail, its checkpoints, the readings), ``SELECT,
INSERT, UPDATE`` on the other tables, the sequences, and no ownership. So it cannot
UPDATE, DELETE or TRUNCATE the trail, and it cannot ``ALTER TABLE ... DISABLE
TRIGGER`` (only an owner can). Grants cover the tables that exist: run them again
after every upgrade (``vein2vein init --app-role NAME`` does both).

References
----------
21 CFR 11.10(d): "Limiting system access to authorized individuals."
"""

from __future__ import annotations

import re

from sqlalchemy import text

from ..errors import InvalidInputError, RecordConflictError, RecordNotFoundError
from ._database import Database
from ._schema import Base

__all__ = ["APPEND_ONLY_TABLES", "grant_application_role"]

#: Tables that are only ever appended to.
APPEND_ONLY_TABLES = frozenset({"audit_entries", "audit_checkpoints", "readings"})
_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def grant_application_role(db: Database, role: str) -> list[str]:
    """Grant ``role`` the application's privileges on ``db``'s schema; returns the SQL run.

    Run it as the schema owner (the role that ran the migrations).

    Raises
    ------
    InvalidInputError
        Not PostgreSQL, or not a plain role name (field ``app_role``).
    RecordNotFoundError
        No such role on the server.
    RecordConflictError
        ``role`` owns the tables: the application must not be the owner.
    """
    if db.backend != "postgresql":
        msg = "an application role is a PostgreSQL feature; SQLite has no roles"
        raise InvalidInputError(msg, field="app_role")
    if not _ROLE_NAME.fullmatch(role):
        msg = f"{role!r} is not a plain role name (lower-case letters, digits, _)"
        raise InvalidInputError(msg, field="app_role")
    db.check_schema()
    with db.engine.begin() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first():
            msg = f"no PostgreSQL role {role!r}; create it first (CREATE ROLE {role} LOGIN ...)"
            raise RecordNotFoundError(msg)
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        owner = conn.execute(
            text("SELECT tableowner FROM pg_tables WHERE schemaname = :s AND tablename = :t"),
            {"s": schema, "t": "audit_entries"},
        ).scalar_one()
        if owner == role:
            msg = (
                f"{role!r} owns the tables of schema {schema!r}; the application must work "
                "as another role, which cannot disable the audit triggers"
            )
            raise RecordConflictError(msg)
        quote = conn.dialect.identifier_preparer.quote
        s, r = quote(schema), quote(role)
        statements = [
            f"GRANT USAGE ON SCHEMA {s} TO {r}",
            f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {r}",
            f"GRANT SELECT ON {s}.alembic_version TO {r}",
        ]
        for table in sorted(Base.metadata.tables):
            rights = "SELECT, INSERT" if table in APPEND_ONLY_TABLES else "SELECT, INSERT, UPDATE"
            statements.append(f"GRANT {rights} ON {s}.{quote(table)} TO {r}")
        statements.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}")
        for statement in statements:
            conn.execute(text(statement))
    return statements
