"""delivery status per recipient

DESIGN.md §10: each recipient row keeps what happened after Twilio accepted its message
(queued → sent → delivered | undelivered | failed, the delivery time, the carrier's error),
and when the poller should ask Twilio next; campaigns and the daily statistics count
delivered and undelivered messages; status callbacks that arrive before their message's
batch is recorded wait in `early_statuses`.

Rows sent before this revision have no delivery status: they are scheduled for the poller
(first check 10 minutes after they were sent), which gives up on those sent more than 72
hours before it runs.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sidecar.migrations import prefixed
from sidecar.migrations.schema_0_1_0 import TABLE_ARGS, ascii_string

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

FIRST_CHECK_AFTER = 600  # seconds after sending, as sidecar/outbox/poller.py schedules


def upgrade() -> None:
    with op.batch_alter_table(prefixed("recipients")) as batch:
        batch.add_column(sa.Column(
            "delivery_status", sa.String(16), nullable=True,
            comment="queued | sent | delivered | undelivered | failed; NULL = none known"))
        batch.add_column(sa.Column("delivered_at", sa.Integer, nullable=True))
        batch.add_column(sa.Column("delivery_error_code", sa.Integer, nullable=True,
                                   comment="the carrier's error code (Twilio 30xxx)"))
        batch.add_column(sa.Column("delivery_error", sa.String(255), nullable=False,
                                   server_default="", comment="the carrier's error in words"))
        batch.add_column(sa.Column("delivery_checks", sa.SmallInteger, nullable=False,
                                   server_default="0",
                                   comment="times the poller asked the provider"))
        batch.add_column(sa.Column("delivery_check_at", sa.Integer, nullable=True,
                                   comment="when the poller asks next; NULL = final or given up"))
        batch.create_index(prefixed("recipients_message"), ["provider_message_id"])
        batch.create_index(prefixed("recipients_delivery_check"), ["delivery_check_at"])
    with op.batch_alter_table(prefixed("campaigns")) as batch:
        batch.add_column(sa.Column("delivered", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("undelivered", sa.Integer, nullable=False,
                                   server_default="0",
                                   comment="delivery status undelivered or failed"))
    with op.batch_alter_table(prefixed("daily_stats")) as batch:
        batch.add_column(sa.Column("delivered", sa.Integer, nullable=False, server_default="0",
                                   comment="of the messages sent that day"))
        batch.add_column(sa.Column(
            "undelivered", sa.Integer, nullable=False, server_default="0",
            comment="of the messages sent that day (undelivered or failed)"))
    op.create_table(
        prefixed("early_statuses"),
        sa.Column("message_sid", ascii_string(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_code", sa.Integer, nullable=True),
        sa.Column("error", sa.String(255), nullable=False, server_default=""),
        sa.Column("received_at", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("message_sid", "status"),
        comment="Delivery statuses for message ids no recipient row has yet.",
        **TABLE_ARGS,
    )
    op.create_index(prefixed("early_statuses_received"), prefixed("early_statuses"),
                    ["received_at"])
    # Messages sent before this revision: the poller finds out what became of them.
    recipients = sa.table(prefixed("recipients"), sa.column("status"),
                          sa.column("provider_message_id"), sa.column("sent_at"),
                          sa.column("delivery_check_at"))
    op.execute(recipients.update().where(
        recipients.c.status == "sent", recipients.c.provider_message_id.is_not(None),
        recipients.c.provider_message_id != "", recipients.c.sent_at.is_not(None),
    ).values(delivery_check_at=recipients.c.sent_at + FIRST_CHECK_AFTER))


def downgrade() -> None:
    op.drop_table(prefixed("early_statuses"))
    with op.batch_alter_table(prefixed("daily_stats")) as batch:
        batch.drop_column("undelivered")
        batch.drop_column("delivered")
    with op.batch_alter_table(prefixed("campaigns")) as batch:
        batch.drop_column("undelivered")
        batch.drop_column("delivered")
    with op.batch_alter_table(prefixed("recipients")) as batch:
        batch.drop_index(prefixed("recipients_delivery_check"))
        batch.drop_index(prefixed("recipients_message"))
        for column in ("delivery_check_at", "delivery_checks", "delivery_error",
                       "delivery_error_code", "delivered_at", "delivery_status"):
            batch.drop_column(column)
