"""Alembic environment: migrations run on the engine vein2vein hands over."""

from alembic import context

from vein2vein.records._schema import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    msg = "vein2vein migrations run online only"
    raise RuntimeError(msg)
run_migrations_online()
