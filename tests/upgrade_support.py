"""A database as version 0.1.0 left it, for the upgrade tests (tests/test_upgrade.py).

The schema: on MariaDB, 0.1.0's own `sql/schema.sql` (tests/fixtures/schema-0.1.0.sql, the
file exactly as released); on SQLite, which that MySQL DDL does not fit, the same tables
from the frozen 0.1.0 definitions the baseline revision creates
(`sidecar.migrations.schema_0_1_0`). test_upgrade proves those definitions compile to the
fixture's text, so both backends start from one 0.1.0 schema.

The rows: what a business using 0.1.0 has — campaigns in every status (with their logs:
sent, failed, pending, a claimed row whose process died mid-send), a one-off SMS, built-in
and own templates, suppressions (by hand, in bulk, from an opt-out), bridge nonces, an
expired queue lease, daily counters, 0.1.0's meta rows and its phones table — written as
0.1.0 wrote them, with the counters equal to the rows. Two tenants, so that isolation is
checked after the upgrade too.

A later revision that must carry data over adds its rows here (and its checks in
test_upgrade.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, Table, insert, inspect, select, text

from sidecar.booknetic import Booknetic
from sidecar.db import is_mysql
from sidecar.migrations.schema_0_1_0 import tables_0_1_0
from sidecar.phones import normalise_phone
from sidecar.sample_data import Dataset

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "schema-0.1.0.sql"
PREFIX = "wp_"
DAY = 86400

BUILTINS_0_1_0 = ("reengagement_90", "loyal_offer", "announcement", "seasonal")
# Meta rows 0.1.0 wrote that revision 0002 removes (the version table replaces the first,
# per-region phone rows the second).
DROPPED_META = ("schema_version", "phones_region")


def create_0_1_0_schema(engine: Engine) -> None:
    """Our tables as 0.1.0 created them, with the meta row its `migrate` wrote."""
    if is_mysql(engine):
        with engine.begin() as conn:
            for statement in FIXTURE.read_text().split(";\n"):
                body = "\n".join(line for line in statement.splitlines()
                                 if not line.startswith("--")).strip()
                if body:
                    conn.exec_driver_sql(body)
        return
    md = tables_0_1_0(PREFIX)
    md.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(md.tables[f"{PREFIX}bkntc_sms_meta"]),
                     [{"name": "schema_version", "value": "1", "updated_at": 0}])


@dataclass
class Legacy:
    """What was written, by role, for the checks after the upgrade."""

    campaigns: dict[str, int] = field(default_factory=dict)  # role -> id
    pending_phones: dict[str, list[str]] = field(default_factory=dict)  # role -> phones
    tenant1_templates: list[int] = field(default_factory=list)
    tenant1_suppressions: list[str] = field(default_factory=list)
    halt_reason: str = ""


def _customers(ds: Dataset, tenant: int, count: int) -> list[dict[str, Any]]:
    """`count` customers of `tenant` with distinct valid phones, in id order."""
    region = ds.options.get("bkntc_default_phone_country_code") or "US"
    out, seen = [], set()
    for c in sorted(ds.customers, key=lambda c: c["id"]):
        if c.get("tenant_id") != tenant:
            continue
        phone = normalise_phone(c.get("phone_number"), str(region))
        if phone and phone not in seen:
            seen.add(phone)
            out.append({**c, "e164": phone})
        if len(out) == count:
            return out
    raise AssertionError(f"tenant {tenant} has fewer than {count} customers with a phone")


def fill_0_1_0(engine: Engine, ds: Dataset, now: int) -> Legacy:
    """Rows in every table of ours, as 0.1.0 wrote them; returns what a test checks."""
    md = MetaData()
    t = {name: Table(f"{PREFIX}bkntc_sms_{name}", md, autoload_with=engine)
         for name in ("meta", "phones", "suppressions", "templates", "campaigns", "recipients",
                      "locks", "nonces", "daily_stats")}
    legacy = Legacy()
    people = _customers(ds, 1, 24)
    others = _customers(ds, 2, 3)
    pool = iter(people)
    campaign_rows: list[dict[str, Any]] = []
    recipient_rows: list[dict[str, Any]] = []

    def campaign(role: str, status: str, outcomes: list[str], *, tenant: int = 1,
                 kind: str = "campaign", reason: str = "",
                 who: list[dict[str, Any]] | None = None) -> None:
        cid = len(campaign_rows) + 1
        legacy.campaigns[role] = cid
        started = now - 3 * DAY + cid * 600
        rows = []
        for n, outcome in enumerate(outcomes):
            person = who[n] if who else next(pool)
            row = {"id": len(recipient_rows) + len(rows) + 1, "campaign_id": cid,
                   "tenant_id": tenant, "customer_id": person["id"], "phone": person["e164"],
                   "first_name": person.get("first_name") or "",
                   "last_name": person.get("last_name") or "", "status": "pending",
                   "attempts": 0, "next_attempt_at": 0, "lease_until": None,
                   "claimed_by": None, "unsure_since": None, "last_error": "",
                   "error_code": None, "provider_message_id": None, "sent_at": None,
                   "updated_at": started}
            if outcome == "sent":
                row.update(status="sent", attempts=1, sent_at=started + n,
                           provider_message_id=f"SM{cid:04d}{n:028d}")
            elif outcome == "failed":
                row.update(status="failed", attempts=1, error_code=21211,
                           last_error="Twilio error 21211: the 'To' number is not a valid "
                                      "phone number")
            elif outcome == "retry":  # a transient failure waiting for its retry
                row.update(attempts=1, next_attempt_at=started + 120, error_code=20429,
                           last_error="Twilio error 20429: too many requests (will retry)")
            elif outcome == "crashed":  # claimed by a process that died mid-send
                row.update(attempts=1, lease_until=started + 120, claimed_by="old-worker:1",
                           unsure_since=started)
            rows.append(row)
        recipient_rows.extend(rows)
        sent = sum(r["status"] == "sent" for r in rows)
        failed = sum(r["status"] == "failed" for r in rows)
        if status != "draft":
            legacy.pending_phones[role] = [r["phone"] for r in rows if r["status"] == "pending"]
        campaign_rows.append({
            "id": cid, "tenant_id": tenant, "kind": kind, "name": f"Before 0.2: {role}",
            "segment": None if kind == "manual" else "all_with_phone",
            "filters": json.dumps({"service_ids": [], "location_ids": [], "statuses": [],
                                   "min_appointments": None, "exclude_suppressed": True}),
            "body": f"Hi {{customer_first_name}}, news from {role} — see you soon!",
            "template_id": None, "status": status, "status_reason": reason,
            "total": len(rows), "sent": sent, "failed": failed,
            "pending": len(rows) - sent - failed, "created_by": 1, "created_at": started - 60,
            "updated_at": started + 30,
            "queued_at": None if status == "draft" else started,
            "started_at": started if status in ("sending", "paused", "completed", "failed")
            else None,
            "finished_at": started + 30 if status in ("completed", "failed") else None})

    campaign("draft", "draft", [])
    campaign("queued", "queued", ["pending", "pending", "pending"])
    campaign("sending", "sending", ["sent", "failed", "retry", "crashed", "pending"])
    campaign("paused", "paused", ["sent", "sent", "pending", "pending", "pending", "pending"])
    campaign("completed", "completed", ["sent", "sent", "failed"])
    campaign("failed", "failed", ["failed", "failed"],
             reason="No message could be sent: every number was refused.")
    campaign("one-off", "completed", ["sent"], kind="manual")
    campaign("tenant 2", "completed", ["sent", "sent", "failed"], tenant=2, who=others)

    bk = Booknetic(engine, PREFIX)
    twilio = bk.twilio_status()
    legacy.halt_reason = ("Sending stopped: Twilio error 20003: authentication failed. Fix the "
                          "Twilio settings in Booknetic, then resume the campaign.")
    fingerprint = hashlib.sha256(f"{twilio.account_sid}\0{twilio.auth_token}\0{twilio.sender}"
                                 .encode()).hexdigest()[:16]
    template_rows = [
        {"id": n + 1, "tenant_id": 0, "builtin_key": key, "name": key.replace("_", " "),
         "body": f"Hi {{customer_first_name}} ({key})", "created_by": None,
         "created_at": now - 30 * DAY, "updated_at": now - 30 * DAY}
        for n, key in enumerate(BUILTINS_0_1_0)]
    template_rows += [
        {"id": 5, "tenant_id": 1, "builtin_key": None, "name": "Ours: summer",
         "body": "Summer is here, {customer_name}!", "created_by": 1,
         "created_at": now - 9 * DAY, "updated_at": now - 8 * DAY},
        {"id": 6, "tenant_id": 2, "builtin_key": None, "name": "Theirs: winter",
         "body": "Winter deals, {customer_first_name}.", "created_by": 2,
         "created_at": now - 7 * DAY, "updated_at": now - 7 * DAY}]
    legacy.tenant1_templates = [1, 2, 3, 4, 5]
    suppression_rows = [
        {"tenant_id": 1, "phone": "+16175552910", "reason": "asked us by phone",
         "source": "manual", "created_by": 1, "created_at": now - 5 * DAY},
        {"tenant_id": 1, "phone": "+16175552920", "reason": "imported list",
         "source": "bulk", "created_by": 1, "created_at": now - 4 * DAY},
        {"tenant_id": 1, "phone": "+16175552930", "reason": "replied STOP (Twilio 21610)",
         "source": "opt_out", "created_by": None, "created_at": now - 2 * DAY},
        {"tenant_id": 2, "phone": "+16175552940", "reason": "theirs", "source": "manual",
         "created_by": 2, "created_at": now - DAY}]
    legacy.tenant1_suppressions = ["+16175552910", "+16175552920", "+16175552930"]
    day = now // DAY
    with engine.begin() as conn:
        conn.execute(insert(t["campaigns"]), campaign_rows)
        conn.execute(insert(t["recipients"]), recipient_rows)
        conn.execute(insert(t["templates"]), template_rows)
        conn.execute(insert(t["suppressions"]), suppression_rows)
        conn.execute(insert(t["nonces"]), [
            {"nonce": f"nOnCe-{n}-{'x' * 20}", "seen_at": now - 60 * n} for n in range(1, 4)])
        conn.execute(insert(t["locks"]), [
            {"name": "queue", "holder": "old-worker:1", "expires_at": now - 3600}])
        conn.execute(insert(t["daily_stats"]), [
            {"tenant_id": 1, "day": day - 3, "sent": 6, "failed": 4},
            {"tenant_id": 1, "day": day - 2, "sent": 1, "failed": 1},
            {"tenant_id": 2, "day": day - 3, "sent": 2, "failed": 1}])
        conn.execute(insert(t["phones"]), [
            {"customer_id": p["id"], "tenant_id": 1, "raw_phone": p.get("phone_number"),
             "e164": p["e164"], "checked_at": now - DAY} for p in people])
        conn.execute(insert(t["meta"]), [
            {"name": "phones_region", "value": "US", "updated_at": now - DAY},
            {"name": "provider_halt", "updated_at": now - DAY, "value": json.dumps({
                "reason": legacy.halt_reason, "code": 20003, "at": now - DAY,
                "fingerprint": fingerprint, "campaign_id": legacy.campaigns["paused"]})}])
    return legacy


# Our tables whose every row must come through an upgrade unchanged (phones is derived data
# that revision 0002 rebuilds; meta loses DROPPED_META only).
KEPT_TABLES = ("suppressions", "templates", "campaigns", "recipients", "locks", "nonces",
               "daily_stats", "meta")
# Suppression sources revision 0004 renamed: dump() reads every revision's rows with the new
# names, so rows compare equal across it (test_upgrade checks the stored names on their own).
SOURCES_0004 = {"opt_out": "provider", "bulk": "manual"}


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of KEPT_TABLES in 0.1.0's columns (reflected, so it reads any revision;
    later revisions' columns are checked by their own tests), sorted, with the meta rows
    revision 0002 drops left out and suppression sources in 0004's names."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    md = MetaData()
    old = tables_0_1_0(PREFIX)
    for name in KEPT_TABLES:
        full = f"{PREFIX}bkntc_sms_{name}"
        table = Table(full, md, autoload_with=engine)
        kept = [table.c[c.name] for c in old.tables[full].columns]
        with engine.connect() as conn:
            rows = [tuple(SOURCES_0004.get(v, v) if c.name == "source" else v
                          for c, v in zip(kept, r, strict=True))
                    for r in conn.execute(select(*kept))]
        if name == "meta":
            rows = [r for r in rows if r[0] not in DROPPED_META]
        out[name] = sorted(rows, key=repr)
    return out


def columns(engine: Engine, table: str) -> list[str]:
    return [c["name"] for c in inspect(engine).get_columns(f"{PREFIX}bkntc_sms_{table}")]


def row_count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {PREFIX}bkntc_sms_{table}"))
                   .scalar_one())
