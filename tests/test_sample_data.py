"""The Booknetic fixture and the reference model check themselves (SQLite only, fast)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.dialects.mysql.mariadb import MariaDBDialect
from sqlalchemy.schema import CreateIndex, CreateTable

from sidecar.phones import normalise_phone
from sidecar.sample_data import (
    KINDS,
    TWILIO_PLUGIN,
    Dataset,
    booknetic_metadata,
    create_tables,
    delete_option,
    load_dataset,
    make_dataset,
    php_serialize_list,
    set_option,
)
from sidecar.sample_data.dataset import DAY
from sidecar.sample_data.wp_options import TWILIO_VERSION_OPTION
from tests.reference_model import SEGMENT_KEYS, expected_preview, segment_members

NOW = 1_750_000_000  # a fixed UTC second, so the data are the same on every run


@pytest.fixture(scope="module")
def datasets() -> dict[str, Dataset]:
    return {kind: make_dataset(kind, NOW) for kind in KINDS}


def _engine(tmp_path: Path, name: str) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{tmp_path / name}.sqlite3")


@pytest.mark.parametrize("kind", KINDS)
def test_tables_create_and_load(tmp_path: Path, kind: str, datasets: dict[str, Dataset]) -> None:
    ds = datasets[kind]
    engine = _engine(tmp_path, kind)
    create_tables(engine, "wp_", kind)
    load_dataset(engine, "wp_", ds)
    with engine.connect() as conn:
        def count(table: str) -> int:
            return conn.execute(sa.text(f"SELECT COUNT(*) FROM {table}")).scalar_one()

        assert count("wp_bkntc_customers") == len(ds.customers)
        assert count("wp_bkntc_appointments") == len(ds.appointments)
        assert count("wp_options") == len(ds.options)
        columns = {c["name"] for c in sa.inspect(conn).get_columns("wp_bkntc_appointments")}
        assert ("tenant_id" in columns) == (kind != "no_tenant_column")
        if kind == "saas":
            assert count("wp_bkntc_tenants") == 3
            null_tenant = conn.execute(sa.text(
                "SELECT COUNT(*) FROM wp_bkntc_customers WHERE tenant_id IS NULL")).scalar_one()
            assert null_tenant == 10
        # values survive the round trip (the decimal, the date-time, the 4-byte UTF-8 name)
        first = conn.execute(sa.text(
            "SELECT first_name FROM wp_bkntc_customers WHERE first_name LIKE '%🌸%'")).scalars()
        assert list(first)
    engine.dispose()


def test_options_helpers_and_twilio_modes(tmp_path: Path) -> None:
    engine = _engine(tmp_path, "opts")
    ds = make_dataset("single", NOW, customers_per_tenant=5, twilio="unconfigured")
    create_tables(engine, "bk_", "single")
    load_dataset(engine, "bk_", ds)
    assert ds.options["bkntc_sms_auth_token"] == ""
    set_option(engine, "bk_", "bkntc_sms_auth_token", "f" * 32)
    set_option(engine, "bk_", "brand_new", "x")
    delete_option(engine, "bk_", "bkntc_sender_phone_number")
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text("SELECT option_name, option_value FROM bk_options")).all())
    assert rows["bkntc_sms_auth_token"] == "f" * 32
    assert rows["brand_new"] == "x"
    assert "bkntc_sender_phone_number" not in rows

    configured = make_dataset("single", NOW, customers_per_tenant=1).options
    assert TWILIO_PLUGIN in configured["active_plugins"]
    assert configured["bkntc_sms_account_sid"].startswith("AC")
    assert len(configured["bkntc_sms_account_sid"]) == 34
    inactive = make_dataset("single", NOW, customers_per_tenant=1, twilio="inactive").options
    assert TWILIO_PLUGIN not in inactive["active_plugins"]
    assert TWILIO_VERSION_OPTION in inactive and inactive["bkntc_sms_auth_token"]
    absent = make_dataset("single", NOW, customers_per_tenant=1, twilio="absent").options
    assert not any("sms" in k or "twilio" in k for k in absent)
    saas = make_dataset("saas", NOW, customers_per_tenant=1).options
    assert "booknetic-saas/init.php" in saas["active_plugins"]
    assert saas["bkntc_plugin_version"] == "5.2.2"


def test_php_serialize_list() -> None:
    assert php_serialize_list(["booknetic/init.php"]) == 'a:1:{i:0;s:18:"booknetic/init.php";}'
    assert php_serialize_list([]) == "a:0:{}"
    assert php_serialize_list(["a", "zoë"]) == 'a:2:{i:0;s:1:"a";i:1;s:4:"zoë";}'


def test_mysql_ddl_compiles() -> None:
    md = booknetic_metadata("wp_", saas=True)
    for dialect in (mysql.dialect(), MariaDBDialect()):
        tables = [str(CreateTable(t).compile(dialect=dialect)) for t in md.sorted_tables]
        assert all("COLLATE utf8mb4_unicode_520_ci" in t for t in tables)
    ddl = "\n".join(
        str(CreateTable(t).compile(dialect=mysql.dialect())) for t in md.sorted_tables
    )
    assert "option_value LONGTEXT" in ddl
    assert "`when` VARCHAR(255)" in ddl
    indexed = sorted(
        f"{ix.table.name}.{','.join(c.name for c in ix.columns)}"
        for t in md.sorted_tables for ix in t.indexes
    )
    for ix in (ix for t in md.sorted_tables for ix in t.indexes):
        str(CreateIndex(ix).compile(dialect=mysql.dialect()))
    assert indexed == sorted([
        "wp_bkntc_appointments.customer_id", "wp_bkntc_appointments.location_id",
        "wp_bkntc_appointments.service_id", "wp_bkntc_appointments.staff_id",
        "wp_bkntc_appointment_prices.appointment_id",
        *(f"wp_bkntc_{t}.tenant_id" for t in
          ("appointments", "customers", "locations", "services", "staff", "workflow_logs")),
    ])


def test_dataset_is_deterministic() -> None:
    assert make_dataset("saas", NOW) == make_dataset("saas", NOW)
    assert make_dataset("single", NOW, seed=8).customers != make_dataset("single", NOW).customers


@pytest.mark.parametrize("kind", ["single", "saas"])
def test_edge_cases_are_present(kind: str, datasets: dict[str, Dataset]) -> None:
    ds = datasets[kind]
    starts = {a["starts_at"] - NOW for a in ds.appointments}
    for offset in (0, 1, -7 * DAY, -7 * DAY - 1, 7 * DAY, 7 * DAY + 1, -30 * DAY,
                   -30 * DAY - 1, 30 * DAY, 30 * DAY + 1, -90 * DAY, -90 * DAY - 1,
                   -90 * DAY + 1, -180 * DAY, -180 * DAY + 1):
        assert offset in starts, offset
    assert all(-400 * DAY <= s <= 60 * DAY for s in starts)
    statuses = {a["status"] for a in ds.appointments}
    assert {"pending", "approved", "canceled", "rejected", "no_show",
            "waiting_payment"} <= statuses
    assert any(a["weight"] > 1 for a in ds.appointments)
    assert max(Counter(a["recurring_id"] for a in ds.appointments
                       if a["recurring_id"]).values()) >= 3
    assert max(Counter(a["payment_id"] for a in ds.appointments).values()) >= 2
    assert any("," in s["locations"] for s in ds.staff)
    customer_ids = {c["id"] for c in ds.customers}
    assert any(a["customer_id"] not in customer_ids for a in ds.appointments)  # orphan
    assert max(customer_ids) > len(customer_ids)  # id gaps

    for tenant in ds.tenant_ids:
        customers = ds.customers_of(tenant)
        phones = [c["phone_number"] for c in customers]
        assert None in phones and "" in phones and "n/a" in phones and "123" in phones
        assert any(p and p.startswith("+1") and len(p) == 12 for p in phones)  # E.164
        assert any(p and p[0] == "1" and p.isdigit() for p in phones)  # E.164 without +
        assert any(p and "(" in p and p.startswith("+1 ") for p in phones)
        national = [p for p in phones if p and p.startswith("(")]
        assert national and all(normalise_phone(p) is None for p in national)
        assert all(normalise_phone(p, "US") for p in national)
        assert "+15005550009" in phones
        written = defaultdict(set)
        for p in phones:
            if normalise_phone(p):
                written[normalise_phone(p)].add(p)
        assert any(len(forms) >= 3 for forms in written.values())  # one number, 3 spellings
        assert any(c["last_name"] == "" and c["first_name"] for c in customers)
        assert any(c["last_name"] == "" and c["first_name"] == "" for c in customers)
        active: Counter[int] = Counter()
        canceled: Counter[int] = Counter()
        for a in ds.appointments_of(tenant):
            bucket = canceled if a["status"] in ("canceled", "rejected") else active
            bucket[a["customer_id"]] += 1
        ids = {c["id"] for c in customers}
        assert {1, 2, 3, 5} <= set(active[i] for i in ids)
        assert any(i not in active and i not in canceled for i in ids)  # never booked
        assert any(i not in active and i in canceled for i in ids)  # only canceled
        assert len(ds.services_of(tenant)) == 3 and len(ds.locations_of(tenant)) == 2

    if kind == "saas":
        assert ds.tenant_ids == [1, 2, 3]
        by_tenant = [{normalise_phone(c["phone_number"]) for c in ds.customers_of(t)} - {None}
                     for t in (1, 2, 3, None)]
        assert by_tenant[0] & by_tenant[1] & by_tenant[3]  # one number in several tenants
        assert {a["tenant_id"] for a in ds.appointments} == {1, 2, 3, None}
        assert len(ds.tenants) == 3 and len(ds.plans) == 2


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("segment", SEGMENT_KEYS)
def test_reference_invariant(kind: str, segment: str, datasets: dict[str, Dataset]) -> None:
    ds = datasets[kind]
    tenants = ds.tenant_ids + ([None] if kind == "saas" else [])
    some_phone = next(c["phone_number"] for c in ds.customers if normalise_phone(c["phone_number"]))
    variants: list[dict[str, object]] = [
        {},
        {"default_region": "US"},
        {"statuses": ["canceled", "no_show"]},
        {"min_appointments": 2, "suppressed": {normalise_phone(some_phone)}},
    ]
    for tenant in tenants:
        services = [s["id"] for s in ds.services_of(tenant)][:1]
        locations = [x["id"] for x in ds.locations_of(tenant)][:1]
        for extra in [*variants, {"service_ids": services, "location_ids": locations}]:
            e = expected_preview(ds, segment, tenant_id=tenant, now=NOW, **extra)  # type: ignore[arg-type]
            total = (e.count + e.skipped_invalid_phone + e.skipped_duplicate_phone
                     + e.skipped_suppressed)
            assert total == len(e.members)
            assert set(e.recipients.values()) <= e.members
            customers = {c["id"] for c in ds.customers_of(tenant)}
            assert e.members <= customers


@pytest.mark.parametrize("kind", ["single", "saas"])
@pytest.mark.parametrize("segment", SEGMENT_KEYS)
def test_reference_is_discriminating(kind: str, segment: str,
                                     datasets: dict[str, Dataset]) -> None:
    ds = datasets[kind]
    for tenant in ds.tenant_ids:
        size = len(ds.customers_of(tenant))
        e = expected_preview(ds, segment, tenant_id=tenant, now=NOW)
        assert e.count > 0, (tenant, segment)
        assert e.skipped_invalid_phone > 0 or segment in ("canceled_recent", "inactive_180")
        if segment == "all_with_phone":
            assert len(e.members) == size and e.count < size
        else:
            assert 0 < len(e.members) < size, (tenant, segment)
    if kind == "saas":  # super-admin data would show if it leaked into a tenant
        assert segment_members(ds, segment, tenant_id=None, now=NOW)


# Off-by-one mutants of §3's conditions: the data must tell each of them from the real thing.
_MUTANTS: dict[str, Callable[[list[int], int], bool]] = {
    "booked_last_7 <": lambda s, n: any(n - 7 * DAY < x <= n for x in s),
    "booked_last_7 now<": lambda s, n: any(n - 7 * DAY <= x < n for x in s),
    "booked_last_30 <": lambda s, n: any(n - 30 * DAY < x <= n for x in s),
    "booked_last_90 <": lambda s, n: any(n - 90 * DAY < x <= n for x in s),
    "upcoming_next_7 <=now": lambda s, n: any(n <= x <= n + 7 * DAY for x in s),
    "upcoming_next_7 <": lambda s, n: any(n < x < n + 7 * DAY for x in s),
    "upcoming_next_30 <": lambda s, n: any(n < x < n + 30 * DAY for x in s),
    "inactive_90 >=": lambda s, n: any(x <= n for x in s) and not any(x >= n - 90 * DAY for x in s),
    "inactive_180 >=": lambda s, n: any(x <= n for x in s)
    and not any(x >= n - 180 * DAY for x in s),
    "canceled_recent >": lambda s, n: any(x > n - 30 * DAY for x in s),
}


@pytest.mark.parametrize("mutant", list(_MUTANTS))
@pytest.mark.parametrize("kind", ["single", "saas"])
def test_boundaries_catch_off_by_one(mutant: str, kind: str,
                                     datasets: dict[str, Dataset]) -> None:
    ds = datasets[kind]
    segment = mutant.split()[0]
    wrong = _MUTANTS[mutant]
    for tenant in ds.tenant_ids:
        right = segment_members(ds, segment, tenant_id=tenant, now=NOW)
        starts: dict[int, list[int]] = defaultdict(list)
        for a in ds.appointments_of(tenant):
            if (a["status"] in ("canceled", "rejected")) == (segment == "canceled_recent"):
                starts[a["customer_id"]].append(a["starts_at"])
        mutated = {c["id"] for c in ds.customers_of(tenant) if wrong(starts[c["id"]], NOW)}
        assert mutated != {c["id"] for c in right}, (mutant, tenant)
