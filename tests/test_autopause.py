"""Auto-pause on error rate (DESIGN.md §12) and resend to failed, against the fake Twilio's
scripted errors through the unpatched twilio library.

Batches of 10 are claimed in row order, so a script on the n-th snapshot row's number fails
the n-th attempt.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import insert

from sidecar.providers.fake_twilio import MAGIC_TO
from tests.shop import Shop, open_shop
from tests.test_cli import run_cli


@pytest.fixture
def shop(any_url: str, engine_for) -> Iterator[Shop]:
    # One batch at a time, so which attempts come last is known.
    s = open_shop(any_url, engine_for(any_url), customers=90,
                  env={"BKNTC_SMS_BATCH_SIZE": "10", "BKNTC_SMS_SEND_CONCURRENCY": "1"})
    yield s
    s.runtime.outbox.close()
    s.fake.stop()


def _phones(shop: Shop, cid: int) -> list[str]:
    return [str(r["phone"]) for r in shop.rows(cid)]


def _without_magic_numbers(shop: Shop) -> None:
    """Suppress the data set's Twilio magic numbers (they always fail), so only the
    scripted errors fail."""
    with shop.engine.begin() as conn:
        conn.execute(insert(shop.runtime.tables.suppressions), [
            {"tenant_id": 0, "phone": phone, "reason": "magic", "created_at": 0}
            for phone in MAGIC_TO])


def test_auto_pause_at_a_quarter_of_the_last_40_attempts(shop: Shop) -> None:
    svc = shop.runtime.campaigns
    _without_magic_numbers(shop)
    cid = shop.create()
    svc.send(None, cid)
    phones = _phones(shop, cid)
    assert len(phones) >= 50
    # 9 failures in the first batch: under the threshold. The 10th comes in the fourth
    # batch, when the last 40 attempts hold 10 failures.
    for phone in phones[:8]:
        shop.fake.script_error(phone, 30007, status=400, message="Filtered")
    shop.fake.script_error(phones[8], 21211, status=400, message="Invalid To")
    shop.fake.script_error(phones[34], 30007, status=400, message="Filtered")
    shop.runtime.outbox.run_queue()
    progress = shop.assert_counters_match_rows(cid)
    assert progress["status"] == "paused", progress
    assert (progress["sent"], progress["failed"]) == (30, 10)
    reason = progress["status_reason"]
    assert reason.startswith("Paused automatically: 10 of the last 40 attempts failed")
    assert "the most common (9 times): the carrier filtered the message as spam" in reason, reason
    # nothing tried after the batch that crossed it
    assert sum(1 for r in shop.rows(cid) if r["attempts"]) == 40
    assert len(shop.fake.received()) == 30
    # Resuming starts a fresh window: one more failure does not pause it again.
    shop.fake.script_error(phones[45], 30007, status=400, message="Filtered")
    shop.clock.advance(1)
    svc.resume(None, cid)
    shop.runtime.outbox.run_queue()
    done = shop.assert_counters_match_rows(cid)
    assert done["status"] == "completed" and done["failed"] == 11, done
    assert done["status_reason"] == ""


def test_failures_older_than_the_last_40_attempts_do_not_count(shop: Shop) -> None:
    svc = shop.runtime.campaigns
    _without_magic_numbers(shop)
    cid = shop.create()
    svc.send(None, cid)
    phones = _phones(shop, cid)
    # 9 in the first batch, then 9 more in the sixth: never 10 within 40 attempts.
    for phone in phones[:9] + phones[50:59]:
        shop.fake.script_error(phone, 21211, status=400, message="Invalid To")
    shop.runtime.outbox.run_queue()
    done = shop.assert_counters_match_rows(cid)
    assert len(phones) >= 60
    assert done["status"] == "completed", done
    assert done["failed"] == 18


def test_transient_failures_count_and_the_cli_shows_the_reason(shop: Shop) -> None:
    svc = shop.runtime.campaigns
    cid = shop.create()
    svc.send(None, cid)
    phones = _phones(shop, cid)
    for phone in phones[:10]:  # rate-limited: retried later, but each try failed
        shop.fake.script_error(phone, 20429, status=429, message="Too Many Requests")
    shop.runtime.outbox.run_queue()
    progress = svc.progress(None, cid)
    assert progress["status"] == "paused" and progress["failed"] == 0
    assert "10 of the last 10 attempts failed" in progress["status_reason"]
    shown = run_cli(shop.url, "campaigns", "show", str(cid))
    assert shown.returncode == 0, shown.stderr
    assert "Paused automatically: 10 of the last 10" in shown.stdout
    as_json = json.loads(run_cli(shop.url, "campaigns", "show", str(cid), "--json").stdout)
    assert as_json["status"] == "paused"
    assert as_json["status_reason"] == progress["status_reason"]


# -- resend to failed ------------------------------------------------------------------------


def test_resend_to_failed_takes_only_failures_another_try_may_fix(shop: Shop) -> None:
    from sidecar.resend import NothingToResend, resend_failed

    svc = shop.runtime.campaigns
    _without_magic_numbers(shop)
    cid = shop.create(body="Hello {customer_first_name}")
    svc.send(None, cid)
    rows = shop.rows(cid)
    phones = [str(r["phone"]) for r in rows]
    shop.fake.script_error(phones[0], 21211, status=400, message="Invalid To")  # never
    shop.fake.script_error(phones[1], 21614, status=400, message="Not mobile")  # never
    shop.fake.script_error(phones[2], 21610, status=400, message="Unsubscribed")  # opted out
    shop.fake.script_error(phones[3], 30007, status=400, message="Filtered")  # may work
    shop.fake.script_error(phones[4], 30007, status=400, message="Filtered")  # suppressed later
    shop.fake.script_error(phones[5], 20429, status=429, message="Too Many Requests")  # gave up
    shop.runtime.outbox.run_queue()
    for delay in (2, 4):  # the retry delays of the shop
        shop.clock.advance(delay)
        shop.runtime.outbox.run_queue()
    done = shop.assert_counters_match_rows(cid)
    assert done["status"] == "completed" and done["failed"] == 6, done
    shop.runtime.suppressions.add(None, phones[4], "asked us")
    shop.fake.faults.clear_scripts()

    made = run_cli(shop.url, "campaigns", "resend-failed", str(cid), "--json")
    assert made.returncode == 0, made.stderr
    draft = json.loads(made.stdout)
    assert draft["status"] == "draft" and draft["name"] == "Resend of Test all_with_phone"
    assert draft["resend_recipients"] == 2 and draft["body"] == "Hello {customer_first_name}"
    assert draft["total"] == 0 and shop.rows(draft["id"]) == []
    # Editing the draft keeps what it resends.
    svc.update(None, draft["id"], {"name": "Second try", "segment": "all_with_phone",
                                   "body": "Hi again {customer_first_name}"})
    queued = svc.send(None, draft["id"])
    assert queued["total"] == queued["pending"] == 2
    again = shop.rows(draft["id"])
    assert [r["phone"] for r in again] == [phones[3], phones[5]]
    assert [(r["first_name"], r["last_name"]) for r in again] == [
        (rows[3]["first_name"], rows[3]["last_name"]),
        (rows[5]["first_name"], rows[5]["last_name"])]
    before = len(shop.fake.received())
    shop.runtime.outbox.run_queue()
    assert shop.assert_counters_match_rows(draft["id"])["status"] == "completed"
    resent = shop.fake.received()[before:]
    assert sorted(m.to for m in resent) == sorted([phones[3], phones[5]])
    assert resent[0].body.startswith("Hi again ")
    # Nothing left to resend: refused, and no draft made.
    with pytest.raises(NothingToResend, match="no failed messages"):
        resend_failed(svc, None, draft["id"])
    assert svc.list(None)[1] == 2
