"""Templates, suppressions, test and one-off SMS, logs with CSV export, the dashboard.

Services against real MariaDB/SQLite and the fake Twilio; the CLI where DESIGN.md §7 has
a command for it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from sidecar.delivery_log import CSV_COLUMNS, EXPORT_CAP, neutralise
from sidecar.message_templates import TemplateInvalid, TemplateNotFound, TemplateReadOnly
from sidecar.oneoff import OneOffInvalid
from sidecar.phones import normalise_phone
from sidecar.providers.base import ProviderNotReady
from sidecar.sample_data import set_option
from sidecar.suppressions import SuppressionError, SuppressionNotFound
from tests.shop import Shop, open_shop

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def shop(any_url: str, engine_for) -> Iterator[Shop]:
    s = open_shop(any_url, engine_for(any_url), kind="saas", customers=40)
    yield s
    s.runtime.outbox.close()
    s.fake.stop()


def _phones(shop: Shop, tenant: int) -> list[tuple[int, str]]:
    return [(c["id"], p) for c in shop.ds.customers_of(tenant)
            if (p := normalise_phone(c["phone_number"]))]


# -- templates ---------------------------------------------------------------------------


def test_templates_builtin_read_only_and_custom_per_tenant(shop: Shop) -> None:
    svc = shop.runtime.templates
    builtins = svc.list(1)
    assert [t["name"] for t in builtins] == [
        "General announcement", "Loyal customer offer", "Re-engagement (90 days)",
        "Seasonal campaign"]
    assert svc.list(2) == builtins  # visible to every tenant
    mine = svc.create(1, {"name": "Birthday", "body": "Happy birthday {customer_first_name}!"})
    assert mine in svc.list(1) and mine not in svc.list(2)
    with pytest.raises(TemplateNotFound):
        svc.get(2, mine["id"])
    with pytest.raises(TemplateNotFound):
        svc.update(2, mine["id"], {"name": "x", "body": "y"})
    edited = svc.update(1, mine["id"], {"name": "Birthday 2", "body": "Hi {customer_name}"})
    assert edited["name"] == "Birthday 2"
    with pytest.raises(TemplateReadOnly):
        svc.update(1, builtins[0]["id"], {"name": "x", "body": "y"})
    with pytest.raises(TemplateReadOnly):
        svc.delete(1, builtins[0]["id"])
    with pytest.raises(TemplateInvalid) as info:
        svc.create(1, {"name": "", "body": "{nope}"})
    assert set(info.value.errors) == {"name", "body"}
    svc.delete(1, mine["id"])
    assert mine["id"] not in {t["id"] for t in svc.list(1)}


# -- suppressions ------------------------------------------------------------------------


def test_suppression_add_search_paginate_remove(shop: Shop) -> None:
    svc = shop.runtime.suppressions
    first = svc.add(1, "+1 (202) 555-0143", "asked by phone")
    assert first["added"] and first["phone"] == "+12025550143"
    again = svc.add(1, "12025550143", "again")
    assert not again["added"] and again["reason"] == "asked by phone"
    assert svc.add(2, "+12025550143")["added"]  # another tenant's list is separate
    with pytest.raises(SuppressionError, match="not a valid phone"):
        svc.add(1, "call me maybe")
    for n in range(10, 40):
        svc.add(1, f"+1415555{n:04d}", "bulk test" if n % 2 else "other")
    rows, total = svc.list(1, query="bulk", limit=5)
    assert total == 15 and len(rows) == 5
    rows, total = svc.list(1, query="0143")
    assert total == 1 and rows[0]["reason"] == "asked by phone"
    rows, _ = svc.list(1, query="%")  # LIKE metacharacters are literal
    assert rows == []
    svc.remove(1, first["id"])
    with pytest.raises(SuppressionNotFound):
        svc.remove(1, first["id"])
    with pytest.raises(SuppressionNotFound):  # tenant 1 cannot remove tenant 2's row
        svc.remove(1, svc.list(2)[0][0]["id"])


def test_bulk_add_is_all_or_nothing_unless_skipping(shop: Shop) -> None:
    svc = shop.runtime.suppressions
    pasted = "+12025550111\nnot a phone, +14155550123;  \n123\n+12025550111"
    with pytest.raises(SuppressionError) as info:
        svc.add_many(3, pasted)
    assert info.value.invalid == ["not a phone", "123"]
    assert svc.list(3)[1] == 0  # nothing half-saved
    result = svc.add_many(3, pasted, "imported", skip_invalid=True)
    assert (result.added, result.already, result.invalid) == (2, 0, ["not a phone", "123"])
    assert svc.add_many(3, "+14155550123").already == 1


def test_suppression_is_honoured_in_segments_and_at_send_time(shop: Shop) -> None:
    runtime = shop.runtime
    (_, early), (_, late) = _phones(shop, 1)[:2]
    runtime.suppressions.add(1, early, "before the campaign")
    campaign = runtime.campaigns.create(1, {"name": "x", "segment": "all_with_phone",
                                            "body": "Hello"})
    runtime.campaigns.send(1, campaign["id"])
    snapshot = {r["phone"] for r in shop.rows(campaign["id"])}
    assert early not in snapshot and late in snapshot
    runtime.suppressions.add(1, late, "after the snapshot")
    runtime.outbox.run_queue()
    received = shop.received_to()
    assert early not in received and late not in received
    shop.assert_counters_match_rows(campaign["id"], 1)


# -- test and one-off SMS -----------------------------------------------------------------


def test_test_sms_renders_for_test_customer(shop: Shop) -> None:
    result = shop.runtime.oneoff.send_test(1, "+1 202 555 0188",
                                           "Hi {customer_full_name} ({customer_first_name})")
    assert result["ok"] and result["message_id"].startswith("SM")
    (message,) = shop.fake.received()
    assert (message.to, message.body) == ("+12025550188", "Hi Test Customer (Test)")


def test_test_sms_refusals_and_twilio_errors(shop: Shop) -> None:
    oneoff = shop.runtime.oneoff
    shop.runtime.suppressions.add(1, "+12025550177", "opted out at the desk")
    with pytest.raises(OneOffInvalid, match="opted out at the desk"):
        oneoff.send_test(1, "+12025550177", "Hi")
    with pytest.raises(OneOffInvalid) as info:
        oneoff.send_test(1, "garbage", "")
    assert set(info.value.errors) == {"phone", "body"}
    landline = oneoff.send_test(1, "+15005550009", "Hi")
    assert not landline["ok"] and landline["error_code"] == 21614
    assert "not a mobile number" in landline["error"]
    set_option(shop.engine, "wp_", "bkntc_sms_auth_token", "")
    with pytest.raises(ProviderNotReady, match="missing Auth Token"):
        oneoff.send_test(1, "+12025550188", "Hi")


def test_manual_sms_to_customers_goes_through_the_engine(shop: Shop) -> None:
    runtime = shop.runtime
    valid = _phones(shop, 1)[:3]
    other_tenant = shop.ds.customers_of(2)[0]["id"]
    runtime.suppressions.add(1, valid[2][1])
    result = runtime.oneoff.send_manual(
        1, "Hi {customer_first_name}", customer_ids=[valid[0][0], valid[1][0], valid[2][0],
                                                     other_tenant])
    assert result.total == 2 and result.skipped_suppressed == [valid[2][1]]
    assert result.invalid == [f"customer #{other_tenant} (not found)"]
    runtime.outbox.run_queue()
    progress = shop.assert_counters_match_rows(result.campaign_id, 1)
    assert progress["status"] == "completed" and progress["sent"] == 2
    by_id = {c["id"]: c for c in shop.ds.customers}
    bodies = {m.to: m.body for m in shop.fake.received()}
    assert bodies[valid[0][1]] == f"Hi {by_id[valid[0][0]]['first_name']}"
    recorded = runtime.campaigns.get(1, result.campaign_id)["filters"]
    assert recorded["manual"]["skipped_suppressed"] == [valid[2][1]]
    # One-off messages are not listed among campaigns.
    assert result.campaign_id not in {c["id"] for c in runtime.campaigns.list(1)[0]}


def test_manual_sms_to_pasted_numbers(shop: Shop) -> None:
    runtime = shop.runtime
    runtime.suppressions.add(None, "+14155550123")
    result = runtime.oneoff.send_manual(
        None, "Hello from the salon ({customer_full_name})",
        numbers="+12025550111, 1 202 555 0111\n+14155550123\nnope\n+15005550009")
    assert (result.total, result.duplicates, result.invalid, result.skipped_suppressed) == (
        2, 1, ["nope"], ["+14155550123"])
    runtime.outbox.run_queue()
    rows = {r["phone"]: r for r in shop.rows(result.campaign_id)}
    assert rows["+12025550111"]["status"] == "sent"
    assert rows["+15005550009"]["status"] == "failed"
    assert {m.body for m in shop.fake.received()} == {"Hello from the salon (+12025550111)"}
    with pytest.raises(OneOffInvalid, match="nobody to send to"):
        runtime.oneoff.send_manual(None, "Hi", numbers="+14155550123\nxx")
    with pytest.raises(OneOffInvalid, match="choose customers or paste numbers"):
        runtime.oneoff.send_manual(None, "Hi")


# -- logs and CSV ----------------------------------------------------------------------


def _big_campaign(shop: Shop, rows: int) -> int:
    runtime = shop.runtime
    campaign = runtime.campaigns.create(1, {"name": "Big", "segment": "all_with_phone",
                                            "body": "Hi"})
    statuses = ["sent", "failed", "pending"]
    with shop.engine.begin() as conn:
        conn.execute(insert(runtime.tables.recipients), [
            {"campaign_id": campaign["id"], "tenant_id": 1, "customer_id": n,
             "phone": f"+1202{n:07d}", "first_name": "=cmd|' /C calc'!A0" if n == 7 else f"F{n}",
             "last_name": "Ünïcode", "status": statuses[n % 3], "attempts": 1,
             "last_error": "-boom" if n % 3 == 1 else "", "sent_at": 1_780_000_000 + n,
             "provider_message_id": f"SM{n:032d}", "updated_at": 0}
            for n in range(1, rows + 1)])
        c = runtime.tables.campaigns
        conn.execute(update(c).where(c.c.id == campaign["id"]).values(status="sending",
                                                                     total=rows))
    return int(campaign["id"])


def test_logs_filter_search_paginate(shop: Shop) -> None:
    cid = _big_campaign(shop, 300)
    logs = shop.runtime.logs
    rows, total = logs.rows(1, cid, status="failed", limit=20, offset=20)
    assert total == 100 and len(rows) == 20 and {r["status"] for r in rows} == {"failed"}
    rows, total = logs.rows(1, cid, query="F12")
    assert {r["first_name"] for r in rows} == {"F12", "F120", "F121", "F122", "F123", "F124",
                                               "F125", "F126", "F127", "F128", "F129"}
    assert logs.rows(1, cid, query="2020000005")[1] == 1
    with pytest.raises(Exception, match="not found"):
        logs.rows(2, cid)


def test_csv_export_caps_neutralises_and_parses(shop: Shop) -> None:
    cid = _big_campaign(shop, EXPORT_CAP + 250)
    chunks, total = shop.runtime.logs.export_csv(1, cid)
    text = "".join(chunks)
    assert total == EXPORT_CAP + 250
    table = list(csv.reader(io.StringIO(text)))
    assert tuple(table[0]) == CSV_COLUMNS
    assert len(table) == EXPORT_CAP + 1
    first = dict(zip(CSV_COLUMNS, table[1], strict=True))
    assert first["phone"] == "'+12020000001"  # a leading + is neutralised like = - @
    assert first["last_name"] == "Ünïcode"
    seventh = dict(zip(CSV_COLUMNS, table[7], strict=True))
    assert seventh["first_name"] == "'=cmd|' /C calc'!A0"
    assert first["last_error"] == "'-boom" and first["status"] == "failed"
    assert [int(r[0]) for r in table[1:]] == sorted(int(r[0]) for r in table[1:])
    assert neutralise("@SUM(1)") == "'@SUM(1)" and neutralise("plain") == "plain"


def test_dashboard_counts_and_chart(shop: Shop) -> None:
    runtime = shop.runtime
    campaign = runtime.campaigns.create(1, {"name": "D", "segment": "all_with_phone",
                                            "body": "Hello"})
    runtime.campaigns.send(1, campaign["id"])
    runtime.outbox.run_queue()
    done = runtime.campaigns.get(1, campaign["id"])
    summary = runtime.dashboard.summary(1)
    assert (summary["campaigns"], summary["completed"]) == (1, 1)
    assert (summary["sent"], summary["failed"]) == (done["sent"], done["failed"])
    assert len(summary["chart"]) == 30
    assert summary["chart"][-1]["sent"] == done["sent"]
    assert runtime.dashboard.summary(2)["sent"] == 0  # tenant-scoped


# -- CLI ---------------------------------------------------------------------------------


def _cli(shop: Shop, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BKNTC_SMS_")}
    env.update(shop.env)
    return subprocess.run([sys.executable, "-m", "sidecar", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_cli_suppressions_sms_and_logs_export(shop: Shop, tmp_path: Path) -> None:
    added = _cli(shop, "suppressions", "add", "+12025550143", "bad", "--tenant", "1",
                 "--reason", "asked")
    assert added.returncode == 2 and "not a valid phone number" in added.stderr
    added = _cli(shop, "suppressions", "add", "+12025550143", "--tenant", "1", "--json")
    assert added.returncode == 0 and json.loads(added.stdout)[0]["added"]
    listed = json.loads(_cli(shop, "suppressions", "list", "--tenant", "1", "--json").stdout)
    assert [r["phone"] for r in listed["suppressions"]] == ["+12025550143"]
    assert _cli(shop, "suppressions", "remove", "+1 202 555 0143", "--tenant", "1"
                ).returncode == 0
    test = _cli(shop, "sms", "test", "+12025550188", "--body", "Hi {customer_name}", "--json")
    assert test.returncode == 0 and json.loads(test.stdout)["body"] == "Hi Test Customer"
    sent = _cli(shop, "sms", "send", "--to", "+12025550111", "--to", "+15005550009",
                "--body", "Hello", "--json")
    summary = json.loads(sent.stdout)
    assert sent.returncode == 1 and (summary["sent"], summary["failed"]) == (1, 1)
    out = tmp_path / "logs.csv"
    exported = _cli(shop, "logs", "export", str(summary["campaign_id"]), "--output", str(out))
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {r["status"] for r in rows} == {"sent", "failed"}
