"""The ONLY module that reads WordPress's and Booknetic's tables and options.

Read-only by design: nothing here writes a Booknetic table. Tables are reflected at runtime
because Booknetic's schema is delivered by its licence server and differs between versions
(booknetic.md §1.1); optional columns such as `tenant_id` are probed, not assumed.

Every query on Booknetic data is scoped to exactly one tenant value through
`tenant_clause()`: `tenant_id = :tenant`, or `tenant_id IS NULL` for single-site data and
Booknetic's NULL tenant.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, MetaData, Table, and_, false, func, null, or_, select, true
from sqlalchemy.exc import NoSuchTableError
from sqlalchemy.sql.elements import ColumnElement

from .db import contains_text
from .errors import NotFound, Unavailable
from .phpserial import PhpSerialError, php_list
from .zones import BusinessZone, RecipientZones, business_zone_from, valid_zones

BOOKNETIC_PLUGIN = "booknetic/init.php"
SAAS_PLUGIN = "booknetic-saas/init.php"
TWILIO_ADDON_SLUG = "booknetic-workflow-twilio-sms"
TWILIO_ADDON_PLUGIN = f"{TWILIO_ADDON_SLUG}/init.php"
TWILIO_OPTIONS = ("bkntc_sms_account_sid", "bkntc_sms_auth_token", "bkntc_sender_phone_number")
BRIDGE_SECRET_OPTION = "bkntc_sms_bridge_secret"
# Where Twilio reaches the bridge's public REST routes (rest_url('bkntc-sms/v1/')), written
# by the bridge on activation and when its settings are saved (DESIGN.md §10).
PUBLIC_BASE_OPTION = "bkntc_sms_public_base_url"
# Booknetic's "Default phone country code" (Helper::setOption, so per tenant in SaaS).
PHONE_COUNTRY_OPTION = "default_phone_country_code"
# WordPress's timezone; in SaaS Booknetic's `bkntc_t{ID}_timezone` overrides it (Date.php).
WORDPRESS_TIMEZONE_OPTIONS = ("timezone_string", "gmt_offset")
# Customer ids per statement when recipient zones are asked for some customers.
ZONE_LOOKUP_CHUNK = 1000

# Appointment statuses that do not count as "active" (booknetic.md §1.5; DESIGN.md §2).
INACTIVE_STATUSES = ("canceled", "rejected")

_REQUIRED_APPOINTMENT_COLUMNS = ("id", "customer_id", "status", "starts_at")
_REQUIRED_CUSTOMER_COLUMNS = ("id", "first_name", "last_name", "phone_number")


class BookneticError(Unavailable, RuntimeError):
    """Booknetic's data is missing or has a layout the sidecar cannot use."""

    code = "booknetic_unavailable"


class UnknownTenant(NotFound):
    """The tenant id does not exist (or tenants do not exist on this install)."""


@dataclass(frozen=True)
class TwilioStatus:
    """What Booknetic's Twilio SMS add-on looks like from the database."""

    installed: bool
    active: bool
    configured: bool
    account_sid: str
    auth_token: str
    sender: str
    problem: str | None  # None when sending can work; otherwise what to do about it

    @property
    def ready(self) -> bool:
        return self.problem is None

    def public(self) -> dict[str, Any]:
        """A view safe to show in pages and JSON: no token, SID masked."""
        sid = self.account_sid
        return {
            "installed": self.installed,
            "active": self.active,
            "configured": self.configured,
            "ready": self.ready,
            "account_sid": (sid[:6] + "…" + sid[-4:]) if len(sid) > 10 else "",
            "sender": self.sender,
            "problem": self.problem,
        }


class Booknetic:
    """Read access to one WordPress database's Booknetic tables and options."""

    def __init__(self, engine: Engine, prefix: str) -> None:
        self.engine = engine
        self.prefix = prefix
        self._tables: dict[str, Table | None] = {}
        self._lock = threading.Lock()
        self._tenants_seen: dict[int, float] = {}  # tenant id -> monotonic time found

    # -- tables -------------------------------------------------------------------------

    def table(self, name: str, *, required: bool = True) -> Table | None:
        """Reflect `{prefix}bkntc_<name>` once and cache it (`options` is WordPress's own)."""
        full = f"{self.prefix}options" if name == "options" else f"{self.prefix}bkntc_{name}"
        with self._lock:
            if name not in self._tables:
                try:
                    self._tables[name] = Table(full, MetaData(), autoload_with=self.engine)
                except NoSuchTableError:
                    self._tables[name] = None
            found = self._tables[name]
        if found is None and required:
            raise BookneticError(
                f"table {full} not found: is Booknetic installed in this database, and is "
                f"BKNTC_SMS_TABLE_PREFIX ({self.prefix!r}) the WordPress table prefix?"
            )
        return found

    @property
    def customers(self) -> Table:
        table = self.table("customers")
        assert table is not None
        _require_columns(table, _REQUIRED_CUSTOMER_COLUMNS)
        return table

    @property
    def appointments(self) -> Table:
        table = self.table("appointments")
        assert table is not None
        missing = [c for c in _REQUIRED_APPOINTMENT_COLUMNS if c not in table.c]
        if missing:
            raise BookneticError(
                f"{table.name} has no {', '.join(missing)} column: this is the Booknetic 2.x "
                "layout (appointment_customers). Booknetic 3 or newer is required."
            )
        return table

    @property
    def multi_tenant(self) -> bool:
        """True when Booknetic rows carry tenant_id (SaaS-capable schema)."""
        return "tenant_id" in self.customers.c

    def tenant_clause(self, table: Table, tenant_id: int | None) -> ColumnElement[bool]:
        """The one tenant filter every Booknetic query uses."""
        if "tenant_id" not in table.c:
            # Single-site layout without the column: only "no tenant" matches anything.
            return true() if tenant_id is None else false()
        if tenant_id is None:
            return table.c.tenant_id.is_(None)
        return table.c.tenant_id == tenant_id

    # Up to this many customer ids, recipient zones are looked up for those customers only.
    ZONE_LOOKUP_MAX_IDS = 10_000

    # A tenant found in Booknetic is trusted for this long before it is looked up again:
    # every signed request checks its tenant, and most come in bursts (page, then polls).
    TENANT_CACHE_SECONDS = 60.0

    def require_tenant(self, tenant_id: int | None) -> None:
        """Raise UnknownTenant unless `tenant_id` can be used on this install."""
        if tenant_id is None:
            return
        seen = self._tenants_seen.get(tenant_id)
        if seen is not None and time.monotonic() - seen < self.TENANT_CACHE_SECONDS:
            return
        tenants = self.table("tenants", required=False)
        if tenants is None or not self.multi_tenant:
            raise UnknownTenant(
                f"tenant {tenant_id} does not exist: this is a single-site Booknetic install "
                "(no SaaS tenants); leave the tenant out"
            )
        with self.engine.connect() as conn:
            found = conn.execute(select(tenants.c.id).where(tenants.c.id == tenant_id)).first()
        if found is None:
            raise UnknownTenant(f"tenant {tenant_id} does not exist")
        self._tenants_seen[tenant_id] = time.monotonic()

    # -- options ------------------------------------------------------------------------

    def options(self, names: tuple[str, ...] | list[str]) -> dict[str, str]:
        """Read several WordPress options in one query; missing ones are absent."""
        table = self.table("options", required=False)
        if table is None:
            raise BookneticError(
                f"table {self.prefix}options not found: this does not look like a WordPress "
                f"database with table prefix {self.prefix!r}"
            )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table.c.option_name, table.c.option_value).where(
                    table.c.option_name.in_(list(names))
                )
            ).all()
        return {str(name): "" if value is None else str(value) for name, value in rows}

    def option(self, name: str) -> str | None:
        return self.options([name]).get(name)

    def webhook_options(self) -> tuple[str, str]:
        """The Twilio add-on's Auth Token (what Twilio signs webhooks with) and the bridge's
        public base URL, as stored ("" when missing), in one query."""
        token_option = TWILIO_OPTIONS[1]
        values = self.options([token_option, PUBLIC_BASE_OPTION])
        return values.get(token_option, "").strip(), values.get(PUBLIC_BASE_OPTION, "").strip()

    def phone_country_options(self, tenant_id: int | None) -> list[tuple[str, str]]:
        """Booknetic's default phone country options that are set, as (name, value), the
        tenant's own (`bkntc_t{ID}_…`, SaaS) before the global one."""
        names = [f"bkntc_{PHONE_COUNTRY_OPTION}"]
        if tenant_id is not None:
            names.insert(0, f"bkntc_t{tenant_id}_{PHONE_COUNTRY_OPTION}")
        values = self.options(names)
        return [(name, values[name]) for name in names if name in values]

    def business_zone(self, tenant_id: int | None) -> BusinessZone:
        """The zone the business's times are shown in and quiet hours fall back to, and
        where it came from (zones.business_zone_from has the chain). One query, uncached:
        pages call it once per request and the engine once per campaign."""
        tenant_option = None if tenant_id is None else f"bkntc_t{tenant_id}_timezone"
        names = [*WORDPRESS_TIMEZONE_OPTIONS] + ([tenant_option] if tenant_option else [])
        try:
            values = self.options(names)
        except BookneticError:
            values = {}
        return business_zone_from(values, tenant_option)

    def latest_client_timezones(self, tenant_id: int | None,
                                customer_ids: Collection[int] | None = None) -> dict[int, str]:
        """customer id → `client_timezone` of that customer's most recent appointment in the
        tenant (any status; the greatest `starts_at`, ties to the highest id), as stored and
        not yet checked; customers whose latest appointment has none are left out.

        One statement for the whole tenant (its appointments grouped by customer), then one
        pass here; for `customer_ids` up to ZONE_LOOKUP_MAX_IDS, statements scoped to them
        (ZONE_LOOKUP_CHUNK at a time), and beyond that the whole tenant, filtered: scoping a
        big set costs the database more than reading every customer (bench/zones)."""
        a = self.appointments
        if "client_timezone" not in a.c:
            return {}
        scopes: list[ColumnElement[bool]] = [true()]
        if customer_ids is not None and len(customer_ids) <= self.ZONE_LOOKUP_MAX_IDS:
            ids = sorted(set(customer_ids))
            scopes = [a.c.customer_id.in_(ids[at:at + ZONE_LOOKUP_CHUNK])
                      for at in range(0, len(ids), ZONE_LOOKUP_CHUNK)]
        found: dict[int, tuple[int, str | None]] = {}
        for scope in scopes:
            where = [self.tenant_clause(a, tenant_id), a.c.customer_id.is_not(None), scope]
            # Each customer's latest start, then their appointments starting then (joined on
            # the customer_id index); a tie goes to the highest id, here in Python. 2-3x
            # faster on MariaDB than ranking every appointment with ROW_NUMBER(). Empty and
            # NULL names are dropped only after the pick: they fall back to the business
            # zone, not to an older appointment's zone.
            latest = select(a.c.customer_id, func.max(a.c.starts_at).label("starts_at")
                            ).where(*where).group_by(a.c.customer_id).subquery()
            with self.engine.connect() as conn:
                for customer_id, appointment_id, zone in conn.execute(
                        select(a.c.customer_id, a.c.id, a.c.client_timezone)
                        .join(latest, and_(latest.c.customer_id == a.c.customer_id,
                                           latest.c.starts_at == a.c.starts_at))
                        .where(*where)):
                    kept = found.get(customer_id)
                    if kept is None or appointment_id > kept[0]:
                        found[customer_id] = (appointment_id, zone)
        wanted = None if customer_ids is None else set(customer_ids)
        return {int(customer_id): str(zone) for customer_id, (_, zone) in found.items()
                if zone and (wanted is None or customer_id in wanted)}

    def recipient_zones(self, tenant_id: int | None,
                        customer_ids: Collection[int] | None = None) -> RecipientZones:
        """Each customer's zone (DESIGN.md §11): the valid zone of their most recent
        appointment, else the business zone; for every customer of the tenant, or for
        `customer_ids`. A snapshot calls it once per campaign with its recipients' ids (for
        a deduplicated number, the recipient customer's: the lowest id)."""
        return RecipientZones(self.business_zone(tenant_id), valid_zones(
            self.latest_client_timezones(tenant_id, customer_ids)))

    def active_plugins(self) -> list[str]:
        raw = self.option("active_plugins")
        try:
            return [str(p) for p in php_list(raw)]
        except PhpSerialError as exc:
            raise BookneticError(f"the active_plugins option is not readable: {exc}") from exc

    def booknetic_version(self) -> str | None:
        return self.option("bkntc_plugin_version")

    def is_saas(self) -> bool:
        return SAAS_PLUGIN in self.active_plugins() or (
            self.table("tenants", required=False) is not None
        )

    def twilio_status(self) -> TwilioStatus:
        """Is Booknetic's Twilio SMS add-on active and configured (booknetic.md §4.2)?"""
        names = [*TWILIO_OPTIONS, f"bkntc_addon_{TWILIO_ADDON_SLUG}_version"]
        values = self.options(names)
        active = TWILIO_ADDON_PLUGIN in self.active_plugins()
        installed = active or names[-1] in values
        sid, token, sender = (values.get(n, "").strip() for n in TWILIO_OPTIONS)
        configured = bool(sid and token and sender)
        problem: str | None = None
        if not active:
            problem = (
                "Booknetic's Twilio SMS add-on (booknetic-workflow-twilio-sms) is "
                + ("installed but not active: activate it in WordPress → Plugins."
                   if installed else
                   "not installed: install it from Booknetic → Boostore, then activate it.")
            )
        elif not configured:
            missing = [label for label, value in
                       (("Account SID", sid), ("Auth Token", token), ("sender phone number",
                                                                      sender)) if not value]
            problem = (
                "The Twilio SMS add-on is active but not configured (missing "
                + ", ".join(missing)
                + "): fill them in under Booknetic → Settings → Integrations → SMS Twilio "
                "(in SaaS: the SaaS admin panel's settings)."
            )
        return TwilioStatus(installed, active, configured, sid, token, sender, problem)

    # -- lookups for pages and filters -------------------------------------------------

    def services(self, tenant_id: int | None) -> list[dict[str, Any]]:
        return self._named_rows("services", tenant_id)

    def locations(self, tenant_id: int | None) -> list[dict[str, Any]]:
        return self._named_rows("locations", tenant_id)

    def _named_rows(self, name: str, tenant_id: int | None) -> list[dict[str, Any]]:
        table = self.table(name, required=False)
        if table is None:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table.c.id, table.c.name)
                .where(self.tenant_clause(table, tenant_id))
                .order_by(table.c.name, table.c.id)
            ).all()
        return [{"id": int(r.id), "name": str(r.name or "")} for r in rows]

    def statuses(self, tenant_id: int | None) -> list[str]:
        """Appointment statuses actually present for the tenant (custom ones included)."""
        table = self.appointments
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(table.c.status)
                .where(self.tenant_clause(table, tenant_id), table.c.status.is_not(None))
                .group_by(table.c.status)
                .order_by(table.c.status)
            ).all()
        return [str(r.status) for r in rows]

    def counts(self, tenant_id: int | None) -> dict[str, int]:
        """How many customers and appointments the tenant has (for `check`)."""
        customers, appointments = self.customers, self.appointments
        with self.engine.connect() as conn:
            n_customers = conn.execute(
                select(func.count()).select_from(customers)
                .where(self.tenant_clause(customers, tenant_id))
            ).scalar_one()
            n_appointments = conn.execute(
                select(func.count()).select_from(appointments)
                .where(self.tenant_clause(appointments, tenant_id))
            ).scalar_one()
        return {"customers": int(n_customers), "appointments": int(n_appointments)}

    def search_customers(self, tenant_id: int | None, query: str, *, limit: int = 20,
                         offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """The tenant's customers whose name, phone or e-mail contains `query`."""
        c = self.customers
        where = [self.tenant_clause(c, tenant_id)]
        text = query.strip()
        if text:
            full_name = func.coalesce(c.c.first_name, "") + " " + func.coalesce(c.c.last_name, "")
            columns = [c.c.first_name, c.c.last_name, c.c.phone_number, full_name]
            if "email" in c.c:
                columns.append(c.c.email)
            where.append(contains_text(text, columns))
        email = c.c.email if "email" in c.c else null().label("email")
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(c).where(*where)).scalar_one()
            rows = conn.execute(
                select(c.c.id, c.c.first_name, c.c.last_name, c.c.phone_number, email)
                .where(*where).order_by(c.c.first_name, c.c.last_name, c.c.id)
                .limit(limit).offset(offset)).all()
        return [{"id": int(r.id), "first_name": r.first_name or "",
                 "last_name": r.last_name or "", "phone_number": r.phone_number or "",
                 "email": r.email or ""} for r in rows], int(total)

    def tenant_ids(self) -> list[int]:
        tenants = self.table("tenants", required=False)
        if tenants is None:
            return []
        with self.engine.connect() as conn:
            return [int(r[0]) for r in conn.execute(select(tenants.c.id).order_by(tenants.c.id))]

    def customer_status_clause(self, statuses: list[str] | None,
                               *, canceled: bool = False) -> ColumnElement[bool]:
        """Which appointment statuses are counted (DESIGN.md §3)."""
        status = self.appointments.c.status
        if statuses:
            return status.in_(statuses)
        if canceled:
            return status.in_(INACTIVE_STATUSES)
        # "Active" is "not canceled and not rejected"; a NULL status is not one of those.
        return or_(status.is_(None), status.not_in(INACTIVE_STATUSES))


def _require_columns(table: Table, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in table.c]
    if missing:
        raise BookneticError(f"{table.name} has no {', '.join(missing)} column")
