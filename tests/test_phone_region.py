"""The default region for numbers written without a country code (sidecar/phone_region.py).

It comes from Booknetic's own setting (per tenant in SaaS), the environment only overrides
it, and the phones table keeps one parse per region: two processes configured differently
— the service and an operator's CLI run, say — each see their own region's answer and never
rewrite each other's rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from sidecar.booknetic import Booknetic
from sidecar.config import Settings
from sidecar.demo import start_demo
from sidecar.phone_region import RegionResolver
from sidecar.phones import normalise_phone
from sidecar.runtime import Runtime
from sidecar.sample_data import Dataset, build_booknetic, set_option
from sidecar.schema import sms_tables
from sidecar.segments import SegmentQuery
from sidecar.segments.phone_upkeep import keep_phones_fresh
from tests.reference_model import expected_preview
from tests.test_cli import check_lines, run_cli

START = 1_780_000_000
PREFIX = "wp_"
SEGMENTS = ("all_with_phone", "booked_last_90", "inactive_90")


def runtime_for(url: str, *, country: str | None = None) -> Runtime:
    """A runtime of its own (own engine and services), as a separate process would have;
    every one reads the same fixed clock (segment boundaries sit exactly on START)."""
    env = {"BKNTC_SMS_DATABASE_URL": url}
    if country:
        env["BKNTC_SMS_DEFAULT_COUNTRY"] = country
    return Runtime.build(Settings.from_env(env), clock=lambda: START)


def counts(runtime: Runtime, tenant: int | None, segment: str) -> tuple[int, int, int]:
    p = runtime.segments.preview(SegmentQuery(segment, tenant), limit=5)
    return p.count, p.skipped_invalid_phone, p.skipped_duplicate_phone


def expected(ds: Dataset, tenant: int | None, segment: str,
             region: str | None) -> tuple[int, int, int]:
    e = expected_preview(ds, segment, tenant_id=tenant, now=START, default_region=region)
    return e.count, e.skipped_invalid_phone, e.skipped_duplicate_phone


def phone_rows(engine: Engine, region: str) -> set[tuple[Any, ...]]:
    p = sms_tables(PREFIX).phones
    with engine.connect() as conn:
        return {tuple(r) for r in conn.execute(
            select(p.c.customer_id, p.c.tenant_id, p.c.raw_phone, p.c.e164, p.c.checked_at)
            .where(p.c.region == region))}


@pytest.fixture
def closing() -> Iterator[list[Runtime]]:
    made: list[Runtime] = []
    yield made
    for runtime in made:
        runtime.close()


@pytest.mark.parametrize("service_region_from", ["booknetic", "environment"])
def test_processes_with_different_regions_never_flip_each_others_phones(
        any_url: str, engine_for, closing: list[Runtime], service_region_from: str) -> None:
    """The demo's bug: a CLI preview without the service's region re-parsed every phone,
    and the running service's preview dropped from 96 to 88 and stayed there."""
    engine = engine_for(any_url)
    from_booknetic = service_region_from == "booknetic"
    ds = build_booknetic(engine, PREFIX, "single", START,
                         phone_countries={None: "us"} if from_booknetic else None)
    service = runtime_for(any_url, country=None if from_booknetic else "US")
    closing.append(service)
    want = {seg: expected(ds, None, seg, "US") for seg in SEGMENTS}
    # With Britain as the default, the salon's national numbers are invalid.
    want_gb = {seg: expected(ds, None, seg, "GB") for seg in SEGMENTS}
    assert all(want[seg] != want_gb[seg] for seg in SEGMENTS)  # the test can tell
    assert service.regions.region(None) == "US"

    assert {seg: counts(service, None, seg) for seg in SEGMENTS} == want
    # An operator's CLI run configured for Britain, while the service is running.
    cli = run_cli(any_url, "segments", "preview", "all_with_phone", "--json",
                  env={"BKNTC_SMS_DEFAULT_COUNTRY": "GB"})
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["count"] == want_gb["all_with_phone"][0]
    # The service trusts its recent phone check (30 s) and still answers for the US.
    assert {seg: counts(service, None, seg) for seg in SEGMENTS} == want

    # Two live processes alternating, each running its phone upkeep before previewing.
    other = runtime_for(any_url, country="GB")
    closing.append(other)
    ours = phone_rows(engine, "US")
    assert len(ours) == len(ds.customers)
    for _ in range(2):
        keep_phones_fresh(other.segments, max_age=0)
        assert {seg: counts(other, None, seg) for seg in SEGMENTS} == want_gb
        keep_phones_fresh(service.segments, max_age=0)
        assert {seg: counts(service, None, seg) for seg in SEGMENTS} == want
        assert phone_rows(engine, "US") == ours  # not one row rewritten by the other
    assert len(phone_rows(engine, "GB")) == len(ds.customers)
    # A campaign snapshot reads the same region as the preview.
    campaign = service.campaigns.create(None, {"name": "US", "segment": "all_with_phone",
                                               "body": "Hi", "filters": {}})
    assert service.campaigns.send(None, campaign["id"])["total"] == want["all_with_phone"][0]


SAAS_COUNTRIES: dict[int | None, str] = {None: "us", 1: "de", 2: ""}
# tenant 1: its own option; 2: its option is empty (never picked) -> the site's;
# 3: no option of its own -> the site's; no tenant (super admin): the site's.
SAAS_REGIONS = {1: ("DE", "bkntc_t1_default_phone_country_code"),
                2: ("US", "bkntc_default_phone_country_code"),
                3: ("US", "bkntc_default_phone_country_code"),
                None: ("US", "bkntc_default_phone_country_code")}


@pytest.mark.parametrize("kind", ["single", "saas"])
def test_booknetic_option_decides_the_region(any_url: str, engine_for,
                                             closing: list[Runtime], kind: str) -> None:
    engine = engine_for(any_url)
    countries = SAAS_COUNTRIES if kind == "saas" else {None: "de"}
    ds = build_booknetic(engine, PREFIX, kind, START, phone_countries=countries)
    regions = SAAS_REGIONS if kind == "saas" else {
        None: ("DE", "bkntc_default_phone_country_code")}
    runtime = runtime_for(any_url)
    closing.append(runtime)
    for tenant, (region, option) in regions.items():
        choice = runtime.regions.choice(tenant)
        assert (choice.region, choice.source) == (region, f"Booknetic option {option}")
        for seg in SEGMENTS:
            assert counts(runtime, tenant, seg) == expected(ds, tenant, seg, region), (
                tenant, seg)
    # The environment overrides Booknetic for every tenant.
    overridden = runtime_for(any_url, country="gb")
    closing.append(overridden)
    for tenant in regions:
        choice = overridden.regions.choice(tenant)
        assert (choice.region, choice.source) == (
            "GB", "environment BKNTC_SMS_DEFAULT_COUNTRY")
        assert counts(overridden, tenant, "all_with_phone") == expected(
            ds, tenant, "all_with_phone", "GB")


def test_odd_option_values(sqlite_url: str, engine_for) -> None:
    engine = engine_for(sqlite_url)
    build_booknetic(engine, PREFIX, "saas", START, customers_per_tenant=3)
    resolver = RegionResolver(Booknetic(engine, PREFIX), override=None)
    assert resolver.choice(1).region is None  # nothing set anywhere
    assert resolver.choice(1).source == "none set: numbers need their country code"
    set_option(engine, PREFIX, "bkntc_default_phone_country_code", " gb ")
    set_option(engine, PREFIX, "bkntc_t1_default_phone_country_code", "zz")
    set_option(engine, PREFIX, "bkntc_t2_default_phone_country_code", "FR")
    fresh = RegionResolver(Booknetic(engine, PREFIX), override=None)
    one = fresh.choice(1)
    assert (one.region, one.source) == ("GB", "Booknetic option bkntc_default_phone_country_code")
    assert one.ignored == ("bkntc_t1_default_phone_country_code = 'zz' (not a country code)",)
    assert "ignored bkntc_t1_default_phone_country_code" in one.describe()
    assert fresh.choice(2).region == "FR"
    # A cached answer is kept for a minute, so a preview does not read options each time.
    set_option(engine, PREFIX, "bkntc_t2_default_phone_country_code", "de")
    assert fresh.choice(2).region == "FR"
    assert RegionResolver(Booknetic(engine, PREFIX), override=None).choice(2).region == "DE"


def test_suppressions_and_one_off_sms_use_the_tenants_region(
        mysql_url: str, engine_for, closing: list[Runtime]) -> None:
    engine = engine_for(mysql_url)
    ds = build_booknetic(engine, PREFIX, "saas", START, phone_countries=SAAS_COUNTRIES)
    runtime = runtime_for(mysql_url)
    closing.append(runtime)
    national = "(415) 555-0188"
    as_of = {1: "+494155550188", 3: "+14155550188"}  # tenant 1 is German, 3 American
    rows = runtime.tables.recipients
    for tenant, phone in as_of.items():
        region = SAAS_REGIONS[tenant][0]
        assert runtime.suppressions.add(tenant, national, "asked")["phone"] == phone
        assert runtime.suppressions.add_many(tenant, "(415) 555-0199").added == 1
        listed = {r["phone"] for r in runtime.suppressions.list(tenant)[0]}
        assert listed == {phone, phone[:-2] + "99"}
        sent = runtime.oneoff.send_manual(tenant, "Hello", numbers="(212) 555-0142")
        with engine.connect() as conn:
            got = conn.execute(select(rows.c.phone).where(
                rows.c.campaign_id == sent.campaign_id)).scalar_one()
        assert got == phone[:-10] + "2125550142"
        # A customer whose number Booknetic stores without a country code.
        raw, customer_id = next(
            (c["phone_number"], c["id"]) for c in ds.customers_of(tenant)
            if (c["phone_number"] or "").startswith("(")
            and normalise_phone(c["phone_number"], region))
        chosen = runtime.oneoff.send_manual(tenant, "Hi", customer_ids=[customer_id])
        with engine.connect() as conn:
            got = conn.execute(select(rows.c.phone).where(
                rows.c.campaign_id == chosen.campaign_id)).scalar_one()
        assert got == normalise_phone(raw, region) and got.startswith(phone[:-10])


def test_the_demo_reads_its_region_from_booknetic(tmp_path: Path) -> None:
    """The demo's salon is American by Booknetic's setting, not by an environment variable,
    so an operator's CLI run on the demo database agrees with the running demo."""
    demo = start_demo(tmp_path / "demo", fake_faults=False)
    try:
        choice = demo.runtime.regions.choice(None)
        assert (choice.region, choice.source) == (
            "US", "Booknetic option bkntc_default_phone_country_code")
        running = demo.runtime.segments.preview(SegmentQuery("all_with_phone")).count
        cli = run_cli(demo.database.url, "segments", "preview", "all_with_phone", "--json")
        assert cli.returncode == 0, cli.stderr
        assert json.loads(cli.stdout)["count"] == running
        assert demo.runtime.segments.preview(SegmentQuery("all_with_phone")).count == running
        as_us = runtime_for(demo.database.url, country="US")
        as_gb = runtime_for(demo.database.url, country="GB")  # national numbers invalid
        try:
            assert as_us.segments.preview(SegmentQuery("all_with_phone")).count == running
            assert as_gb.segments.preview(SegmentQuery("all_with_phone")).count < running
        finally:
            as_us.close()
            as_gb.close()
    finally:
        demo.stop()


def test_check_shows_each_tenants_region_and_where_it_came_from(sqlite_url: str,
                                                                engine_for) -> None:
    engine = engine_for(sqlite_url)
    build_booknetic(engine, PREFIX, "saas", START, customers_per_tenant=3,
                    phone_countries=SAAS_COUNTRIES)
    detail = check_lines(run_cli(sqlite_url, "check", "--json"))["phone region"]
    assert detail["ok"]
    assert detail["detail"] == "; ".join(
        f"{'no tenant' if t is None else f'tenant {t}'}: {region} (Booknetic option {option})"
        for t, (region, option) in sorted(SAAS_REGIONS.items(), key=lambda i: i[0] or 0))
    overridden = check_lines(run_cli(sqlite_url, "check", "--json",
                                     env={"BKNTC_SMS_DEFAULT_COUNTRY": "gb"}))
    assert overridden["phone region"]["detail"].startswith(
        "no tenant: GB (environment BKNTC_SMS_DEFAULT_COUNTRY); tenant 1: GB (environment")


def test_check_says_how_to_set_a_missing_region(sqlite_url: str, engine_for) -> None:
    engine = engine_for(sqlite_url)
    build_booknetic(engine, PREFIX, "single", START, customers_per_tenant=3)
    text_out = run_cli(sqlite_url, "check").stdout
    assert ("phone region: none (none set: numbers need their country code) — set "
            "Booknetic → Settings → Booking panel steps → Information → Default phone "
            "country code, or BKNTC_SMS_DEFAULT_COUNTRY") in text_out
