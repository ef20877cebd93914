"""quiet hours, scheduled send, frequency cap

Issue 15 items 3-5 (DESIGN.md §11): each recipient row keeps the zone resolved for it at
snapshot (`timezone`, NULL = the business zone, which is what rows snapshotted before this
revision get); a campaign keeps its scheduled start (`send_at`, `latest_start`) and a
`skipped` counter (recipients not sent by policy). The index on (tenant, phone, sent_at)
lets the frequency cap count one number's recent sends without scanning the tenant. Nothing
existing changes: old campaigns have no schedule and nothing skipped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sidecar.migrations import prefixed

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table(prefixed("campaigns")) as batch:
        batch.add_column(sa.Column("send_at", sa.Integer, nullable=True,
                                   comment="scheduled start (DESIGN.md §11)"))
        batch.add_column(sa.Column(
            "latest_start", sa.Integer, nullable=True,
            comment="a scheduled campaign not started by then is paused, not sent late"))
        batch.add_column(sa.Column(
            "skipped", sa.Integer, nullable=False, server_default="0",
            comment="recipients not sent by policy (suppressed at send time, frequency cap)"))
    with op.batch_alter_table(prefixed("recipients")) as batch:
        batch.add_column(sa.Column(
            "timezone", sa.String(64), nullable=True,
            comment="the recipient's own zone, resolved at snapshot (NULL = the business "
                    "zone); quiet hours apply in it"))
        batch.create_index(prefixed("recipients_tenant_phone"),
                           ["tenant_id", "phone", "sent_at"])


def downgrade() -> None:
    with op.batch_alter_table(prefixed("recipients")) as batch:
        batch.drop_index(prefixed("recipients_tenant_phone"))
        batch.drop_column("timezone")
    with op.batch_alter_table(prefixed("campaigns")) as batch:
        batch.drop_column("skipped")
        batch.drop_column("latest_start")
        batch.drop_column("send_at")
