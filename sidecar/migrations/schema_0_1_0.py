"""The sidecar's tables exactly as version 0.1.0 created them — frozen, never edited.

The baseline revision (0001) creates these on an empty database, the upgrade tests create
them to stand in for a 0.1.0 install on SQLite (on MariaDB they load 0.1.0's own
`sql/schema.sql`, kept as tests/fixtures/schema-0.1.0.sql), and a test proves that these
definitions compiled for MySQL give that file's text — so both backends start from the same
0.1.0 schema.

Revisions may import the column helpers below: they are the definitions 0.1.0 shipped, so
they never change. Never import `sidecar.schema` from a revision: it is the *current* head
and moves with every release.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.schema import CreateIndex, CreateTable

# Big ids for the recipients table; SQLite only auto-increments INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")

# Every table: InnoDB, utf8mb4 with the 520 collation (the same options under both names:
# SQLAlchemy reads only mariadb_* for a mariadb:// URL).
TABLE_ARGS = {
    f"{dialect}_{option}": value
    for dialect in ("mysql", "mariadb")
    for option, value in (("engine", "InnoDB"), ("charset", "utf8mb4"),
                          ("collate", "utf8mb4_unicode_520_ci"))
}


def ascii_string(length: int) -> String:
    """Text compared byte by byte (nonces, E.164 phones): ASCII with a binary collation."""
    return String(length).with_variant(
        mysql.VARCHAR(length, charset="ascii", collation="ascii_bin"), "mysql", "mariadb")


def phones_0_1_0(md: MetaData, p: str) -> Table:
    """0.1.0's phones table: one parse per customer (revision 0002 replaced it)."""
    return Table(
        p + "phones", md,
        Column("customer_id", Integer, primary_key=True, autoincrement=False),
        Column("tenant_id", Integer, nullable=False, server_default="0",
               comment="the customer's tenant (0 = none), copied so segments need not join "
                       "bkntc_customers"),
        Column("raw_phone", String(255), nullable=True),
        Column("e164", ascii_string(20), nullable=True, comment="NULL when missing or invalid"),
        Column("checked_at", Integer, nullable=False),
        Index(f"{p}phones_tenant_e164", "tenant_id", "e164", "customer_id"),
        comment="E.164 form of bkntc_customers.phone_number (NULL = missing/invalid).",
        **TABLE_ARGS,
    )


def tables_0_1_0(prefix: str) -> MetaData:
    """Every table of 0.1.0 for `prefix`, in a MetaData of its own."""
    md = MetaData()
    p = f"{prefix}bkntc_sms_"
    phone = ascii_string(20)
    Table(
        p + "meta", md,
        Column("name", String(64), primary_key=True),
        Column("value", Text, nullable=False),
        Column("updated_at", Integer, nullable=False),
        comment="Key-value bookkeeping: schema version, provider halt reason, phone region.",
        **TABLE_ARGS,
    )
    phones_0_1_0(md, p)
    Table(
        p + "suppressions", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("tenant_id", Integer, nullable=False, server_default="0"),
        Column("phone", phone, nullable=False),
        Column("reason", String(255), nullable=False, server_default=""),
        Column("source", String(16), nullable=False, server_default="manual"),
        Column("created_by", Integer, nullable=True),
        Column("created_at", Integer, nullable=False),
        UniqueConstraint("tenant_id", "phone", name=f"{p}suppressions_tenant_phone"),
        comment="Numbers a tenant never sends to.",
        **TABLE_ARGS,
    )
    Table(
        p + "templates", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("tenant_id", Integer, nullable=False, server_default="0"),
        Column("builtin_key", String(64), nullable=True, comment="set on the read-only built-ins"),
        Column("name", String(191), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_by", Integer, nullable=True),
        Column("created_at", Integer, nullable=False),
        Column("updated_at", Integer, nullable=False),
        UniqueConstraint("builtin_key", name=f"{p}templates_builtin_key"),
        Index(f"{p}templates_tenant", "tenant_id"),
        comment="Message templates: built-ins (tenant 0, builtin_key set) and per tenant.",
        **TABLE_ARGS,
    )
    Table(
        p + "campaigns", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("tenant_id", Integer, nullable=False, server_default="0"),
        Column("kind", String(16), nullable=False, server_default="campaign",
               comment="campaign | manual (one-off SMS sent through the same engine)"),
        Column("name", String(191), nullable=False),
        Column("segment", String(32), nullable=True),
        Column("filters", Text, nullable=False, comment="JSON: service_ids, location_ids, ..."),
        Column("body", Text, nullable=False),
        Column("template_id", Integer, nullable=True),
        Column("status", String(16), nullable=False, server_default="draft"),
        Column("status_reason", String(500), nullable=False, server_default=""),
        Column("total", Integer, nullable=False, server_default="0"),
        Column("sent", Integer, nullable=False, server_default="0"),
        Column("failed", Integer, nullable=False, server_default="0"),
        Column("pending", Integer, nullable=False, server_default="0"),
        Column("created_by", Integer, nullable=True),
        Column("created_at", Integer, nullable=False),
        Column("updated_at", Integer, nullable=False),
        Column("queued_at", Integer, nullable=True),
        Column("started_at", Integer, nullable=True),
        Column("finished_at", Integer, nullable=True),
        Index(f"{p}campaigns_tenant_status", "tenant_id", "status"),
        Index(f"{p}campaigns_status", "status"),
        comment="Campaigns and their lifecycle (DESIGN.md §4).",
        **TABLE_ARGS,
    )
    Table(
        p + "recipients", md,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("campaign_id", Integer, nullable=False),
        Column("tenant_id", Integer, nullable=False, server_default="0"),
        Column("customer_id", Integer, nullable=True),
        Column("phone", phone, nullable=False),
        Column("first_name", String(191), nullable=False, server_default=""),
        Column("last_name", String(191), nullable=False, server_default=""),
        Column("status", String(16), nullable=False, server_default="pending",
               comment="pending | sent | failed; a claimed row stays pending with a lease"),
        Column("attempts", SmallInteger, nullable=False, server_default="0"),
        Column("next_attempt_at", Integer, nullable=False, server_default="0"),
        Column("lease_until", Integer, nullable=True),
        Column("claimed_by", String(64), nullable=True),
        Column("unsure_since", Integer, nullable=True,
               comment="set while a send's outcome is unknown; reconcile before re-sending"),
        Column("last_error", String(500), nullable=False, server_default=""),
        Column("error_code", Integer, nullable=True),
        Column("provider_message_id", String(64), nullable=True),
        Column("sent_at", Integer, nullable=True),
        Column("updated_at", Integer, nullable=False, server_default="0"),
        UniqueConstraint("campaign_id", "phone", name=f"{p}recipients_campaign_phone"),
        Index(f"{p}recipients_queue", "campaign_id", "status", "next_attempt_at"),
        comment="Per-recipient send queue and log.",
        **TABLE_ARGS,
    )
    Table(
        p + "locks", md,
        Column("name", String(64), primary_key=True),
        Column("holder", String(128), nullable=False),
        Column("expires_at", Integer, nullable=False),
        comment="Lease locks shared by every sidecar process (queue runs).",
        **TABLE_ARGS,
    )
    Table(
        p + "nonces", md,
        Column("nonce", ascii_string(64), primary_key=True),
        Column("seen_at", Integer, nullable=False),
        Index(f"{p}nonces_seen", "seen_at"),
        comment="Bridge request nonces seen in the last 600 s (replay protection).",
        **TABLE_ARGS,
    )
    Table(
        p + "daily_stats", md,
        Column("tenant_id", Integer, primary_key=True, autoincrement=False),
        Column("day", Integer, primary_key=True, autoincrement=False,
               comment="UTC epoch day (epoch seconds // 86400)"),
        Column("sent", Integer, nullable=False, server_default="0"),
        Column("failed", Integer, nullable=False, server_default="0"),
        comment="Messages sent and failed per tenant and day (dashboard).",
        **TABLE_ARGS,
    )
    return md


def ddl_0_1_0(prefix: str) -> str:
    """The MySQL DDL of these tables, in the form 0.1.0's `migrate --print-sql` printed it
    (tests/fixtures/schema-0.1.0.sql is that output for `wp_`)."""
    dialect = mysql.dialect()
    parts = [
        "-- Booknetic SMS Campaigns: the sidecar's own tables.",
        "-- Generated from sidecar/schema.py (schema version 1) by",
        "--   bkntc-sms migrate --print-sql",
        "-- The sidecar applies this itself at start. To apply it by hand instead, run it once",
        "-- on a database that does not have these tables yet (replace wp_ if needed).",
        "",
    ]
    for table in tables_0_1_0(prefix).sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=dialect)).strip() + ";\n")
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            parts.append(str(CreateIndex(index).compile(dialect=dialect)).strip() + ";\n")
    parts.append(f"INSERT IGNORE INTO {prefix}bkntc_sms_meta (name, value, updated_at) "
                 "VALUES ('schema_version', '1', UNIX_TIMESTAMP());\n")
    return "\n".join(parts)
