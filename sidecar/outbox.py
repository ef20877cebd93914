"""The send queue: claim, send, record, retry, finish (DESIGN.md §5).

Protocol for one recipient row (table `bkntc_sms_recipients`):

1. **Claim.** In a short transaction a batch of due rows (`status='pending'`,
   `next_attempt_at <= now`, no live lease) is taken with `FOR UPDATE SKIP LOCKED`
   (MySQL/MariaDB) or one `UPDATE … WHERE id IN (SELECT … LIMIT n)` (SQLite, which
   serialises writers), and stamped with our claim token, `lease_until = now + LEASE`,
   `attempts + 1`, and `unsure_since = COALESCE(unsure_since, now)`. Two processes can
   never hold the same row: the second one's claim skips it or sees the lease.
2. **Send** outside any transaction. Before each message the worker checks it can still
   finish inside its lease; if not, the rest of the batch is released untouched, so a row
   is never sent by a process whose lease may have run out.
3. **Record** in one transaction per batch: bulk UPDATEs guarded by `claimed_by = token`,
   and the campaign's counters moved by exactly the rows changed. Counters therefore always
   equal what the rows say, and progress reads one campaign row.

Crash safety: a process killed between 1 and 3 leaves rows with a lease that expires, so
they become claimable again, and `unsure_since` tells the next claimer the outcome is
unknown: it asks the provider whether a message with that body already went to that number
since then (`find_sent`) before sending. The only duplicate left is a provider that accepted
the message but does not list it yet when we ask — see the note on issue 3.
"""

from __future__ import annotations

import hashlib
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

from sqlalchemy import Engine, and_, delete, exists, func, or_, select, update

from .booknetic import Booknetic
from .campaigns import ACTIVE, TRANSITIONS, Status
from .config import Settings
from .db import LeaseLock, increment, insert_ignore, is_mysql, update_by_id, upsert
from .providers.base import Outcome, ProviderNotReady, SendResult, SmsProvider
from .providers.twilio import OPT_OUT_CODE, provider_from_status
from .schema import SmsTables
from .sms_text import render

logger = logging.getLogger(__name__)

QUEUE_LOCK = "queue-run"
# While sending a batch, how often to look whether the campaign was paused meanwhile.
STATUS_RECHECK_SECONDS = 0.5
HALT_KEY = "provider_halt"


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
class Claimed:
    id: int
    campaign_id: int
    tenant_id: int
    phone: str
    first_name: str
    last_name: str
    attempts: int
    unsure_since: int | None


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


@dataclass
class _Campaign:
    id: int
    tenant_id: int
    body: str
    exclude_suppressed: bool


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
        meta = self.tables.meta
        with self.engine.connect() as conn:
            raw = conn.execute(select(meta.c.value).where(meta.c.name == HALT_KEY)).scalar()
        if not raw:
            return None
        state = json.loads(raw)
        # A halt is about specific credentials: once an admin changes them, try again.
        if state.get("fingerprint") != self._fingerprint():
            self.clear_halt()
            return None
        return dict(state)

    def clear_halt(self) -> None:
        meta = self.tables.meta
        with self.engine.begin() as conn:
            conn.execute(delete(meta).where(meta.c.name == HALT_KEY))

    def _fingerprint(self) -> str:
        status = self.bk.twilio_status()
        return hashlib.sha256(
            f"{status.account_sid}\0{status.auth_token}\0{status.sender}".encode()
        ).hexdigest()[:16]

    def _record_halt(self, campaign_id: int, result: SendResult) -> None:
        now = int(self.clock())
        reason = (f"Sending stopped: {result.error}. Fix the Twilio settings in Booknetic "
                  "(Settings → Integrations → SMS Twilio), then resume the campaign.")
        state = {"reason": reason, "code": result.error_code, "at": now,
                 "fingerprint": self._fingerprint(), "campaign_id": campaign_id}
        c = self.tables.campaigns
        with self.engine.begin() as conn:
            upsert(conn, self.tables.meta,
                   [{"name": HALT_KEY, "value": json.dumps(state), "updated_at": now}],
                   key=["name"], update=["value", "updated_at"])
            conn.execute(
                update(c).where(c.c.id == campaign_id,
                                c.c.status.in_([s.value for s in TRANSITIONS["halt"][0]]))
                .values(status=Status.PAUSED.value, status_reason=reason[:500],
                        updated_at=now))
        logger.error("sending halted", extra={"campaign_id": campaign_id,
                                              "error_code": result.error_code,
                                              "error": result.error})

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

    def _active_campaigns(self, limit: int) -> list[_Campaign]:
        c = self.tables.campaigns
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.c.id, c.c.tenant_id, c.c.body, c.c.filters)
                .where(c.c.status.in_([s.value for s in ACTIVE]))
                .order_by(c.c.queued_at, c.c.id).limit(limit)
            ).all()
        return [_Campaign(int(r.id), int(r.tenant_id), str(r.body),
                          bool(json.loads(r.filters or "{}").get("exclude_suppressed", True)))
                for r in rows]

    def _load_campaign(self, campaign_id: int) -> _Campaign | None:
        c = self.tables.campaigns
        with self.engine.connect() as conn:
            row = conn.execute(
                select(c.c.id, c.c.tenant_id, c.c.body, c.c.filters, c.c.status)
                .where(c.c.id == campaign_id)).first()
        if row is None or row.status not in {s.value for s in ACTIVE}:
            return None
        return _Campaign(int(row.id), int(row.tenant_id), str(row.body),
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

    def process_batch(self, campaign: _Campaign, provider: SmsProvider,
                      stop: threading.Event, marked: threading.Event | None = None
                      ) -> BatchReport:
        token = uuid.uuid4().hex[:16]
        claimed_at = int(self.clock())
        rows = self.claim_batch(campaign.id, token, claimed_at)
        report = BatchReport(claimed=len(rows))
        if not rows:
            return report
        if marked is None or not marked.is_set():  # queued -> sending, once per drain
            self._mark_sending(campaign.id, claimed_at)
            if marked is not None:
                marked.set()
        suppressed = self._suppressed(campaign, rows)
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
            if row.phone in suppressed:
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
        self._record(campaign, rows, results, token, claimed_at, report)
        if report.halted:
            failed_row = next(r for r in rows if (res := results.get(r.id)) is not None
                              and res.outcome is Outcome.HALT)
            halt_result = results[failed_row.id]
            assert halt_result is not None
            self._record_halt(campaign.id, halt_result)
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

    def claim_batch(self, campaign_id: int, token: str, now: int) -> list[Claimed]:
        r = self.tables.recipients
        c = self.tables.campaigns
        due = and_(
            r.c.campaign_id == campaign_id,
            r.c.status == "pending",
            r.c.next_attempt_at <= now,
            or_(r.c.lease_until.is_(None), r.c.lease_until < now),
            # Pause takes effect at once: nothing is claimed for a campaign that stopped.
            exists().where(c.c.id == campaign_id,
                           c.c.status.in_([s.value for s in ACTIVE])),
        )
        claim_values = {
            "claimed_by": token,
            "lease_until": now + self.settings.lease_seconds,
            "attempts": r.c.attempts + 1,
            "unsure_since": func.coalesce(r.c.unsure_since, now),
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            if is_mysql(conn):
                # Ordered like the (campaign_id, status, next_attempt_at) index, so the
                # locking read touches only the rows it takes, not every row already sent.
                ids = conn.execute(
                    select(r.c.id).where(due).order_by(r.c.next_attempt_at, r.c.id)
                    .limit(self.settings.batch_size).with_for_update(skip_locked=True)
                ).scalars().all()
                if not ids:
                    return []
                conn.execute(update(r).where(r.c.id.in_(ids)).values(claim_values))
                mine = r.c.id.in_(ids)
            else:  # SQLite serialises writers: one UPDATE claims atomically
                chosen = (select(r.c.id).where(due).order_by(r.c.next_attempt_at, r.c.id)
                          .limit(self.settings.batch_size).scalar_subquery())
                conn.execute(update(r).where(r.c.id.in_(chosen)).values(claim_values))
                mine = and_(r.c.campaign_id == campaign_id, r.c.status == "pending")
            rows = conn.execute(
                select(r.c.id, r.c.campaign_id, r.c.tenant_id, r.c.phone, r.c.first_name,
                       r.c.last_name, r.c.attempts, r.c.unsure_since)
                .where(mine, r.c.claimed_by == token)
                .order_by(r.c.id)
            ).all()
        return [Claimed(int(x.id), int(x.campaign_id), int(x.tenant_id), str(x.phone),
                        str(x.first_name), str(x.last_name), int(x.attempts),
                        None if x.unsure_since is None else int(x.unsure_since))
                for x in rows]

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

    def _suppressed(self, campaign: _Campaign, rows: list[Claimed]) -> set[str]:
        """Suppression is checked again just before sending (DESIGN.md §5)."""
        if not campaign.exclude_suppressed:
            return set()
        s = self.tables.suppressions
        with self.engine.connect() as conn:
            return {str(p) for p in conn.execute(
                select(s.c.phone).where(s.c.tenant_id == campaign.tenant_id,
                                        s.c.phone.in_([row.phone for row in rows]))
            ).scalars()}

    def _record(self, campaign: _Campaign, rows: list[Claimed],
                results: dict[int, SendResult | None], token: str, claimed_at: int,
                report: BatchReport) -> None:
        """Write every outcome of a batch and move the counters, in one transaction."""
        now = int(self.clock())
        max_attempts = self.settings.max_attempts
        delays = self.settings.retry_delays
        sent: dict[int, dict[str, Any]] = {}
        failed: dict[int, dict[str, Any]] = {}
        retry: dict[int, dict[str, Any]] = {}
        release: dict[int, dict[str, Any]] = {}
        opted_out: list[str] = []
        for row in rows:
            result = results.get(row.id)
            if result is None or result.outcome is Outcome.HALT:
                # Not attempted (or not the recipient's fault): give the attempt back.
                # unsure_since older than this claim came from an earlier, unknown attempt.
                earlier = row.unsure_since is not None and row.unsure_since < claimed_at
                release[row.id] = {"attempts": max(row.attempts - 1, 0),
                                   "unsure_since": row.unsure_since if earlier else None}
                continue
            if result.outcome is Outcome.SENT:
                sent[row.id] = {"provider_message_id": result.message_id or ""}
                continue
            error = (result.error or result.outcome.value)[:500]
            retryable = result.outcome in (Outcome.TRANSIENT, Outcome.UNKNOWN)
            if retryable and row.attempts < max_attempts:
                delay = delays[min(row.attempts - 1, len(delays) - 1)]
                retry[row.id] = {
                    "next_attempt_at": now + delay, "last_error": error,
                    "error_code": result.error_code,
                    # An unknown outcome keeps unsure_since so the retry reconciles first.
                    "unsure_since": row.unsure_since if result.outcome is Outcome.UNKNOWN
                    else None,
                }
            else:
                if retryable:
                    error = f"gave up after {row.attempts} attempts: {error}"[:500]
                failed[row.id] = {"last_error": error, "error_code": result.error_code}
                if result.error_code == OPT_OUT_CODE:
                    opted_out.append(row.phone)

        r, c = self.tables.recipients, self.tables.campaigns
        mine = and_(r.c.claimed_by == token, r.c.status == "pending")
        done = {"lease_until": None, "claimed_by": None, "updated_at": now}
        with self.engine.begin() as conn:
            n_sent = update_by_id(conn, r, sent, {**done, "status": "sent", "sent_at": now,
                                                  "unsure_since": None, "last_error": "",
                                                  "error_code": None}, mine)
            n_failed = update_by_id(conn, r, failed, {**done, "status": "failed",
                                                      "unsure_since": None}, mine)
            report.retried = update_by_id(conn, r, retry, done, mine)
            report.released = update_by_id(conn, r, release, done, mine)
            if n_sent or n_failed:
                conn.execute(update(c).where(c.c.id == campaign.id).values(
                    sent=c.c.sent + n_sent, failed=c.c.failed + n_failed,
                    pending=c.c.pending - (n_sent + n_failed), updated_at=now))
                increment(conn, self.tables.daily,
                          {"tenant_id": campaign.tenant_id, "day": now // 86400},
                          {"sent": n_sent, "failed": n_failed})
            if opted_out:
                insert_ignore(conn, self.tables.suppressions, [
                    {"tenant_id": campaign.tenant_id, "phone": phone, "source": "opt_out",
                     "reason": "Replied STOP (Twilio error 21610)", "created_at": now}
                    for phone in opted_out])
        report.sent, report.failed = n_sent, n_failed

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

