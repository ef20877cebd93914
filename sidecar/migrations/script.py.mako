"""${message}

Revision ${up_revision} (after ${down_revision | comma,n}), created ${create_date}.
Read sidecar/migrations/__init__.py first: frozen definitions only, the prefix from
prefixed(), op.batch_alter_table() for changes to existing tables, a downgrade that undoes
exactly this revision, and the upgrade test extended with rows this revision must keep.
(Remove this paragraph and the imports you do not use.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sidecar.migrations import prefixed
from sidecar.migrations.schema_0_1_0 import TABLE_ARGS

revision = "${up_revision}"
down_revision = "${down_revision}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # e.g. with op.batch_alter_table(prefixed("recipients")) as batch:
    #          batch.add_column(sa.Column("delivered_at", sa.Integer, nullable=True))
    ${upgrades if upgrades else "raise NotImplementedError"}


def downgrade() -> None:
    # e.g. with op.batch_alter_table(prefixed("recipients")) as batch:
    #          batch.drop_column("delivered_at")
    ${downgrades if downgrades else "raise NotImplementedError"}
