"""One batch, start to end (steps 1 to 3 of the row protocol in the package docstring).

Order of the decisions about one claimed row, each made only if the one before let it go on:
1. an earlier attempt with an unknown outcome is reconciled with the provider first, so a
   message that went out is logged as sent whatever else changed meanwhile;
2. suppression (DESIGN.md §5: checked again just before each send) and the frequency cap
   (DESIGN.md §11: read for the whole batch once it is claimed) — either skips the row;
3. the rate limiter, then the pause gate (gate.py) right before the provider is called;
4. quiet hours in the recipient's zone (DESIGN.md §11), decided at the instant of the
   request: outside its window (or under a minute of it left) the row is held, else the
   message carries the seconds left as its ValidityPeriod.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from ..config import Settings
from ..frequency_cap import cap_reason, capped_phones
from ..providers.base import Outcome, SendResult, SmsProvider
from ..quiet_hours import decide, held_reason
from ..sms_text import render
from .autopause import pause_on_error_rate
from .gate import SendGate
from .halts import Halts
from .recipient_rows import (
    Claimed,
    Held,
    QueuedCampaign,
    RecipientRows,
    Recorded,
    Skipped,
)
from .retry import DatabaseRetry, RetryStopped

logger = logging.getLogger(__name__)

SUPPRESSED = ("skipped: the number is on the suppression list (added after the campaign "
              "was sent)")


@dataclass
class BatchReport:
    """What some batches did; reports of batches, drains and runs add up with `add`."""

    claimed: int = 0
    sent: int = 0
    failed: int = 0
    retried: int = 0
    released: int = 0
    held: int = 0  # kept for their quiet-hours window
    skipped: int = 0  # not sent by policy
    halt: SendResult | None = None  # the configuration error that stopped all sending

    @property
    def halted(self) -> str:
        return self.halt.error if self.halt is not None else ""

    def add(self, other: BatchReport) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.failed += other.failed
        self.retried += other.retried
        self.released += other.released
        self.held += other.held
        self.skipped += other.skipped
        self.halt = self.halt or other.halt


@dataclass
class Claim:
    token: str
    at: int  # epoch seconds: the claim's `now`
    rows: list[Claimed]


class BatchSender:
    """Claims, sends and records batches for one Outbox. Thread-safe."""

    def __init__(self, rows: RecipientRows, halts: Halts, gate: SendGate, settings: Settings,
                 *, pace: Callable[[], None], clock: Callable[[], float],
                 retry: DatabaseRetry) -> None:
        self.rows, self.halts, self.gate, self.settings = rows, halts, gate, settings
        self.pace, self.clock, self.retry = pace, clock, retry

    def process(self, campaign: QueuedCampaign, provider: SmsProvider,
                stopping: Callable[[], bool], *, start: bool) -> BatchReport:
        """Claim a batch of `campaign` (with `start`, queued → sending), send it, record
        every outcome. Rows not attempted (paused, stopping, lease running short, halt)
        are released untouched with their attempt given back."""
        claim = self._claim(campaign.id, stopping, start)
        if not claim.rows:
            return BatchReport()
        results: dict[int, SendResult | Held | Skipped] = {}
        halt: SendResult | None = None
        deadline = claim.at + self.settings.lease_seconds
        try:
            capped = self._capped(campaign, claim)
            for row in claim.rows:
                # Never start a message that might outlive the lease on its row.
                if stopping() or self.clock() + self.settings.twilio_timeout + 5 > deadline:
                    break
                result = self._attempt(campaign, row, provider, claim.at, capped)
                if result is None:  # paused, finished or deleted meanwhile
                    break
                results[row.id] = result
                _log_result(campaign.id, row, result)
                if isinstance(result, SendResult) and result.outcome is Outcome.HALT:
                    halt = result
                    break
        finally:
            # Even when sending broke off: a live process never leaves its claims to the
            # lease. Results stay in memory until the database takes them.
            recorded = self._record(campaign, claim, results)
        if (recorded.failed or recorded.retried) and pause_on_error_rate(
                self.rows.engine, self.rows.tables, campaign.id, int(self.clock())):
            self.gate.paused_here()  # this process's other batches stop at once
        if halt is not None:
            try:
                self.retry.call("record a halt", partial(self.halts.record, campaign.id, halt))
            except RetryStopped:
                logger.error("closing before the halt was recorded",
                             extra={"campaign_id": campaign.id, "error": halt.error})
        return BatchReport(len(claim.rows), recorded.sent, recorded.failed, recorded.retried,
                           recorded.released, recorded.held, recorded.skipped, halt)

    def _capped(self, campaign: QueuedCampaign, claim: Claim) -> set[str]:
        """The batch's numbers that reached the frequency cap (one grouped read)."""
        if campaign.cap is None:
            return set()
        with self.rows.engine.connect() as conn:
            return capped_phones(conn, self.rows.tables, campaign.tenant_id,
                                 [row.phone for row in claim.rows], campaign.cap, claim.at)

    def _claim(self, campaign_id: int, stopping: Callable[[], bool], start: bool) -> Claim:
        # A claim whose connection broke may still have committed: such tokens are released
        # as soon as the database answers again, before claiming anew under a fresh token.
        unsure: list[tuple[str, int]] = []

        def attempt() -> Claim:
            for token, at in unsure:
                self.rows.release(token, at)
            unsure.clear()
            claim = Claim(uuid.uuid4().hex[:16], int(self.clock()), [])
            unsure.append((claim.token, claim.at))
            claim.rows = self.rows.claim(campaign_id, claim.token, claim.at, start=start)
            unsure.clear()
            return claim

        try:
            return self.retry.call("claim a batch", attempt, stopping)
        except RetryStopped:  # anything an unanswered claim took waits for its lease
            return Claim("", 0, [])

    def _attempt(self, campaign: QueuedCampaign, row: Claimed, provider: SmsProvider,
                 claimed_at: int, capped: set[str]) -> SendResult | Held | Skipped | None:
        """What happened to one row; None when it must not be attempted (released)."""
        body = render(campaign.body, first_name=row.first_name, last_name=row.last_name,
                      phone=row.phone)
        if row.unsure_since is not None and row.unsure_since < claimed_at:
            # An earlier attempt may have reached the provider: ask before deciding anything
            # else about the row, so a message that went out is never logged as not sent.
            try:
                found = provider.find_sent(row.phone, body, row.unsure_since)
            except Exception as exc:  # cannot tell: do not risk a duplicate now
                return SendResult(Outcome.UNKNOWN,
                                  error=f"could not check an earlier attempt: {exc}"[:500])
            if found:
                return SendResult(Outcome.SENT, message_id=found)
        if row.suppressed and campaign.exclude_suppressed:
            return Skipped(SUPPRESSED)
        if campaign.cap is not None and row.phone in capped:
            return Skipped(cap_reason(campaign.cap))
        self.pace()  # the rate limit
        if not self.gate.may_send(campaign.id):
            return None
        zone, zone_name = campaign.zone_for(row.timezone)
        now = int(self.clock())
        decision = decide(now, zone, campaign.quiet)
        if decision.hold_until is not None:
            return Held(decision.hold_until, held_reason(decision.hold_until, zone, zone_name))
        try:
            return provider.send(row.phone, body, validity_period=decision.validity)
        except Exception as exc:  # a provider bug must not lose the row
            logger.exception("provider raised")
            return SendResult(Outcome.UNKNOWN, error=f"unexpected error: {exc}"[:500])

    def _record(self, campaign: QueuedCampaign, claim: Claim,
                results: dict[int, SendResult | Held | Skipped]) -> Recorded:
        try:
            return self.retry.call("record a batch", lambda: self.rows.record(
                campaign, claim.rows, results, claim.token, claim.at))
        except RetryStopped:
            logger.error("closing with a batch not recorded; its rows wait for their lease "
                         "and are reconciled then", extra={"campaign_id": campaign.id,
                                                           "rows": len(claim.rows)})
            return Recorded(0, 0, 0, 0)


def _log_result(campaign_id: int, row: Claimed, result: SendResult | Held | Skipped) -> None:
    if isinstance(result, Skipped):
        logger.info("sms skipped", extra={"campaign_id": campaign_id, "recipient_id": row.id,
                                          "to": row.phone, "reason": result.reason})
        return
    if isinstance(result, Held):
        logger.info("sms held for quiet hours", extra={
            "campaign_id": campaign_id, "recipient_id": row.id, "to": row.phone,
            "until": result.until, "reason": result.reason})
        return
    extra = {"campaign_id": campaign_id, "recipient_id": row.id, "to": row.phone,
             "attempt": row.attempts, "outcome": result.outcome.value,
             "message_id": result.message_id, "error_code": result.error_code,
             "error": result.error}
    if result.ok:
        logger.debug("sms sent", extra=extra)
    else:
        logger.warning("sms not sent", extra=extra)
