"""outcomes: attribution and holdout

DESIGN.md §12. Campaigns get their holdout share, the attribution window copied at send and
the figures the attribution refresh stores (bookings, booked recipients, revenue, the
holdout group's size and bookings, when it last ran); recipient rows get their earliest
attributed booking and their revenue; `attributions` holds each attributed appointment.
Nothing existing changes meaning: campaigns sent before this revision have no window copied
and are attributed with the tenant's current setting.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from sidecar.migrations import prefixed
from sidecar.migrations.schema_0_1_0 import TABLE_ARGS

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table(prefixed("campaigns")) as batch:
        batch.add_column(sa.Column("holdout_percent", sa.SmallInteger, nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("attribution_days", sa.SmallInteger, nullable=True,
                                   comment="copied from the settings at send; NULL = not "
                                           "sent yet"))
        batch.add_column(sa.Column("holdout", sa.Integer, nullable=False, server_default="0",
                                   comment="recipient rows in the control group (never sent)"))
        batch.add_column(sa.Column("bookings", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("booked_recipients", sa.Integer, nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("revenue_cents", sa.BigInteger, nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("holdout_booked", sa.Integer, nullable=False,
                                   server_default="0",
                                   comment="holdout rows with a booking in the control "
                                           "window"))
        batch.add_column(sa.Column("opted_out", sa.Integer, nullable=False,
                                   server_default="0",
                                   comment="recipients who opted out (STOP, carrier) since it "
                                           "was sent"))
        batch.add_column(sa.Column("attributed_at", sa.Integer, nullable=True,
                                   comment="when attribution last ran; after the window "
                                           "closed = frozen"))
    with op.batch_alter_table(prefixed("recipients")) as batch:
        batch.add_column(sa.Column("booked_appointment_id", sa.Integer, nullable=True,
                                   comment="the earliest attributed Booknetic appointment "
                                           "(DESIGN.md §12)"))
        batch.add_column(sa.Column("booked_at", sa.Integer, nullable=True,
                                   comment="created_at of that appointment"))
        batch.add_column(sa.Column("revenue_cents", sa.BigInteger, nullable=True,
                                   comment="all attributed appointments of this row; NULL = "
                                           "none"))
        # Last touch reads a tenant's messages to one number in time order: revision
        # 0006's (tenant_id, phone, sent_at) index serves it.
    op.create_table(
        prefixed("attributions"),
        sa.Column("recipient_id", _BigId, nullable=False, autoincrement=False),
        sa.Column("appointment_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("campaign_id", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False,
                  comment="the appointment's created_at (epoch seconds)"),
        sa.Column("revenue_cents", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("recipient_id", "appointment_id"),
        comment="Booknetic appointments attributed to campaign recipients.",
        **TABLE_ARGS,
    )
    op.create_index(prefixed("attributions_campaign"), prefixed("attributions"),
                    ["campaign_id", "created_at"])


def downgrade() -> None:
    op.drop_table(prefixed("attributions"))
    with op.batch_alter_table(prefixed("recipients")) as batch:
        for column in ("revenue_cents", "booked_at", "booked_appointment_id"):
            batch.drop_column(column)
    with op.batch_alter_table(prefixed("campaigns")) as batch:
        for column in ("attributed_at", "opted_out", "holdout_booked", "revenue_cents",
                       "booked_recipients", "bookings", "holdout", "attribution_days",
                       "holdout_percent"):
            batch.drop_column(column)
