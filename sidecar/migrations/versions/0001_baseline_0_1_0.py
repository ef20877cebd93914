"""baseline: the tables of 0.1.0

Creates the sidecar's tables exactly as 0.1.0 did (schema_0_1_0.py, a frozen copy). A
database made by 0.1.0 is not migrated through this revision but stamped at it.
"""

from __future__ import annotations

from alembic import op

from sidecar.migrations import MigrationError, table_prefix
from sidecar.migrations.schema_0_1_0 import tables_0_1_0

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    tables_0_1_0(table_prefix()).create_all(op.get_bind(), checkfirst=False)


def downgrade() -> None:
    # Going below the baseline would drop every campaign and log: never by a command.
    raise MigrationError("the baseline (the schema of 0.1.0) cannot be reverted; drop the "
                         "bkntc_sms_* tables by hand to remove the service's data")
