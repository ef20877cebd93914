"""${message}

Revision ${up_revision} (after ${down_revision | comma,n}), created ${create_date}.
Read sidecar/migrations/__init__.py first: frozen definitions only, the prefix from
prefixed(), op.batch_alter_table() for changes to existing tables, a downgrade that undoes
exactly this revision, and the upgrade test extended with rows this revision must keep.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sidecar.migrations import prefixed
from sidecar.migrations.schema_0_1_0 import TABLE_ARGS

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = None
depends_on = None


def upgrade() -> None:
    ${upgrades if upgrades else "raise NotImplementedError"}


def downgrade() -> None:
    ${downgrades if downgrades else "raise NotImplementedError"}
