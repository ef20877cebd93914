"""A Booknetic-shaped WordPress database, written by us (Booknetic's own schema is not public).

Used by the test suite, the demo and (with a bigger `customers_per_tenant`) the benchmark.
Tables follow "Recommended emulation schema" at the end of `booknetic.md`; the data follows
"Fixture data worth including" plus every segment boundary of DESIGN.md §3, so that `≤`/`<`
mistakes in the product's SQL change the answer.

Deliberate traits of the schema, so that the product cannot lean on what real installs lack:
- WordPress's collation (`utf8mb4_unicode_520_ci`) on every table, unlike the sidecar's own;
- only primary keys, `options.option_name` UNIQUE, and single-column indexes on
  `appointments.customer_id/service_id/location_id/staff_id` and on `tenant_id`;
- ids are explicit, one sequence per shared table, tenants interleaved, with gaps (deleted
  customers, one of which still has an orphan appointment).

`saas=True` also emulates Booknetic 5.x extras (`customers.category_id`,
`workflow_logs.event_data/status/error_message`) so the product is seen to ignore unknown columns.

Everything is deterministic for a given (kind, now, customers_per_tenant, twilio, seed).
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from .phone_pool import PhonePool, check_phone
from .scenarios import (
    BUSINESSES,
    FILLER_PHONE_STYLES,
    FIRST_NAMES,
    GARBAGE_PHONES,
    LAST_NAMES,
    MESSY_TIMEZONE_SHARE,
    MESSY_TIMEZONES,
    SCENARIO_KEYS,
    SCENARIOS,
    SHARED_STYLES,
    STATUS_WEIGHTS,
    SUPER_ADMIN_SCENARIOS,
    TIMEZONES,
    Visit,
)
from .tables import KINDS
from .wp_options import TWILIO_MODES, md5_hex, wordpress_options

DAY = 86400
SAAS_TENANT_IDS = [1, 2, 3]
SUPER_ADMIN_CUSTOMERS = 10  # NULL-tenant customers in a SaaS data set

ACTIVE_EXCLUDED = frozenset({"canceled", "rejected"})

Row = dict[str, Any]


# --------------------------------------------------------------------------- data set


@dataclass
class Dataset:
    kind: str  # "single" | "saas" | "no_tenant_column"
    now: int  # UTC epoch seconds the data was built around
    # Tenant values that exist: [None] for single/no_tenant_column, [1, 2, 3] for saas. A SaaS
    # data set also holds NULL-tenant rows (super-admin data) that must never leak into a tenant.
    tenant_ids: list[int | None]
    options: dict[str, str]
    services: list[Row]
    locations: list[Row]
    staff: list[Row]
    customers: list[Row]  # exactly the rows inserted (no tenant_id key for no_tenant_column)
    appointments: list[Row]
    tenants: list[Row]
    plans: list[Row]
    users: list[Row] = field(default_factory=list)
    service_staff: list[Row] = field(default_factory=list)
    workflow_logs: list[Row] = field(default_factory=list)

    def customers_of(self, tenant_id: int | None) -> list[Row]:
        return [c for c in self.customers if c.get("tenant_id") == tenant_id]

    def appointments_of(self, tenant_id: int | None) -> list[Row]:
        return [a for a in self.appointments if a.get("tenant_id") == tenant_id]

    def services_of(self, tenant_id: int | None) -> list[Row]:
        return [s for s in self.services if s.get("tenant_id") == tenant_id]

    def locations_of(self, tenant_id: int | None) -> list[Row]:
        return [x for x in self.locations if x.get("tenant_id") == tenant_id]


def _as_datetime(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)


@dataclass
class _Tenant:
    tenant_id: int | None
    services: list[Row]
    locations: list[Row]
    staff: list[Row]
    customers: list[tuple[Row, list[tuple[str, list[Visit]]]]] = field(default_factory=list)
    staff_at: dict[int, list[Row]] = field(default_factory=dict)  # location id -> staff


class _Builder:
    def __init__(self, kind: str, now: int, seed: int) -> None:
        self.kind, self.now, self.seed = kind, now, seed
        self.rng = random.Random(f"booknetic-fixture-{seed}")
        # Its own stream, so the messy timezones leave every other value as it was.
        self.zone_rng = random.Random(f"booknetic-zones-{seed}")
        self.phones = PhonePool(self.rng)
        self.shared_phone = self.phones.take()
        self.users: list[Row] = [self._user(1, "admin", "admin@example.com", "Site Admin")]
        self.services: list[Row] = []
        self.locations: list[Row] = []
        self.staff: list[Row] = []
        self.service_staff: list[Row] = []
        self.appointments: list[Row] = []
        self._appointment_seq = 0

    # -- WordPress users, business setup
    def _user(self, uid: int, login: str, email: str, display: str) -> Row:
        registered = _as_datetime(self.now - 500 * DAY + uid * 3600)
        return {"ID": uid, "user_login": login, "user_pass": "$P$B" + md5_hex(login)[:27],
                "user_nicename": login, "user_email": email, "user_url": "",
                "user_registered": registered, "user_activation_key": "", "user_status": 0,
                "display_name": display}

    def business(self, tenant_id: int | None, index: int) -> _Tenant:
        _kind, services, locations = BUSINESSES[index % len(BUSINESSES)]
        t = _Tenant(tenant_id, [], [], [])
        for name, minutes, price in services:
            row = {"id": len(self.services) + 1, "name": name, "category_id": 0,
                   "price": Decimal(price), "duration": minutes,
                   "color": f"#{self.rng.randrange(0x1000000):06x}", "is_active": 1,
                   "is_visible": 1, "tenant_id": tenant_id}
            self.services.append(row)
            t.services.append(row)
        for name in locations:
            row = {"id": len(self.locations) + 1, "name": name,
                   "address": f"{self.rng.randint(1, 999)} {name} Street",
                   "phone_number": "+1" + self.phones.take(), "is_active": 1,
                   "tenant_id": tenant_id}
            self.locations.append(row)
            t.locations.append(row)
        l1, l2 = (str(x["id"]) for x in t.locations)
        for n, where in enumerate([f"{l1},{l2}", l1, l2]):  # comma-separated, as Booknetic
            sid = len(self.staff) + 1
            user_id = None
            if n == 0:
                user_id = len(self.users) + 1
                self.users.append(self._user(user_id, f"staff{sid}", f"staff{sid}@example.com",
                                             f"Staff {sid}"))
            row = {"id": sid, "user_id": user_id, "name": f"{self.rng.choice(FIRST_NAMES)} "
                   f"{self.rng.choice(LAST_NAMES)}", "email": f"staff{sid}@example.com",
                   "phone_number": "+1" + self.phones.take(), "locations": where,
                   "is_active": 1, "profession": ["Lead", None, "Assistant"][n],
                   "tenant_id": tenant_id}
            self.staff.append(row)
            t.staff.append(row)
        for loc in t.locations:
            t.staff_at[loc["id"]] = [
                s for s in t.staff if str(loc["id"]) in s["locations"].split(",")
            ]
        for svc in t.services:
            for st in t.staff[:2] if svc is t.services[0] else t.staff:
                self.service_staff.append({
                    "id": len(self.service_staff) + 1, "service_id": svc["id"],
                    "staff_id": st["id"], "price": Decimal("-1"), "deposit": Decimal("-1"),
                    "deposit_type": "percent"})
        return t

    # -- customers
    def customer(self, t: _Tenant, phone: str | None, name: str, groups: list[Any]) -> Row:
        rng = self.rng
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        if name == "no_last":
            last = ""
        elif name == "nameless":
            first = last = ""
        elif name == "emoji":
            first = f"{first} 🌸"
        row: Row = {
            "id": 0,  # assigned when tenants are interleaved
            "user_id": rng.choice([None, 0]),
            "first_name": first,
            "last_name": None if name == "null_last" else last,
            "phone_number": phone,
            "email": None if rng.random() < 0.15 or not first else
            f"{first}.{last or 'x'}{rng.randint(1, 99)}@example.com".lower().replace(" 🌸", ""),
            "birthdate": None if rng.random() < 0.4 else
            date(rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)),
            "gender": rng.choice([None, "male", "female", ""]),
            "notes": rng.choice([None, "", "Prefers mornings", "Allergic to latex 🌿"]),
            "created_by": rng.choice([None, 1]),
            "created_at": self._customer_created(),
            "tenant_id": t.tenant_id,
        }
        if self.kind == "saas":
            row["category_id"] = rng.choice([None, 1, 2])
        t.customers.append((row, groups))
        return row

    def _customer_created(self) -> datetime | None:
        r = self.rng.random()
        if r < 0.15:
            return None
        when = _as_datetime(self.now - self.rng.randint(DAY, 500 * DAY))
        # v4's front end writes date('Y-m-d'): midnight values sit next to full datetimes
        return when.replace(hour=0, minute=0, second=0) if r < 0.4 else when

    def scenario_phone(self, spec: Any, tenant_index: int, groups: dict[str, str]) -> str | None:
        if isinstance(spec, str):
            return self.phones.render(self.phones.take(), spec)
        if spec[0] == "raw":
            raw = spec[1]
            if raw is not None and raw.startswith("+1500"):
                check_phone(raw, raw, "e164")
            elif raw is not None:
                check_phone(raw, None, "garbage")
            return raw
        if spec[0] == "group":
            digits = groups.setdefault(spec[1], self.phones.take())
            return self.phones.render(digits, spec[2])
        style = SHARED_STYLES[tenant_index % len(SHARED_STYLES)]  # ("shared", _)
        return self.phones.render(self.shared_phone, style)

    def filler_phone(self, earlier: list[str]) -> str | None:
        style = self.rng.choices(*zip(*FILLER_PHONE_STYLES, strict=True))[0]
        if style == "dup" and earlier:
            return self.phones.render(self.rng.choice(earlier), self.rng.choice(SHARED_STYLES))
        if style == "empty":
            return ""
        if style == "null":
            return None
        if style == "garbage":
            raw = self.rng.choice(GARBAGE_PHONES)
            check_phone(raw, None, "garbage")
            return raw
        digits = self.phones.take()
        earlier.append(digits)
        return self.phones.render(digits, "e164" if style == "dup" else style)

    def filler_visits(self) -> list[tuple[str, list[Visit]]]:
        rng = self.rng
        n = rng.choices([0, 1, 2, 3, 4, 5, 6, 8], [15, 30, 20, 12, 8, 6, 5, 4])[0]
        statuses, weights = zip(*STATUS_WEIGHTS, strict=True)

        def when() -> int:
            return self.now + rng.randrange(-400 * DAY, 60 * DAY) // 900 * 900

        if n >= 3 and rng.random() < 0.2:  # a weekly recurring set
            start = min(when(), self.now + 60 * DAY - (n - 1) * 7 * DAY)
            status = rng.choice(["approved", "pending"])
            return [("R", [(start + k * 7 * DAY - self.now, status) for k in range(n)])]
        return [("", [(when() - self.now, rng.choices(statuses, weights)[0])])
                for _ in range(n)]

    # -- appointments
    def client_timezone(self, usual: str) -> str | None:
        """The zone the booking panel recorded: usually `usual`, sometimes a messier one."""
        if self.zone_rng.random() < MESSY_TIMEZONE_SHARE:
            return self.zone_rng.choice(MESSY_TIMEZONES)
        return usual

    def visits(self, t: _Tenant, customer: Row, groups: list[tuple[str, list[Visit]]],
               index: int) -> None:
        rng = self.rng
        for mode, visits in groups:
            # "" = one booking, "R" = a recurring set (same service, staff, recurring_id),
            # "C" = a cart (several services, one payment_id, one created_at)
            payment_id = md5_hex(self.seed, "pay", self._appointment_seq)
            recurring_id = md5_hex(self.seed, "rec", self._appointment_seq) if mode == "R" else None
            first_start = self.now + min(v[0] for v in visits)
            created = min(first_start - rng.randint(3600, 21 * DAY), self.now - 60)
            location = rng.choice(t.locations) if not mode else t.locations[index % 2]
            staff = rng.choice(t.staff_at[location["id"]])
            for k, (offset, status) in enumerate(visits):
                service = (rng.choice(t.services) if not mode
                           else t.services[(index + (k if mode == "C" else 0)) % 3])
                starts = self.now + offset
                ends = starts + service["duration"] * 60
                buffer = rng.choice([0, 0, 10]) * 60
                pay_status = ("canceled" if status in ACTIVE_EXCLUDED and rng.random() < 0.5
                              else rng.choice(["paid", "not_paid", "pending"]))
                self._appointment_seq += 1
                self.appointments.append({
                    "id": self._appointment_seq,  # re-numbered by creation time later
                    "location_id": location["id"], "service_id": service["id"],
                    "staff_id": staff["id"], "customer_id": customer["id"], "status": status,
                    "starts_at": starts, "ends_at": ends, "busy_from": starts - buffer,
                    "busy_to": ends + buffer, "weight": 2 if mode == "C" else
                    rng.choices([1, 2, 3], [90, 7, 3])[0],
                    "payment_id": payment_id, "recurring_id": recurring_id,
                    "payment_method": rng.choice(["local", "local", "stripe", "paypal"]),
                    "payment_status": pay_status,
                    "paid_amount": service["price"] if pay_status == "paid" else Decimal("0.00"),
                    "note": rng.choice([None, None, "", "First visit", "Parking at the back"]),
                    "locale": rng.choice(["en_US", "en_GB", "de_DE"]),
                    "client_timezone": self.client_timezone(rng.choice(TIMEZONES)),
                    "created_at": created, "tenant_id": t.tenant_id,
                })


def _workflow_logs(now: int, tenant_values: list[int | None], rng: random.Random) -> list[Row]:
    """`twilio-sms` log rows this month and last month per tenant (plan-limit usage)."""
    now_dt = _as_datetime(now)
    month_start = now_dt.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    this_month = int(month_start.replace(tzinfo=UTC).timestamp())
    rows: list[Row] = []
    for tid in tenant_values:
        for driver, count, lo, hi in [("twilio-sms", 3, this_month, now),
                                      ("twilio-sms", 2, this_month - 25 * DAY, this_month - 1),
                                      ("email", 1, this_month, now)]:
            for _ in range(count):
                at = rng.randint(lo, max(lo, hi))
                rows.append({
                    "id": len(rows) + 1, "workflow_id": 1, "when": "booking_new",
                    "driver": driver, "date_time": _as_datetime(at),
                    "data": json.dumps({"to": f"+1{rng.randrange(10**10):010d}",
                                        "body": "Thanks for booking!"}),
                    "tenant_id": tid})
    return rows


def make_dataset(
    kind: str,
    now: int,
    *,
    customers_per_tenant: int = 60,
    twilio: str = "configured",
    seed: int = 7,
    phone_countries: Mapping[int | None, str] | None = None,
) -> Dataset:
    """Build the rows of one install variant around the UTC epoch second `now`.

    `phone_countries` sets Booknetic's "Default phone country code" (lower-case ISO code,
    as Booknetic stores it) for the site (key None) and SaaS tenants (their ids); by
    default it is unset, as on an install whose booking-panel settings were never saved.

    The first `len(SCENARIO_KEYS)` customers of every tenant are the hand-made edge cases
    (fewer if `customers_per_tenant` is smaller); the rest are seeded random fillers.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown dataset kind {kind!r}; expected one of {KINDS}")
    if twilio not in TWILIO_MODES:
        raise ValueError(f"unknown twilio mode {twilio!r}; expected one of {TWILIO_MODES}")
    b = _Builder(kind, now, seed)
    tenant_ids: list[int | None] = list(SAAS_TENANT_IDS) if kind == "saas" else [None]
    # In SaaS the NULL tenant (super-admin data) is built too, after the real tenants.
    plan: list[tuple[int | None, list[str], int]] = [
        (tid, SCENARIO_KEYS, customers_per_tenant) for tid in tenant_ids
    ]
    if kind == "saas":
        plan.append((None, SUPER_ADMIN_SCENARIOS, SUPER_ADMIN_CUSTOMERS))
    scenarios = {s[0]: s for s in SCENARIOS}
    businesses: list[_Tenant] = []
    for index, (tid, keys, count) in enumerate(plan):
        t = b.business(tid, index)
        businesses.append(t)
        groups: dict[str, str] = {}
        for key in keys[:count]:
            _key, phone, name, visits = scenarios[key]
            vgroups = [visits] if isinstance(visits, tuple) else [("", [v]) for v in visits]
            b.customer(t, b.scenario_phone(phone, index, groups), name, vgroups)
        earlier: list[str] = []
        for _ in range(count - min(count, len(keys))):
            name = b.rng.choices(["full", "no_last", "nameless"], [93, 5, 2])[0]
            b.customer(t, b.filler_phone(earlier), name, b.filler_visits())

    # One shared id sequence: tenants interleaved row by row, with a few gaps (deleted
    # customers). The first gap keeps an orphan appointment, as a deleted customer can.
    customers: list[Row] = []
    next_id, orphan_done = 1, False
    depth = max(len(t.customers) for t in businesses)
    for i in range(depth):
        for t in businesses:
            if i >= len(t.customers):
                continue
            if (i == 5 and t is businesses[0]) or (i > 5 and b.rng.random() < 0.03):
                if not orphan_done:
                    ghost: Row = {"id": next_id, "tenant_id": t.tenant_id}
                    b.visits(t, ghost, [("", [(-9 * DAY, "approved")])], i)
                    orphan_done = True
                next_id += 1
            row, visit_groups = t.customers[i]
            row["id"] = next_id
            next_id += 1
            customers.append(row)
            b.visits(t, row, visit_groups, i)

    # Appointment ids follow creation time, like a real auto-increment column.
    b.appointments.sort(key=lambda a: (a["created_at"], a["id"]))
    for new_id, appt in enumerate(b.appointments, start=1):
        appt["id"] = new_id

    tenants: list[Row] = []
    plans: list[Row] = []
    if kind == "saas":
        plans = [
            {"id": 1, "name": "Basic", "is_active": 1, "is_default": 1, "expire_plan": 0,
             "permissions": json.dumps({"capabilities": {"workflow": "on", "twilio_sms": "on",
                                                         "sms_campaigns": "off"},
                                        "limits": {"twilio_sms_allowed_max_number": 50}})},
            {"id": 2, "name": "Pro", "is_active": 1, "is_default": 0, "expire_plan": 0,
             "permissions": json.dumps({"capabilities": {"workflow": "on", "twilio_sms": "on",
                                                         "sms_campaigns": "on"},
                                        "limits": {"twilio_sms_allowed_max_number": 1000}})},
        ]
        domains = ["glow-salon", "city-clinic", "zen-studio"]
        for tid in SAAS_TENANT_IDS:
            uid = len(b.users) + 1
            email = f"owner@{domains[tid - 1]}.test"
            b.users.append(b._user(uid, f"tenant{tid}", email, f"Tenant {tid} Owner"))
            tenants.append({
                "id": tid, "user_id": uid, "email": email, "full_name": f"Tenant {tid} Owner",
                "domain": domains[tid - 1], "plan_id": 1 if tid == 3 else 2,
                "expires_in": _as_datetime(now + 30 * DAY),
                "inserted_at": _as_datetime(now - 300 * DAY + tid * DAY),
                "verified_at": _as_datetime(now - 300 * DAY + tid * DAY + 600),
                "active_subscription": None if tid == 3 else f"sub_{md5_hex(tid)[:14]}",
                "money_balance": Decimal("0.00")})

    logs = _workflow_logs(now, tenant_ids, b.rng)
    if kind == "saas":
        for log in logs:
            log.update(event_data=None, status="success", error_message=None)
    ds = Dataset(
        kind=kind, now=now, tenant_ids=tenant_ids,
        options=wordpress_options(kind, twilio, b.rng, SAAS_TENANT_IDS if kind == "saas" else [],
                                  phone_countries or {}),
        services=b.services, locations=b.locations, staff=b.staff, customers=customers,
        appointments=b.appointments, tenants=tenants, plans=plans, users=b.users,
        service_staff=b.service_staff, workflow_logs=logs,
    )
    if kind == "no_tenant_column":
        for rows in (ds.services, ds.locations, ds.staff, ds.customers, ds.appointments,
                     ds.workflow_logs):
            for row in rows:
                del row["tenant_id"]
    return ds
