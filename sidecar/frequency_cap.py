"""Frequency cap (DESIGN.md §11): a number that already received `max` campaign messages of
this tenant in the last `days` days is skipped — at snapshot, and again at send time (so a
message another campaign sent in between counts).

What counts: recipient rows of this tenant with the same normalised number, status `sent`,
`sent_at >= now - days * 86400`, of campaigns (not one-off SMS; holdout rows are never
`sent`). One grouped statement answers it for a whole snapshot or batch, on the
(tenant_id, phone, sent_at) index; nothing is counted per message.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, and_, exists, func, select, update

from .schema import SmsTables
from .tenant_settings import FrequencyCap

DAY = 86400
CHUNK = 1000


def cap_reason(cap: FrequencyCap) -> str:
    """A capped row's `last_error`: "frequency cap: 2 in 7 days"."""
    return f"frequency cap: {cap.max} in {cap.days} days"


def capped_phones(conn: Connection, tables: SmsTables, tenant_key: int,
                  phones: Collection[str], cap: FrequencyCap, now: int) -> set[str]:
    """The numbers among `phones` that reached the cap by `now`."""
    r, c = tables.recipients, tables.campaigns
    found: set[str] = set()
    wanted = sorted(set(phones))
    for at in range(0, len(wanted), CHUNK):
        found.update(conn.execute(
            select(r.c.phone)
            .where(r.c.tenant_id == tenant_key, r.c.phone.in_(wanted[at:at + CHUNK]),
                   r.c.status == "sent", r.c.sent_at >= now - cap.days * DAY,
                   exists().where(c.c.id == r.c.campaign_id, c.c.kind == "campaign"))
            .group_by(r.c.phone).having(func.count() >= cap.max)).scalars())
    return found


def skip_capped_at_snapshot(conn: Connection, tables: SmsTables, campaign_id: int,
                            tenant_key: int, cap: FrequencyCap | None, now: int) -> int:
    """Mark the snapshotted rows of `campaign_id` whose number reached the cap `skipped`,
    with the reason; returns how many (the caller moves the counters in the same
    transaction)."""
    if cap is None:
        return 0
    r = tables.recipients
    phones = conn.execute(select(r.c.phone).where(r.c.campaign_id == campaign_id)).scalars()
    capped = sorted(capped_phones(conn, tables, tenant_key, list(phones), cap, now))
    skipped = 0
    for at in range(0, len(capped), CHUNK):
        skipped += int(conn.execute(update(r).where(and_(
            r.c.campaign_id == campaign_id, r.c.status == "pending",
            r.c.phone.in_(capped[at:at + CHUNK]))).values(
            status="skipped", last_error=cap_reason(cap), updated_at=now)).rowcount or 0)
    return skipped
