"""Segments against a real MariaDB and SQLite, checked by an independent Python model.

For every segment, every tenant of each fixture (single-site, SaaS, no tenant column) and
several filter combinations, the product's SQL must return exactly the recipients that
`tests/reference_model.py` computes in plain Python over the same rows — the same phones,
the same chosen customer per phone, and the same skipped counts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, event, update

from sidecar.booknetic import Booknetic, UnknownTenant
from sidecar.db import make_engine
from sidecar.phone_region import RegionResolver
from sidecar.phones import normalise_phone
from sidecar.sample_data import Dataset, create_tables, load_dataset, make_dataset
from sidecar.sample_data.scenarios import SCENARIO_KEYS
from sidecar.schema import migrate, sms_tables
from sidecar.segments import DAY, SEGMENTS, SegmentError, SegmentQuery, SegmentService
from sidecar.segments.phone_upkeep import UPKEEP_SECONDS, keep_phones_fresh, phones_note
from tests.clock import FrozenClock
from tests.conftest import MariaDBServer
from tests.reference_model import SEGMENT_KEYS, expected_preview

NOW = 1_780_000_000  # a fixed clock: boundary rows sit exactly on the window edges
PREFIX = "wp_"


@dataclass
class Loaded:
    backend: str
    ds: Dataset
    engine: Engine
    suppressed: dict[int | None, set[str]]

    def service(self, region: str | None = None,
                clock: Callable[[], float] = lambda: NOW) -> SegmentService:
        """A service whose default region is `region` (the environment's override; the
        data sets set no Booknetic option, so None means no region)."""
        bk = Booknetic(self.engine, PREFIX)
        return SegmentService(bk, sms_tables(PREFIX),
                              regions=RegionResolver(bk, override=region), clock=clock)


def _suppress_some(engine: Engine, ds: Dataset) -> dict[int | None, set[str]]:
    """Suppress a few valid phones per tenant (and one of them in another tenant too)."""
    tables = sms_tables(PREFIX)
    chosen: dict[int | None, set[str]] = {}
    rows = []
    for tenant in ds.tenant_ids:
        phones = sorted({p for c in ds.customers_of(tenant)
                         if (p := normalise_phone(c["phone_number"]))})
        chosen[tenant] = set(phones[::9])
        rows += [{"tenant_id": tenant or 0, "phone": p, "created_at": NOW}
                 for p in chosen[tenant]]
    with engine.begin() as conn:
        conn.execute(tables.suppressions.insert(), rows)
    return chosen


ALL_VARIANTS = list(itertools.product(["mariadb", "sqlite"],
                                      ["single", "saas", "no_tenant_column"]))
SAAS_VARIANTS = [v for v in ALL_VARIANTS if v[1] == "saas"]


def _variant_id(variant: tuple[str, str]) -> str:
    return f"{variant[0]}-{variant[1]}"


@pytest.fixture(scope="module", params=ALL_VARIANTS, ids=_variant_id)
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Loaded]:
    backend, kind = request.param
    server: MariaDBServer | None = None
    if backend == "mariadb":
        server = request.getfixturevalue("mariadb")
        database = server.create_database("seg")
        url = server.url(database)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('seg') / 'wp.sqlite3'}"
    engine = make_engine(url)
    ds = make_dataset(kind, NOW)
    create_tables(engine, PREFIX, kind)
    load_dataset(engine, PREFIX, ds)
    migrate(engine, PREFIX)
    yield Loaded(backend, ds, engine, _suppress_some(engine, ds))
    engine.dispose()
    if server is not None:
        server.drop_database(database)


def _filter_cases(ds: Dataset, tenant: int | None) -> list[dict[str, Any]]:
    services = [s["id"] for s in ds.services_of(tenant)]
    locations = [loc["id"] for loc in ds.locations_of(tenant)]
    return [
        {},
        {"service_ids": services[:1]},
        {"location_ids": locations[-1:]},
        {"service_ids": services[:2], "location_ids": locations[:1]},
        {"statuses": ["no_show"]},
        {"statuses": ["approved", "pending"]},
        {"min_appointments": 2},
        {"min_appointments": 3, "service_ids": services[1:2]},
        {"exclude_suppressed": False},
        # exclude_upcoming_days looks at every active appointment, whatever the filters:
        # the boundary customers sit at now + 1 s, now + 7 days and now + 7 days + 1 s.
        {"exclude_upcoming_days": 7},
        {"exclude_upcoming_days": 30, "service_ids": services[:1]},
        {"exclude_upcoming_days": 1, "statuses": ["canceled"], "exclude_suppressed": False},
        {"exclude_upcoming_days": 0},
    ]


def _actual(loaded: Loaded, query: SegmentQuery, region: str | None) -> dict[str, Any]:
    service = loaded.service(region)
    preview = service.preview(query, limit=1000)
    with loaded.engine.connect() as conn:
        recipients = {r.phone: int(r.customer_id)
                      for r in conn.execute(service.recipients_select(query, NOW, region))}
    return {"preview": preview, "recipients": recipients}


@pytest.mark.parametrize("segment", SEGMENT_KEYS)
def test_segment_matches_reference_model(loaded: Loaded, segment: str) -> None:
    assert set(SEGMENT_KEYS) == set(SEGMENTS)
    for tenant in loaded.ds.tenant_ids:
        for filters in _filter_cases(loaded.ds, tenant):
            query = SegmentQuery.from_filters(segment, filters, tenant)
            expected = expected_preview(
                loaded.ds, segment, tenant_id=tenant, now=NOW,
                suppressed=loaded.suppressed[tenant], **filters)
            got = _actual(loaded, query, None)
            where = f"{segment} tenant={tenant} filters={filters}"
            assert got["recipients"] == expected.recipients, where
            preview = got["preview"]
            assert (preview.count, preview.skipped_invalid_phone,
                    preview.skipped_duplicate_phone, preview.skipped_suppressed,
                    preview.skipped_upcoming) == (
                expected.count, expected.skipped_invalid_phone,
                expected.skipped_duplicate_phone, expected.skipped_suppressed,
                expected.skipped_upcoming), where
            # The sample is the recipients with the lowest customer ids, with their names.
            sample_ids = [row["customer_id"] for row in preview.sample]
            assert sample_ids == sorted(expected.recipients.values())[:1000], where
            by_id = {c["id"]: c for c in loaded.ds.customers}
            for row in preview.sample:
                assert row["first_name"] == (by_id[row["customer_id"]]["first_name"] or "")
                assert row["phone"] == normalise_phone(by_id[row["customer_id"]]
                                                       ["phone_number"])


def test_upcoming_exclusion_comes_before_one_recipient_per_number(loaded: Loaded) -> None:
    """The lowest id of a shared number books for the day after tomorrow: with
    exclude_upcoming_days the number goes to the next customer who shares it (the rule
    applies before one-recipient-per-number), and without it nothing changes."""
    tenant = loaded.ds.tenant_ids[0]
    scenario = loaded.ds.customers_of(tenant)[:len(SCENARIO_KEYS)]
    lowest = scenario[SCENARIO_KEYS.index("dup_old_low_id")]
    runner_up = scenario[SCENARIO_KEYS.index("dup_recent")]
    phone = normalise_phone(lowest["phone_number"])
    assert phone and normalise_phone(runner_up["phone_number"]) == phone
    template = next(a for a in loaded.ds.appointments if a["customer_id"] == lowest["id"])
    booking = {**template, "id": max(a["id"] for a in loaded.ds.appointments) + 1,
               "starts_at": NOW + 2 * DAY, "ends_at": NOW + 2 * DAY + 3600,
               "busy_from": NOW + 2 * DAY, "busy_to": NOW + 2 * DAY + 3600,
               "status": "approved"}
    appointments = Booknetic(loaded.engine, PREFIX).appointments
    with loaded.engine.begin() as conn:  # the customer books (the test plays Booknetic)
        conn.execute(appointments.insert().values(**booking))
    booked = dataclasses.replace(loaded.ds, appointments=[*loaded.ds.appointments, booking])
    try:
        for segment, days in (("all_with_phone", 7), ("all_with_phone", 2), ("repeat", 30)):
            filters = {"exclude_upcoming_days": days, "exclude_suppressed": False}
            query = SegmentQuery.from_filters(segment, filters, tenant)
            got = _actual(loaded, query, None)
            expected = expected_preview(booked, segment, tenant_id=tenant, now=NOW, **filters)
            assert got["recipients"] == expected.recipients, (segment, days)
            assert got["preview"].skipped_upcoming == expected.skipped_upcoming
            if segment == "all_with_phone":
                assert got["recipients"][phone] == runner_up["id"]
        without = _actual(loaded, SegmentQuery("all_with_phone", tenant,
                                               exclude_suppressed=False), None)
        assert without["recipients"][phone] == lowest["id"]
        assert without["preview"].skipped_upcoming == 0
        # A window that ends a day before the booking: not excluded.
        one_day = _actual(loaded, SegmentQuery("all_with_phone", tenant,
                                               exclude_suppressed=False,
                                               exclude_upcoming_days=1), None)
        assert one_day["recipients"][phone] == lowest["id"]
    finally:
        with loaded.engine.begin() as conn:
            conn.execute(appointments.delete().where(appointments.c.id == booking["id"]))


def test_upcoming_exclusion_reads_active_appointments_only(loaded: Loaded) -> None:
    """Canceled and rejected bookings ahead do not exclude; pending, waiting_payment and a
    booking exactly N days ahead do; one a second later does not."""
    tenant = loaded.ds.tenant_ids[0]
    scenario = dict(zip(SCENARIO_KEYS, loaded.ds.customers_of(tenant), strict=False))
    query = SegmentQuery("all_with_phone", tenant, exclude_suppressed=False,
                         exclude_upcoming_days=7)
    got = set(_actual(loaded, query, None)["recipients"].values())
    for kept in ("canceled_only", "future_cancel_old_active", "u7_out", "at_now", "ancient"):
        assert scenario[kept]["id"] in got, kept
    for dropped in ("just_future", "u7_in", "waiting_payment", "five_recurring"):
        assert scenario[dropped]["id"] not in got, dropped


def test_default_region_reparses_national_numbers(loaded: Loaded) -> None:
    tenant = loaded.ds.tenant_ids[-1]
    query = SegmentQuery("all_with_phone", tenant)
    without = _actual(loaded, query, None)["preview"]
    with_us = _actual(loaded, query, "US")["preview"]
    expected = expected_preview(loaded.ds, "all_with_phone", tenant_id=tenant, now=NOW,
                                default_region="US", suppressed=loaded.suppressed[tenant])
    assert with_us.count == expected.count
    assert with_us.skipped_invalid_phone < without.skipped_invalid_phone
    # Back to no region: each region reads its own parse results.
    assert _actual(loaded, query, None)["preview"].count == without.count


def test_tenants_never_see_each_other(loaded: Loaded) -> None:
    by_id = {c["id"]: c for c in loaded.ds.customers}
    for tenant in loaded.ds.tenant_ids:
        query = SegmentQuery("all_with_phone", tenant, exclude_suppressed=False)
        got = _actual(loaded, query, None)["recipients"]
        assert got, tenant
        assert {by_id[cid].get("tenant_id") for cid in got.values()} == {tenant}


@pytest.mark.parametrize("loaded", SAAS_VARIANTS, ids=_variant_id, indirect=True)
def test_saas_rows_without_tenant_do_not_leak(loaded: Loaded) -> None:
    orphans = {c["id"] for c in loaded.ds.customers if c["tenant_id"] is None}
    assert orphans
    for tenant in loaded.ds.tenant_ids:
        for segment in SEGMENT_KEYS:
            got = _actual(loaded, SegmentQuery(segment, tenant), None)["recipients"]
            assert not orphans & set(got.values()), (tenant, segment)


def test_unknown_tenant_is_refused(loaded: Loaded) -> None:
    service = loaded.service()
    with pytest.raises(UnknownTenant):
        service.preview(SegmentQuery("all_with_phone", 999))


def test_phone_refresh_is_incremental(loaded: Loaded) -> None:
    service = loaded.service()
    tenant = loaded.ds.tenant_ids[0]
    service.refresh_phones(tenant, None)
    assert service.refresh_phones(tenant, None) == 0  # nothing changed, nothing parsed
    customers = service.bk.customers
    victim = next(c for c in loaded.ds.customers_of(tenant)
                  if normalise_phone(c["phone_number"]))
    try:
        with loaded.engine.begin() as conn:  # Booknetic edits a phone (the test plays Booknetic)
            conn.execute(update(customers).where(customers.c.id == victim["id"])
                         .values(phone_number="+1 617 555 0100"))
        assert service.refresh_phones(tenant, None) == 1
        got = _actual(loaded, SegmentQuery("all_with_phone", tenant, exclude_suppressed=False),
                      None)["recipients"]
        assert got["+16175550100"] == victim["id"]
    finally:
        with loaded.engine.begin() as conn:
            conn.execute(update(customers).where(customers.c.id == victim["id"])
                         .values(phone_number=victim["phone_number"]))
        assert service.refresh_phones(tenant, None) == 1


def test_preview_reads_phones_as_checked_and_the_upkeep_job_brings_edits_in(
        loaded: Loaded) -> None:
    """A preview never runs the phone check (it reads the phones as the last check left
    them, and says when that was); the worker's upkeep job checks once the interval has
    passed, after which the preview reflects the edit."""
    clock = FrozenClock(NOW)
    service = loaded.service(clock=clock)
    tenant = loaded.ds.tenant_ids[0]
    customers = service.bk.customers
    victim = next(c for c in loaded.ds.customers_of(tenant)
                  if normalise_phone(c["phone_number"]))
    keep_phones_fresh(service, max_age=0)  # every tenant's phones parsed and stamped
    for segment in ("all_with_phone", "repeat"):
        query = SegmentQuery(segment, tenant, exclude_suppressed=False)
        service.refresh_phones(tenant, None)
        checked = service.phone_table.checked_at(tenant, None)
        assert checked == int(clock())
        before = service.preview(query, limit=1000)
        assert before.phones_checked_at == checked
        try:
            with loaded.engine.begin() as conn:  # Booknetic erases the phone
                conn.execute(update(customers).where(customers.c.id == victim["id"])
                             .values(phone_number=""))
            clock.advance(3600)  # however old the check: the preview does not run it
            with statements(loaded.engine) as seen:
                stale = service.preview(query, limit=1000)
            assert stale == before, segment
            assert stale.phones_checked_at == checked
            assert len(seen) == 2, seen  # the check's stamp, then the preview statement
            assert not any(_is_phone_check(sql) for sql in seen), seen
            assert "as checked against Booknetic at" in phones_note(
                stale.phones_checked_at, int(clock()))

            clock.advance(UPKEEP_SECONDS - 1)
            assert keep_phones_fresh(service, max_age=3600 + UPKEEP_SECONDS) == 0  # ours: not due
            assert service.phone_table.checked_at(tenant, None) == checked
            assert keep_phones_fresh(service) == 1  # due: the edit comes in
            assert service.phone_table.checked_at(tenant, None) == int(clock())
            after = service.preview(query, limit=1000)
            assert phones_note(after.phones_checked_at, int(clock())) == ""
            edited = dataclasses.replace(loaded.ds, customers=[
                {**c, "phone_number": ""} if c["id"] == victim["id"] else c
                for c in loaded.ds.customers])
            expected = expected_preview(edited, segment, tenant_id=tenant, now=NOW,
                                        exclude_suppressed=False)
            assert (after.count, after.skipped_invalid_phone, after.skipped_duplicate_phone) \
                == (expected.count, expected.skipped_invalid_phone,
                    expected.skipped_duplicate_phone), segment
            assert victim["id"] not in {r["customer_id"] for r in after.sample}
        finally:
            with loaded.engine.begin() as conn:
                conn.execute(update(customers).where(customers.c.id == victim["id"])
                             .values(phone_number=victim["phone_number"]))
        service.refresh_phones(tenant, None)


def test_upkeep_job_checks_every_tenant_once_per_interval(loaded: Loaded) -> None:
    """The worker's job checks each tenant whose last check (by any process) is at least
    UPKEEP_SECONDS old, and leaves the others alone."""
    clock = FrozenClock(NOW + 10 * DAY)
    service = loaded.service(clock=clock)
    tenants = loaded.ds.tenant_ids
    keep_phones_fresh(service, max_age=0)
    stamps = {t: service.phone_table.checked_at(t, None) for t in tenants}
    assert set(stamps.values()) == {int(clock())}
    clock.advance(UPKEEP_SECONDS - 1)
    with statements(loaded.engine) as seen:
        keep_phones_fresh(service)
    assert not any(_is_phone_check(sql) for sql in seen), seen
    clock.advance(1)
    keep_phones_fresh(service)
    assert {t: service.phone_table.checked_at(t, None) for t in tenants} == \
        dict.fromkeys(tenants, int(clock()))


def test_preview_checks_only_a_tenant_never_checked(loaded: Loaded) -> None:
    """With no check ever made for the tenant and region there is nothing to read: the
    first preview checks (and stamps); `refresh=False` reads even then."""
    clock = FrozenClock(NOW + 20 * DAY)
    service = loaded.service(region="GB", clock=clock)  # a region nobody checked yet
    tenant = loaded.ds.tenant_ids[0]
    query = SegmentQuery("all_with_phone", tenant, exclude_suppressed=False)
    assert service.phone_table.checked_at(tenant, "GB") is None
    empty = service.preview(query, refresh=False)
    assert (empty.count, empty.phones_checked_at) == (0, None)
    assert "not been checked" in phones_note(None, int(clock()))
    with statements(loaded.engine) as seen:
        first = service.preview(query)
    assert any(_is_phone_check(sql) for sql in seen)
    assert first.phones_checked_at == int(clock())
    assert first.count == expected_preview(loaded.ds, "all_with_phone", tenant_id=tenant,
                                           now=NOW, exclude_suppressed=False,
                                           default_region="GB").count


def _is_phone_check(sql: str) -> bool:
    """The phone check's aggregate: our phones outer-joined to Booknetic's customers."""
    return "bkntc_sms_phones LEFT OUTER JOIN" in sql


@contextlib.contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements `engine` runs inside the block."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_phone_check_removes_customers_that_are_gone(loaded: Loaded) -> None:
    """A customer Booknetic deletes (or, in SaaS, files under another tenant) loses its
    phone row, so it can no longer be anyone's lowest id for a phone."""
    service = loaded.service()
    tenant = loaded.ds.tenant_ids[0]
    customers, phones = service.bk.customers, service.tables.phones
    query = SegmentQuery("all_with_phone", tenant, exclude_suppressed=False)
    service.refresh_phones(tenant, None)
    baseline = service.preview(query, refresh=False)
    row = {"first_name": "Gone", "last_name": "Soon", "email": "gone@example.test",
           "phone_number": "+1 617 555 0199"}
    if "tenant_id" in customers.c:
        row["tenant_id"] = tenant
    with loaded.engine.begin() as conn:
        new_id = conn.execute(customers.insert().values(**row)).inserted_primary_key[0]
    try:
        assert service.refresh_phones(tenant, None) == 1
        assert service.preview(query, refresh=False).count == baseline.count + 1
        if len(loaded.ds.tenant_ids) > 1:
            other = loaded.ds.tenant_ids[1]
            service.refresh_phones(other, None)
            with loaded.engine.begin() as conn:  # moved to another tenant
                conn.execute(update(customers).where(customers.c.id == new_id)
                             .values(tenant_id=other))
            assert service.refresh_phones(tenant, None) == 1
            assert service.preview(query, refresh=False).count == baseline.count
            assert service.refresh_phones(other, None) == 1
            with loaded.engine.connect() as conn:
                assert conn.execute(phones.select().where(phones.c.customer_id == new_id)
                                    ).one().tenant_id == other
    finally:
        with loaded.engine.begin() as conn:
            conn.execute(customers.delete().where(customers.c.id == new_id))
    for t in loaded.ds.tenant_ids:
        service.refresh_phones(t, None)
    with loaded.engine.connect() as conn:
        assert conn.execute(phones.select().where(phones.c.customer_id == new_id)).first() \
            is None
    assert service.preview(query, refresh=False) == baseline


@pytest.mark.parametrize(
    ("segment", "filters", "field"),
    [
        ("nope", {}, "segment"),
        ("repeat", {"service_ids": ["x"]}, "service_ids"),
        ("repeat", {"location_ids": [0]}, "location_ids"),
        ("repeat", {"statuses": "approved"}, "statuses"),
        ("repeat", {"min_appointments": -1}, "min_appointments"),
        ("repeat", {"min_appointments": "two"}, "min_appointments"),
        ("repeat", {"exclude_suppressed": "yes"}, "exclude_suppressed"),
        ("repeat", {"exclude_upcoming_days": -1}, "exclude_upcoming_days"),
        ("repeat", {"exclude_upcoming_days": 366}, "exclude_upcoming_days"),
        ("repeat", {"exclude_upcoming_days": "soon"}, "exclude_upcoming_days"),
        ("repeat", {"exclude_upcoming_days": 1.5}, "exclude_upcoming_days"),
        ("repeat", {"exclude_upcoming_days": True}, "exclude_upcoming_days"),
    ],
)
def test_bad_filters_name_the_field(segment: str, filters: dict[str, Any], field: str) -> None:
    with pytest.raises(SegmentError) as info:
        SegmentQuery.from_filters(segment, filters, None)
    assert field in info.value.errors
