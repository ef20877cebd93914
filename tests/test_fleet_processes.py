"""Many senders (DESIGN.md §13) as real processes: campaign leases and the shared rate limit.

`bkntc-sms worker` processes run against the test MariaDB and one fake Twilio on the real
clock. Every wait ends when its condition holds; the timeouts are safety nets.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from sidecar.checks import fleet_check
from sidecar.outbox.fleet import Fleet
from sidecar.providers.fake_twilio import peak_in_window
from sidecar.runtime import Runtime
from tests.shop import Shop, open_shop
from tests.test_cli import check_lines, run_cli
from tests.test_engine_processes import WAIT, _real_clock_runtime, _spawn, _wait_finished
from tests.web_support import wait_for

CUSTOMERS = 400


@pytest.fixture
def fleet_shop(mysql_url: str, engine_for) -> Iterator[Shop]:
    shop = open_shop(mysql_url, engine_for(mysql_url), customers=CUSTOMERS,
                     fake_options={"clock": time.time})
    shop.fake.set_faults(latency=0.002)
    yield shop
    shop.runtime.outbox.close()
    shop.fake.stop()


def _leases(shop: Shop) -> dict[int, tuple[str, int, int]]:
    """campaign id -> (holder, taken_at, expires_at) as the leases table says now."""
    t = shop.runtime.tables.campaign_leases
    with shop.engine.connect() as conn:
        return {int(r.campaign_id): (str(r.holder), int(r.taken_at), int(r.expires_at))
                for r in conn.execute(select(t))}


def _pid(holder: str) -> int:
    return int(holder.split(":")[-2])


def _stop(processes: list[subprocess.Popen[str]]) -> None:
    for p in processes:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in processes:
        p.wait(timeout=WAIT)


def _assert_each_once(shop: Shop, runtime: Runtime, campaigns: dict[int, str]) -> None:
    """Every recipient row of each campaign sent exactly once (told apart by body)."""
    received = Counter((m.to, m.body.split(" ")[0]) for m in shop.fake.received())
    assert not {k: n for k, n in received.items() if n > 1}, "sent twice"
    for cid, word in campaigns.items():
        sent = {r["phone"] for r in shop.rows(cid) if r["status"] == "sent"}
        assert {to for to, w in received if w == word} == sent
        progress = shop.assert_counters_match_rows(cid)
        assert progress["pending"] == 0 and progress["sent"] == len(sent) > 0


@pytest.mark.slow
def test_three_processes_send_two_campaigns_at_once(fleet_shop: Shop) -> None:
    """Each campaign is leased by a different process while both are in flight; the third
    helps; every message goes out once and the counters equal the rows."""
    runtime = _real_clock_runtime(fleet_shop)
    words = {"Alpha": 0, "Bravo": 0}
    for word in words:
        words[word] = fleet_shop.create(body=f"{word} {{customer_first_name}}")
        runtime.campaigns.send(None, words[word])
    campaigns = {cid: word for word, cid in words.items()}
    # Every request waits at the fake until the leases are seen: no process can finish a
    # campaign before the others have started, however slowly they start.
    fleet_shop.fake.hold(after=0)
    extra = {"BKNTC_SMS_TWILIO_TIMEOUT": "25", "BKNTC_SMS_LEASE_SECONDS": "60"}
    workers = [_spawn(fleet_shop, "worker", extra=extra) for _ in range(3)]
    try:
        def both_leased() -> bool:
            assert all(p.poll() is None for p in workers), [p.communicate() for p in workers]
            live = {cid: h for cid, (h, _, exp) in _leases(fleet_shop).items()
                    if exp >= time.time()}
            return set(live) == set(campaigns) and len(set(live.values())) == 2
        wait_for(both_leased, timeout=WAIT, what="two processes leasing one campaign each")
        holders = {cid: h for cid, (h, _, _) in _leases(fleet_shop).items()}
        # `bkntc-sms check` lists the three live workers and the campaign each leases.
        fleet = check_lines(run_cli(fleet_shop.url, "check", "--json"))["processes"]
        assert fleet["ok"] and fleet["detail"].startswith("3 live: ")
        for cid, holder in holders.items():
            assert f"pid {_pid(holder)} (" in fleet["detail"]
            assert f"sending campaign(s) {cid}" in fleet["detail"]
        # Both are being sent at once: their send threads wait inside the fake.
        wait_for(lambda: fleet_shop.fake.stats.held >= 8, timeout=WAIT,
                 what="both holders' send threads inside a held request")
        assert all(runtime.campaigns.progress(None, cid)["status"] == "sending"
                   for cid in campaigns)
        fleet_shop.fake.release()
        for cid in campaigns:
            _wait_finished(runtime, cid)
    finally:
        fleet_shop.fake.release()
        _stop(workers)
    assert {_pid(h) for h in holders.values()} <= {p.pid for p in workers}
    assert len({_pid(h) for h in holders.values()}) == 2
    assert all(p.returncode == 0 for p in workers)
    _assert_each_once(fleet_shop, runtime, campaigns)
    runtime.outbox.close()


@pytest.mark.slow
def test_killed_holder_s_campaign_is_taken_over_after_the_ttl(fleet_shop: Shop) -> None:
    """SIGKILL of the process leasing a campaign mid-send: once the lease's TTL has passed
    another process takes the campaign, reconciles the rows the dead one held, and no
    message goes out twice."""
    runtime = _real_clock_runtime(fleet_shop)
    fleet_shop.fake.set_faults(latency=0.01)
    cid = fleet_shop.create(body="Alpha {customer_first_name}")
    runtime.campaigns.send(None, cid)
    short = {"BKNTC_SMS_LEASE_SECONDS": "12", "BKNTC_SMS_TWILIO_TIMEOUT": "2",
             "BKNTC_SMS_SEND_CONCURRENCY": "2"}
    victim = _spawn(fleet_shop, "worker", extra=short)
    successor = None
    try:
        wait_for(lambda: len(fleet_shop.fake.received()) >= 100 or victim.poll() is not None,
                 timeout=WAIT, what="the first worker to be sending")
        assert victim.poll() is None, victim.communicate()
        victim.send_signal(signal.SIGKILL)  # mid-batch: its lease and claims stay behind
        victim.wait(timeout=10)
        holder, _, expires = _leases(fleet_shop)[cid]
        assert _pid(holder) == victim.pid and expires > 0
        assert runtime.campaigns.progress(None, cid)["pending"] > 0
        # Nobody renews it now: wait until the TTL has run out, then start another worker.
        wait_for(lambda: time.time() > _leases(fleet_shop)[cid][2] + 1, timeout=WAIT,
                 what="the dead holder's lease to expire")
        successor = _spawn(fleet_shop, "worker", extra=short)
        _wait_finished(runtime, cid)
    finally:
        _stop([p for p in (victim, successor) if p is not None])
    holder, taken_at, _ = _leases(fleet_shop)[cid]
    assert successor is not None and _pid(holder) == successor.pid and taken_at >= expires
    _assert_each_once(fleet_shop, runtime, {cid: "Alpha"})
    runtime.outbox.close()


def test_leases_hand_out_free_campaigns_expire_and_check_lists_them(fleet_shop: Shop) -> None:
    """In process, on the shop's frozen clock: a campaign held by a live lease is not free
    (only helped with); once its TTL passes without renewal another process takes it; the
    check lists the processes and warns when their rates differ (the lowest wins)."""
    rt, clock = fleet_shop.runtime, fleet_shop.clock
    rates: list[float] = []
    a = Fleet(rt.engine, rt.tables, "host-a:101:aaaaaa", ttl=60, rate_per_second=50,
              clock=clock)
    b = Fleet(rt.engine, rt.tables, "host-b:202:bbbbbb", ttl=60, rate_per_second=30,
              clock=clock, on_rate=rates.append)
    first, second = fleet_shop.create(), fleet_shop.create()
    for cid in (first, second):
        rt.campaigns.send(None, cid)
    try:
        a.beat()  # registered once, no heartbeat thread: a process about to die
        b.beat()
        assert rates[-1] == 30  # the fleet's lowest, as b's heartbeat learns it
        assert a.take_free(exclude=set()) == first  # oldest queued first
        assert b.take_free(exclude=set()) == second  # first is held: the next one
        assert b.take_free(exclude={second}) is None and b.held_by_others(exclude=set()) == [
            first]
        result = fleet_check(rt.settings, rt.engine, now=int(clock()))
        assert result.ok and result.detail.startswith("2 live: ")
        assert "host-a pid 101 (" in result.detail and "rate 50/s" in result.detail
        assert f"sending campaign(s) {first}" in result.detail
        assert "WARNING" in result.detail and "the lowest (30/s)" in result.detail
        b.release(second)
        # a stops renewing (a dead process): its lease runs out after the TTL, not before.
        clock.advance(60)
        assert b.take_free(exclude={second}) is None
        clock.advance(1)
        assert b.take_free(exclude={second}) == first
        assert _leases(fleet_shop)[first][0] == "host-b:202:bbbbbb"
    finally:
        a.leave()
        b.leave()
    assert fleet_check(rt.settings, rt.engine, now=int(clock())).detail.startswith(
        "no process is running the queue")


def test_peak_in_window_counts_the_densest_interval() -> None:
    assert peak_in_window([], 5) == 0
    assert peak_in_window([0, 1, 2, 4.9, 5, 9.99, 10], 5) == 4
    assert peak_in_window([0, 5, 10], 5) == 1


RATE = 20  # per second, for the whole fleet


@pytest.mark.slow
def test_three_processes_share_one_rate_limit(fleet_shop: Shop) -> None:
    """DESIGN.md §13: RATE_PER_SECOND is one sender's limit across processes. Three workers
    (and Send's first batch in this process) configured with RATE send one campaign: the
    fake's own receive times never hold more than RATE x 5 x 1.05 in any 5-second window
    (each process alone pacing itself would allow three times that)."""
    limited = {"BKNTC_SMS_RATE_PER_SECOND": str(RATE)}
    runtime = _real_clock_runtime(fleet_shop, limited)
    cid = fleet_shop.create()
    runtime.campaigns.send(None, cid)
    workers = [_spawn(fleet_shop, "worker", extra=limited) for _ in range(3)]
    try:
        runtime.outbox.drain(cid, max_batches=1)  # Send's own first batch, beside them
        _wait_finished(runtime, cid)
    finally:
        _stop(workers)
    times = [m.received_at for m in fleet_shop.fake.received()]
    assert len(times) >= 300  # 15 s at RATE: many windows
    assert peak_in_window(times, 5.0) <= RATE * 5 * 1.05
    _assert_each_once(fleet_shop, runtime, {cid: "Hi"})
    runtime.outbox.close()


def test_a_test_sms_takes_a_slot_of_the_sender_s_shared_limit(mysql_url: str,
                                                             engine_for) -> None:
    """Every Messages POST counts (DESIGN.md §13), not only the queue's: a test SMS takes
    the next slot of its sender's row, and the row moves on by one slot."""
    shop = open_shop(mysql_url, engine_for(mysql_url), customers=5, kind="saas",
                     env={"BKNTC_SMS_RATE_PER_SECOND": "2",
                          "BKNTC_SMS_SEND_CONCURRENCY": "1"})  # one slot per reservation
    try:
        limiter = shop.runtime.outbox.limiter
        result = shop.runtime.oneoff.send_test(1, "+12025550188", "Hi")
        assert result["ok"] and len(shop.fake.received()) == 1
        assert limiter.stats.slots == 1
        t = shop.runtime.tables.rate_limits
        with shop.engine.connect() as conn:
            rows = conn.execute(select(t.c.sender, t.c.next_slot_us)).all()
        sid = shop.ds.options["bkntc_sms_account_sid"]
        assert [r.sender for r in rows] == [f"{sid}:+15005550006"]
        first = rows[0].next_slot_us
        shop.runtime.oneoff.send_test(1, "+12025550177", "Hi")
        with shop.engine.connect() as conn:
            second = conn.execute(select(t.c.next_slot_us)).scalar_one()
        assert limiter.stats.slots == 2 and second - first >= 1e6 / 2  # one slot on
    finally:
        shop.runtime.outbox.close()
        shop.fake.stop()
