"""Alembic environment: migrations run on the engine vein2vein hands over."""

from alembic import context

from vein2vein.records._schema import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite rebuilds a table to alter it; with foreign keys on, dropping the old
            # copy fails while other rows point at it. The documented procedure: keys off
            # outside any transaction, migrate, check every key, keys back on.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    msg = f"migration left broken foreign keys: {broken[:5]}"
                    raise RuntimeError(msg)
        connection.commit()
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    msg = "vein2vein migrations run online only"
    raise RuntimeError(msg)
run_migrations_online()
