"""Step 4 of the row protocol (see the package docstring): a sent row's delivery status.

Every way a status arrives — a status callback, the poller, a callback that came early and
waited — goes through `apply_in()`: in one transaction it locks the rows of the message ids
(FOR UPDATE on MySQL/MariaDB), moves each only to a higher rank (queued < sent < the three
final statuses, which never change again), and moves the campaigns' `delivered` /
`undelivered` counters and the daily statistics (on the day the message was sent) by
exactly the rows it changed. A row that ends undelivered or failed with an error meaning
"never text this number" (30004, 30005, 30006, 21610) also puts the number on its tenant's
suppression list, source `provider` (sidecar/opt_outs.py), in the same transaction. A
repeated, late or out-of-order status changes nothing.

SQLite has no row locks, and its first read in a transaction takes no write lock: if
another writer changes one of the rows between the read and the guarded UPDATE, the UPDATE
matches fewer rows than decided, and the whole transaction is rolled back and run again.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete, or_, select
from sqlalchemy.exc import DBAPIError

from ..db import add_by_id, increment, insert_ignore, is_mysql, update_by_id
from ..opt_outs import suppress_all_from_provider
from ..providers.base import DeliveryStatus, DeliveryUpdate
from ..schema import SmsTables

logger = logging.getLogger(__name__)

FINAL = tuple(s for s in DeliveryStatus if s.final)
NOT_DELIVERED = (DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)  # "undelivered" counters
# Early statuses whose message never turned up (a test SMS, a campaign deleted meanwhile).
EARLY_KEPT_SECONDS = 3600
_ATTEMPTS = 5  # a transaction raced on SQLite, or chosen as a MySQL deadlock victim
_DEADLOCK_CODES = frozenset({1213, 1205})  # deadlock found, lock wait timeout


class _Raced(Exception):
    """Another writer changed a row between our read and our guarded UPDATE."""


@dataclass
class Applied:
    """What applying some updates did."""

    matched: int = 0  # recipient rows with those message ids
    changed: int = 0  # rows whose delivery status moved
    delivered: int = 0  # rows that became delivered
    undelivered: int = 0  # rows that became undelivered or failed
    unknown: list[str] = field(default_factory=list)  # message ids no row has

    def add(self, other: Applied) -> None:
        self.matched += other.matched
        self.changed += other.changed
        self.delivered += other.delivered
        self.undelivered += other.undelivered
        self.unknown += other.unknown


def _rank(status: str | None) -> int:
    return 0 if status is None else DeliveryStatus(status).rank


def latest_per_message(updates: Iterable[DeliveryUpdate]) -> dict[str, DeliveryUpdate]:
    """The update of each message that ranks highest (the first of equals: a final status
    that arrived first stays)."""
    latest: dict[str, DeliveryUpdate] = {}
    for update in updates:
        seen = latest.get(update.message_id)
        if seen is None or update.status.rank > seen.status.rank:
            latest[update.message_id] = update
    return latest


class DeliveryRows:
    """Applies delivery statuses to recipient rows and keeps the early ones."""

    def __init__(self, engine: Engine, tables: SmsTables,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine, self.tables, self.clock = engine, tables, clock

    def apply(self, updates: Sequence[DeliveryUpdate]) -> Applied:
        """Apply `updates` in a transaction of their own (see the module docstring)."""
        if not updates:
            return Applied()
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self.engine.begin() as conn:
                    return self.apply_in(conn, updates, int(self.clock()))
            except _Raced:
                logger.debug("delivery update raced another writer; again",
                             extra={"attempt": attempt})
            except DBAPIError as exc:
                code = getattr(exc.orig, "args", (None,))[0]
                if code not in _DEADLOCK_CODES or attempt == _ATTEMPTS:
                    raise
                logger.info("delivery update was a deadlock victim; again",
                            extra={"attempt": attempt})
        raise RuntimeError(f"delivery update raced other writers {_ATTEMPTS} times")

    def apply_in(self, conn: Connection, updates: Sequence[DeliveryUpdate],
                 now: int) -> Applied:
        """Apply `updates` inside the caller's transaction: rows only move forward, and the
        counters move by exactly the rows that moved, and numbers the provider refused are
        suppressed. `now` dates those suppression rows (the rows' own times come with each
        update)."""
        latest = latest_per_message(updates)
        r = self.tables.recipients
        query = (select(r.c.id, r.c.provider_message_id, r.c.delivery_status, r.c.campaign_id,
                        r.c.tenant_id, r.c.phone, r.c.sent_at)
                 .where(r.c.provider_message_id.in_(list(latest))).order_by(r.c.id))
        if is_mysql(conn):
            query = query.with_for_update()
        rows = conn.execute(query).all()
        found = {str(row.provider_message_id) for row in rows}
        result = Applied(matched=len(rows), unknown=[m for m in latest if m not in found])
        moves: dict[DeliveryStatus, dict[int, dict[str, Any]]] = defaultdict(dict)
        by_id = {int(row.id): row for row in rows}
        for row in rows:
            update = latest[str(row.provider_message_id)]
            if update.status.rank <= _rank(row.delivery_status):
                continue  # repeated, late or out of order: never backwards
            values: dict[str, Any] = {"delivery_status": update.status.value}
            if update.status is DeliveryStatus.DELIVERED:
                values["delivered_at"] = update.at
            elif update.status in NOT_DELIVERED:
                values["delivery_error_code"] = update.error_code
                values["delivery_error"] = update.error[:255]
            moves[update.status][int(row.id)] = values
        campaigns: dict[int, dict[str, int]] = defaultdict(lambda: {"delivered": 0,
                                                                     "undelivered": 0})
        days: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: {"delivered": 0,
                                                                           "undelivered": 0})
        refused: dict[int, dict[str, int | None]] = defaultdict(dict)  # tenant → phone → code
        for status, per_row in moves.items():
            lower = [s.value for s in DeliveryStatus if s.rank < status.rank]
            guard = or_(r.c.delivery_status.is_(None), r.c.delivery_status.in_(lower))
            # A final status ends the poller's schedule for the row.
            common = {"delivery_check_at": None} if status.final else {}
            if update_by_id(conn, r, per_row, common, guard) != len(per_row):
                raise _Raced
            result.changed += len(per_row)
            if not status.final:
                continue
            counter = "delivered" if status is DeliveryStatus.DELIVERED else "undelivered"
            for row_id in per_row:
                row = by_id[row_id]
                campaigns[int(row.campaign_id)][counter] += 1
                if row.sent_at is not None:
                    days[(int(row.tenant_id), int(row.sent_at) // 86400)][counter] += 1
                if status in NOT_DELIVERED:
                    refused[int(row.tenant_id)][str(row.phone)] = per_row[row_id][
                        "delivery_error_code"]
            setattr(result, counter, getattr(result, counter) + len(per_row))
        add_by_id(conn, self.tables.campaigns, dict(sorted(campaigns.items())))
        for (tenant_id, day), amounts in sorted(days.items()):
            increment(conn, self.tables.daily, {"tenant_id": tenant_id, "day": day}, amounts)
        # Only rows that moved just now: a repeated final status suppresses nothing again.
        for tenant_id, codes in sorted(refused.items()):
            suppress_all_from_provider(conn, self.tables, tenant_id, codes, now=now)
        return result

    # -- statuses that came before their row knew its message id ------------------------

    def hold_early(self, update: DeliveryUpdate) -> None:
        """Keep a status whose message id no row has yet (its batch is still sending)."""
        with self.engine.begin() as conn:
            insert_ignore(conn, self.tables.early_statuses, [{
                "message_sid": update.message_id, "status": update.status.value,
                "error_code": update.error_code, "error": update.error[:255],
                "received_at": update.at}])

    def take_early_in(self, conn: Connection, message_ids: list[str], now: int) -> Applied:
        """Inside the transaction that records a batch as sent: apply and forget the early
        statuses of its message ids (one indexed read when there are none)."""
        if not message_ids:
            return Applied()
        e = self.tables.early_statuses
        held = conn.execute(select(e).where(e.c.message_sid.in_(message_ids))).all()
        if not held:
            return Applied()
        applied = self.apply_in(conn, [
            DeliveryUpdate(str(h.message_sid), DeliveryStatus(h.status), int(h.received_at),
                           h.error_code, str(h.error)) for h in held], now)
        conn.execute(delete(e).where(e.c.message_sid.in_({str(h.message_sid) for h in held})))
        return applied

    def forget_early(self, message_ids: Iterable[str] | None = None, *,
                     older_than: int | None = None) -> int:
        """Drop early statuses of these message ids, or those received before `older_than`."""
        e = self.tables.early_statuses
        where = (e.c.message_sid.in_(list(message_ids)) if message_ids is not None
                 else e.c.received_at < (older_than or 0))
        with self.engine.begin() as conn:
            return int(conn.execute(delete(e).where(where)).rowcount or 0)
