"""The send engine end to end: lifecycle, snapshot, batches, retries, pause, halts.

Real MariaDB (and SQLite where it matters), the fake Twilio over HTTP and the unpatched
twilio library. Time is a settable clock so retry delays are exact, not slept.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, insert, update

from sidecar.campaigns import CampaignInvalid, CampaignNotFound, TransitionRefused
from sidecar.db import make_engine
from sidecar.outbox import SharedRateLimiter
from sidecar.outbox.rate_limit import SHARE
from sidecar.phones import normalise_phone
from sidecar.providers.base import ProviderNotReady
from sidecar.sample_data import set_option
from sidecar.schema import migrate, sms_tables
from tests.shop import Shop, open_shop
from tests.web_support import wait_for


@pytest.fixture
def shop(any_url: str, engine_for) -> Iterator[Shop]:
    s = open_shop(any_url, engine_for(any_url), env={"BKNTC_SMS_BATCH_SIZE": "10"})
    yield s
    s.runtime.outbox.close()
    s.fake.stop()


@pytest.fixture
def mshop(mysql_url: str, engine_for) -> Iterator[Shop]:
    s = open_shop(mysql_url, engine_for(mysql_url), env={"BKNTC_SMS_BATCH_SIZE": "10"})
    yield s
    s.runtime.outbox.close()
    s.fake.stop()


def _expected_phones(shop: Shop) -> set[str]:
    return {p for c in shop.ds.customers if (p := normalise_phone(c["phone_number"]))}


# -- lifecycle ---------------------------------------------------------------------------


def test_lifecycle_rules_and_refusals(shop: Shop) -> None:
    svc = shop.runtime.campaigns
    cid = shop.create()
    assert svc.get(None, cid)["actions"] == ["edit", "delete", "send", "duplicate", "schedule"]
    svc.update(None, cid, {"name": "Renamed", "segment": "repeat", "body": "Hello again"})
    sent = svc.send(None, cid)
    assert sent["status"] == "queued" and sent["total"] == sent["pending"] > 0
    for action in ("edit", "delete", "send"):
        with pytest.raises(TransitionRefused, match="queued"):
            if action == "edit":
                svc.update(None, cid, {"name": "x", "segment": "repeat", "body": "y"})
            else:
                getattr(svc, action)(None, cid)
    paused = svc.pause(None, cid)
    assert paused["status"] == "paused" and paused["actions"] == [
        "edit", "delete", "resume", "duplicate"]
    with pytest.raises(TransitionRefused, match="resume it instead"):
        svc.send(None, cid)
    # Editing a paused campaign makes it a draft again and clears its logs.
    edited = svc.update(None, cid, {"name": "Again", "segment": "repeat", "body": "Hi"})
    assert edited["status"] == "draft" and edited["total"] == 0 and shop.rows(cid) == []
    svc.send(None, cid)
    shop.runtime.outbox.run_queue()
    done = svc.get(None, cid)
    assert done["status"] == "completed" and done["pending"] == 0
    with pytest.raises(TransitionRefused, match="cannot be sent again"):
        svc.send(None, cid)
    with pytest.raises(TransitionRefused, match="duplicate it"):
        svc.update(None, cid, {"name": "x", "segment": "repeat", "body": "y"})
    copy = svc.duplicate(None, cid)
    assert copy["status"] == "draft" and copy["name"] == "Copy of Again"
    assert copy["total"] == 0 and shop.rows(copy["id"]) == []
    svc.delete(None, cid)
    assert shop.rows(cid) == []
    with pytest.raises(CampaignNotFound):
        svc.get(None, cid)


def test_send_with_no_recipients_fails_with_reason(shop: Shop) -> None:
    cid = shop.create(service_ids=[999999])
    result = shop.runtime.campaigns.send(None, cid)
    assert result["status"] == "failed" and "No recipients" in result["status_reason"]
    # A failed campaign can be edited back to a draft.
    edited = shop.runtime.campaigns.update(None, cid, {"name": "n", "segment": "repeat",
                                                       "body": "b"})
    assert edited["status"] == "draft"


def test_invalid_campaign_input_names_fields(shop: Shop) -> None:
    with pytest.raises(CampaignInvalid) as info:
        shop.runtime.campaigns.create(None, {"name": " ", "segment": "nope",
                                             "body": "Hi {customer_email}"})
    assert set(info.value.errors) == {"name", "segment", "body"}
    assert "{customer_email}" in info.value.errors["body"]
    with pytest.raises(CampaignInvalid, match="limit is 1600"):
        shop.runtime.campaigns.create(None, {"name": "n", "segment": "repeat",
                                             "body": "x" * 1601})


def test_two_sends_at_once_only_one_wins(mshop: Shop) -> None:
    cid = mshop.create()
    outcomes: list[str] = []

    def send() -> None:
        try:
            mshop.runtime.campaigns.send(None, cid)
            outcomes.append("ok")
        except TransitionRefused:
            outcomes.append("refused")

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused", "refused", "refused"]
    assert len(mshop.rows(cid)) == mshop.runtime.campaigns.get(None, cid)["total"]


# -- snapshot and sending ----------------------------------------------------------------


def test_snapshot_is_frozen_and_shortcodes_render_per_recipient(shop: Shop) -> None:
    svc = shop.runtime.campaigns
    cid = shop.create(body="Hi {customer_full_name} ({customer_phone}), {customer_last_name}.")
    svc.send(None, cid)
    snapshot = {r["phone"]: r for r in shop.rows(cid)}
    assert set(snapshot) == _expected_phones(shop) - {None}
    # Booknetic changes after the send: names, phones, a new customer. The recipients stay.
    customers = shop.runtime.booknetic.customers
    with shop.engine.begin() as conn:
        conn.execute(update(customers).values(first_name="Changed", last_name="Later"))
        conn.execute(insert(customers).values(id=990001, first_name="New", last_name="Comer",
                                              phone_number="+16175550100"))
    shop.runtime.outbox.run_queue()
    received = {m.to: m.body for m in shop.fake.received()}
    magic = {p for p in snapshot if p.startswith("+1500555")}  # Twilio test numbers that fail
    assert set(received) == set(snapshot) - magic
    for phone, row in snapshot.items():
        if phone in magic:
            continue
        full = f"{row['first_name']} {row['last_name']}".strip() or phone
        assert received[phone] == f"Hi {full} ({phone}), {row['last_name']}."
    assert any(not (r["first_name"] or r["last_name"]) for r in snapshot.values()), \
        "the data set should hold a nameless customer to exercise the phone fallback"
    shop.assert_counters_match_rows(cid)


def test_batch_size_and_first_batch(shop: Shop) -> None:
    cid = shop.create()
    shop.runtime.campaigns.send(None, cid)
    report = shop.runtime.outbox.drain(cid, max_batches=1)
    assert (report.claimed, report.sent) == (10, 10)
    assert len(shop.fake.received()) == 10
    progress = shop.assert_counters_match_rows(cid)
    assert progress["status"] == "sending" and progress["sent"] == 10


def test_campaigns_per_run_limit(shop: Shop) -> None:
    runtime = shop.runtime
    ids = [shop.create(f"booked_last_{n}") for n in (7, 30, 90)]
    for cid in ids:
        runtime.campaigns.send(None, cid)
    object.__setattr__(runtime.settings, "campaigns_per_tick", 2)
    report = runtime.outbox.run_queue()
    assert report.campaigns == ids[:2]
    statuses = [runtime.campaigns.get(None, cid)["status"] for cid in ids]
    assert statuses == ["completed", "completed", "queued"]
    assert runtime.outbox.run_queue().campaigns == ids[2:]


def test_exact_retry_schedule_then_permanent(shop: Shop) -> None:
    flaky = sorted(_expected_phones(shop))[0]
    shop.fake.script_error(flaky, 20429, status=429, message="Too Many Requests")
    cid = shop.create()
    shop.runtime.campaigns.send(None, cid)
    outbox, clock = shop.runtime.outbox, shop.clock
    start = clock()

    def attempts() -> int:
        return shop.fake.stats.by_status.get(429, 0)

    def row() -> dict:
        return next(r for r in shop.rows(cid) if r["phone"] == flaky)

    outbox.run_queue()
    assert attempts() == 1 and row()["next_attempt_at"] == start + 2
    clock.advance(1)
    outbox.run_queue()
    assert attempts() == 1  # not due yet
    clock.advance(1)
    outbox.run_queue()
    assert attempts() == 2 and row()["next_attempt_at"] == start + 2 + 4
    clock.advance(3)
    outbox.run_queue()
    assert attempts() == 2
    clock.advance(1)
    outbox.run_queue()
    assert attempts() == 3
    final = row()
    assert final["status"] == "failed" and final["attempts"] == 3
    assert final["error_code"] == 20429 and "gave up after 3 attempts" in final["last_error"]
    assert shop.runtime.campaigns.get(None, cid)["status"] == "completed"
    shop.assert_counters_match_rows(cid)


def test_permanent_errors_fail_at_once_and_opt_outs_are_suppressed(shop: Shop) -> None:
    customers = shop.runtime.booknetic.customers
    with shop.engine.begin() as conn:
        conn.execute(update(customers).where(customers.c.id == shop.ds.customers[0]["id"])
                     .values(phone_number="+15005550009"))  # not a mobile (21614)
        conn.execute(update(customers).where(customers.c.id == shop.ds.customers[1]["id"])
                     .values(phone_number="+15005550004"))  # replied STOP (21610)
    cid = shop.create()
    shop.runtime.campaigns.send(None, cid)
    shop.runtime.outbox.run_queue()
    rows = {r["phone"]: r for r in shop.rows(cid)}
    landline, stop = rows["+15005550009"], rows["+15005550004"]
    assert (landline["status"], landline["attempts"], landline["error_code"]) == (
        "failed", 1, 21614)
    assert "not a mobile number" in landline["last_error"]
    assert (stop["status"], stop["error_code"]) == ("failed", 21610)
    assert "opted out" in stop["last_error"]
    with shop.engine.connect() as conn:
        suppressed = {r.phone: r.source for r in conn.execute(
            shop.runtime.tables.suppressions.select())}
    assert suppressed == {"+15005550004": "provider"}
    shop.assert_counters_match_rows(cid)


def test_suppression_added_after_snapshot_still_stops_the_send(shop: Shop) -> None:
    cid = shop.create()
    shop.runtime.campaigns.send(None, cid)
    victim = sorted(_expected_phones(shop))[-1]
    with shop.engine.begin() as conn:
        conn.execute(insert(shop.runtime.tables.suppressions).values(
            tenant_id=0, phone=victim, reason="asked by phone", created_at=int(shop.clock())))
    shop.runtime.outbox.run_queue()
    assert victim not in shop.received_to()
    row = next(r for r in shop.rows(cid) if r["phone"] == victim)
    # Not sent by policy: skipped (DESIGN.md §5), with its own counter.
    assert row["status"] == "skipped" and "suppression list" in row["last_error"]
    assert shop.assert_counters_match_rows(cid)["skipped"] == 1


def test_a_campaign_that_includes_suppressed_numbers_sends_to_them(shop: Shop) -> None:
    """exclude_suppressed=False is the admin's choice for the whole send, not only for
    the snapshot: a number suppressed after the snapshot still gets this campaign."""
    cid = shop.create(exclude_suppressed=False)
    shop.runtime.campaigns.send(None, cid)
    # Not one of Twilio's magic test numbers, which the fake refuses on purpose.
    victim = sorted(p for p in _expected_phones(shop) if not p.startswith("+1500555"))[-1]
    with shop.engine.begin() as conn:
        conn.execute(insert(shop.runtime.tables.suppressions).values(
            tenant_id=0, phone=victim, reason="asked by phone", created_at=int(shop.clock())))
    shop.runtime.outbox.run_queue()
    assert victim in shop.received_to()
    row = next(r for r in shop.rows(cid) if r["phone"] == victim)
    assert row["status"] == "sent"
    shop.assert_counters_match_rows(cid)


def test_pause_and_resume_never_resend(shop: Shop) -> None:
    svc, outbox = shop.runtime.campaigns, shop.runtime.outbox
    cid = shop.create()
    svc.send(None, cid)
    outbox.drain(cid, max_batches=1)
    svc.pause(None, cid)
    assert outbox.run_queue().campaigns == []  # a paused campaign is not served
    assert len(shop.fake.received()) == 10
    resumed = svc.resume(None, cid)
    assert resumed["status"] == "queued" and resumed["total"] == len(shop.rows(cid))
    outbox.run_queue()
    counts = shop.received_to()
    assert set(counts.values()) == {1}
    assert set(counts) == {r["phone"] for r in shop.rows(cid) if r["status"] == "sent"}
    assert svc.get(None, cid)["status"] == "completed"
    shop.assert_counters_match_rows(cid)


def test_unknown_outcome_is_reconciled_not_resent(shop: Shop) -> None:
    """Twilio answers 500 but had stored the message: the retry must find it, not resend."""
    shop.fake.set_faults(lost_answer=True)
    shop.fake.script_response_sequence([500, 500])
    cid = shop.create()
    shop.runtime.campaigns.send(None, cid)
    shop.runtime.outbox.run_queue()
    shop.clock.advance(2)
    shop.runtime.outbox.run_queue()
    counts = shop.received_to()
    assert set(counts.values()) == {1}, counts
    assert shop.runtime.campaigns.get(None, cid)["status"] == "completed"
    rows = shop.rows(cid)
    reconciled = [r for r in rows if r["attempts"] == 2]
    assert len(reconciled) == 2 and all(r["status"] == "sent" for r in reconciled)
    assert shop.status_counts(cid)["sent"] == len(shop.fake.received())


def test_auth_error_halts_everything_until_credentials_change(shop: Shop) -> None:
    svc, outbox = shop.runtime.campaigns, shop.runtime.outbox
    set_option(shop.engine, "wp_", "bkntc_sms_auth_token", "wrong-token")
    first, second = shop.create(), shop.create("repeat")
    svc.send(None, first)
    svc.send(None, second)
    report = outbox.run_queue()
    assert "authentication failed" in report.halted
    assert len(shop.fake.received()) == 0
    halted = svc.get(None, first)
    assert halted["status"] == "paused" and "Sending stopped" in halted["status_reason"]
    assert svc.get(None, second)["status"] == "queued"
    assert outbox.run_queue().skipped_reason == "sending is halted (see status)"
    assert {r["attempts"] for r in shop.rows(first)} == {0}  # nobody lost an attempt
    # The admin fixes the token: the halt lifts by itself; the paused campaign is resumed.
    set_option(shop.engine, "wp_", "bkntc_sms_auth_token", shop.ds.options[
        "bkntc_sms_auth_token"])
    svc.resume(None, first)
    outbox.run_queue()
    assert svc.get(None, first)["status"] == "completed"
    assert svc.get(None, second)["status"] == "completed"


def test_twilio_add_on_not_ready_refuses_to_send(shop: Shop) -> None:
    set_option(shop.engine, "wp_", "active_plugins", 'a:1:{i:0;s:18:"booknetic/init.php";}')
    cid = shop.create()
    with pytest.raises(ProviderNotReady, match="not active: activate it"):
        shop.runtime.campaigns.send(None, cid)
    assert shop.runtime.campaigns.get(None, cid)["status"] == "draft"


def test_sends_run_concurrently(mshop: Shop) -> None:
    concurrency = mshop.runtime.settings.send_concurrency
    cid = mshop.create()
    mshop.runtime.campaigns.send(None, cid)
    # The fake holds every request: the run is concurrent iff SEND_CONCURRENCY of them
    # wait inside it at once (and never more).
    mshop.fake.hold()
    run = threading.Thread(target=mshop.runtime.outbox.run_queue)
    run.start()
    try:
        wait_for(lambda: mshop.fake.stats.held == concurrency,
                 what=f"{concurrency} requests in flight at once")
    finally:
        mshop.fake.release()
        run.join()
    assert mshop.fake.stats.max_in_flight == concurrency
    assert mshop.runtime.campaigns.get(None, cid)["status"] == "completed"


def test_shared_rate_limiter_spaces_slots_across_processes(sqlite_url: str) -> None:
    """Two limiters on one database (two processes) share one sender's slots: spaced by
    1 / (SHARE x RATE) in turn, never from before now; another sender has its own."""
    engine = make_engine(sqlite_url)
    migrate(engine, "wp_")
    now = [100.0]
    slept: list[float] = []
    one, two = (SharedRateLimiter(engine, sms_tables("wp_"), 50, clock=lambda: now[0],
                                  sleep=slept.append) for _ in range(2))
    for limiter in (one, two, one, two, one):
        limiter.acquire("AC1:+1500")
    step = 1 / (50 * SHARE)
    assert slept == pytest.approx([step, 2 * step, 3 * step, 4 * step], abs=1e-5)
    assert two.acquire("AC1:+1600") == 0  # another sender: its own row
    now[0] = 200.0  # idle meanwhile: no credit piled up, the next slot is now
    assert one.acquire("AC1:+1500") == 0
    assert SharedRateLimiter(engine, sms_tables("wp_"), 0).acquire("AC1:+1500") == 0
    # In blocks (a process's send threads): one round trip for three slots; a slot nobody
    # took within STALE seconds of its time is dropped, not used late.
    block = SharedRateLimiter(engine, sms_tables("wp_"), 50, block=3, clock=lambda: now[0],
                              sleep=slept.append)
    block.acquire("AC1:+1700")
    block.acquire("AC1:+1700")
    assert (block.stats.round_trips, block.stats.slots) == (1, 2)
    now[0] += 1.0
    assert block.acquire("AC1:+1700") == 0
    assert (block.stats.round_trips, block.stats.dropped) == (2, 1)
    engine.dispose()


def test_deleted_campaign_rows_go_with_it(shop: Shop) -> None:
    cid = shop.create()
    shop.runtime.campaigns.send(None, cid)
    shop.runtime.campaigns.pause(None, cid)
    shop.runtime.campaigns.delete(None, cid)
    r = shop.runtime.tables.recipients
    with shop.engine.begin() as conn:
        assert conn.execute(delete(r).where(r.c.campaign_id == cid)).rowcount == 0
