"""The sidecar's own tables — the one source of truth — and their migration.

All tables are `{prefix}bkntc_sms_*` in the WordPress database. The sidecar is their only
writer and never writes Booknetic's tables. `tenant_id` here is NOT NULL with 0 meaning
"no tenant" (single-site, or Booknetic's NULL tenant): Booknetic only hands out tenant ids
> 0, and a non-null column keeps unique keys such as (tenant_id, phone) honest.

Times are integer UTC epoch seconds throughout, like Booknetic's own `starts_at`.

`sql/schema.sql` is generated from these definitions (`bkntc-sms migrate --print-sql`) and a
test proves the two agree. Changes reach existing databases as Alembic revisions in
`sidecar/migrations/versions/` — that package's docstring says how to add one; tests prove
the revisions end exactly at these definitions.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.schema import CreateIndex, CreateTable

# Every id a request can name (ours and Booknetic's: campaigns, templates, suppressions,
# customers, services, locations) is a signed INT column. A bigger one cannot exist, and
# binding it fails on MariaDB (out of range) and SQLite (OverflowError), so input is
# checked against this range before any query.
ID_MAX = 2**31 - 1


def is_row_id(value: object) -> bool:
    """Whether `value` can be the id of a row: a whole number from 1 to ID_MAX."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= ID_MAX

# Big ids for the one table that grows with every message; SQLite only auto-increments
# INTEGER PRIMARY KEY, hence the variant.
_BigId = BigInteger().with_variant(Integer(), "sqlite")

# The same options under both names: SQLAlchemy reads only mariadb_* for a mariadb:// URL.
def _ascii(length: int) -> String:
    """Text compared byte by byte: nonces are case-sensitive, and E.164 numbers are only
    '+' and digits, so grouping and joining them needs no Unicode collation (measured 2x
    faster on the segment GROUP BY)."""
    return String(length).with_variant(
        mysql.VARCHAR(length, charset="ascii", collation="ascii_bin"), "mysql", "mariadb")


_Nonce = _ascii(64)
_Phone = _ascii(20)

_TABLE_ARGS = {
    f"{dialect}_{option}": value
    for dialect in ("mysql", "mariadb")
    for option, value in (("engine", "InnoDB"), ("charset", "utf8mb4"),
                          ("collate", "utf8mb4_unicode_520_ci"))
}


@dataclass(frozen=True)
class SmsTables:
    """The sidecar's tables for one table prefix."""

    metadata: MetaData
    meta: Table
    phones: Table
    suppressions: Table
    templates: Table
    campaigns: Table
    recipients: Table
    locks: Table
    nonces: Table
    daily: Table
    early_statuses: Table
    settings: Table
    attributions: Table
    campaign_leases: Table
    processes: Table
    rate_limits: Table


def sms_tables(prefix: str) -> SmsTables:
    md = MetaData()
    p = f"{prefix}bkntc_sms_"

    meta = Table(
        p + "meta",
        md,
        Column("name", String(64), primary_key=True),
        Column("value", Text, nullable=False),
        Column("updated_at", Integer, nullable=False),
        comment="Key-value bookkeeping: the provider halt reason.",
        **_TABLE_ARGS,
    )

    # Normalised phones, one row per Booknetic customer and default region, refreshed
    # incrementally: a row is re-parsed only when Booknetic's raw phone_number differs
    # byte-for-byte from raw_phone. National numbers parse differently per region, and two
    # processes may be configured with different regions, so each region keeps its own rows
    # and readers join on the tenant's current one; nobody rewrites another region's rows.
    # The key leads with (tenant, region) so the phone check reads one tenant's rows of
    # one region as a range, in customer order (segments/phone_table.py).
    phones = Table(
        p + "phones",
        md,
        Column("tenant_id", Integer, nullable=False, server_default="0",
               comment="the customer's tenant (0 = none), copied so segments need not join "
                       "bkntc_customers"),
        Column("region", _ascii(2), nullable=False, server_default="",
               comment="default region the number was parsed with (ISO 3166, '' = none)"),
        Column("customer_id", Integer, nullable=False, autoincrement=False),
        Column("raw_phone", String(255), nullable=True),
        Column("e164", _Phone, nullable=True, comment="NULL when missing or invalid"),
        Column("checked_at", Integer, nullable=False),
        PrimaryKeyConstraint("tenant_id", "region", "customer_id"),
        # Covers "all customers of a tenant, by phone": grouping reads the index in order.
        Index(f"{p}phones_tenant_region_e164", "tenant_id", "region", "e164", "customer_id"),
        comment="E.164 form of bkntc_customers.phone_number per default region "
                "(NULL = missing/invalid).",
        **_TABLE_ARGS,
    )

    suppressions = Table(
        p + "suppressions",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("tenant_id", Integer, nullable=False, server_default="0"),
        Column("phone", _Phone, nullable=False),
        Column("reason", String(255), nullable=False, server_default=""),
        Column("source", String(16), nullable=False, server_default="manual",
               comment="manual (an admin, one or pasted) | keyword (replied STOP) | "
                       "provider (Twilio refused the number)"),
        Column("created_by", Integer, nullable=True),
        Column("created_at", Integer, nullable=False),
        UniqueConstraint("tenant_id", "phone", name=f"{p}suppressions_tenant_phone"),
        # An inbound START clears the number in every tenant at once.
        Index(f"{p}suppressions_phone", "phone"),
        comment="Numbers a tenant never sends to.",
        **_TABLE_ARGS,
    )

    templates = Table(
        p + "templates",
        md,
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
        **_TABLE_ARGS,
    )

    campaigns = Table(
        p + "campaigns",
        md,
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
        # Counters are maintained by the same statements that change recipient rows, so
        # reading progress never counts over the recipients table.
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
        # Delivery counters (DESIGN.md §10), moved with the recipient rows' delivery status.
        Column("delivered", Integer, nullable=False, server_default="0"),
        Column("undelivered", Integer, nullable=False, server_default="0",
               comment="delivery status undelivered or failed"),
        Column("send_at", Integer, nullable=True, comment="scheduled start (DESIGN.md §11)"),
        Column("latest_start", Integer, nullable=True,
               comment="a scheduled campaign not started by then is paused, not sent late"),
        Column("skipped", Integer, nullable=False, server_default="0",
               comment="recipients not sent by policy (suppressed at send time, frequency cap)"),
        # Outcomes (DESIGN.md §12): the holdout share chosen for this campaign, the window
        # copied from the settings when it is sent, and the figures the attribution refresh
        # (sidecar/outcomes/attribution.py) stores so a report is one primary-key read.
        Column("holdout_percent", SmallInteger, nullable=False, server_default="0"),
        Column("attribution_days", SmallInteger, nullable=True,
               comment="copied from the settings at send; NULL = not sent yet"),
        Column("holdout", Integer, nullable=False, server_default="0",
               comment="recipient rows in the control group (never sent)"),
        Column("bookings", Integer, nullable=False, server_default="0"),
        Column("booked_recipients", Integer, nullable=False, server_default="0"),
        Column("revenue_cents", BigInteger, nullable=False, server_default="0"),
        Column("holdout_booked", Integer, nullable=False, server_default="0",
               comment="holdout rows with a booking in the control window"),
        Column("opted_out", Integer, nullable=False, server_default="0",
               comment="recipients who opted out (STOP, carrier) since it was sent"),
        Column("attributed_at", Integer, nullable=True,
               comment="when attribution last ran; after the window closed = frozen"),
        Index(f"{p}campaigns_tenant_status", "tenant_id", "status"),
        Index(f"{p}campaigns_status", "status"),
        comment="Campaigns and their lifecycle (DESIGN.md §4).",
        **_TABLE_ARGS,
    )

    # One row per recipient of a campaign: the send queue and the log at once. A claimed
    # row stays 'pending' and carries a lease; the claim protocol is in sidecar/outbox/.
    recipients = Table(
        p + "recipients",
        md,
        Column("id", _BigId, primary_key=True, autoincrement=True),
        Column("campaign_id", Integer, nullable=False),
        Column("tenant_id", Integer, nullable=False, server_default="0"),
        Column("customer_id", Integer, nullable=True),
        Column("phone", _Phone, nullable=False),
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
        # What happened after the provider accepted the message (DESIGN.md §10; the
        # protocol in sidecar/outbox/__init__.py, step 4): only ever moves forward.
        Column("delivery_status", String(16), nullable=True,
               comment="queued | sent | delivered | undelivered | failed; NULL = none known"),
        Column("delivered_at", Integer, nullable=True),
        Column("delivery_error_code", Integer, nullable=True,
               comment="the carrier's error code (Twilio 30xxx)"),
        Column("delivery_error", String(255), nullable=False, server_default="",
               comment="the carrier's error in words"),
        Column("delivery_checks", SmallInteger, nullable=False, server_default="0",
               comment="times the poller asked the provider"),
        Column("delivery_check_at", Integer, nullable=True,
               comment="when the poller asks next; NULL = final or given up"),
        Column("timezone", String(64), nullable=True,
               comment="the recipient's own zone, resolved at snapshot (NULL = the business "
                       "zone); quiet hours apply in it"),
        Column("booked_appointment_id", Integer, nullable=True,
               comment="the earliest attributed Booknetic appointment (DESIGN.md §12)"),
        Column("booked_at", Integer, nullable=True,
               comment="created_at of that appointment"),
        Column("revenue_cents", BigInteger, nullable=True,
               comment="all attributed appointments of this row; NULL = none"),
        UniqueConstraint("campaign_id", "phone", name=f"{p}recipients_campaign_phone"),
        Index(f"{p}recipients_queue", "campaign_id", "status", "next_attempt_at"),
        # A status callback finds its row by the provider's message id; the poller reads
        # the due rows in check order.
        Index(f"{p}recipients_message", "provider_message_id"),
        Index(f"{p}recipients_delivery_check", "delivery_check_at"),
        # A number's messages in a tenant, in time order: the frequency cap counts the
        # recent ones, attribution finds the last touch (DESIGN.md §11, §12).
        Index(f"{p}recipients_tenant_phone", "tenant_id", "phone", "sent_at"),
        comment="Per-recipient send queue and log.",
        **_TABLE_ARGS,
    )

    locks = Table(
        p + "locks",
        md,
        Column("name", String(64), primary_key=True),
        Column("holder", String(128), nullable=False),
        Column("expires_at", Integer, nullable=False),
        comment="Lease locks shared by every sidecar process (queue runs).",
        **_TABLE_ARGS,
    )

    nonces = Table(
        p + "nonces",
        md,
        # Nonces are case-sensitive: compare bytes, not the table's _ci collation.
        Column("nonce", _Nonce, primary_key=True),
        Column("seen_at", Integer, nullable=False),
        Index(f"{p}nonces_seen", "seen_at"),
        comment="Bridge request nonces seen in the last 600 s (replay protection).",
        **_TABLE_ARGS,
    )

    # Messages per tenant and UTC day, incremented by the statement that records a batch,
    # so the dashboard's 30-day chart reads 30 rows instead of scanning the recipients;
    # opt-outs likewise, by the statement that adds the suppression row (opt_outs.py).
    daily = Table(
        p + "daily_stats",
        md,
        Column("tenant_id", Integer, primary_key=True, autoincrement=False),
        Column("day", Integer, primary_key=True, autoincrement=False,
               comment="UTC epoch day (epoch seconds // 86400)"),
        Column("sent", Integer, nullable=False, server_default="0"),
        Column("failed", Integer, nullable=False, server_default="0"),
        Column("delivered", Integer, nullable=False, server_default="0",
               comment="of the messages sent that day"),
        Column("undelivered", Integer, nullable=False, server_default="0",
               comment="of the messages sent that day (undelivered or failed)"),
        Column("opt_outs", Integer, nullable=False, server_default="0",
               comment="numbers added to the suppression list by a keyword or the provider"),
        comment="Messages sent and failed, and opt-outs, per tenant and day (dashboard).",
        **_TABLE_ARGS,
    )

    # Status callbacks that came before the batch holding their message was recorded (the
    # message id reaches its row only then): applied when it is, forgotten after an hour.
    early_statuses = Table(
        p + "early_statuses",
        md,
        Column("message_sid", _ascii(64), nullable=False),
        Column("status", String(16), nullable=False),
        Column("error_code", Integer, nullable=True),
        Column("error", String(255), nullable=False, server_default=""),
        Column("received_at", Integer, nullable=False),
        PrimaryKeyConstraint("message_sid", "status"),
        Index(f"{p}early_statuses_received", "received_at"),
        comment="Delivery statuses for message ids no recipient row has yet.",
        **_TABLE_ARGS,
    )

    # Each tenant's settings (DESIGN.md §11), one row per tenant. Only the keys a tenant has
    # set are stored: the defaults live in sidecar/tenant_settings.py alone, so a default
    # changed by a later release reaches every tenant who never chose otherwise.
    settings = Table(
        p + "settings",
        md,
        Column("tenant_id", Integer, primary_key=True, autoincrement=False,
               comment="0 = no tenant (single-site, or Booknetic's NULL tenant)"),
        Column("settings", Text, nullable=False,
               comment="JSON object of the settings this tenant has set (the rest are "
                       "defaults)"),
        Column("updated_by", Integer, nullable=True),
        Column("updated_at", Integer, nullable=False),
        comment="Per-tenant settings: quiet hours, frequency cap, attribution, holdout, "
                "price, country.",
        **_TABLE_ARGS,
    )

    # Bookings attributed to recipient rows (DESIGN.md §12), rewritten per campaign by each
    # attribution refresh while its window is open; the recipient rows and the campaign
    # carry the sums. A holdout row's bookings are its control-group bookings.
    attributions = Table(
        p + "attributions",
        md,
        Column("recipient_id", _BigId, nullable=False, autoincrement=False),
        Column("appointment_id", Integer, nullable=False, autoincrement=False),
        Column("campaign_id", Integer, nullable=False),
        Column("created_at", Integer, nullable=False,
               comment="the appointment's created_at (epoch seconds)"),
        Column("revenue_cents", BigInteger, nullable=False, server_default="0"),
        PrimaryKeyConstraint("recipient_id", "appointment_id"),
        Index(f"{p}attributions_campaign", "campaign_id", "created_at"),
        comment="Booknetic appointments attributed to campaign recipients.",
        **_TABLE_ARGS,
    )

    # Alembic's record of the revision the database is at (sidecar/migrations). Defined here
    # so it gets the same table options as ours and appears in sql/schema.sql.
    Table(
        p + "alembic_version",
        md,
        Column("version_num", String(32), primary_key=True),
        comment="The schema revision of these tables (Alembic; bkntc-sms migrate --status).",
        **_TABLE_ARGS,
    )

    campaign_leases, processes, rate_limits = _fleet_tables(md, p)
    return SmsTables(md, meta, phones, suppressions, templates, campaigns, recipients,
                     locks, nonces, daily, early_statuses, settings, attributions,
                     campaign_leases, processes, rate_limits)


def _fleet_tables(md: MetaData, p: str) -> tuple[Table, Table, Table]:
    """The tables several sending processes share (DESIGN.md §13; sidecar/outbox/fleet.py)."""
    # Which live process is sending which campaign now. A holder that dies stops renewing,
    # and the campaign is free again once expires_at has passed.
    campaign_leases = Table(
        p + "campaign_leases",
        md,
        Column("campaign_id", Integer, primary_key=True, autoincrement=False),
        Column("holder", String(128), nullable=False, comment="host:pid:random"),
        Column("expires_at", Integer, nullable=False),
        Column("taken_at", Integer, nullable=False),
        Index(f"{p}campaign_leases_holder", "holder"),
        comment="Per-campaign send leases (one process sends a campaign; others may help).",
        **_TABLE_ARGS,
    )
    # Every process that runs the queue, renewed with its leases: `bkntc-sms check` lists
    # the live ones, and the lowest configured rate among them wins.
    processes = Table(
        p + "processes",
        md,
        Column("holder", String(128), primary_key=True, comment="host:pid:random"),
        Column("host", String(128), nullable=False),
        Column("pid", Integer, nullable=False),
        Column("version", String(32), nullable=False, server_default=""),
        Column("rate_per_second", Float, nullable=False, server_default="0",
               comment="its BKNTC_SMS_RATE_PER_SECOND (0 = none)"),
        Column("started_at", Integer, nullable=False),
        Column("seen_at", Integer, nullable=False),
        Column("expires_at", Integer, nullable=False),
        Index(f"{p}processes_expires", "expires_at"),
        comment="Sidecar processes running the queue (live while expires_at is ahead).",
        **_TABLE_ARGS,
    )
    # One row per Twilio sender (Account SID + From): the next free send slot, handed out
    # by conditional UPDATEs so every process together keeps RATE_PER_SECOND.
    rate_limits = Table(
        p + "rate_limits",
        md,
        Column("sender", _ascii(191), primary_key=True, comment="account SID:from"),
        Column("next_slot_us", BigInteger, nullable=False, server_default="0",
               comment="epoch microseconds of the next free send slot"),
        Column("updated_at", Integer, nullable=False, server_default="0"),
        comment="Send slots per Twilio sender, shared by every process.",
        **_TABLE_ARGS,
    )
    return campaign_leases, processes, rate_limits


# Built-in templates, seeded once per database. Keys are stable: the seed never overwrites
# a row, so an operator's edits to these rows (by hand in SQL) survive upgrades.
BUILTIN_TEMPLATES: tuple[tuple[str, str, str], ...] = (
    (
        "reengagement_90",
        "Re-engagement (90 days)",
        "Hi {customer_first_name}, it's been a while and we miss you! It has been over "
        "3 months since your last visit. Book your next appointment this week and let us "
        "take care of you again. Reply STOP to opt out.",
    ),
    (
        "loyal_offer",
        "Loyal customer offer",
        "Thank you for being one of our regulars, {customer_first_name}! As a thank-you, "
        "enjoy 15% off your next booking with us. Just mention this message when you book. "
        "Reply STOP to opt out.",
    ),
    (
        "announcement",
        "General announcement",
        "Hello {customer_full_name}, we have news to share: [your announcement here]. "
        "Questions? Simply reply to this message. Reply STOP to opt out.",
    ),
    (
        "seasonal",
        "Seasonal campaign",
        "Hi {customer_first_name}, the new season is here and so are our seasonal "
        "specials! Appointments fill up fast, so book your spot today. "
        "Reply STOP to opt out.",
    ),
)


def schema_ddl(prefix: str) -> str:
    """MySQL/MariaDB DDL for every table at the head revision, as an operator would apply it
    by hand — ending with the Alembic stamp, so the sidecar sees a current schema."""
    from .migrations import head, version_table_name

    tables = sms_tables(prefix)
    dialect = mysql.dialect()
    parts = [
        "-- Booknetic SMS Campaigns: the sidecar's own tables.",
        f"-- Generated from sidecar/schema.py (revision {head()}) by",
        "--   bkntc-sms migrate --print-sql",
        "-- The sidecar applies this itself at start (bkntc-sms migrate). To apply it by hand",
        "-- instead, run it once on a database that does not have these tables yet (replace",
        "-- wp_ if needed); later versions upgrade it with `bkntc-sms migrate`.",
        "",
    ]
    for table in tables.metadata.sorted_tables:
        ddl = str(CreateTable(table).compile(dialect=dialect)).strip()
        parts.append(ddl + ";\n")
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            parts.append(str(CreateIndex(index).compile(dialect=dialect)).strip() + ";\n")
    parts.append(f"INSERT INTO {version_table_name(prefix)} (version_num) VALUES ('{head()}');\n")
    return "\n".join(parts)


def migrate(engine: Engine, prefix: str) -> list[str]:
    """Bring our tables to the head revision and seed the built-in templates (see
    sidecar/migrations): idempotent and safe to race. Returns what was done (empty when the
    schema was already current)."""
    from .migrations import migrate as run_migrations

    return run_migrations(engine, prefix)
