"""Alembic's environment for the sidecar's tables: only ever run programmatically.

`sidecar.migrations` passes the connection (inside its transaction, under the migration
lock) and the table prefix in `config.attributes`; revisions read the prefix with
`sidecar.migrations.prefixed()`. There is no alembic.ini and no URL here on purpose: the
prefix is runtime configuration (BKNTC_SMS_TABLE_PREFIX), so `alembic upgrade` from a shell
would not know it — use `bkntc-sms migrate`.
"""

from __future__ import annotations

from alembic import context

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `bkntc-sms migrate` (sidecar.migrations), not the "
                       "alembic command: the table prefix comes from BKNTC_SMS_TABLE_PREFIX")

context.configure(
    connection=connection,
    version_table=config.attributes["version_table"],
    # Only affects autogenerate's output; revisions use op.batch_alter_table() themselves
    # wherever SQLite cannot ALTER (see the README in this package's docstring).
    render_as_batch=True,
)
with context.begin_transaction():
    context.run_migrations()
