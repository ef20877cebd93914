"""Queue runs: under a database lease lock, drain active campaigns with up to
SEND_CONCURRENCY batches in flight, paced by a rate limiter (step 2 of the protocol)."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select, update

from ..booknetic import Booknetic
from ..campaigns import ACTIVE, Status
from ..config import Settings
from ..db import LeaseLock
from ..providers.base import Outcome, ProviderNotReady, SendResult, SmsProvider
from ..providers.twilio import provider_from_status
from ..schema import SmsTables
from ..sms_text import render
from .halts import Halts
from .recipient_rows import Claimed, QueuedCampaign, RecipientRows

logger = logging.getLogger(__name__)

QUEUE_LOCK = "queue-run"
# While sending a batch, how often to look whether the campaign was paused meanwhile.
STATUS_RECHECK_SECONDS = 0.5


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class RateLimiter:
    """At most `rate` acquisitions per second across threads, evenly spaced (no bursts).

    Each caller reserves the next free slot and sleeps until it; 0 disables the limit.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = self.clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            self.sleep(slot - now)


@dataclass
class RunReport:
    """What one queue run did (logged, and printed by `bkntc-sms tick`)."""

    ran: bool = True
    skipped_reason: str = ""
    campaigns: list[int] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    retried: int = 0
    halted: str = ""

    def add(self, other: BatchReport) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.retried += other.retried
        self.halted = self.halted or other.halted


@dataclass
class BatchReport:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    released: int = 0
    halted: str = ""


class Outbox:
    """Runs the queue for one database. Thread-safe; one instance per process."""

    def __init__(self, engine: Engine, tables: SmsTables, booknetic: Booknetic,
                 settings: Settings, *, clock: Callable[[], float] = time.time,
                 provider_factory: Callable[[], SmsProvider] | None = None) -> None:
        self.engine = engine
        self.tables = tables
        self.bk = booknetic
        self.settings = settings
        self.clock = clock
        self.worker = worker_id()
        self.limiter = RateLimiter(settings.rate_per_second)
        self.rows = RecipientRows(engine, tables, settings, clock)
        self.halts = Halts(engine, tables, booknetic, clock)
        self._provider_factory = provider_factory or self._twilio_provider
        self._pool = ThreadPoolExecutor(max_workers=settings.send_concurrency,
                                        thread_name_prefix="sms-send")

    # -- provider -----------------------------------------------------------------------

    def _twilio_provider(self) -> SmsProvider:
        return provider_from_status(self.bk.twilio_status(),
                                    base_url=self.settings.twilio_base_url,
                                    timeout=self.settings.twilio_timeout)

    def provider(self) -> SmsProvider:
        """The provider to send with now; raises ProviderNotReady with the fix to make."""
        return self._provider_factory()

    def halt_state(self) -> dict[str, Any] | None:
        """The configuration error that stopped all sending, if one is in force."""
        return self.halts.state()

    def clear_halt(self) -> None:
        self.halts.clear()

    # -- queue runs ---------------------------------------------------------------------

    def run_queue(self) -> RunReport:
        """One queue run: under the database lock, serve up to N active campaigns until
        none has a due recipient. Never raises: errors are logged and reported."""
        lock = LeaseLock(self.engine, self.tables.locks, QUEUE_LOCK, self.worker,
                         ttl=self.settings.lease_seconds, clock=self.clock)
        if not lock.acquire():
            return RunReport(ran=False, skipped_reason=f"another process ({lock.holder_now()}) "
                                                       "is running the queue")
        stop = threading.Event()
        heartbeat = threading.Thread(target=self._heartbeat, args=(lock, stop), daemon=True)
        heartbeat.start()
        try:
            return self._run_locked(stop)
        except Exception as exc:  # a scheduled job never lets an exception escape
            logger.exception("queue run failed")
            return RunReport(ran=False, skipped_reason=f"error: {exc}")
        finally:
            stop.set()
            heartbeat.join(timeout=5)
            lock.release()

    def _heartbeat(self, lock: LeaseLock, stop: threading.Event) -> None:
        while not stop.wait(lock.ttl / 4):
            if not lock.renew():
                logger.error("lost the queue lock; stopping this run")
                stop.set()

    def _run_locked(self, stop: threading.Event) -> RunReport:
        report = RunReport()
        if self.halt_state() is not None:
            report.ran, report.skipped_reason = False, "sending is halted (see status)"
            return report
        try:
            provider = self.provider()
        except ProviderNotReady as exc:
            self._note_waiting(str(exc))
            report.ran, report.skipped_reason = False, str(exc)
            return report
        # Keep serving while there is due work, so a campaign queued during this run (or
        # retries falling due) do not wait for the next tick; stop when a pass sends nothing.
        # A run still serves at most CAMPAIGNS_PER_TICK distinct campaigns.
        limit = self.settings.campaigns_per_tick
        while not stop.is_set():
            progressed = False
            for campaign in self._active_campaigns(limit + len(report.campaigns)):
                if stop.is_set():
                    break
                if campaign.id not in report.campaigns:
                    if len(report.campaigns) >= limit:
                        continue
                    report.campaigns.append(campaign.id)
                batch = self.drain(campaign.id, provider=provider, stop=stop)
                report.add(batch)
                progressed = progressed or batch.claimed > 0
                if report.halted:
                    return report
            if not progressed:
                break
        return report

    def _active_campaigns(self, limit: int) -> list[QueuedCampaign]:
        c = self.tables.campaigns
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.c.id, c.c.tenant_id, c.c.body, c.c.filters)
                .where(c.c.status.in_([s.value for s in ACTIVE]))
                .order_by(c.c.queued_at, c.c.id).limit(limit)
            ).all()
        return [QueuedCampaign(int(r.id), int(r.tenant_id), str(r.body),
                          bool(json.loads(r.filters or "{}").get("exclude_suppressed", True)))
                for r in rows]

    def _load_campaign(self, campaign_id: int) -> QueuedCampaign | None:
        c = self.tables.campaigns
        with self.engine.connect() as conn:
            row = conn.execute(
                select(c.c.id, c.c.tenant_id, c.c.body, c.c.filters, c.c.status)
                .where(c.c.id == campaign_id)).first()
        if row is None or row.status not in {s.value for s in ACTIVE}:
            return None
        return QueuedCampaign(int(row.id), int(row.tenant_id), str(row.body),
                         bool(json.loads(row.filters or "{}").get("exclude_suppressed", True)))

    def _note_waiting(self, problem: str) -> None:
        """Show on every active campaign why nothing is being sent."""
        c = self.tables.campaigns
        with self.engine.begin() as conn:
            conn.execute(update(c).where(c.c.status.in_([s.value for s in ACTIVE]))
                         .values(status_reason=f"Waiting: {problem}"[:500]))

    def drain(self, campaign_id: int, *, provider: SmsProvider | None = None,
              max_batches: int | None = None,
              stop: threading.Event | None = None) -> BatchReport:
        """Send a campaign's due recipients with up to SEND_CONCURRENCY batches in flight.

        Returns when no due row is left, after `max_batches`, on pause, or on a halt.
        """
        provider = provider or self.provider()
        stop = stop or threading.Event()
        total = BatchReport()
        budget = [max_batches]
        guard = threading.Lock()

        def take_budget() -> bool:
            with guard:
                if budget[0] is None:
                    return True
                if budget[0] <= 0:
                    return False
                budget[0] -= 1
                return True

        # Loaded once: its body cannot change while it is active (edits need a pause), and
        # a pause stops the claims themselves.
        campaign = self._load_campaign(campaign_id)
        if campaign is None:  # paused, finished or deleted meanwhile
            self._finish_if_done(campaign_id)
            return total
        marked = threading.Event()

        def loop() -> BatchReport:
            mine = BatchReport()
            while not stop.is_set() and take_budget():
                batch = self.process_batch(campaign, provider, stop, marked)
                for name in ("claimed", "sent", "failed", "retried", "released"):
                    setattr(mine, name, getattr(mine, name) + getattr(batch, name))
                if batch.halted:
                    mine.halted = batch.halted
                    stop.set()
                    break
                if batch.claimed == 0:
                    break
            return mine

        workers = 1 if max_batches == 1 else self.settings.send_concurrency
        futures = [self._pool.submit(loop) for _ in range(workers)]
        for future in futures:
            part = future.result()
            for name in ("claimed", "sent", "failed", "retried", "released"):
                setattr(total, name, getattr(total, name) + getattr(part, name))
            total.halted = total.halted or part.halted
        self._finish_if_done(campaign_id)
        return total

    # -- one batch ----------------------------------------------------------------------

    def process_batch(self, campaign: QueuedCampaign, provider: SmsProvider,
                      stop: threading.Event, marked: threading.Event | None = None
                      ) -> BatchReport:
        token = uuid.uuid4().hex[:16]
        claimed_at = int(self.clock())
        rows = self.rows.claim(campaign.id, token, claimed_at)
        report = BatchReport(claimed=len(rows))
        if not rows:
            return report
        if marked is None or not marked.is_set():  # queued -> sending, once per drain
            self._mark_sending(campaign.id, claimed_at)
            if marked is not None:
                marked.set()
        results: dict[int, SendResult | None] = {}
        deadline = claimed_at + self.settings.lease_seconds
        checked = time.monotonic()
        for index, row in enumerate(rows):
            paused = False
            if time.monotonic() - checked > STATUS_RECHECK_SECONDS:
                checked = time.monotonic()
                # Paused (or deleted) mid-batch: release the rest untouched.
                paused = not self._is_active(campaign.id)
            if (paused or stop.is_set()
                    or self.clock() + self.settings.twilio_timeout + 5 > deadline):
                for rest in rows[index:]:
                    results[rest.id] = None  # released untouched
                break
            if row.suppressed and campaign.exclude_suppressed:
                results[row.id] = SendResult(
                    Outcome.PERMANENT,
                    error="skipped: the number is on the suppression list (added after the "
                          "campaign was sent)")
                continue
            body = render(campaign.body, first_name=row.first_name, last_name=row.last_name,
                          phone=row.phone)
            result = self._send_one(provider, row, body, claimed_at)
            results[row.id] = result
            self._log_result(campaign.id, row, result)
            if result.outcome is Outcome.HALT:
                for rest in rows[index + 1:]:
                    results[rest.id] = None
                report.halted = result.error
                break
        recorded = self.rows.record(campaign, rows, results, token, claimed_at)
        report.sent, report.failed = recorded.sent, recorded.failed
        report.retried, report.released = recorded.retried, recorded.released
        if report.halted:
            failed_row = next(r for r in rows if (res := results.get(r.id)) is not None
                              and res.outcome is Outcome.HALT)
            halt_result = results[failed_row.id]
            assert halt_result is not None
            self.halts.record(campaign.id, halt_result)
        return report

    def _send_one(self, provider: SmsProvider, row: Claimed, body: str,
                  claimed_at: int) -> SendResult:
        if row.unsure_since is not None and row.unsure_since < claimed_at:
            # A previous attempt may have reached the provider: ask before sending again.
            try:
                found = provider.find_sent(row.phone, body, row.unsure_since)
            except Exception as exc:  # cannot tell: do not risk a duplicate now
                return SendResult(Outcome.UNKNOWN,
                                  error=f"could not check an earlier attempt: {exc}"[:500])
            if found:
                return SendResult(Outcome.SENT, message_id=found)
        self.limiter.acquire()
        try:
            return provider.send(row.phone, body)
        except Exception as exc:  # a provider bug must not lose the row
            logger.exception("provider raised")
            return SendResult(Outcome.UNKNOWN, error=f"unexpected error: {exc}"[:500])

    def _log_result(self, campaign_id: int, row: Claimed, result: SendResult) -> None:
        extra = {"campaign_id": campaign_id, "recipient_id": row.id, "to": row.phone,
                 "attempt": row.attempts, "outcome": result.outcome.value,
                 "message_id": result.message_id, "error_code": result.error_code,
                 "error": result.error}
        if result.ok:
            logger.debug("sms sent", extra=extra)
        else:
            logger.warning("sms not sent", extra=extra)

    def _is_active(self, campaign_id: int) -> bool:
        c = self.tables.campaigns
        with self.engine.connect() as conn:
            status = conn.execute(select(c.c.status).where(c.c.id == campaign_id)).scalar()
        return status in {s.value for s in ACTIVE}

    def _mark_sending(self, campaign_id: int, now: int) -> None:
        c = self.tables.campaigns
        with self.engine.begin() as conn:
            conn.execute(update(c).where(c.c.id == campaign_id,
                                         c.c.status == Status.QUEUED.value)
                         .values(status=Status.SENDING.value, started_at=now,
                                 status_reason="", updated_at=now))

    def _finish_if_done(self, campaign_id: int) -> None:
        """queued/sending → completed (≥1 sent) or failed, once nothing is pending."""
        c = self.tables.campaigns
        now = int(self.clock())
        with self.engine.begin() as conn:
            row = conn.execute(select(c.c.sent, c.c.failed, c.c.pending, c.c.status)
                               .where(c.c.id == campaign_id)).first()
            if row is None or row.pending > 0 or row.status not in {s.value for s in ACTIVE}:
                return
            final = Status.COMPLETED if row.sent > 0 else Status.FAILED
            reason = "" if final is Status.COMPLETED else (
                f"None of the {row.failed} messages could be sent; see the logs for why.")
            conn.execute(update(c).where(c.c.id == campaign_id, c.c.pending == 0,
                                         c.c.status.in_([s.value for s in ACTIVE]))
                         .values(status=final.value, status_reason=reason,
                                 finished_at=now, updated_at=now))
        logger.info("campaign finished", extra={"campaign_id": campaign_id,
                                                "status": final.value, "sent": row.sent,
                                                "failed": row.failed})

    def close(self) -> None:
        self._pool.shutdown(wait=True)
