"""A big, seeded, realistic single-site Booknetic data set, as rows ready for bulk loading.

The segment benchmark (bench/segments) loads 100,000 customers and 1,000,000 appointments
from it. Unlike `dataset.py` (hand-made edge cases, every segment boundary, several
tenants), this one is about realistic proportions at size: a skewed number of visits per
customer, a few percent bad or duplicated phones, three years of history. Rows are tuples
in the *_COLUMNS order so that LOAD DATA can take them as they are.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from ..phones import normalise_phone

DAY = 86400

T = TypeVar("T")
Row = tuple[Any, ...]


# Real-looking US area codes; exchanges 200-999 except 555 (and whatever libphonenumber
# rejects, e.g. N11), so the numbers are valid and there are millions of distinct ones.
AREAS = ("202", "212", "312", "415", "617", "713", "305", "206")
GARBAGE = ("n/a", "123", "call me", "0000000", "555-0147", "+1 555", "-", "tbd", "none")
FIRST = ("Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella",
         "Lucas", "Mia", "Mateo", "Amelia", "Benjamin", "Harper", "Zoë", "José", "Łukasz",
         "Aisha", "Chen", "Fatima", "Oliver", "Nora", "Hiro", "Ingrid", "Priya", "Omar",
         "Sofía", "Yusuf", "Grace", "Ethan", "Chloe", "Daniel", "Layla", "Samuel", "Ella")
LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
        "Rodriguez", "Martinez", "Hernández", "Lopez", "Wilson", "Anderson", "Thomas",
        "Taylor", "Moore", "Jackson", "Martin", "Lee", "Nguyễn", "O'Brien", "Kowalski",
        "Müller", "Rossi", "Kim", "Patel", "Haddad", "Sato", "Ivanova", "Clark", "Lewis")
SERVICES = (("Haircut", 45, "35.00"), ("Colouring", 90, "80.00"), ("Beard trim", 30, "20.00"),
            ("Massage", 60, "70.00"), ("Facial", 45, "55.00"), ("Manicure", 30, "25.00"),
            ("Pedicure", 45, "30.00"), ("Consultation", 30, "0.00"),
            ("Physiotherapy", 60, "75.00"), ("Yoga class", 60, "15.00"))
SERVICE_POPULARITY = (30, 10, 12, 14, 8, 9, 5, 4, 5, 3)
LOCATIONS = ("Downtown", "Riverside", "North branch")
LOCATION_POPULARITY = (55, 30, 15)
TIMEZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "UTC")

# Visits per customer: (weight, low, high) — many 1-2, a long tail of regulars.
VISIT_BUCKETS = ((5, 0, 0), (30, 1, 1), (18, 2, 2), (17, 3, 5), (13, 6, 10), (9, 11, 25),
                 (6, 26, 60), (2, 61, 150))
PAST_STATUSES = (("approved", 905), ("canceled", 40), ("rejected", 10), ("no_show", 20),
                 ("pending", 15), ("waiting_payment", 10))
FUTURE_STATUSES = (("approved", 560), ("pending", 360), ("canceled", 60), ("rejected", 10),
                   ("waiting_payment", 10))

CUSTOMER_COLUMNS = ("id", "user_id", "first_name", "last_name", "phone_number", "email",
                    "birthdate", "gender", "notes", "created_by", "created_at", "tenant_id")
APPOINTMENT_COLUMNS = ("id", "location_id", "service_id", "staff_id", "customer_id", "status",
                       "starts_at", "ends_at", "busy_from", "busy_to", "weight", "payment_id",
                       "recurring_id", "payment_method", "payment_status", "paid_amount",
                       "note", "locale", "client_timezone", "created_at", "tenant_id")


@dataclass
class Generated:
    """Rows ready for loading (tuples in the *_COLUMNS order), plus what was generated."""

    customers: list[Row]
    appointments: list[Row]
    services: list[dict[str, Any]]
    locations: list[dict[str, Any]]
    staff: list[dict[str, Any]]
    options: list[dict[str, Any]]
    suppressions: list[dict[str, Any]]
    stats: dict[str, Any] = field(default_factory=dict)


def valid_prefixes() -> list[str]:
    """Area+exchange prefixes (6 digits) whose numbers libphonenumber accepts."""
    found = []
    for area in AREAS:
        for exchange in range(200, 1000):
            if exchange == 555:
                continue
            prefix = f"{area}{exchange}"
            if all(normalise_phone(f"+1{prefix}{line}") == f"+1{prefix}{line}"
                   for line in ("0000", "5309", "9999")):
                found.append(prefix)
    return found


def render_phone(digits: str, style: str) -> str:
    """A 10-digit US number written the way a Booknetic user might (all parse without a
    default region, which is how the benchmark's SegmentService is configured)."""
    a, e, line = digits[:3], digits[3:6], digits[6:]
    if style == "e164":
        return f"+1{digits}"
    if style == "noplus":
        return f"1{digits}"
    if style == "spaced":
        return f"+1 ({a}) {e}-{line}"
    if style == "dashed":
        return f"+1 {a}-{e}-{line}"
    if style == "padded":
        return f" +1 {a} {e} {line} "
    raise ValueError(style)


PHONE_STYLES = (("e164", 72), ("noplus", 8), ("spaced", 10), ("dashed", 7), ("padded", 3))


def _weighted(pairs: Sequence[tuple[T, int]]) -> tuple[list[T], list[int]]:
    values, weights = zip(*pairs, strict=True)
    cum, total = [], 0
    for w in weights:
        total += w
        cum.append(total)
    return list(values), cum


def _expand(pairs: Sequence[tuple[T, int]]) -> tuple[T, ...]:
    """Each value repeated by its weight: `table[int(random() * len(table))]` picks one."""
    return tuple(v for v, w in pairs for _ in range(w))


def generate_booknetic(n_customers: int, n_appointments: int, now: int,
                       seed: int = 20240901) -> Generated:
    """A seeded single-site Booknetic data set (tenant_id NULL everywhere).

    Customers: ~3 % bad phones (empty, NULL, garbage), ~2 % another customer's number
    written differently, the rest distinct valid US numbers in assorted formats.
    Appointments over 3 years, ~10 % in the next 90 days; a skewed number of visits per
    customer; ~5 % canceled/rejected, a little no_show; ids follow creation time.
    """
    rng = random.Random(seed)
    stats: dict[str, Any] = {}

    # -- business
    services = [{"id": i, "name": name, "category_id": 0, "price": price, "duration": minutes,
                 "color": f"#{rng.randrange(0x1000000):06x}", "is_active": 1, "is_visible": 1,
                 "tenant_id": None}
                for i, (name, minutes, price) in enumerate(SERVICES, start=1)]
    locations = [{"id": i, "name": name, "address": f"{rng.randint(1, 999)} {name} Street",
                  "phone_number": f"+1202555{i:04d}", "is_active": 1, "tenant_id": None}
                 for i, name in enumerate(LOCATIONS, start=1)]
    staff = []
    staff_at: dict[int, list[int]] = {loc["id"]: [] for loc in locations}
    for sid in range(1, 9):
        loc = locations[(sid - 1) % len(locations)]["id"]
        staff_at[loc].append(sid)
        staff.append({"id": sid, "user_id": None,
                      "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                      "email": f"staff{sid}@example.com", "phone_number": f"+1312555{sid:04d}",
                      "locations": str(loc), "is_active": 1, "profession": None,
                      "tenant_id": None})
    options = [{"option_id": i, "option_name": k, "option_value": v, "autoload": "yes"}
               for i, (k, v) in enumerate({
                   "siteurl": "http://bench.test", "home": "http://bench.test",
                   "blogname": "Bench", "timezone_string": "UTC",
                   "active_plugins": 'a:1:{i:0;s:18:"booknetic/init.php";}',
                   "bkntc_plugin_version": "4.4.1"}.items(), start=1)]

    # -- phones
    prefixes = valid_prefixes()
    stats["valid_prefixes"] = len(prefixes)
    styles, style_cum = _weighted(PHONE_STYLES)
    used: set[str] = set()

    def fresh_digits() -> str:
        while True:
            d = rng.choice(prefixes) + f"{rng.randrange(10000):04d}"
            if d not in used:
                used.add(d)
                return d

    # -- customers
    customers: list[Row] = []
    customer_digits: dict[int, str] = {}  # customer id -> digits of a valid, own number
    valid_list: list[str] = []
    kinds = {"valid": 0, "dup": 0, "empty": 0, "null": 0, "garbage": 0}
    next_id = 0
    start_dt = now - 3 * 365 * DAY
    for _ in range(n_customers):
        next_id += 1 + (rng.random() < 0.01)  # ~1 % gaps: deleted customers
        r = rng.random()
        phone: str | None
        if r < 0.01:
            phone, kind = "", "empty"
        elif r < 0.02:
            phone, kind = None, "null"
        elif r < 0.03:
            phone, kind = rng.choice(GARBAGE), "garbage"
        elif r < 0.05 and valid_list:
            d = rng.choice(valid_list)
            phone, kind = render_phone(d, rng.choice(("noplus", "spaced", "dashed"))), "dup"
        else:
            d = fresh_digits()
            valid_list.append(d)
            customer_digits[next_id] = d
            phone = render_phone(d, rng.choices(styles, cum_weights=style_cum)[0])
            kind = "valid"
        kinds[kind] += 1
        first, last = rng.choice(FIRST), rng.choice(LAST)
        created = datetime.fromtimestamp(start_dt + rng.randrange(3 * 365 * DAY), UTC)
        customers.append((
            next_id, None, first, last if rng.random() > 0.03 else "", phone,
            None if rng.random() < 0.2 else f"{first}.{last}{rng.randint(1, 999)}@example.com"
            .lower(),
            None if rng.random() < 0.6 else date(rng.randint(1950, 2005), rng.randint(1, 12),
                                                  rng.randint(1, 28)),
            rng.choice((None, "male", "female", "")), None, 1,
            created.replace(tzinfo=None), None,
        ))
    stats["phone_kinds"] = kinds

    # A sample of rendered numbers must mean what the generator thinks they mean.
    for cid in rng.sample(sorted(customer_digits), min(2000, len(customer_digits))):
        d = customer_digits[cid]
        for style in styles:
            got = normalise_phone(render_phone(d, style))
            if got != f"+1{d}":
                raise AssertionError(f"generated phone {render_phone(d, style)!r} parses as "
                                     f"{got!r}, expected +1{d}")
    for junk in GARBAGE:
        if normalise_phone(junk) is not None:
            raise AssertionError(f"garbage phone {junk!r} parses as valid")

    # -- visits per customer
    bucket_values, bucket_cum = _weighted([((lo, hi), w) for w, lo, hi in VISIT_BUCKETS])
    counts = []
    for _ in customers:
        lo, hi = rng.choices(bucket_values, cum_weights=bucket_cum)[0]
        counts.append(rng.randint(lo, hi))
    diff = n_appointments - sum(counts)
    regulars = [i for i, k in enumerate(counts) if k >= 3] or list(range(len(counts)))
    if diff > 0:  # spread the rest over regulars, proportionally to their visits
        for i in rng.choices(regulars, weights=[counts[i] + 1 for i in regulars], k=diff):
            counts[i] += 1
    while diff < 0:
        i = rng.choice(regulars)
        if counts[i] > (3 if len(regulars) < len(counts) else 0):
            counts[i] -= 1
            diff += 1
        elif all(counts[j] <= 3 for j in regulars):
            regulars = [j for j, k in enumerate(counts) if k > 0]
    stats["visits_0"] = sum(1 for k in counts if k == 0)
    stats["visits_1"] = sum(1 for k in counts if k == 1)
    stats["visits_2"] = sum(1 for k in counts if k == 2)
    stats["visits_10plus"] = sum(1 for k in counts if k >= 10)
    stats["visits_max"] = max(counts, default=0)

    # -- appointments (hot loop: weighted picks are lookups into pre-expanded tuples)
    past_pick = _expand(PAST_STATUSES)
    fut_pick = _expand(FUTURE_STATUSES)
    service_ids = [s["id"] for s in services]
    durations = {s["id"]: s["duration"] * 60 for s in services}
    prices = {s["id"]: s["price"] for s in services}
    svc_pick = _expand(list(zip(service_ids, SERVICE_POPULARITY, strict=True)))
    loc_ids = [loc["id"] for loc in locations]
    loc_pick = _expand(list(zip(loc_ids, LOCATION_POPULARITY, strict=True)))
    n_past, n_fut, n_svc, n_loc = len(past_pick), len(fut_pick), len(svc_pick), len(loc_pick)
    horizon = 3 * 365 * DAY
    first_slot = now - now % 900 + 900
    future_slots = (now + 90 * DAY - first_slot) // 900 + 1
    raw: list[tuple[int, int, int, int, str, int]] = []
    future = 0
    rnd = rng.random
    for (cid, *_rest), k in zip(customers, counts, strict=True):
        if not k:
            continue
        # Active customers still come (and have bookings ahead); the others stopped at
        # some point. Regulars are more likely to be active.
        active = rnd() < (0.25 if k <= 2 else 0.55)
        first_at = now - (30 * DAY if active else DAY) - int(rnd() * horizon)
        last_at = now if active else first_at + int((now - first_at) * rnd())
        span = last_at - first_at
        fav_service = svc_pick[int(rnd() * n_svc)]
        fav_loc = loc_pick[int(rnd() * n_loc)]
        p_future = 0.10 if k == 1 else 0.20 if active else 0.0
        for _ in range(k):
            if rnd() < p_future:  # on the 15-minute grid, in (now, now + 90 days]
                starts = first_slot + 900 * int(rnd() * future_slots)
                status = fut_pick[int(rnd() * n_fut)]
                future += 1
            else:
                starts = first_at + int(rnd() * span)
                starts -= starts % 900
                status = past_pick[int(rnd() * n_past)]
            svc = fav_service if rnd() < 0.7 else svc_pick[int(rnd() * n_svc)]
            loc = fav_loc if rnd() < 0.85 else loc_pick[int(rnd() * n_loc)]
            created = min(starts - 3600 - int(rnd() * 21 * DAY), now - 60)
            raw.append((created, cid, svc, loc, status, starts))
    # A handful of orphans: appointments of customers deleted since.
    for _ in range(max(1, len(raw) // 20000)):
        ghost = customers[-1][0] + 1000 + rng.randrange(1000)
        starts = now - rng.randrange(horizon)
        starts -= starts % 900
        raw.append((starts - DAY, ghost, service_ids[0], loc_ids[0], "approved", starts))
    raw.sort()

    appointments: list[Row] = []
    methods = ("local", "local", "local", "stripe", "paypal")
    notes = (None, None, None, None, "", "First visit", "Parking at the back")
    locales = ("en_US", "en_US", "en_GB", "es_ES")
    for appt_id, (created, cid, svc, loc, status, starts) in enumerate(raw, start=1):
        ends = starts + durations[svc]
        buffer = 600 if rnd() < 0.2 else 0
        paid = (status not in ("canceled", "rejected") and starts <= now and rnd() < 0.8)
        appointments.append((
            appt_id, loc, svc, staff_at[loc][appt_id % len(staff_at[loc])], cid, status,
            starts, ends, starts - buffer, ends + buffer, 1,
            f"{rng.getrandbits(128):032x}", None, methods[appt_id % 5],
            "paid" if paid else "pending", prices[svc] if paid else "0.00",
            notes[appt_id % 7], locales[appt_id % 4], TIMEZONES[cid % 4], created, None,
        ))
    stats["future"] = future
    stats["canceled_rejected"] = sum(1 for a in appointments if a[5] in ("canceled", "rejected"))
    stats["no_show"] = sum(1 for a in appointments if a[5] == "no_show")

    # -- suppressions: ~90 % numbers of customers, the rest numbers nobody has
    n_supp = max(1, n_customers // 100)
    suppressed = {f"+1{d}" for d in rng.sample(valid_list, min(len(valid_list),
                                                               n_supp * 9 // 10))}
    while len(suppressed) < n_supp:
        suppressed.add(f"+1{fresh_digits()}")
    reasons = (("STOP reply", "stop"), ("asked by phone", "manual"), ("complaint", "manual"))
    suppressions = []
    for phone in sorted(suppressed):
        reason, source = rng.choice(reasons)
        suppressions.append({"tenant_id": 0, "phone": phone, "reason": reason,
                             "source": source, "created_by": 1,
                             "created_at": now - rng.randrange(400 * DAY)})

    return Generated(customers, appointments, services, locations, staff, options,
                     suppressions, stats)
