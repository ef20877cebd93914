"""phones keyed by (tenant, region, customer)

0.1.0 kept one parse of each customer's phone, read with one default region for everybody
(the meta row `phones_region`). Numbers written without a country code read differently per
region, and each tenant has its own (Booknetic's option), so rows are now kept per region
and keyed by (tenant, region, customer). The table is derived data — Booknetic's
`phone_number` parsed — so it is rebuilt empty and the next phone check fills it again: no
customer data is lost. The meta rows `phones_region` and `schema_version` go too (the
Alembic version table records the schema now).
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

from sidecar.migrations import prefixed, table_prefix
from sidecar.migrations.schema_0_1_0 import TABLE_ARGS, ascii_string, phones_0_1_0

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


META_COMMENT_0_1_0 = "Key-value bookkeeping: schema version, provider halt reason, phone region."
META_COMMENT = "Key-value bookkeeping: the provider halt reason."


def _comment_meta(comment: str, *, existing: str) -> None:
    """Table comments exist on MariaDB/MySQL only (SQLite has none to change)."""
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        op.create_table_comment(prefixed("meta"), comment, existing_comment=existing)


def _meta() -> sa.TableClause:
    return sa.table(prefixed("meta"), sa.column("name"), sa.column("value"),
                    sa.column("updated_at"))


def upgrade() -> None:
    op.drop_table(prefixed("phones"))
    op.create_table(
        prefixed("phones"),
        sa.Column("tenant_id", sa.Integer, nullable=False, server_default="0",
                  comment="the customer's tenant (0 = none), copied so segments need not "
                          "join bkntc_customers"),
        sa.Column("region", ascii_string(2), nullable=False, server_default="",
                  comment="default region the number was parsed with (ISO 3166, '' = none)"),
        sa.Column("customer_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("raw_phone", sa.String(255), nullable=True),
        sa.Column("e164", ascii_string(20), nullable=True, comment="NULL when missing or invalid"),
        sa.Column("checked_at", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "region", "customer_id"),
        comment="E.164 form of bkntc_customers.phone_number per default region "
                "(NULL = missing/invalid).",
        **TABLE_ARGS,
    )
    op.create_index(prefixed("phones_tenant_region_e164"), prefixed("phones"),
                    ["tenant_id", "region", "e164", "customer_id"])
    meta = _meta()
    op.execute(meta.delete().where(meta.c.name.in_(["phones_region", "schema_version"])))
    _comment_meta(META_COMMENT, existing=META_COMMENT_0_1_0)


def downgrade() -> None:
    op.drop_table(prefixed("phones"))
    phones_0_1_0(sa.MetaData(), f"{table_prefix()}bkntc_sms_").create(op.get_bind())
    _comment_meta(META_COMMENT_0_1_0, existing=META_COMMENT)
    # 0.1.0 reads its schema version from the meta table; the phone region it finds missing
    # and records again at the next phone check, which re-parses every number.
    op.bulk_insert(_meta(), [{"name": "schema_version", "value": "1",
                              "updated_at": int(time.time())}])
