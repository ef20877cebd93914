"""Timezones (DESIGN.md §11, sidecar/zones.py): the business zone's chain, the recipient zone
against an independent model (tests/zone_model.py) on real MariaDB and SQLite, and the one
way a time is written for people.

Every instant here is fixed: a time of day is asserted at a known epoch second in a known
zone, including both sides of daylight-saving changes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from sidecar.booknetic import Booknetic
from sidecar.db import make_engine
from sidecar.phone_region import RegionResolver
from sidecar.sample_data import Dataset, create_tables, load_dataset, make_dataset, set_option
from sidecar.schema import migrate, sms_tables
from sidecar.segments import SegmentQuery, SegmentService
from sidecar.zones import (
    SOURCES,
    RecipientZones,
    business_zone_from,
    format_time,
    offset_zone,
    zone_named,
)
from tests.conftest import MariaDBServer
from tests.reference_model import expected_preview
from tests.test_cli import check_lines, run_cli
from tests.zone_model import expected_business_zone, expected_own_zones, latest_appointment

NOW = 1_780_000_000  # 2026-05-28 20:26:40 UTC
PREFIX = "wp_"
DAY = 86400


# -- names and the business chain ------------------------------------------------------------


@pytest.mark.parametrize(("name", "valid"), [
    ("America/Chicago", True), ("US/Eastern", True), ("Asia/Calcutta", True), ("UTC", True),
    ("Etc/GMT-5", True), ("", False), (None, False), ("+05:00", False), ("GMT+2", False),
    ("Mars/Olympus", False), ("America", False), (" America/Chicago", False),
    ("../etc/passwd", False), ("/usr/share/zoneinfo/UTC", False), ("zone.tab", False),
    ("America//Chicago", False), ("a\x00b", False), ("x" * 5000, False),
])
def test_a_valid_zone_is_one_zoneinfo_accepts(name: str | None, valid: bool) -> None:
    assert (zone_named(name) is not None) is valid


@pytest.mark.parametrize(("raw", "name", "minutes"), [
    ("5.5", "UTC+05:30", 330), ("-3", "UTC-03:00", -180), ("5.75", "UTC+05:45", 345),
    ("-9.5", "UTC-09:30", -570), ("14", "UTC+14:00", 840), ("0", "UTC", 0),
    (" 1 ", "UTC+01:00", 60),
    ("", None, None), ("abc", None, None), ("NaN", None, None), ("15", None, None),
    ("-14.5", None, None), ("1e400", None, None), ("5,5", None, None),
])
def test_gmt_offset_is_decimal_hours(raw: str, name: str | None, minutes: int | None) -> None:
    zone = offset_zone(raw)
    if name is None:
        assert zone is None
        return
    assert zone is not None and zone.tzname(None) == name
    assert zone.utcoffset(None) == timedelta(minutes=minutes or 0)


CHAIN = [
    # (options, tenant, expected name, source, ignored count)
    ({"bkntc_t4_timezone": "America/Chicago", "timezone_string": "Europe/Berlin",
      "gmt_offset": "2"}, 4, "America/Chicago", "booknetic", 0),
    ({"bkntc_t4_timezone": "America/Chicago", "timezone_string": "Europe/Berlin"}, None,
     "Europe/Berlin", "wordpress", 0),  # no tenant: the tenant option is not read
    ({"bkntc_t4_timezone": "", "timezone_string": "Europe/Berlin"}, 4, "Europe/Berlin",
     "wordpress", 0),
    ({"bkntc_t4_timezone": "+05:00", "timezone_string": "US/Eastern"}, 4, "US/Eastern",
     "wordpress", 1),
    ({"bkntc_t4_timezone": "Mars/Olympus", "timezone_string": "", "gmt_offset": "5.5"}, 4,
     "UTC+05:30", "wordpress_offset", 1),
    ({"timezone_string": "", "gmt_offset": "-3"}, None, "UTC-03:00", "wordpress_offset", 0),
    ({"timezone_string": "UTC+5", "gmt_offset": "0"}, None, "UTC", "wordpress_offset", 1),
    ({"timezone_string": "", "gmt_offset": ""}, None, "UTC", "default", 0),
    ({"gmt_offset": "soon"}, 2, "UTC", "default", 1),
    ({}, 2, "UTC", "default", 0),
]


@pytest.mark.parametrize(("options", "tenant", "name", "source", "ignored"), CHAIN)
def test_the_business_zone_chain(options: dict[str, str], tenant: int | None, name: str,
                                 source: str, ignored: int) -> None:
    tenant_option = None if tenant is None else f"bkntc_t{tenant}_timezone"
    found = business_zone_from(options, tenant_option)
    assert (found.name, found.source, len(found.ignored)) == (name, source, ignored)
    assert (found.name, found.source) == expected_business_zone(options, tenant)
    assert found.describe() == f"{name} ({SOURCES[source]})"


def test_the_business_zone_is_read_from_the_options(sqlite_url: str, engine_for) -> None:
    engine = engine_for(sqlite_url)
    ds = make_dataset("saas", NOW, customers_per_tenant=3)
    create_tables(engine, PREFIX, "saas")
    load_dataset(engine, PREFIX, ds)
    bk = Booknetic(engine, PREFIX)
    for tenant in (None, 1, 2, 3):
        found = bk.business_zone(tenant)
        assert (found.name, found.source) == expected_business_zone(ds.options, tenant)
    assert bk.business_zone(1).describe() == ("Europe/London (Booknetic's timezone for this "
                                              "business)")
    set_option(engine, PREFIX, "bkntc_t1_timezone", "")
    set_option(engine, PREFIX, "timezone_string", "")
    set_option(engine, PREFIX, "gmt_offset", "5.5")
    found = bk.business_zone(1)  # read again, not cached: a change shows at once
    assert (found.name, found.source, found.option) == ("UTC+05:30", "wordpress_offset",
                                                        "gmt_offset")


# -- formatting -------------------------------------------------------------------------------


@pytest.mark.parametrize(("epoch", "zone", "name", "text"), [
    (NOW, ZoneInfo("America/Chicago"), "America/Chicago",
     "28 May 2026, 15:26 (America/Chicago)"),
    (NOW, UTC, "UTC", "28 May 2026, 20:26 (UTC)"),
    (NOW, timezone(timedelta(hours=5, minutes=30)), "UTC+05:30",
     "29 May 2026, 01:56 (UTC+05:30)"),
    (NOW, ZoneInfo("Asia/Kolkata"), "Asia/Kolkata", "29 May 2026, 01:56 (Asia/Kolkata)"),
    # Across the 2026 changes: New York 8 March 07:00 UTC (01:59 EST -> 03:00 EDT) and
    # 1 November 06:00 UTC (01:59 EDT -> 01:00 EST: 01:30 twice); Berlin 29 March 01:00 UTC.
    (1_772_953_140, ZoneInfo("America/New_York"), "America/New_York",
     "8 Mar 2026, 01:59 (America/New_York)"),
    (1_772_953_200, ZoneInfo("America/New_York"), "America/New_York",
     "8 Mar 2026, 03:00 (America/New_York)"),
    (1_793_511_000, ZoneInfo("America/New_York"), "America/New_York",
     "1 Nov 2026, 01:30 (America/New_York)"),
    (1_793_514_600, ZoneInfo("America/New_York"), "America/New_York",
     "1 Nov 2026, 01:30 (America/New_York)"),
    (1_774_745_940, ZoneInfo("Europe/Berlin"), "Europe/Berlin",
     "29 Mar 2026, 01:59 (Europe/Berlin)"),
    (1_774_746_000, ZoneInfo("Europe/Berlin"), "Europe/Berlin",
     "29 Mar 2026, 03:00 (Europe/Berlin)"),
    (1_798_761_599, ZoneInfo("Europe/Berlin"), "Europe/Berlin",
     "1 Jan 2027, 00:59 (Europe/Berlin)"),
])
def test_format_time(epoch: int, zone: timezone | ZoneInfo, name: str, text: str) -> None:
    assert format_time(epoch, zone, name) == text
    assert format_time(epoch, zone, name, with_date=False) == text.split(", ")[1]


def test_no_time_is_no_text() -> None:
    assert format_time(None, UTC, "UTC") == format_time(0, UTC, "UTC") == ""


def test_recipient_zones_fall_back_to_the_business_zone() -> None:
    business = business_zone_from({"timezone_string": "America/Chicago"}, None)
    zones = RecipientZones(business, {7: "Europe/Berlin", 9: "US/Eastern", 11: "Europe/Berlin"})
    assert zones.name_of(7) == "Europe/Berlin" and zones.name_of(8) == "America/Chicago"
    assert zones.name_of(None) == "America/Chicago"
    assert zones.zone_of(9) == ZoneInfo("US/Eastern") and zones.zone_of(8) is business.zone
    assert zones.customers_by_zone() == {"Europe/Berlin": [7, 11], "US/Eastern": [9]}
    assert zones.counts() == {"Europe/Berlin": 2, "US/Eastern": 1}


# -- the recipient zone against the model, on both backends ----------------------------------


def tenants(ds: Dataset) -> list[int | None]:
    """Every tenant value with data: in SaaS the NULL tenant (super admin) too."""
    return ds.tenant_ids + ([None] if ds.kind == "saas" else [])


def booked_customers(ds: Dataset, tenant: int | None) -> list[int]:
    """The tenant's own customers with an appointment in it, by id."""
    booked = {a["customer_id"] for a in ds.appointments_of(tenant)}
    return sorted(c["id"] for c in ds.customers_of(tenant) if c["id"] in booked)


def _edge_cases(ds: Dataset) -> None:
    """Appointments that decide the rule's corners, added to each tenant's first customers
    with a booking: ties, an invalid latest name over a valid older one, any status, and
    (in SaaS) a later appointment of the same customer id in another tenant."""
    far = NOW + 400 * DAY  # later than any sample appointment
    next_id = itertools.count(max(a["id"] for a in ds.appointments) + 1)
    template = ds.appointments[0]
    for tenant in tenants(ds):
        booked = booked_customers(ds, tenant)
        corners = [  # (customer, [(starts_at, status, client_timezone)], in id order)
            (booked[0], [(far, "approved", "Europe/Paris"), (far, "approved", "Asia/Tokyo")]),
            (booked[1], [(far, "approved", "Asia/Tokyo"), (far, "pending", None)]),
            (booked[2], [(far - DAY, "approved", "America/Denver"), (far, "approved", None)]),
            (booked[3], [(far - DAY, "approved", "America/Denver"), (far, "approved", "")]),
            (booked[4], [(far, "approved", "+05:00")]),
            (booked[5], [(far, "approved", "US/Pacific")]),
            (booked[6], [(far, "canceled", "Pacific/Auckland")]),
        ]
        for customer, visits in corners:
            for starts, status, zone in visits:
                row = {**template, "id": next(next_id), "customer_id": customer,
                       "status": status, "starts_at": starts, "ends_at": starts + 3600,
                       "busy_from": starts, "busy_to": starts + 3600,
                       "client_timezone": zone, "recurring_id": None}
                if "tenant_id" in template:
                    row["tenant_id"] = tenant
                ds.appointments.append(row)
    if ds.kind == "saas":  # tenant 2's customer id, booked later under tenant 3's id
        row = {**template, "id": next(next_id), "customer_id": sorted(
            c["id"] for c in ds.customers_of(2))[0], "starts_at": far + DAY,
            "client_timezone": "Africa/Lagos", "tenant_id": 3}
        ds.appointments.append(row)


@dataclass
class Loaded:
    ds: Dataset
    engine: Engine

    @property
    def bk(self) -> Booknetic:
        return Booknetic(self.engine, PREFIX)


VARIANTS = list(itertools.product(["mariadb", "sqlite"], ["single", "saas", "no_tenant_column"]))


@pytest.fixture(scope="module", params=VARIANTS, ids=[f"{b}-{k}" for b, k in VARIANTS])
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Loaded]:
    backend, kind = request.param
    server: MariaDBServer | None = None
    if backend == "mariadb":
        server = request.getfixturevalue("mariadb")
        database = server.create_database("zones")
        url = server.url(database)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('zones') / 'wp.sqlite3'}"
    engine = make_engine(url)
    ds = make_dataset(kind, NOW)
    _edge_cases(ds)
    create_tables(engine, PREFIX, kind)
    load_dataset(engine, PREFIX, ds)
    migrate(engine, PREFIX)
    yield Loaded(ds, engine)
    engine.dispose()
    if server is not None:
        server.drop_database(database)


def test_the_sample_data_has_every_kind_of_client_timezone(loaded: Loaded) -> None:
    values = {a["client_timezone"] for a in loaded.ds.appointments}
    assert {"America/New_York", "US/Eastern", "", None, "+05:00", "Mars/Olympus"} <= values


def test_each_customers_zone_is_their_latest_appointments(loaded: Loaded) -> None:
    for tenant in tenants(loaded.ds):
        zones = loaded.bk.recipient_zones(tenant)
        expected = expected_own_zones(loaded.ds, tenant)
        assert dict(zones.own) == expected, tenant
        assert zones.business.name == expected_business_zone(loaded.ds.options, tenant)[0]
        # The corners really are in the data, and decide as the rule says.
        booked = booked_customers(loaded.ds, tenant)
        assert [zones.name_of(c) for c in booked[:7]] == [
            "Asia/Tokyo", zones.business.name, zones.business.name, zones.business.name,
            zones.business.name, "US/Pacific", "Pacific/Auckland"]
        # Some customers fall back although an older appointment of theirs had a zone.
        assert any(latest_appointment(loaded.ds, tenant, c) is not None and c not in expected
                   for c in booked)
    if loaded.ds.kind == "saas":
        # Tenant 2's customer booked later under tenant 3's id: that zone is tenant 3's.
        customer = sorted(c["id"] for c in loaded.ds.customers_of(2))[0]
        assert loaded.bk.recipient_zones(2).name_of(customer) != "Africa/Lagos"
        assert loaded.bk.recipient_zones(3).name_of(customer) == "Africa/Lagos"


def test_asked_for_some_customers_only(loaded: Loaded) -> None:
    """Scoped to a few ids (in chunks), or — for more ids than scoping pays for — the whole
    tenant filtered: the same answer either way."""
    scoped, whole = loaded.bk, loaded.bk
    whole.ZONE_LOOKUP_MAX_IDS = 5  # this instance's threshold: it takes the whole-tenant path
    for tenant in tenants(loaded.ds):
        ids = [*sorted(c["id"] for c in loaded.ds.customers_of(tenant))[::3], 2**31 - 1]
        expected = expected_own_zones(loaded.ds, tenant, ids)
        assert expected and dict(scoped.recipient_zones(tenant, ids).own) == expected
        assert dict(whole.recipient_zones(tenant, ids).own) == expected
        assert scoped.recipient_zones(tenant, []).own == {} == whole.recipient_zones(
            tenant, []).own


def test_a_deduplicated_number_takes_the_lowest_ids_zone(loaded: Loaded) -> None:
    """A campaign's recipients, as its snapshot would ask: the customer kept for each number
    (the lowest id) decides the zone, not another customer with that number."""
    bk = loaded.bk
    tables = sms_tables(PREFIX)
    for tenant in tenants(loaded.ds):
        segments = SegmentService(bk, tables, regions=RegionResolver(bk, override="US"),
                                  clock=lambda: NOW)
        query = SegmentQuery("all_with_phone", tenant)
        segments.preview(query, limit=0)  # brings the phone table up to date
        with loaded.engine.connect() as conn:
            recipients = [int(r.customer_id) for r in conn.execute(
                segments.recipients_select(query, NOW, "US"))]
        model = expected_preview(loaded.ds, "all_with_phone", tenant_id=tenant, now=NOW,
                                 default_region="US")
        assert sorted(recipients) == sorted(model.customer_ids)
        zones = bk.recipient_zones(tenant, recipients)
        assert dict(zones.own) == expected_own_zones(loaded.ds, tenant, recipients)


def test_check_names_each_tenants_zone_and_its_source(sqlite_url: str, engine_for) -> None:
    engine = engine_for(sqlite_url)
    ds = make_dataset("saas", NOW, customers_per_tenant=3)
    ds.options["bkntc_t2_timezone"] = "+02:00"  # no zone: tenant 2 falls back, and says why
    create_tables(engine, PREFIX, "saas")
    load_dataset(engine, PREFIX, ds)
    detail = check_lines(run_cli(sqlite_url, "check", "--json"))["timezone"]
    assert detail["ok"]
    assert detail["detail"] == (
        "no tenant: UTC (WordPress timezone); "
        "tenant 1: Europe/London (Booknetic's timezone for this business); "
        "tenant 2: UTC (WordPress timezone); ignored bkntc_t2_timezone = '+02:00' (not a "
        "timezone name); "
        "tenant 3: Asia/Dubai (Booknetic's timezone for this business)")
