"""Steps 1 and 3 of the row protocol (see the package docstring): claiming a batch of
recipient rows, and recording what happened to them with the campaign's counters (a sent
row starts its delivery status there: step 4, delivery_rows.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, case, exists, func, or_, select, update

from ..campaigns import ACTIVE, transition
from ..config import Settings
from ..db import increment, is_mysql, update_by_id
from ..opt_outs import record_opt_outs
from ..providers.base import Outcome, SendResult, Suppress
from ..schema import SmsTables
from .delivery_rows import DeliveryRows
from .poller import FIRST_CHECK


@dataclass
class Claimed:
    """A recipient row this process holds the lease on (names as snapshotted)."""

    id: int
    phone: str
    first_name: str
    last_name: str
    attempts: int
    unsure_since: int | None
    suppressed: bool = False  # on the tenant's suppression list at claim time


@dataclass
class QueuedCampaign:
    """What sending needs of an active campaign (loaded once per drain)."""

    id: int
    tenant_id: int
    body: str
    exclude_suppressed: bool


@dataclass(frozen=True)
class Recorded:
    """How many rows of a batch `record` moved to each state."""

    sent: int
    failed: int
    retried: int
    released: int


class RecipientRows:
    """Claims and records recipient rows for one database."""

    def __init__(self, engine: Engine, tables: SmsTables, settings: Settings,
                 clock: Callable[[], float], deliveries: DeliveryRows | None = None) -> None:
        self.engine, self.tables, self.settings, self.clock = engine, tables, settings, clock
        self.deliveries = deliveries or DeliveryRows(engine, tables, clock)

    def claim(self, campaign_id: int, token: str, now: int, *,
              start: bool = False) -> list[Claimed]:
        """Step 1: take up to BATCH_SIZE due rows of an active campaign for `token`; with
        `start`, a queued campaign becomes `sending` in the same transaction.

        Each row also says whether its phone is on the suppression list now: the list is
        checked again just before sending (DESIGN.md §5), in the same read.
        """
        r = self.tables.recipients
        c = self.tables.campaigns
        s = self.tables.suppressions
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
                select(r.c.id, r.c.phone, r.c.first_name, r.c.last_name, r.c.attempts,
                       r.c.unsure_since,
                       exists().where(s.c.tenant_id == r.c.tenant_id, s.c.phone == r.c.phone)
                       .label("suppressed"))
                .where(mine, r.c.claimed_by == token)
                .order_by(r.c.id)
            ).all()
            if rows and start:
                transition(conn, c, "start", c.c.id == campaign_id, now=now,
                           values={"started_at": now, "status_reason": ""})
        return [Claimed(int(x.id), str(x.phone), str(x.first_name), str(x.last_name),
                        int(x.attempts),
                        None if x.unsure_since is None else int(x.unsure_since),
                        bool(x.suppressed))
                for x in rows]

    def record(self, campaign: QueuedCampaign, rows: list[Claimed],
               results: Mapping[int, SendResult], token: str, claimed_at: int) -> Recorded:
        """Step 3: write every outcome of a batch and move the counters, in one transaction.
        A row without a result was not attempted: it is released with its attempt back.
        Guarded by the claim token, so recording a batch twice changes nothing the second
        time."""
        now = int(self.clock())
        max_attempts = self.settings.max_attempts
        delays = self.settings.retry_delays
        sent: dict[int, dict[str, Any]] = {}
        failed: dict[int, dict[str, Any]] = {}
        retry: dict[int, dict[str, Any]] = {}
        release: dict[int, dict[str, Any]] = {}
        suppress: dict[str, Suppress] = {}
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
                # Accepted, so queued at the provider; the poller asks 10 minutes on unless
                # a status callback says more first (step 4).
                message_id = result.message_id or ""
                sent[row.id] = {"provider_message_id": message_id,
                                "delivery_status": "queued" if message_id else None,
                                "delivery_check_at": now + FIRST_CHECK if message_id else None}
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
                if result.outcome is Outcome.OPTED_OUT:
                    suppress[row.phone] = result.suppress or Suppress("provider", error)

        r, c = self.tables.recipients, self.tables.campaigns
        mine = and_(r.c.claimed_by == token, r.c.status == "pending")
        done = {"lease_until": None, "claimed_by": None, "updated_at": now}
        with self.engine.begin() as conn:
            n_sent = update_by_id(conn, r, sent, {**done, "status": "sent", "sent_at": now,
                                                  "unsure_since": None, "last_error": "",
                                                  "error_code": None,
                                                  "delivery_checks": 0}, mine)
            n_failed = update_by_id(conn, r, failed, {**done, "status": "failed",
                                                      "unsure_since": None}, mine)
            retried = update_by_id(conn, r, retry, done, mine)
            released = update_by_id(conn, r, release, done, mine)
            if n_sent or n_failed:
                conn.execute(update(c).where(c.c.id == campaign.id).values(
                    sent=c.c.sent + n_sent, failed=c.c.failed + n_failed,
                    pending=c.c.pending - (n_sent + n_failed), updated_at=now))
                increment(conn, self.tables.daily,
                          {"tenant_id": campaign.tenant_id, "day": now // 86400},
                          {"sent": n_sent, "failed": n_failed})
            if n_sent:
                # Status callbacks that beat this transaction waited for these ids.
                self.deliveries.take_early_in(conn, [v["provider_message_id"] for v in
                                                     sent.values() if v["provider_message_id"]],
                                              now)
            if suppress:
                record_opt_outs(conn, self.tables, campaign.tenant_id, suppress, now)
        return Recorded(n_sent, n_failed, retried, released)

    def release(self, token: str, claimed_at: int) -> int:
        """Give back every row still claimed by `token` untouched (attempt returned), for a
        claim whose commit may have reached the database although its answer did not."""
        r = self.tables.recipients
        with self.engine.begin() as conn:
            return int(conn.execute(
                update(r).where(r.c.claimed_by == token, r.c.status == "pending").values(
                    claimed_by=None, lease_until=None,
                    attempts=case((r.c.attempts > 0, r.c.attempts - 1), else_=0),
                    # set by that claim (an earlier unknown attempt's is older): clear it
                    unsure_since=case((r.c.unsure_since >= claimed_at, None),
                                      else_=r.c.unsure_since),
                    updated_at=int(self.clock()))
            ).rowcount or 0)
