"""campaign leases, processes and a shared rate limit

DESIGN.md §13: queue work is leased per campaign instead of one global queue lock, so
several processes on several machines send different campaigns at once
(`campaign_leases`); the processes that run the queue register themselves with their
configured rate (`processes`, listed by `bkntc-sms check`); and RATE_PER_SECOND is one
limit per Twilio sender for the whole fleet, kept as the next free send slot
(`rate_limits`). Three new tables, empty at first: no existing row changes. The old
`queue-run` row of the locks table is left alone (an older process still running during a
rolling upgrade keeps using it; nothing newer reads it).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sidecar.migrations import prefixed
from sidecar.migrations.schema_0_1_0 import TABLE_ARGS, ascii_string

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        prefixed("campaign_leases"),
        sa.Column("campaign_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("holder", sa.String(128), nullable=False, comment="host:pid:random"),
        sa.Column("expires_at", sa.Integer, nullable=False),
        sa.Column("taken_at", sa.Integer, nullable=False),
        sa.Index(prefixed("campaign_leases_holder"), "holder"),
        comment="Per-campaign send leases (one process sends a campaign; others may help).",
        **TABLE_ARGS,
    )
    op.create_table(
        prefixed("processes"),
        sa.Column("holder", sa.String(128), primary_key=True, comment="host:pid:random"),
        sa.Column("host", sa.String(128), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("version", sa.String(32), nullable=False, server_default=""),
        sa.Column("rate_per_second", sa.Float, nullable=False, server_default="0",
                  comment="its BKNTC_SMS_RATE_PER_SECOND (0 = none)"),
        sa.Column("started_at", sa.Integer, nullable=False),
        sa.Column("seen_at", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.Integer, nullable=False),
        sa.Index(prefixed("processes_expires"), "expires_at"),
        comment="Sidecar processes running the queue (live while expires_at is ahead).",
        **TABLE_ARGS,
    )
    op.create_table(
        prefixed("rate_limits"),
        sa.Column("sender", ascii_string(191), primary_key=True, comment="account SID:from"),
        sa.Column("next_slot_us", sa.BigInteger, nullable=False, server_default="0",
                  comment="epoch microseconds of the next free send slot"),
        sa.Column("updated_at", sa.Integer, nullable=False, server_default="0"),
        comment="Send slots per Twilio sender, shared by every process.",
        **TABLE_ARGS,
    )


def downgrade() -> None:
    op.drop_table(prefixed("rate_limits"))
    op.drop_table(prefixed("processes"))
    op.drop_table(prefixed("campaign_leases"))
