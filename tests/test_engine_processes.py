"""Several real sidecar processes against one MariaDB: exactly-once sending, crash recovery.

These start `bkntc-sms worker`, `tick` and `campaigns send` as separate OS processes, the
way an operator would run them on one or several machines, next to in-process drains that
bypass the queue lock, all sending to one fake Twilio.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sidecar.config import Settings
from sidecar.providers.fake_twilio import DeliveryRules
from sidecar.runtime import Runtime
from tests.shop import Shop, open_shop
from tests.web_support import wait_for

ROOT = Path(__file__).resolve().parent.parent
RECIPIENTS = 2000
# Real processes on the real clock. A claim's lease must outlast a batch by far even on a
# busy machine (else a live process's claim could be taken over and sent twice); the kill
# test waits for it to run out. Every wait is a safety net that ends when its condition
# holds.
LEASE = "30"
TWILIO_TIMEOUT = "5"
WAIT = 300


def _spawn(shop: Shop, *args: str, extra: dict[str, str] | None = None
           ) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BKNTC_SMS_")}
    env.update(shop.env)
    env.update({"BKNTC_SMS_TICK_SECONDS": "1", "BKNTC_SMS_TWILIO_TIMEOUT": TWILIO_TIMEOUT,
                "BKNTC_SMS_LEASE_SECONDS": LEASE, "BKNTC_SMS_RETRY_DELAYS": "1,1",
                "BKNTC_SMS_SEND_CONCURRENCY": "4"})
    env.update(extra or {})
    return subprocess.Popen([sys.executable, "-m", "sidecar", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def big_shop(mysql_url: str, engine_for) -> Iterator[Shop]:
    # The fake dates messages by the real clock too: reconciliation compares those dates
    # with the processes' own.
    shop = open_shop(mysql_url, engine_for(mysql_url), customers=2400,
                     fake_options={"clock": time.time})
    # Only valid, distinct numbers are snapshotted; make sure the campaign is big enough.
    shop.fake.set_faults(latency=0.002)
    yield shop
    shop.runtime.outbox.close()
    shop.fake.stop()


def _real_clock_runtime(shop: Shop, extra: dict[str, str] | None = None) -> Runtime:
    """Subprocesses use the real clock; so must the test's own services here."""
    settings = Settings.from_env({**shop.env, "BKNTC_SMS_LEASE_SECONDS": LEASE,
                                  "BKNTC_SMS_TWILIO_TIMEOUT": TWILIO_TIMEOUT, **(extra or {})})
    return Runtime.build(settings, engine=shop.engine)


def _wait_finished(runtime: Runtime, campaign_id: int, timeout: float = WAIT) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        progress = runtime.campaigns.progress(None, campaign_id)
        if progress["status"] in ("completed", "failed"):
            return progress
        time.sleep(0.25)
    raise AssertionError(f"campaign not finished after {timeout} s: {progress}")


def _assert_exactly_once(shop: Shop, runtime: Runtime, campaign_id: int) -> None:
    counts = shop.received_to()
    duplicates = {p: n for p, n in counts.items() if n > 1}
    assert not duplicates, f"sent twice: {duplicates}"
    sent_rows = {r["phone"] for r in shop.rows(campaign_id) if r["status"] == "sent"}
    assert set(counts) == sent_rows
    progress = runtime.campaigns.progress(None, campaign_id)
    assert progress["pending"] == 0
    assert progress["sent"] == len(sent_rows) and progress["sent"] >= RECIPIENTS - 10
    shop.assert_counters_match_rows(campaign_id)


@pytest.mark.slow
def test_many_processes_send_every_recipient_exactly_once(big_shop: Shop) -> None:
    runtime = _real_clock_runtime(big_shop)
    cid = big_shop.create()
    assert runtime.campaigns.get(None, cid)["status"] == "draft"
    workers = [_spawn(big_shop, "worker") for _ in range(3)]
    try:
        sends = [_spawn(big_shop, "campaigns", "send", str(cid)) for _ in range(3)]
        results = [(p.wait(timeout=WAIT), p.stderr.read() if p.stderr else "") for p in sends]
        assert sorted(code for code, _ in results) == [0, 1, 1], results
        assert sum("already" in err for _, err in results) == 2, results
        total = runtime.campaigns.get(None, cid)["total"]
        assert total >= RECIPIENTS
        # Concurrent ticks and in-process drains (which ignore the queue lock) compete for
        # the same rows as the workers: only the atomic claims keep them apart.
        stop = threading.Event()

        def drain_loop() -> None:
            while not stop.is_set():
                runtime.outbox.drain(cid)
                time.sleep(0.05)

        drains = [threading.Thread(target=drain_loop) for _ in range(2)]
        for t in drains:
            t.start()
        ticks = [_spawn(big_shop, "tick") for _ in range(3)]
        for p in ticks:
            assert p.wait(timeout=WAIT) == 0
        _wait_finished(runtime, cid)
        stop.set()
        for t in drains:
            t.join()
    finally:
        for p in workers:
            p.send_signal(signal.SIGTERM)
        for p in workers:
            p.wait(timeout=WAIT)
    assert all(p.returncode == 0 for p in workers)
    _assert_exactly_once(big_shop, runtime, cid)
    runtime.outbox.close()


@pytest.mark.slow
def test_worker_killed_mid_campaign_loses_nobody(big_shop: Shop) -> None:
    runtime = _real_clock_runtime(big_shop)
    big_shop.fake.set_faults(latency=0.01)
    cid = big_shop.create()
    runtime.campaigns.send(None, cid)
    victim = _spawn(big_shop, "worker", extra={"BKNTC_SMS_SEND_CONCURRENCY": "2"})
    try:
        deadline = time.monotonic() + WAIT
        while len(big_shop.fake.received()) < 300 and time.monotonic() < deadline:
            assert victim.poll() is None, victim.communicate()
            time.sleep(0.05)
        assert len(big_shop.fake.received()) >= 300, "the worker did not get going"
        victim.send_signal(signal.SIGKILL)  # mid-batch: claimed rows keep their lease
        victim.wait(timeout=10)
        before = runtime.campaigns.progress(None, cid)
        assert before["status"] == "sending" and before["pending"] > 0
        successor = _spawn(big_shop, "worker")
        try:
            _wait_finished(runtime, cid)
        finally:
            successor.send_signal(signal.SIGTERM)
            successor.wait(timeout=WAIT)
    finally:
        if victim.poll() is None:
            victim.kill()
    _assert_exactly_once(big_shop, runtime, cid)
    runtime.outbox.close()


@pytest.mark.slow
def test_sigkill_while_twilio_holds_messages_queued_costs_no_duplicate(big_shop: Shop) -> None:
    """Issue 14 item 6: the worker dies inside two sends that Twilio then accepts and holds
    queued (no date_sent). The successor finds both by number and creation date: 0
    duplicates."""
    runtime = _real_clock_runtime(big_shop)
    big_shop.fake.delivery = DeliveryRules(queued_for=3600)  # nothing leaves the queue
    cid = big_shop.create()
    runtime.campaigns.send(None, cid)
    big_shop.fake.hold(after=300)
    victim = _spawn(big_shop, "worker", extra={"BKNTC_SMS_SEND_CONCURRENCY": "2"})
    try:
        wait_for(lambda: big_shop.fake.stats.held == 2 or victim.poll() is not None,
                 timeout=WAIT, what="both sending threads inside a held request")
        assert victim.poll() is None, victim.communicate()
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        big_shop.fake.release()  # Twilio accepts the two messages whose sender died
        wait_for(lambda: len(big_shop.fake.received()) == 302, timeout=60,
                 what="the two held messages to be stored")
        held = big_shop.fake.received()[300:]
        assert [(m.status, m.date_sent) for m in held] == [("queued", None)] * 2
        rows = {r["phone"]: r for r in big_shop.rows(cid)}
        assert all(rows[m.to]["status"] == "pending" for m in held)
        successor = _spawn(big_shop, "worker")
        try:
            _wait_finished(runtime, cid)
        finally:
            successor.send_signal(signal.SIGTERM)
            successor.wait(timeout=WAIT)
    finally:
        if victim.poll() is None:
            victim.kill()
    _assert_exactly_once(big_shop, runtime, cid)
    rows = {r["phone"]: r for r in big_shop.rows(cid)}
    assert [(rows[m.to]["status"], rows[m.to]["provider_message_id"]) for m in held] == [
        ("sent", m.sid) for m in held]
    runtime.outbox.close()


@pytest.mark.slow
def test_pause_in_this_process_stops_a_worker_in_another(big_shop: Shop) -> None:
    """DESIGN.md §13: after pause returns, at most SEND_CONCURRENCY messages of the worker
    process (those already inside a call to Twilio) still go out; the rest is released."""
    runtime = _real_clock_runtime(big_shop)
    big_shop.fake.set_faults(latency=0.05)
    cid = big_shop.create()
    runtime.campaigns.send(None, cid)
    worker = _spawn(big_shop, "worker")  # SEND_CONCURRENCY=4
    try:
        # Mid-batch (4 threads x 25 rows), not at a batch boundary where the claims stop.
        wait_for(lambda: len(big_shop.fake.received()) >= 60, timeout=60,
                 what="the worker to be sending")
        runtime.campaigns.pause(None, cid)
        at_return = len(big_shop.fake.received())
        # The worker records or releases every batch it holds; then nothing is claimed.
        wait_for(lambda: all(r["claimed_by"] is None for r in big_shop.rows(cid)),
                 timeout=60, what="the worker to let go of its claims")
        assert len(big_shop.fake.received()) - at_return <= 4
        pending = [r for r in big_shop.rows(cid) if r["status"] == "pending"]
        assert pending and {r["attempts"] for r in pending} == {0}
        assert runtime.campaigns.progress(None, cid)["status"] == "paused"
        big_shop.assert_counters_match_rows(cid)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)
        runtime.close()
