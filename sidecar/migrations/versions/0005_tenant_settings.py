"""tenant settings (quiet hours, frequency cap, attribution, holdout, price, country)

A new table, one row per tenant, holding the settings a tenant has changed as a JSON object
(DESIGN.md §11 "Tenant settings"; sidecar/tenant_settings.py holds the defaults). Nothing
existing changes: a tenant without a row has every default.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sidecar.migrations import prefixed
from sidecar.migrations.schema_0_1_0 import TABLE_ARGS

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        prefixed("settings"),
        sa.Column("tenant_id", sa.Integer, primary_key=True, autoincrement=False,
                  comment="0 = no tenant (single-site, or Booknetic's NULL tenant)"),
        sa.Column("settings", sa.Text, nullable=False,
                  comment="JSON object of the settings this tenant has set (the rest are "
                          "defaults)"),
        sa.Column("updated_by", sa.Integer, nullable=True),
        sa.Column("updated_at", sa.Integer, nullable=False),
        comment="Per-tenant settings: quiet hours, frequency cap, attribution, holdout, "
                "price, country.",
        **TABLE_ARGS,
    )


def downgrade() -> None:
    op.drop_table(prefixed("settings"))
