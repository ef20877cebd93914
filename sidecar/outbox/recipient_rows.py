"""Steps 1 and 3 of the row protocol (see the package docstring): claiming a batch of
recipient rows, and recording what happened to them with the campaign's counters (a sent
row starts its delivery status there: step 4, delivery_rows.py)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from sqlalchemy import (
    Engine,
    Integer,
    Select,
    String,
    Update,
    and_,
    bindparam,
    case,
    exists,
    func,
    or_,
    select,
    update,
)

from ..campaigns import ACTIVE, transition
from ..config import Settings
from ..db import increment, is_mysql, update_by_id
from ..opt_outs import record_opt_outs
from ..providers.base import Outcome, SendResult, Suppress
from ..schema import SmsTables
from ..tenant_settings import FrequencyCap, QuietHours
from ..zones import UTC_ZONE, BusinessZone, zone_named
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
    timezone: str | None = None  # resolved at snapshot; None: the business zone


@dataclass
class QueuedCampaign:
    """What sending needs of an active campaign (loaded once per drain)."""

    id: int
    tenant_id: int
    body: str
    exclude_suppressed: bool
    # Quiet hours (DESIGN.md §11) as the tenant's settings say at this drain; None: off,
    # or a one-off SMS, to which they do not apply.
    quiet: QuietHours | None = None
    business: BusinessZone = UTC_ZONE
    is_campaign: bool = False  # not a test or one-off SMS
    cap: FrequencyCap | None = None  # the tenant's frequency cap at this drain

    def zone_for(self, name: str | None) -> tuple[tzinfo, str]:
        """The zone a recipient row's `timezone` means and its name (the business zone
        for NULL, or for a name this machine's zone database no longer knows)."""
        zone = zone_named(name) if name else None
        if zone is None or name is None:
            return self.business.zone, self.business.name
        return zone, name


@dataclass(frozen=True)
class Skipped:
    """A claimed row not sent by policy (suppressed at send time, frequency cap): status
    `skipped` with `reason`, its attempt given back, the campaign's `skipped` counter
    moved."""

    reason: str


@dataclass(frozen=True)
class Held:
    """A claimed row kept for later by quiet hours: released untouched (no attempt
    counted), due again at `until`, with `reason` as its last_error."""

    until: int
    reason: str


@dataclass(frozen=True)
class Recorded:
    """How many rows of a batch `record` moved to each state."""

    sent: int
    failed: int
    retried: int
    released: int
    held: int = 0
    skipped: int = 0


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
        q = self._claim_sql
        lease = now + self.settings.lease_seconds
        with self.engine.begin() as conn:
            if is_mysql(conn):
                taken = conn.execute(q.take, {"c_campaign": campaign_id, "c_now": now}).all()
                if not taken:
                    return []
                conn.execute(q.stamp_ids, {"c_ids": [x.id for x in taken], "c_now": now,
                                           "c_token": token, "c_lease": lease})
                # What the UPDATE wrote, from what was read: we hold these rows' locks.
                rows = [(x.id, x.phone, x.first_name, x.last_name, x.attempts + 1,
                         now if x.unsure_since is None else x.unsure_since, x.suppressed,
                         x.timezone)
                        for x in sorted(taken, key=lambda x: int(x.id))]
            else:  # SQLite serialises writers: one UPDATE claims atomically
                conn.execute(q.stamp_due, {"c_campaign": campaign_id, "c_now": now,
                                           "c_token": token, "c_lease": lease})
                rows = [tuple(x) for x in conn.execute(
                    q.read_mine, {"c_campaign": campaign_id, "c_token": token}).all()]
            if rows and start:
                c = self.tables.campaigns
                transition(conn, c, "start", c.c.id == campaign_id, now=now,
                           values={"started_at": now, "status_reason": ""})
        return [Claimed(int(i), str(phone), str(first), str(last), int(attempts),
                        None if unsure is None else int(unsure), bool(listed_now), zone)
                for i, phone, first, last, attempts, unsure, listed_now, zone in rows]

    @functools.cached_property
    def _claim_sql(self) -> _ClaimSql:
        return _ClaimSql.build(self.tables, self.settings.batch_size)

    def record(self, campaign: QueuedCampaign, rows: list[Claimed],
               results: Mapping[int, SendResult | Held | Skipped], token: str,
               claimed_at: int) -> Recorded:
        """Step 3: write every outcome of a batch and move the counters, in one transaction.
        A row without a result was not attempted: it is released with its attempt back; a
        held one too, due again when its window opens.
        Guarded by the claim token, so recording a batch twice changes nothing the second
        time."""
        now = int(self.clock())
        max_attempts = self.settings.max_attempts
        delays = self.settings.retry_delays
        sent: dict[int, str] = {}  # row id -> the provider's message id
        failed: dict[int, dict[str, Any]] = {}
        retry: dict[int, dict[str, Any]] = {}
        release: dict[int, dict[str, Any]] = {}
        suppress: dict[str, Suppress] = {}
        held: dict[int, dict[str, Any]] = {}
        skipped: dict[int, dict[str, Any]] = {}
        for row in rows:
            result = results.get(row.id)
            if isinstance(result, Skipped):
                skipped[row.id] = {"last_error": result.reason[:500],
                                   "attempts": max(row.attempts - 1, 0)}
                continue
            if result is None or isinstance(result, Held) or result.outcome is Outcome.HALT:
                # Not attempted (or not the recipient's fault): give the attempt back.
                # unsure_since older than this claim came from an earlier, unknown attempt.
                earlier = row.unsure_since is not None and row.unsure_since < claimed_at
                back = {"attempts": max(row.attempts - 1, 0),
                        "unsure_since": row.unsure_since if earlier else None}
                if isinstance(result, Held):
                    held[row.id] = {**back, "next_attempt_at": result.until,
                                    "last_error": result.reason[:500]}
                else:
                    release[row.id] = back
                continue
            if result.outcome is Outcome.SENT:
                sent[row.id] = result.message_id or ""
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
        sent_values = {**done, "status": "sent", "sent_at": now, "unsure_since": None,
                       "last_error": "", "error_code": None, "delivery_checks": 0}
        # Accepted, so queued at the provider; the poller asks 10 minutes on unless a
        # status callback says more first (step 4). Only the message id differs per row.
        tracked = {i: {"provider_message_id": m} for i, m in sent.items() if m}
        untracked = {i: {"provider_message_id": m} for i, m in sent.items() if not m}
        with self.engine.begin() as conn:
            n_sent = update_by_id(conn, r, tracked, {
                **sent_values, "delivery_status": "queued",
                "delivery_check_at": now + FIRST_CHECK}, mine)
            n_sent += update_by_id(conn, r, untracked, {
                **sent_values, "delivery_status": None, "delivery_check_at": None}, mine)
            n_failed = update_by_id(conn, r, failed, {**done, "status": "failed",
                                                      "unsure_since": None}, mine)
            retried = update_by_id(conn, r, retry, done, mine)
            released = update_by_id(conn, r, release, done, mine)
            n_held = update_by_id(conn, r, held, done, mine)
            n_skipped = update_by_id(conn, r, skipped, {**done, "status": "skipped",
                                                        "unsure_since": None}, mine)
            if n_sent or n_failed or n_skipped:
                conn.execute(update(c).where(c.c.id == campaign.id).values(
                    sent=c.c.sent + n_sent, failed=c.c.failed + n_failed,
                    skipped=c.c.skipped + n_skipped,
                    pending=c.c.pending - (n_sent + n_failed + n_skipped), updated_at=now))
                increment(conn, self.tables.daily,
                          {"tenant_id": campaign.tenant_id, "day": now // 86400},
                          {"sent": n_sent, "failed": n_failed})
            if n_sent:
                # Status callbacks that beat this transaction waited for these ids.
                self.deliveries.take_early_in(conn, [m for m in sent.values() if m], now)
            if suppress:
                record_opt_outs(conn, self.tables, campaign.tenant_id, suppress, now)
        return Recorded(n_sent, n_failed, retried, released, n_held, n_skipped)

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


@dataclass(frozen=True)
class _ClaimSql:
    """The claim's statements, built once with bind parameters: building a statement and
    its cache key on every claim cost more Python than running it.

    Parameters: c_campaign, c_now, c_token, c_lease (the claim's lease_until), c_ids.
    """

    take: Select[Any]  # MySQL: the due rows, locked, with what sending needs of them
    stamp_ids: Update  # MySQL: stamp the rows taken
    stamp_due: Update  # SQLite: take and stamp in one UPDATE
    read_mine: Select[Any]  # SQLite: the rows just stamped

    @classmethod
    def build(cls, tables: SmsTables, batch_size: int) -> _ClaimSql:
        r, c, s = tables.recipients, tables.campaigns, tables.suppressions
        campaign_id = bindparam("c_campaign", type_=Integer)
        now = bindparam("c_now", type_=Integer)
        token = bindparam("c_token", type_=String)
        due = and_(
            r.c.campaign_id == campaign_id,
            r.c.status == "pending",
            r.c.next_attempt_at <= now,
            or_(r.c.lease_until.is_(None), r.c.lease_until < now),
            # Pause takes effect at once: nothing is claimed for a campaign that stopped.
            exists().where(c.c.id == campaign_id, c.c.status.in_([x.value for x in ACTIVE])),
        )
        stamp = {
            "claimed_by": token,
            "lease_until": bindparam("c_lease", type_=Integer),
            "attempts": r.c.attempts + 1,
            "unsure_since": func.coalesce(r.c.unsure_since, now),
            "updated_at": now,
        }
        wanted = (r.c.id, r.c.phone, r.c.first_name, r.c.last_name, r.c.attempts,
                  r.c.unsure_since,
                  exists().where(s.c.tenant_id == r.c.tenant_id, s.c.phone == r.c.phone)
                  .label("suppressed"), r.c.timezone)
        # Ordered like the (campaign_id, status, next_attempt_at) index, so the locking
        # read touches only the rows it takes, not every row already sent. Under READ
        # COMMITTED its subqueries (suppressions, the campaign's status) are plain
        # consistent reads: they neither lock nor skip rows another transaction holds
        # (checked on MariaDB 10.11; MySQL documents the same), so one read brings the
        # rows and everything sending needs of them.
        first = (r.c.next_attempt_at, r.c.id)
        return cls(
            take=select(*wanted).where(due).order_by(*first).limit(batch_size)
            .with_for_update(skip_locked=True),
            stamp_ids=update(r).where(r.c.id.in_(bindparam("c_ids", expanding=True)))
            .values(stamp),
            stamp_due=update(r).where(r.c.id.in_(
                select(r.c.id).where(due).order_by(*first).limit(batch_size)
                .scalar_subquery())).values(stamp),
            read_mine=select(*wanted).where(r.c.campaign_id == campaign_id,
                                            r.c.status == "pending", r.c.claimed_by == token)
            .order_by(r.c.id),
        )
