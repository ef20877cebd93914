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

