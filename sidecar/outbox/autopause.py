"""Auto-pause on error rate (DESIGN.md §12): when 25% or more of a campaign's last 40
attempts failed, it is paused with a reason naming the most common error and its count.

An *attempt* is a recipient row whose last try reached a decision: `sent`, `failed`, or
`pending` with an error (a transient failure waiting for its retry). Each row counts once,
as its latest attempt, so the window is the 40 rows recorded most recently (by
`updated_at`, then id). Rows still claimed by a batch are not decided yet, and rows failed
for being on the suppression list never reached the provider: neither counts. Only rows
recorded since the campaign last started (`started_at`, set again by the first claim after a
resume) count, so resuming gives the campaign a fresh window instead of pausing it again at
the next failure.

"25% of the last 40" is read as at least ERROR_THRESHOLD (10) failures among them: a
campaign with fewer than 40 attempts so far pauses once 10 of them failed, and one with 9
failures of 12 goes on (every one of them is in the logs).

The check runs after a batch with at least one failure is recorded (batches.py), across
processes alike: it reads only the database, and the pause is the lifecycle's `autopause`
transition, so it happens once whoever sees the threshold first.
"""

from __future__ import annotations

import logging
import re
from collections import Counter

from sqlalchemy import Engine, and_, or_, select

from ..campaigns import transition
from ..schema import SmsTables

logger = logging.getLogger(__name__)

WINDOW = 40
ERROR_THRESHOLD = WINDOW // 4  # 25% of the window
_GAVE_UP = re.compile(r"^gave up after \d+ attempts: ")


def pause_on_error_rate(engine: Engine, tables: SmsTables, campaign_id: int,
                        now: int) -> str | None:
    """Pause the campaign (status_reason says why) when ERROR_THRESHOLD of its last WINDOW
    attempts failed; returns the reason when this call paused it, else None. Never raises:
    a failed check is logged and the next batch with a failure checks again."""
    try:
        return _check(engine, tables, campaign_id, now)
    except Exception:
        logger.exception("error-rate check failed", extra={"campaign_id": campaign_id})
        return None


def _check(engine: Engine, tables: SmsTables, campaign_id: int, now: int) -> str | None:
    r, c = tables.recipients, tables.campaigns
    since = select(c.c.started_at).where(c.c.id == campaign_id).scalar_subquery()
    decided = and_(
        r.c.campaign_id == campaign_id,
        r.c.attempts > 0,
        r.c.claimed_by.is_(None),
        r.c.updated_at >= since,
        or_(r.c.status.in_(["sent", "failed"]),
            and_(r.c.status == "pending", r.c.last_error != "")),
        # never reached the provider: suppressed at send time, held for quiet hours
        r.c.last_error.not_like("skipped%"), r.c.last_error.not_like("held until%"),
    )
    with engine.connect() as conn:
        last = conn.execute(
            select(r.c.status, r.c.last_error).where(decided)
            .order_by(r.c.updated_at.desc(), r.c.id.desc()).limit(WINDOW)).all()
    errors = Counter(_GAVE_UP.sub("", str(x.last_error)) or "unknown error"
                     for x in last if x.status != "sent")
    failed = sum(errors.values())
    if failed < ERROR_THRESHOLD:
        return None
    common, count = errors.most_common(1)[0]
    reason = (f"Paused automatically: {failed} of the last {len(last)} attempts failed; "
              f"the most common ({count} times): {common}. Check the logs, then resume.")
    with engine.begin() as conn:
        changed = transition(conn, c, "autopause", c.c.id == campaign_id, now=now,
                             values={"status_reason": reason[:500]})
    if not changed:  # paused, finished or auto-paused by someone else first
        return None
    logger.warning("campaign auto-paused", extra={"campaign_id": campaign_id,
                                                  "failed": failed, "window": len(last),
                                                  "common_error": common, "count": count})
    return reason
