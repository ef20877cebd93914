"""The bkntc-sms command as an operator runs it: real processes, real databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from sidecar.config import Settings
from sidecar.phones import normalise_phone
from sidecar.runtime import Runtime
from sidecar.sample_data import build_booknetic, set_option
from sidecar.schema import migrate
from sidecar.segments import SegmentQuery
from tests.reference_model import SEGMENT_KEYS, expected_preview

ROOT = Path(__file__).resolve().parent.parent


def run_cli(url: str, *args: str, env: dict[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("BKNTC_SMS_")}
    full_env.update({"BKNTC_SMS_DATABASE_URL": url, **(env or {})})
    return subprocess.run([sys.executable, "-m", "sidecar", *args], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)


def check_lines(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    data = json.loads(result.stdout)
    return {c["name"]: c for c in data["checks"]}


def test_check_on_an_empty_database(mysql_url: str) -> None:
    result = run_cli(mysql_url, "check")
    assert result.returncode == 1
    assert "PROBLEM  wordpress" in result.stdout
    assert "table wp_options not found" in result.stdout


def test_check_when_the_database_is_unreachable() -> None:
    result = run_cli("mysql+pymysql://root@127.0.0.1:1/nothing", "check")
    assert result.returncode == 1
    assert "PROBLEM  database: cannot connect" in result.stdout


@pytest.mark.parametrize(
    ("twilio", "expected"),
    [
        ("absent", "not installed: install it from Booknetic"),
        ("inactive", "installed but not active: activate it"),
        ("unconfigured", "missing Auth Token"),
    ],
)
def test_check_explains_what_the_twilio_add_on_lacks(mysql_url: str, twilio: str,
                                                      expected: str, engine_for) -> None:
    build_booknetic(engine_for(mysql_url), "wp_", "single", int(time.time()), twilio=twilio,
                    customers_per_tenant=5)
    result = run_cli(mysql_url, "check", "--json")
    assert result.returncode == 1
    checks = check_lines(result)
    assert checks["booknetic"]["ok"] and checks["database"]["ok"]
    assert not checks["twilio"]["ok"] and expected in checks["twilio"]["detail"]
    assert not checks["sidecar schema"]["ok"]
    assert "bkntc-sms migrate" in checks["sidecar schema"]["detail"]
    assert not checks["bridge"]["ok"]


def test_check_on_a_healthy_saas_install(mysql_url: str, engine_for) -> None:
    engine = engine_for(mysql_url)
    build_booknetic(engine, "wp_", "saas", int(time.time()), customers_per_tenant=5)
    set_option(engine, "wp_", "bkntc_sms_bridge_secret", "x" * 40)
    assert run_cli(mysql_url, "migrate").returncode == 0
    result = run_cli(mysql_url, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PROBLEM" not in result.stdout
    assert "SaaS: 3 tenants" in result.stdout
    assert "Booknetic 5.2.2" in result.stdout


def test_migrate_then_nothing_to_do(any_url: str) -> None:
    first = run_cli(any_url, "migrate", "--json")
    assert first.returncode == 0 and json.loads(first.stdout)["applied"]
    again = run_cli(any_url, "migrate")
    assert again.returncode == 0 and again.stdout.strip() == "schema is up to date"


def test_segments_list(sqlite_url: str) -> None:
    result = run_cli(sqlite_url, "segments", "list", "--json")
    assert [s["key"] for s in json.loads(result.stdout)] == SEGMENT_KEYS


@pytest.mark.slow
def test_segments_preview_json_contract(any_url: str, engine_for) -> None:
    # The CLI is another process on the real clock, so the data is kept away from the
    # window edges instead: every appointment sits on a 900 s grid from the data's "now"
    # (the boundary customers ±1 s), and the edges are whole days from the real now. Built
    # 1000 s in the past, nothing reaches an edge until ~13 minutes after the build,
    # however the test's and the CLI's reads of the clock fall.
    now = int(time.time()) - 1000
    engine = engine_for(any_url)
    ds = build_booknetic(engine, "wp_", "saas", now)
    migrate(engine, "wp_")
    tenant = 2
    services = [s["id"] for s in ds.services_of(tenant)][:2]
    for segment in SEGMENT_KEYS:
        args = ["segments", "preview", segment, "--tenant", str(tenant), "--json",
                "--limit", "5"]
        filters: dict[str, Any] = {}
        if segment == "repeat":
            args += [f"--service={services[0]}", f"--service={services[1]}",
                     "--min-appointments", "3"]
            filters = {"service_ids": services, "min_appointments": 3}
        elif segment == "all_with_phone":
            args += ["--exclude-upcoming-days", "7"]
            filters = {"exclude_upcoming_days": 7}
        result = run_cli(any_url, *args)
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert list(data) == ["segment", "count", "sample", "skipped_invalid_phone",
                              "skipped_duplicate_phone", "skipped_suppressed",
                              "skipped_upcoming"]
        expected = expected_preview(ds, segment, tenant_id=tenant, now=int(time.time()),
                                    **filters)
        assert data["segment"] == segment
        assert data["count"] == expected.count, segment
        assert (data["skipped_invalid_phone"], data["skipped_duplicate_phone"],
                data["skipped_suppressed"], data["skipped_upcoming"]) == (
            expected.skipped_invalid_phone, expected.skipped_duplicate_phone, 0,
            expected.skipped_upcoming)
        assert (expected.skipped_upcoming > 0) == (segment == "all_with_phone")
        assert [s["customer_id"] for s in data["sample"]] == sorted(
            expected.recipients.values())[:5]
        for row in data["sample"]:
            assert set(row) == {"customer_id", "first_name", "last_name", "phone"}
            assert row["phone"] == normalise_phone(row["phone"]) and row["phone"][0] == "+"


def test_preview_flags_and_refusals(sqlite_url: str, engine_for) -> None:
    engine = engine_for(sqlite_url)
    build_booknetic(engine, "wp_", "single", int(time.time()) - 1000, customers_per_tenant=20)
    text_out = run_cli(sqlite_url, "segments", "preview", "all_with_phone",
                       "--status", "approved", "--location", "1", "--include-suppressed")
    assert text_out.returncode == 0, text_out.stderr
    assert "recipients:" in text_out.stdout and "skipped:" in text_out.stdout
    unknown = run_cli(sqlite_url, "segments", "preview", "lapsed")
    assert unknown.returncode == 2 and "unknown segment 'lapsed'" in unknown.stderr
    tenant = run_cli(sqlite_url, "segments", "preview", "repeat", "--tenant", "4")
    assert tenant.returncode == 1 and "single-site" in tenant.stderr
    bad_env = run_cli(sqlite_url, "segments", "preview", "repeat",
                      env={"BKNTC_SMS_BATCH_SIZE": "lots"})
    assert bad_env.returncode == 2 and "BKNTC_SMS_BATCH_SIZE" in bad_env.stderr


def test_errors_exit_by_their_family(sqlite_url: str, engine_for) -> None:
    """The exit code comes from the error families' table (sidecar/errors.py): bad usage 2
    naming the flag, not found 1, a database that cannot be reached 1 — each one line on
    stderr, never a traceback."""
    down = run_cli("mysql+pymysql://root@127.0.0.1:1/nothing", "campaigns", "list")
    assert down.returncode == 1, down
    assert "Traceback" not in down.stderr
    assert down.stderr.startswith("bkntc-sms: The database cannot be reached right now")
    engine = engine_for(sqlite_url)
    build_booknetic(engine, "wp_", "single", int(time.time()) - 1000, customers_per_tenant=5)
    migrate(engine, "wp_")
    limit = run_cli(sqlite_url, "segments", "preview", "repeat", "--limit", "5000")
    assert limit.returncode == 2, limit
    assert limit.stderr == "bkntc-sms: --limit: must be between 0 and 1000\n"
    missing = run_cli(sqlite_url, "suppressions", "remove", "+12025550143")
    assert missing.returncode == 1, missing
    assert missing.stderr == "bkntc-sms: +12025550143 is not on the suppression list\n"


def test_preview_with_a_body_and_a_campaign_with_the_new_filter(sqlite_url: str,
                                                               engine_for) -> None:
    """`segments preview --body` adds the render report (the service's, the same in
    --json), a bad body exits 2 naming --body; `campaigns create --exclude-upcoming-days`
    stores the filter."""
    engine = engine_for(sqlite_url)
    build_booknetic(engine, "wp_", "single", int(time.time()) - 1000, customers_per_tenant=30)
    migrate(engine, "wp_")
    body = "Hi {customer_first_name}, it\u2019s been a while!"
    args = ["segments", "preview", "repeat", "--exclude-upcoming-days", "30", "--body", body]
    result = run_cli(sqlite_url, *args, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    runtime = Runtime.build(Settings.from_env({"BKNTC_SMS_DATABASE_URL": sqlite_url}),
                            engine=engine)
    query = SegmentQuery("repeat", exclude_upcoming_days=30)
    assert data["render"] == runtime.segments.preview(query, body=body).render
    assert data["render"]["messages"] == data["count"] > 0
    text_out = run_cli(sqlite_url, *args)
    assert f"messages:   {data['count']}, {data['render']['segments_total']} SMS segments" \
        in text_out.stdout
    assert "'\u2019' in" in text_out.stdout and "(from the message)" in text_out.stdout
    bad = run_cli(sqlite_url, "segments", "preview", "repeat", "--body", "x" * 1601)
    assert bad.returncode == 2 and bad.stderr.startswith("bkntc-sms: --body: the message is")
    created = run_cli(sqlite_url, "campaigns", "create", "--name", "Not booked",
                      "--segment", "inactive_90", "--body", "We miss you",
                      "--exclude-upcoming-days", "14", "--json")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["filters"]["exclude_upcoming_days"] == 14
    refused = run_cli(sqlite_url, "campaigns", "create", "--name", "x", "--segment", "repeat",
                      "--body", "y", "--exclude-upcoming-days", "400")
    assert refused.returncode == 2 and "exclude_upcoming_days" in refused.stderr


def test_show_says_how_many_wait_to_retry_and_when(sqlite_url: str, engine_for) -> None:
    engine = engine_for(sqlite_url)
    build_booknetic(engine, "wp_", "single", int(time.time()) - 1000, customers_per_tenant=20)
    runtime = Runtime.build(Settings.from_env({"BKNTC_SMS_DATABASE_URL": sqlite_url}),
                            engine=engine)
    campaigns = runtime.campaigns
    cid = campaigns.create(None, {"name": "Retry", "segment": "all_with_phone",
                                  "body": "Hi"})["id"]
    campaigns.send(None, cid)
    later = int(time.time()) + 7200  # far from the CLI's "now", whenever it runs
    r = runtime.tables.recipients
    with engine.begin() as conn:  # four transient failures, as the engine records them
        ids = conn.execute(select(r.c.id).where(r.c.campaign_id == cid).order_by(r.c.id)
                           .limit(4)).scalars().all()
        conn.execute(update(r).where(r.c.id.in_(ids)).values(attempts=1,
                                                             next_attempt_at=later))
    shown = run_cli(sqlite_url, "campaigns", "show", str(cid))
    assert shown.returncode == 0, shown.stderr
    # In the business timezone with its name, as the pages show it.
    when = runtime.booknetic.business_zone(None).format(later)
    assert f"4 waiting to retry at {when}" in shown.stdout
    data = json.loads(run_cli(sqlite_url, "campaigns", "show", str(cid), "--json").stdout)
    assert (data["retry_waiting"], data["next_retry_at"]) == (4, later)
