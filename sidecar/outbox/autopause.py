"""Auto-pause on error rate (DESIGN.md §12): when 25% or more of a campaign's last 40
attempts failed, it is paused with a reason naming the most common error and its count.

An *attempt* is a recipient row whose last try reached a decision: `sent`, `failed`, or
`pending` with an error (a transient failure waiting for its retry). Each row counts once,
as its latest attempt, so the window is the 40 rows recorded most recently (by
`updated_at`, then id; read along the queue index, see `_last_attempts`). Rows still
claimed by a batch are not decided yet, and rows failed for being on the suppression list
never reached the provider: neither counts. Only rows recorded since the campaign last
started (`started_at`, set again by the first claim after a resume) count, so resuming
gives the campaign a fresh window instead of pausing it again at the next failure.

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
from typing import Any

from sqlalchemy import Engine, select

from ..campaigns import transition
from ..quiet_hours import HELD_PREFIX
from ..schema import SmsTables

logger = logging.getLogger(__name__)

WINDOW = 40
ERROR_THRESHOLD = WINDOW // 4  # 25% of the window
CANDIDATES = 2 * WINDOW  # rows read per status (see _last_attempts)
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


def _last_attempts(engine: Engine, tables: SmsTables, campaign_id: int) -> list[Any]:
    """The campaign's last WINDOW decided rows since it last started, newest first.

    Read along the queue index (campaign_id, status, next_attempt_at, id), never the whole
    campaign: rows are claimed in (next_attempt_at, id) order, so the rows decided last are
    the last ones of that order in each status — first attempts by id, retries by their
    due time after them. CANDIDATES per status are read that way and the newest WINDOW
    kept by updated_at; batches recorded out of claim order (SEND_CONCURRENCY, several
    processes) are within the candidates' margin.
    """
    r, c = tables.recipients, tables.campaigns
    with engine.connect() as conn:
        since = conn.execute(select(c.c.started_at).where(c.c.id == campaign_id)).scalar()
        rows: list[Any] = []
        for status in ("sent", "failed", "pending"):
            where = [r.c.campaign_id == campaign_id, r.c.status == status]
            if status == "pending":  # waiting for a retry; never-tried rows are due at 0
                where.append(r.c.next_attempt_at > 0)
            rows += conn.execute(
                select(r.c.id, r.c.status, r.c.last_error, r.c.updated_at, r.c.attempts,
                       r.c.claimed_by)
                .where(*where).order_by(r.c.next_attempt_at.desc(), r.c.id.desc())
                .limit(CANDIDATES)).all()
    decided = [
        x for x in rows
        if x.attempts > 0 and x.claimed_by is None and x.updated_at >= (since or 0)
        and (x.status != "pending" or x.last_error)
        # never reached the provider: suppressed at send time (rows of before revision 0006
        # are failed "skipped: …"), held for quiet hours
        and not str(x.last_error).startswith(("skipped", HELD_PREFIX))]
    decided.sort(key=lambda x: (x.updated_at, x.id), reverse=True)
    return decided[:WINDOW]


def _check(engine: Engine, tables: SmsTables, campaign_id: int, now: int) -> str | None:
    c = tables.campaigns
    last = _last_attempts(engine, tables, campaign_id)
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
