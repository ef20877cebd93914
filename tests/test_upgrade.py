"""Upgrading a 0.1.0 install with real data, on MariaDB and SQLite (tests/upgrade_support.py
builds it): every row survives and reads back through the signed API, a campaign paused
before the upgrade resumes and finishes against the fake Twilio, migrating twice or from
three processes at once is harmless, the newest revision goes down and up again, and a
database newer than the code stops every entry point with both revisions named.

A later revision extends this module: its rows go into upgrade_support.fill_0_1_0 (or are
written after the step that creates their table) and its checks next to the ones below.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text

from sidecar.config import Settings
from sidecar.migrations import (
    MigrationError,
    SchemaTooNew,
    down_one,
    head,
    migrate,
    revisions,
    status,
)
from sidecar.migrations.schema_0_1_0 import ddl_0_1_0
from sidecar.providers.fake_twilio import FakeTwilio
from sidecar.runtime import Runtime
from sidecar.sample_data import Dataset, build_booknetic
from sidecar.web import create_app
from tests.clock import START, FrozenClock
from tests.upgrade_support import (
    FIXTURE,
    PREFIX,
    Legacy,
    columns,
    create_0_1_0_schema,
    dump,
    fill_0_1_0,
    row_count,
)
from tests.web_support import (
    SECRET,
    TENANT1,
    TENANT2,
    FlaskTransport,
    SignedClient,
    settle,
    wait_for,
)

ROOT = Path(__file__).resolve().parent.parent
STAMPED = "recognised an install made before migrations were recorded: stamped at revision 0001"
APPLIED_0002 = "applied 0002: phones keyed by (tenant, region, customer)"
# Every revision after the baseline, as `migrate` reports applying them.
AFTER_BASELINE = [r for r in revisions() if r.id != "0001"]
APPLIED = [f"applied {r.id}: {r.description}" for r in AFTER_BASELINE]
APPLIED_0004 = "applied 0004: suppression sources manual, keyword, provider; opt-outs per day"
FLEET_TABLES = ("campaign_leases", "processes", "rate_limits")


@dataclass
class Old:
    url: str
    engine: Engine
    ds: Dataset
    legacy: Legacy


@pytest.fixture
def old(any_url: str, engine_for) -> Old:
    """A database as 0.1.0 left it: Booknetic's SaaS sample data and our 0.1.0 rows."""
    engine = engine_for(any_url)
    ds = build_booknetic(engine, PREFIX, "saas", START, customers_per_tenant=30)
    create_0_1_0_schema(engine)
    return Old(any_url, engine, ds, fill_0_1_0(engine, ds, START))


def run_cli(url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BKNTC_SMS_")}
    env["BKNTC_SMS_DATABASE_URL"] = url
    return subprocess.run([sys.executable, "-m", "sidecar", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_the_frozen_baseline_is_the_released_0_1_0_schema() -> None:
    """SQLite's 0.1.0 tables come from the definitions that compile to 0.1.0's own file."""
    assert ddl_0_1_0(PREFIX) == FIXTURE.read_text()


def test_one_linear_history_and_frozen_revisions() -> None:
    found = revisions()
    # Numbered in order (a branch may skip numbers that parallel branches hold until they
    # are merged and renumbered).
    ids = [r.id for r in found]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) and ids[0] == "0001"
    assert all(len(i) == 4 and i.isdigit() for i in ids)
    assert head() == found[-1].id and all(r.description for r in found)
    versions = ROOT / "sidecar" / "migrations" / "versions"
    for path in versions.glob("[0-9]*.py"):
        source = path.read_text()
        # A revision is frozen: the live head (sidecar.schema) moves with every release.
        assert "sidecar.schema " not in source and "from sidecar.schema" not in source, path
        assert "wp_" not in source, f"{path.name} hard-codes the table prefix: use prefixed()"


# -- the upgrade itself ----------------------------------------------------------------------


def test_upgrade_from_0_1_0_keeps_every_row_and_finishes_the_paused_campaign(old: Old) -> None:
    engine, legacy = old.engine, old.legacy
    before = dump(engine)
    found = status(engine, PREFIX)
    assert (found.state, found.current, [r.id for r in found.pending]) == (
        "0.1.0", "0001", [r.id for r in AFTER_BASELINE])

    assert migrate(engine, PREFIX) == [STAMPED, *APPLIED]  # built-ins were all there
    assert APPLIED[0] == APPLIED_0002
    assert dump(engine) == before
    _delivery_columns_after_0003(engine, legacy)
    assert [row_count(engine, t) for t in FLEET_TABLES] == [0, 0, 0]  # 0008: new, empty
    _outcome_columns_after_0007(engine)
    assert status(engine, PREFIX).state == "current"
    assert columns(engine, "phones")[:3] == ["tenant_id", "region", "customer_id"]
    assert row_count(engine, "phones") == 0  # derived data: the next phone check refills it
    assert migrate(engine, PREFIX) == []  # twice: nothing to do
    assert dump(engine) == before

    fake = FakeTwilio(old.ds.options["bkntc_sms_account_sid"],
                      old.ds.options["bkntc_sms_auth_token"]).start()
    runtime = Runtime.build(Settings.from_env({
        "BKNTC_SMS_DATABASE_URL": old.url, "BKNTC_SMS_TWILIO_BASE_URL": fake.base_url,
        "BKNTC_SMS_BRIDGE_SECRET": SECRET, "BKNTC_SMS_RETRY_DELAYS": "2,4"}),
        engine=engine, clock=FrozenClock(START))
    try:
        api = SignedClient(FlaskTransport(create_app(runtime)), clock=runtime.clock)
        _everything_reads_back(api, engine, legacy)
        _paused_campaign_resumes_and_finishes(api, runtime, fake, legacy)
        _fleet_tables_in_use(runtime, legacy)
        _reports_of_0_1_0_campaigns(api, legacy)
    finally:
        settle()
        runtime.outbox.close()
        fake.stop()


def _fleet_tables_in_use(runtime: Runtime, legacy: Legacy) -> None:
    """Revision 0008: 0.1.0's campaigns were sent under campaign leases, by a registered
    process (DESIGN.md §13), the leases given back when their runs ended."""
    with runtime.engine.connect() as conn:
        leases = conn.execute(text(f"SELECT campaign_id, holder, expires_at FROM "
                                   f"{PREFIX}bkntc_sms_campaign_leases")).all()
        processes = conn.execute(text(f"SELECT holder FROM {PREFIX}bkntc_sms_processes")
                                 ).scalars().all()
    assert {legacy.campaigns[r] for r in ("queued", "sending")} <= {r[0] for r in leases}
    assert {r[1] for r in leases} == {runtime.outbox.worker} and set(processes) == {
        runtime.outbox.worker}
    assert all(r[2] == 0 for r in leases)


def _delivery_columns_after_0003(engine: Engine, legacy: Legacy) -> None:
    """Revision 0003: no delivery status is known for 0.1.0's messages, but each sent one
    is scheduled for the poller (10 minutes after it was sent); no counter moved."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            f"SELECT status, provider_message_id, sent_at, delivery_status, delivered_at, "
            f"delivery_error_code, delivery_error, delivery_checks, delivery_check_at "
            f"FROM {PREFIX}bkntc_sms_recipients")).all()
        counters = conn.execute(text(
            f"SELECT SUM(delivered), SUM(undelivered) FROM {PREFIX}bkntc_sms_campaigns "
            f"UNION ALL SELECT SUM(delivered), SUM(undelivered) "
            f"FROM {PREFIX}bkntc_sms_daily_stats")).all()
        early = conn.execute(text(f"SELECT COUNT(*) FROM {PREFIX}bkntc_sms_early_statuses"))
        assert early.scalar_one() == 0
    sent = [r for r in rows if r.status == "sent"]
    assert len(sent) == 8 and all(r.provider_message_id for r in sent)
    assert {(r.delivery_status, r.delivered_at, r.delivery_error_code, r.delivery_error,
             r.delivery_checks) for r in rows} == {(None, None, None, "", 0)}
    assert all(r.delivery_check_at == r.sent_at + 600 for r in sent)
    assert all(r.delivery_check_at is None for r in rows if r.status != "sent")
    assert [tuple(c) for c in counters] == [(0, 0), (0, 0)]


def _outcome_columns_after_0007(engine: Engine) -> None:
    """Revision 0007: 0.1.0's campaigns have no holdout, no window copied yet and no
    attributed bookings; nothing is attributed until a refresh runs."""
    with engine.connect() as conn:
        campaigns = conn.execute(text(
            f"SELECT holdout_percent, attribution_days, holdout, bookings, booked_recipients, "
            f"revenue_cents, holdout_booked, opted_out, attributed_at "
            f"FROM {PREFIX}bkntc_sms_campaigns")).all()
        rows = conn.execute(text(
            f"SELECT booked_appointment_id, booked_at, revenue_cents "
            f"FROM {PREFIX}bkntc_sms_recipients")).all()
        attributed = conn.execute(text(f"SELECT COUNT(*) FROM {PREFIX}bkntc_sms_attributions"))
        assert attributed.scalar_one() == 0
    assert campaigns and {tuple(c) for c in campaigns} == {(0, None, 0, 0, 0, 0, 0, 0, None)}
    assert rows and {tuple(r) for r in rows} == {(None, None, None)}


def _reports_of_0_1_0_campaigns(api: SignedClient, legacy: Legacy) -> None:
    """Campaigns sent by 0.1.0 get a report; their window is the tenant's current setting
    (tenant 1 changed it to 14 days above), as no window was copied when they were sent."""
    for role, cid in legacy.campaigns.items():
        if role == "one-off":
            continue
        who = TENANT2 if role == "tenant 2" else TENANT1
        reply = api.as_(who).get(f"/api/v1/campaigns/{cid}/report")
        assert reply.status == 200, (role, reply)
        report = reply.json()
        shown = api.as_(who).get(f"/api/v1/campaigns/{cid}").json()
        assert (report["recipients"], report["sent"], report["failed"]) == (
            shown["total"], shown["sent"], shown["failed"]), role
        assert report["attribution_days"] == (7 if who is TENANT2 else 14), role
        assert report["holdout"] == {"recipients": 0, "booked_recipients": 0}


def _everything_reads_back(api: SignedClient, engine: Engine, legacy: Legacy) -> None:
    ids = legacy.campaigns
    with engine.connect() as conn:
        rows = {r.id: r._asdict() for r in conn.execute(
            text(f"SELECT * FROM {PREFIX}bkntc_sms_campaigns"))}
        logs = Counter(r[0] for r in conn.execute(
            text(f"SELECT campaign_id FROM {PREFIX}bkntc_sms_recipients")))
    listed = api.get("/api/v1/campaigns?per_page=100").json()
    tenant1 = {cid for role, cid in ids.items() if role not in ("tenant 2", "one-off")}
    assert {c["id"] for c in listed["campaigns"]} == tenant1
    for role, cid in ids.items():
        who = TENANT2 if role == "tenant 2" else TENANT1
        reply = api.as_(who).get(f"/api/v1/campaigns/{cid}")
        assert reply.status == 200, (role, reply)
        shown = reply.json()
        for key in ("name", "body", "status", "status_reason", "kind", "total", "sent",
                    "failed", "pending", "created_at", "queued_at", "finished_at"):
            assert shown[key] == rows[cid][key], (role, key)
        page = api.as_(who).get(f"/api/v1/campaigns/{cid}/logs?per_page=500").json()
        assert page["total"] == logs[cid] == len(page["logs"]), role
        assert Counter(r["status"] for r in page["logs"]) == Counter(
            {s: rows[cid][s] for s in ("sent", "failed", "pending") if rows[cid][s]}), role
    assert api.get(f"/api/v1/campaigns/{ids['tenant 2']}").status == 404  # still isolated
    templates = api.get("/api/v1/templates").json()
    assert sorted(t["id"] for t in templates["templates"]) == legacy.tenant1_templates
    suppressions = api.get("/api/v1/suppressions").json()["suppressions"]
    assert sorted(s["phone"] for s in suppressions) == legacy.tenant1_suppressions
    # 0004: the automatic 21610 opt-out is a provider row, by hand and pasted are manual.
    assert {s["phone"]: s["source"] for s in suppressions} == dict(zip(
        legacy.tenant1_suppressions, ["manual", "manual", "provider"], strict=True))
    assert [s["phone"] for s in api.get("/api/v1/suppressions?source=provider").json()
            ["suppressions"]] == [legacy.tenant1_suppressions[2]]
    dashboard = api.get("/api/v1/dashboard").json()
    chart = {d["day"]: (d["sent"], d["failed"]) for d in dashboard["chart"]}
    assert sorted(v for v in chart.values() if v != (0, 0)) == [(1, 1), (6, 4)]
    assert dashboard["opt_outs"] == 1  # that opt-out, two days before the upgrade
    assert api.get("/api/v1/status").json()["halt"]["reason"] == legacy.halt_reason
    # Revision 0005's settings: every tenant starts with the defaults, and a change is kept
    # for its tenant only.
    defaults = api.get("/api/v1/settings").json()
    assert defaults == api.as_(TENANT2).get("/api/v1/settings").json()
    assert defaults["quiet_hours"] == {"start": "09:00", "end": "20:00"}
    assert api.put("/api/v1/settings", {"attribution_days": 14}).json()[
        "attribution_days"] == 14
    assert api.as_(TENANT2).get("/api/v1/settings").json() == defaults
    # The rebuilt phones table is filled by the first phone check: segments work at once.
    preview = api.post("/api/v1/segments/preview", {"segment": "all_with_phone"}).json()
    assert preview["count"] > 20
    assert row_count(engine, "phones") > 0


def _paused_campaign_resumes_and_finishes(api: SignedClient, runtime: Runtime,
                                          fake: FakeTwilio, legacy: Legacy) -> None:
    paused = legacy.campaigns["paused"]
    # Revision 0006: rows snapshotted by 0.1.0 have no zone of their own (NULL = the
    # business zone), campaigns no schedule and nothing skipped.
    with runtime.engine.connect() as conn:
        assert conn.execute(text(f"SELECT COUNT(*) FROM {PREFIX}bkntc_sms_recipients "
                                 "WHERE timezone IS NOT NULL")).scalar() == 0
        assert {tuple(r) for r in conn.execute(text(
            f"SELECT send_at, latest_start, skipped FROM {PREFIX}bkntc_sms_campaigns"))} == {
            (None, None, 0)}
    # The default quiet hours hold them: START is 20:26 UTC, after the 09:00-20:00 window
    # in the business zone.
    resumed = api.post(f"/api/v1/campaigns/{paused}/resume")
    assert resumed.status == 200, resumed
    runtime.outbox.wait_idle()
    runtime.outbox.run_queue()
    held = runtime.campaigns.progress(1, paused)
    assert held["status"] == "sending" and held["sent"] == resumed.json()["sent"], held
    business = runtime.booknetic.business_zone(1).name  # tenant 1's own zone
    assert held["status_reason"] == f"{held['pending']} held until 09:00 ({business})"
    assert not fake.received()
    # Turning quiet hours off releases them at the next run.
    assert api.put("/api/v1/settings", {"quiet_hours": None}).status == 200
    runtime.outbox.kick()
    wait_for(lambda: runtime.campaigns.progress(1, paused)["status"] == "completed",
             timeout=60, what="the resumed campaign to finish")
    settle()
    # The queued and the mid-send campaigns of 0.1.0 finish too (the crashed claim is
    # reconciled with Twilio first, the transient failure retried).
    for role in ("queued", "sending"):
        cid = legacy.campaigns[role]

        def done(cid: int = cid) -> bool:
            runtime.outbox.run_queue()
            return runtime.campaigns.progress(1, cid)["status"] == "completed"

        wait_for(done, timeout=60, what=f"the {role} campaign to finish")
    settle()
    received = Counter(m.to for m in fake.received())
    for role in ("paused", "queued", "sending"):
        cid = legacy.campaigns[role]
        progress = runtime.campaigns.progress(1, cid)
        assert progress["pending"] == 0 and progress["sent"] + progress["failed"] == \
            progress["total"], (role, progress)
        assert all(received[phone] == 1 for phone in legacy.pending_phones[role]), role
    assert runtime.campaigns.progress(1, paused)["sent"] == 6
    # Nothing that 0.1.0 had already sent went out again.
    assert sum(received.values()) == sum(len(legacy.pending_phones[r])
                                         for r in ("paused", "queued", "sending"))
    # The queue runs' poller asked Twilio about 0.1.0's own messages (sent within 72 h);
    # this fake does not know them, so they stay without a status, scheduled further on.
    with runtime.engine.connect() as conn:
        old_rows = conn.execute(text(
            f"SELECT delivery_status, delivery_checks, delivery_check_at, sent_at FROM "
            f"{PREFIX}bkntc_sms_recipients WHERE sent_at < {START}")).all()
    assert len(old_rows) == 8
    assert all(r.delivery_status is None and r.delivery_checks == 1
               and r.delivery_check_at == START + 1200 for r in old_rows), old_rows


def test_migrate_status_then_migrate_by_the_command_line(old: Old) -> None:
    before = dump(old.engine)
    shown = run_cli(old.url, "migrate", "--status")
    assert shown.returncode == 0, shown.stderr
    assert "made by 0.1.0" in shown.stdout
    assert f"would apply {len(AFTER_BASELINE)}:" in shown.stdout
    assert "0002  phones keyed by (tenant, region, customer)" in shown.stdout
    data = json.loads(run_cli(old.url, "migrate", "--status", "--json").stdout)
    assert (data["state"], data["current"], data["head"]) == ("0.1.0", "0001", head())
    applied = run_cli(old.url, "migrate", "--json")
    assert applied.returncode == 0, applied.stderr
    assert json.loads(applied.stdout) == {"applied": [STAMPED, *APPLIED],
                                          "revision": head()}
    after = run_cli(old.url, "migrate", "--status")
    assert "nothing to apply: the schema is up to date" in after.stdout
    assert run_cli(old.url, "migrate").stdout.strip() == "schema is up to date"
    assert dump(old.engine) == before


def _sources(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {r.phone: r.source for r in conn.execute(
            text(f"SELECT phone, source FROM {PREFIX}bkntc_sms_suppressions"))}


def _scalar(engine: Engine, sql: str) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def test_the_newest_revisions_go_down_and_up_again_with_the_data(old: Old) -> None:
    engine = old.engine
    before = dump(engine)
    migrate(engine, PREFIX)
    newest, previous = revisions()[-1], revisions()[-2]
    down = run_cli(old.url, "migrate", "--down")
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip() == f"reverted {newest.id}: {newest.description}"
    assert status(engine, PREFIX).current == previous.id
    assert dump(engine) == before
    assert migrate(engine, PREFIX) == [f"applied {newest.id}: {newest.description}"]

    kept = _sources(engine)
    day = START // 86400 - 3  # tenant 2 has a daily_stats row that day since 0.1.0
    with engine.begin() as conn:
        # A STOP reply (0004's own source) and deliveries (0003's) since the upgrade.
        conn.execute(text(f"INSERT INTO {PREFIX}bkntc_sms_suppressions (tenant_id, phone, "
                          "reason, source, created_at) VALUES (2, '+16175552950', "
                          f"'Replied STOP', 'keyword', {day * 86400 + 60})"))
        conn.execute(text(f"UPDATE {PREFIX}bkntc_sms_recipients SET delivery_status = "
                          "'delivered', delivered_at = sent_at + 5 WHERE status = 'sent'"))
    delivered = f"SELECT COUNT(*) FROM {PREFIX}bkntc_sms_recipients WHERE delivered_at > 0"
    assert _scalar(engine, delivered) == 8

    down = run_cli(old.url, "migrate", "--to", "0003")
    assert down.returncode == 0, down.stderr
    assert down.stdout.splitlines()[-1] == ("reverted 0004: suppression sources manual, "
                                            "keyword, provider; opt-outs per day")
    assert status(engine, PREFIX).current == "0003"
    assert not {f"{PREFIX}bkntc_sms_{t}" for t in FLEET_TABLES} & set(  # 0008's tables
        inspect(engine).get_table_names())
    assert "opt_outs" not in columns(engine, "daily_stats")
    assert _scalar(engine, delivered) == 8  # 0003's data is not 0004's to touch
    # 0.2.0's names: both automatic sources are its opt_out; pasted rows stay manual (lost).
    assert kept == {"+16175552910": "manual", "+16175552920": "manual",
                    "+16175552930": "provider", "+16175552940": "manual"}
    assert _sources(engine) == {**kept, "+16175552930": "opt_out", "+16175552950": "opt_out"}
    # Up again: the STOP reply comes back as a provider row (which automatic source it was
    # is what the downgrade loses) and is counted on its day.
    assert migrate(engine, PREFIX)[0] == APPLIED_0004
    assert _sources(engine) == {**kept, "+16175552950": "provider"}
    assert _scalar(engine, f"SELECT opt_outs FROM {PREFIX}bkntc_sms_daily_stats "
                           f"WHERE tenant_id = 2 AND day = {day}") == 1
    assert run_cli(old.url, "migrate", "--to", "0003").returncode == 0

    # Down to 0002 with those deliveries: 0003's columns and table go.
    to_0002 = run_cli(old.url, "migrate", "--to", "0002")
    assert to_0002.returncode == 0, to_0002.stderr
    assert to_0002.stdout.splitlines()[-1] == "reverted 0003: delivery status per recipient"
    assert status(engine, PREFIX).current == "0002"
    assert not {"delivery_status", "delivery_check_at"} & set(columns(engine, "recipients"))
    assert "delivered" not in columns(engine, "campaigns") + columns(engine, "daily_stats")
    assert "wp_bkntc_sms_early_statuses" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {PREFIX}bkntc_sms_suppressions "
                          "WHERE phone = '+16175552950'"))
    assert dump(engine) == before

    # Every revision reverted, back to 0.1.0's own tables, and up again.
    back = run_cli(old.url, "migrate", "--to", "0001")
    assert back.returncode == 0, back.stderr
    assert back.stdout.splitlines() == [APPLIED_0002.replace("applied", "reverted")]
    assert status(engine, PREFIX).current == "0001"
    assert columns(engine, "phones") == ["customer_id", "tenant_id", "raw_phone", "e164",
                                         "checked_at"]
    assert f"{PREFIX}bkntc_sms_settings" not in inspect(engine).get_table_names()
    assert dump(engine) == before
    with engine.connect() as conn:  # what 0.1.0 reads its schema version from
        assert conn.execute(text(f"SELECT value FROM {PREFIX}bkntc_sms_meta "
                                 "WHERE name = 'schema_version'")).scalar() == "1"
    with pytest.raises(MigrationError, match="baseline"):
        down_one(engine, PREFIX)
    assert migrate(engine, PREFIX) == APPLIED
    assert dump(engine) == before and status(engine, PREFIX).up_to_date
    assert _sources(engine) == kept


def test_three_processes_upgrading_at_once(old: Old) -> None:
    before = dump(old.engine)
    code = ("import sys; from sidecar.db import make_engine; from sidecar.schema import migrate;"
            "print(migrate(make_engine(sys.argv[1]), 'wp_'))")
    procs = [subprocess.Popen([sys.executable, "-c", code, old.url], cwd=ROOT, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(3)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    # One of them did the work; the others found it done.
    assert sorted(out for out, _ in outputs) == sorted(["[]\n", "[]\n",
                                                        f"{[STAMPED, *APPLIED]}\n"])
    assert dump(old.engine) == before
    assert row_count(old.engine, "alembic_version") == 1


# -- a database from the future ---------------------------------------------------------------


@pytest.fixture
def newer(sqlite_url: str, engine_for) -> Iterator[str]:
    engine = engine_for(sqlite_url)
    build_booknetic(engine, PREFIX, "single", START, customers_per_tenant=5)
    migrate(engine, PREFIX)
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE {PREFIX}bkntc_sms_alembic_version SET version_num = '0099'"))
    yield sqlite_url


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker"], ["tick"],
                                     ["campaigns", "list"], ["migrate"]])
def test_a_database_newer_than_the_code_stops_every_entry_point(newer: str,
                                                                command: list[str]) -> None:
    result = run_cli(newer, *command, timeout=60)
    assert result.returncode == 1, result
    assert "revision 0099" in result.stderr and f"up to {head()} only" in result.stderr
    assert "bkntc-sms migrate --to" in result.stderr


def test_status_and_check_name_both_revisions_of_a_newer_database(newer: str,
                                                                   engine_for) -> None:
    shown = run_cli(newer, "migrate", "--status")
    assert shown.returncode == 1
    assert "at revision 0099, which this code does not know" in shown.stdout
    checks = {c["name"]: c for c in json.loads(run_cli(newer, "check", "--json").stdout)
              ["checks"]}
    assert not checks["sidecar schema"]["ok"]
    assert "revision 0099" in checks["sidecar schema"]["detail"]
    engine = engine_for(newer)
    settings = Settings.from_env({"BKNTC_SMS_DATABASE_URL": newer})
    for auto_migrate in (True, False):  # the web app's and the benchmarks' way in
        with pytest.raises(SchemaTooNew, match="0099"):
            Runtime.build(settings, engine=engine, auto_migrate=auto_migrate)
