"""Queue runs: lease active campaigns one at a time (fleet.py: the oldest one no live process
holds, else help with another's batches), drain each with up to SEND_CONCURRENCY batches in
flight, paced by the rate limit every process shares (rate_limit.py), then poll a few
delivery statuses (poller.py); `kick` starts them in the background (runner.py), `paused`
makes a pause take effect at once (gate.py)."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from ..booknetic import Booknetic
from ..campaigns import ACTIVE, finish_action, transition
from ..config import Settings
from ..metrics import SidecarMetrics
from ..providers.base import ProviderNotReady, SmsProvider
from ..providers.twilio import provider_from_status
from ..public_url import PublicUrls
from ..schema import SmsTables
from ..tenant_settings import SettingsService
from . import holds
from .batches import BatchReport, BatchSender
from .delivery_rows import DeliveryRows
from .fleet import Fleet, worker_id
from .gate import SETTLE_SECONDS, SendGate
from .halts import Halts
from .poller import DeliveryPoller, PollReport
from .rate_limit import PacedProvider, SharedRateLimiter
from .recipient_rows import QueuedCampaign, RecipientRows
from .retry import DatabaseRetry, RetryStopped
from .runner import Runner

logger = logging.getLogger(__name__)

ACTIVE_VALUES = [s.value for s in ACTIVE]
# Batches a process sends of a campaign another process leases before it looks again for a
# campaign nobody holds (per send thread).
HELP_BATCHES = 4



@dataclass
class RunReport(BatchReport):
    """What one queue run did (logged, and printed by `bkntc-sms tick`)."""

    ran: bool = True
    skipped_reason: str = ""
    campaigns: list[int] = field(default_factory=list)
    polled: PollReport | None = None  # the delivery statuses asked about after sending


class Outbox:
    """Runs the queue for one database. Thread-safe; one instance per process."""

    def __init__(self, engine: Engine, tables: SmsTables, booknetic: Booknetic,
                 settings: Settings, *, clock: Callable[[], float] = time.time,
                 provider_factory: Callable[[], SmsProvider] | None = None,
                 public_urls: PublicUrls | None = None) -> None:
        self.engine = engine
        self.tables = tables
        self.bk = booknetic
        self.settings = settings
        self.clock = clock
        self.worker = worker_id()
        # RATE_PER_SECOND is shared by every process through the database (rate_limit.py)
        self.limiter = SharedRateLimiter(engine, tables, settings.rate_per_second,
                                         block=settings.send_concurrency)
        self.metrics = SidecarMetrics()
        self.metrics.watch(engine, tables, self.limiter.stats, self.worker, clock)
        self.public_urls = public_urls or PublicUrls(settings, booknetic)
        self.deliveries = DeliveryRows(engine, tables, clock)
        self.rows = RecipientRows(engine, tables, settings, clock, self.deliveries)
        self.halts = Halts(engine, tables, booknetic, clock)
        self.tenant_settings = SettingsService(engine, tables, clock=clock)
        self.gate = SendGate(self._is_active)
        self._closing = threading.Event()
        self._retry = DatabaseRetry(self._closing)
        # No pacing here: every provider from `provider()` takes the shared limit's slot
        # inside its send, so each Messages POST of every path counts exactly once.
        self._batches = BatchSender(self.rows, self.halts, self.gate, settings,
                                    pace=lambda: None, clock=clock, retry=self._retry)
        self._provider_factory = provider_factory or self._twilio_provider
        self._pool = ThreadPoolExecutor(max_workers=settings.send_concurrency,
                                        thread_name_prefix="sms-send")
        self.poller = DeliveryPoller(engine, tables, self.deliveries, clock, pool=self._pool)
        self._runner = Runner(self._kicked_run)
        self._run_lock = threading.Lock()  # runs of one process never overlap either
        self.fleet = Fleet(engine, tables, self.worker, ttl=settings.lease_seconds,
                           rate_per_second=settings.rate_per_second, clock=clock,
                           on_rate=self.limiter.fleet_rate_is)
        # Called at the start of every queue run that can send: starts the scheduled
        # campaigns that are due (schedules.py; set by the runtime).
        self.before_run: Callable[[], object] | None = None
        # Work every queue run ends with, whether or not it could send (the attribution
        # refresh, DESIGN.md §12). Each must not raise.
        self.after_run: list[Callable[[], object]] = []

    # -- provider -----------------------------------------------------------------------

    def _twilio_provider(self) -> SmsProvider:
        # Status callbacks only when Twilio can reach us: a known public base URL.
        return provider_from_status(self.bk.twilio_status(),
                                    base_url=self.settings.twilio_base_url,
                                    timeout=self.settings.twilio_timeout,
                                    status_callback=self.public_urls.status_callback())

    def provider(self) -> SmsProvider:
        """The provider to send with now, its sends paced by the shared rate limit;
        raises ProviderNotReady with the fix to make."""
        return PacedProvider(self._provider_factory(), self.limiter, self.metrics)

    def halt_state(self) -> dict[str, Any] | None:
        """The configuration error that stopped all sending, if one is in force."""
        return self.halts.state()

    def clear_halt(self) -> None:
        self.halts.clear()

    # -- starting and stopping ----------------------------------------------------------

    def kick(self, campaign_id: int | None = None) -> bool:
        """Start sending in the background and return at once: one batch of `campaign_id`
        straight away (DESIGN.md §4), then a queue run. Kicks merge (runner.py); True when
        this one started a run, False when it joined one asked for or going."""
        return self._runner.kick(campaign_id)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no kicked run is asked for or going; False if `timeout` passed."""
        return self._runner.wait_idle(timeout)

    def paused(self, campaign_id: int) -> None:
        """Called once a pause of `campaign_id` is committed; returns when no process may
        start another of its messages (the argument is in gate.py)."""
        self.gate.paused_here()
        time.sleep(SETTLE_SECONDS)
        logger.info("campaign paused", extra={"campaign_id": campaign_id})

    def close(self) -> None:
        """Stop after the batches in flight (their outcomes are recorded) and let go."""
        self._closing.set()
        self._runner.close()
        self._pool.shutdown(wait=True)
        self.fleet.leave()

    def _kicked_run(self, first_batches: list[int]) -> None:
        for campaign_id in first_batches:
            try:
                self.drain(campaign_id, max_batches=1)
            except Exception:  # e.g. the add-on was switched off meanwhile: the run says so
                logger.exception("first batch failed", extra={"campaign_id": campaign_id})
        self.run_queue()

    # -- queue runs ---------------------------------------------------------------------

    def run_queue(self) -> RunReport:
        """One queue run: serve up to CAMPAIGNS_PER_TICK active campaigns, each under its
        campaign lease (or helping another process's), until none has a due recipient.
        Never raises: errors are logged and reported."""
        with self._run_lock:
            report = self._run_queue()
            for work in self.after_run:
                try:
                    work()
                except Exception:  # a scheduled job never lets an exception escape
                    logger.exception("after-run work failed")
        polled = report.polled
        if report.ran and (report.campaigns or (polled and (polled.due or polled.gave_up))):
            logger.info("queue run", extra={
                "campaigns": report.campaigns, "sent": report.sent, "failed": report.failed,
                "retried": report.retried, "halted": report.halted or None,
                "polled": polled.to_dict() if polled else None})
        elif not report.ran:
            logger.debug("queue run skipped", extra={"reason": report.skipped_reason})
        return report

    def _run_queue(self) -> RunReport:
        stop = threading.Event()
        try:
            self.fleet.join()  # registered (again) and renewing while this process lives
            return self._run_leased(stop)
        except Exception as exc:  # a scheduled job never lets an exception escape
            logger.exception("queue run failed")
            return RunReport(ran=False, skipped_reason=f"error: {exc}")

    def _run_leased(self, stop: threading.Event) -> RunReport:
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
        if self.before_run is not None:
            try:
                self._retry.call("start scheduled campaigns", self.before_run,
                                 lambda: self._stopping(stop))
            except RetryStopped:
                return report
        # Keep serving while there is due work, so a campaign queued during this run (or
        # retries falling due) do not wait for the next tick; stop when a pass sends nothing.
        # A run still serves at most CAMPAIGNS_PER_TICK distinct campaigns.
        swept: set[int] = set()  # held rows are re-checked once per run and campaign (§11)
        while not self._stopping(stop):
            progressed = self._serve_free(report, provider, stop, swept)
            if report.halt is None and not self._stopping(stop):
                progressed = self._help(report, provider, stop) or progressed
            if report.halt is not None:
                return report
            if not progressed:
                break
        if not self._stopping(stop):
            report.polled = self._poll(provider)
        return report

    def _room(self, report: RunReport) -> set[int] | None:
        """The campaigns this run may still serve: any (None) below CAMPAIGNS_PER_TICK,
        else only those it served already."""
        if len(report.campaigns) < self.settings.campaigns_per_tick:
            return None
        return set(report.campaigns)

    def _serve_free(self, report: RunReport, provider: SmsProvider,
                    stop: threading.Event, swept: set[int]) -> bool:
        """Lease and drain, one after another, the oldest campaigns no live process holds;
        True if any batch was claimed."""
        progressed = False
        tried: set[int] = set()
        while not self._stopping(stop) and report.halt is None:
            try:
                campaign_id = self._retry.call(
                    "take a campaign lease",
                    lambda: self.fleet.take_free(exclude=tried, only=self._room(report)),
                    lambda: self._stopping(stop))
            except RetryStopped:
                break
            if campaign_id is None:
                break
            tried.add(campaign_id)
            if campaign_id not in report.campaigns:
                report.campaigns.append(campaign_id)
            try:
                batch = self.drain(campaign_id, provider=provider, stop=stop,
                                   sweep_holds=campaign_id not in swept)
                swept.add(campaign_id)
            finally:
                with contextlib.suppress(Exception):  # else it expires after the TTL
                    self.fleet.release(campaign_id)
            report.add(batch)
            progressed = progressed or batch.claimed > 0
        return progressed

    def _help(self, report: RunReport, provider: SmsProvider,
              stop: threading.Event) -> bool:
        """No campaign is free: send a few batches of those other processes lease (batch
        claims are atomic, so helping never sends a row twice); True if any was claimed."""
        try:
            held = self._retry.call("list leased campaigns",
                                    lambda: self.fleet.held_by_others(exclude=set()),
                                    lambda: self._stopping(stop))
        except RetryStopped:
            return False
        room = self._room(report)
        progressed = False
        for campaign_id in held:
            if self._stopping(stop) or report.halt is not None:
                break
            if room is not None and campaign_id not in room:
                continue
            batch = self.drain(campaign_id, provider=provider, stop=stop,
                               max_batches=HELP_BATCHES * self.settings.send_concurrency)
            if batch.claimed and campaign_id not in report.campaigns:
                report.campaigns.append(campaign_id)
            report.add(batch)
            if batch.claimed:
                progressed = True
                break  # look for a free campaign again first
        return progressed

    def _poll(self, provider: SmsProvider, limit: int | None = None) -> PollReport | None:
        try:
            return self.poller.poll(provider, limit)
        except Exception:  # sending went fine; the next run polls again
            logger.exception("delivery poll failed")
            return None

    def poll_deliveries(self, limit: int | None = None) -> PollReport:
        """One delivery poll outside a queue run (`bkntc-sms deliveries poll`); raises
        ProviderNotReady when the provider cannot be asked."""
        return self.poller.poll(self.provider(), limit)

    def _load_campaign(self, campaign_id: int) -> QueuedCampaign | None:
        c = self.tables.campaigns
        with self.engine.connect() as conn:
            row = conn.execute(
                select(c.c.id, c.c.tenant_id, c.c.body, c.c.filters, c.c.status, c.c.kind)
                .where(c.c.id == campaign_id)).first()
        if row is None or row.status not in ACTIVE_VALUES:
            return None
        campaign = QueuedCampaign(int(row.id), int(row.tenant_id), str(row.body),
                                  bool(json.loads(row.filters or "{}")
                                       .get("exclude_suppressed", True)))
        if row.kind == "campaign":  # quiet hours are not for test or one-off SMS
            tenant = int(row.tenant_id) or None
            campaign.is_campaign = True
            chosen = self.tenant_settings.for_tenant(tenant)
            campaign.quiet, campaign.cap = chosen.quiet_hours, chosen.frequency_cap
            campaign.business = self.bk.business_zone(tenant)
        return campaign

    def _is_active(self, campaign_id: int) -> bool:
        c = self.tables.campaigns
        with self.engine.connect() as conn:
            status = conn.execute(select(c.c.status).where(c.c.id == campaign_id)).scalar()
        return status in ACTIVE_VALUES

    def _note_waiting(self, problem: str) -> None:
        """Show on every active campaign why nothing is being sent."""
        c = self.tables.campaigns
        with self.engine.begin() as conn:
            transition(conn, c, "wait", now=int(self.clock()),
                       values={"status_reason": f"Waiting: {problem}"[:500]})

    def _stopping(self, stop: threading.Event) -> bool:
        return stop.is_set() or self._closing.is_set()

    # -- one campaign -------------------------------------------------------------------

    def drain(self, campaign_id: int, *, provider: SmsProvider | None = None,
              max_batches: int | None = None,
              stop: threading.Event | None = None,
              sweep_holds: bool = True) -> BatchReport:
        """Send a campaign's due recipients with up to SEND_CONCURRENCY batches in flight
        (one batch at a time, in the calling thread, when `max_batches` is 1).

        Returns when no due row is left, after `max_batches`, on pause, or on a halt.
        """
        provider = provider or self.provider()
        stop = stop or threading.Event()
        total = BatchReport()
        # Loaded once: its body cannot change while it is active (edits need a pause), and
        # a pause stops the claims themselves.
        try:
            campaign = self._retry.call("load a campaign",
                                        lambda: self._load_campaign(campaign_id),
                                        lambda: self._stopping(stop))
        except RetryStopped:
            return total
        # Quiet hours over all rows (holds.py); not for Send's first batch, checked row by row.
        if campaign is not None and campaign.is_campaign and sweep_holds and not max_batches:
            with contextlib.suppress(RetryStopped):  # the per-row check still holds them
                self._retry.call("apply quiet hours", lambda: holds.sweep(
                    self.engine, self.tables, campaign, int(self.clock())),
                    lambda: self._stopping(stop))
        if campaign is not None:
            budget = None if max_batches is None else threading.Semaphore(max_batches)
            started = threading.Event()  # queued → sending, with the first claim

            def loop() -> BatchReport:
                mine = BatchReport()
                while not self._stopping(stop) and (budget is None
                                                    or budget.acquire(blocking=False)):
                    if max_batches is None:  # kicked meanwhile: their first batch now
                        mine.add(self._first_batches_meanwhile(provider, stop))
                    batch = self._batch(campaign, provider, stop, started)
                    mine.add(batch)
                    if batch.halt is not None:
                        stop.set()
                    if batch.halt is not None or batch.claimed == 0:
                        break
                return mine

            workers = self.settings.send_concurrency
            if max_batches is not None:
                workers = min(workers, max_batches)
            if workers == 1:
                total.add(loop())
            else:
                for future in [self._pool.submit(loop) for _ in range(workers)]:
                    total.add(future.result())
            if campaign.is_campaign:
                with contextlib.suppress(RetryStopped):  # the next drain says it
                    self._retry.call("note held rows", lambda: holds.note_held(
                        self.engine, self.tables, campaign, int(self.clock())),
                        lambda: self._stopping(stop))
        self._finish_if_done(campaign_id, stop)
        return total

    def _batch(self, campaign: QueuedCampaign, provider: SmsProvider,
               stop: threading.Event, started: threading.Event) -> BatchReport:
        batch = self._batches.process(campaign, provider, lambda: self._stopping(stop),
                                      start=not started.is_set())
        if batch.claimed:
            started.set()
        return batch

    def _first_batches_meanwhile(self, provider: SmsProvider,
                                 stop: threading.Event) -> BatchReport:
        report = BatchReport()
        while (campaign_id := self._runner.take_first_batch()) is not None:
            report.add(self.drain(campaign_id, provider=provider, max_batches=1, stop=stop))
        return report

    def _finish_if_done(self, campaign_id: int, stop: threading.Event) -> None:
        """queued/sending → completed (≥1 sent) or failed, once nothing is pending."""
        with contextlib.suppress(RetryStopped):  # the next run finishes it
            self._retry.call("finish a campaign", lambda: self._finish(campaign_id),
                             lambda: self._stopping(stop))

    def _finish(self, campaign_id: int) -> None:
        c = self.tables.campaigns
        now = int(self.clock())
        with self.engine.begin() as conn:
            row = conn.execute(select(c.c.sent, c.c.failed, c.c.pending)
                               .where(c.c.id == campaign_id)).first()
            if row is None or row.pending > 0:
                return
            action = finish_action(row.sent)
            reason = "" if action == "complete" else (
                f"None of the {row.failed} messages could be sent; see the logs for why.")
            changed = transition(conn, c, action, c.c.id == campaign_id, c.c.pending == 0,
                                 now=now, values={"status_reason": reason, "finished_at": now})
        if changed:
            logger.info("campaign finished", extra={"campaign_id": campaign_id,
                                                    "action": action, "sent": row.sent,
                                                    "failed": row.failed})
