"""The delivery poller (DESIGN.md §10): asks the provider what became of messages whose
status callback never came (lost, or a site Twilio cannot reach).

Each sent row carries its next check time (`delivery_check_at`): 10 minutes after sending,
then 20, 40, … minutes after each check (at most 6 hours apart), until 72 hours after
sending; a final status ends the schedule. A poll takes at most POLL_BATCH due rows —
rescheduling them in the same statement, so a second poller skips them — fetches their
status (GETs: no rate-limit slot, DESIGN.md §13) and applies what it learns through the
same forward-only update as a callback (step 4, delivery_rows.py). Every queue run polls
once; `bkntc-sms deliveries poll` too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Engine, and_, select, update

from ..db import is_mysql, update_by_id
from ..providers.base import DeliveryUpdate, SmsProvider
from ..schema import SmsTables
from .delivery_rows import EARLY_KEPT_SECONDS, DeliveryRows

logger = logging.getLogger(__name__)

POLL_BATCH = 50  # rows asked about per poll (each one GET to the provider)
FIRST_CHECK = 600  # seconds after sending
BACKOFF_CAP = 6 * 3600  # the longest wait between two checks
GIVE_UP_AFTER = 72 * 3600  # seconds after sending: no more checks
_STALE_CHUNK = 1000  # rows past GIVE_UP_AFTER dropped from the schedule per poll


def next_check(sent_at: int, checks_made: int, now: int) -> int | None:
    """When to ask again after `checks_made` checks (the first one is FIRST_CHECK after
    sending): twice the last wait, at most BACKOFF_CAP; None once that is past
    GIVE_UP_AFTER from sending."""
    at = now + min(FIRST_CHECK * 2 ** min(checks_made, 16), BACKOFF_CAP)
    return at if at <= sent_at + GIVE_UP_AFTER else None


@dataclass
class PollReport:
    """What one poll did (queue-run log line, `bkntc-sms deliveries poll --json`)."""

    due: int = 0  # rows taken (due, not final, sent 10 min to 72 h ago)
    checked: int = 0  # of those, the provider answered with a status we track
    changed: int = 0  # rows whose delivery status moved
    delivered: int = 0
    undelivered: int = 0  # undelivered or failed
    errors: int = 0  # the provider could not be asked (tried again later)
    gave_up: int = 0  # rows 72 h old without a final status, dropped from the schedule

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class DeliveryPoller:
    """Polls one database's due rows through a provider. Thread-safe."""

    def __init__(self, engine: Engine, tables: SmsTables, deliveries: DeliveryRows,
                 clock: Callable[[], float] = time.time, *, pool: Executor | None = None,
                 batch: int = POLL_BATCH) -> None:
        self.engine, self.tables, self.deliveries = engine, tables, deliveries
        self.clock, self.pool, self.batch = clock, pool, batch

    def poll(self, provider: SmsProvider, limit: int | None = None) -> PollReport:
        """One poll: drop rows past 72 h, take up to `limit` (POLL_BATCH) due rows, ask the
        provider about each (concurrently on the pool) and apply the answers."""
        now = int(self.clock())
        report = PollReport(gave_up=self._give_up(now))
        self.deliveries.forget_early(older_than=now - EARLY_KEPT_SECONDS)
        due = self._take_due(now, self.batch if limit is None else limit)
        report.due = len(due)
        if not due:
            return report

        def ask(message_id: str) -> DeliveryUpdate | Exception | None:
            try:
                return provider.fetch_status(message_id)
            except Exception as exc:  # noted and tried again at the next check
                return exc

        answers = list(self.pool.map(ask, due) if self.pool else map(ask, due))
        updates: list[DeliveryUpdate] = []
        for message_id, answer in zip(due, answers, strict=True):
            if isinstance(answer, Exception):
                report.errors += 1
                logger.warning("delivery status fetch failed",
                               extra={"message_id": message_id, "error": str(answer)[:300]})
            elif answer is not None:
                updates.append(answer)
        report.checked = len(updates)
        applied = self.deliveries.apply(updates)
        report.changed, report.delivered = applied.changed, applied.delivered
        report.undelivered = applied.undelivered
        return report

    def due_count(self) -> int:
        """Rows waiting for a check now (for `deliveries poll`'s report)."""
        from sqlalchemy import func

        r, now = self.tables.recipients, int(self.clock())
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(r).where(
                r.c.delivery_check_at <= now, r.c.sent_at >= now - GIVE_UP_AFTER)).scalar_one())

    def _give_up(self, now: int) -> int:
        """Unschedule due rows sent more than GIVE_UP_AFTER ago (a service that was down,
        rows sent before delivery tracking existed), a chunk at a time."""
        r = self.tables.recipients
        stale = and_(r.c.delivery_check_at <= now, r.c.sent_at < now - GIVE_UP_AFTER)
        with self.engine.begin() as conn:
            ids = conn.execute(select(r.c.id).where(stale).order_by(r.c.delivery_check_at)
                               .limit(_STALE_CHUNK)).scalars().all()
            if not ids:
                return 0
            return int(conn.execute(update(r).where(r.c.id.in_(ids), stale)
                                    .values(delivery_check_at=None)).rowcount or 0)

    def _take_due(self, now: int, limit: int) -> list[str]:
        """The message ids of up to `limit` due rows, each rescheduled to its next check
        in the same transaction (SKIP LOCKED on MySQL: concurrent polls take other rows)."""
        r = self.tables.recipients
        due = and_(r.c.delivery_check_at <= now, r.c.sent_at >= now - GIVE_UP_AFTER,
                   r.c.provider_message_id.is_not(None))
        query = (select(r.c.id, r.c.provider_message_id, r.c.sent_at, r.c.delivery_checks)
                 .where(due).order_by(r.c.delivery_check_at, r.c.id).limit(max(limit, 0)))
        with self.engine.begin() as conn:
            if is_mysql(conn):
                query = query.with_for_update(skip_locked=True)
            rows = conn.execute(query).all()
            if not rows:
                return []
            per_row: dict[int, dict[str, Any]] = {
                int(x.id): {"delivery_checks": min(int(x.delivery_checks) + 1, 32767),
                            "delivery_check_at": next_check(int(x.sent_at),
                                                            int(x.delivery_checks) + 1, now)}
                for x in rows}
            # Guarded by "still due": on SQLite a poll racing this one takes fewer rows.
            update_by_id(conn, r, per_row, {}, r.c.delivery_check_at <= now)
        return [str(x.provider_message_id) for x in rows]
