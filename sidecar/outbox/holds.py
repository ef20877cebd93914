"""Quiet hours over many rows at once (DESIGN.md §11): the sweep each drain starts with.

A held row is `pending` with `next_attempt_at` at its next window start and `last_error`
"held until 09:00 America/Chicago" (quiet_hours.HELD_PREFIX). The sweep takes one UPDATE per
zone among a campaign's pending rows: in a zone now outside its window, the due rows are
held (so a campaign outside everybody's window is not claimed 25 rows at a time only to be
held); in a zone now inside it, held rows are due again at once — so turning quiet hours off
or widening them releases them at the next queue run. Rows waiting for a retry are left
alone. The per-message check in batches.py stays the authority at the instant of sending.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, and_, or_, select, update

from ..campaigns import transition
from ..quiet_hours import HELD_PREFIX, decide, held_reason, held_summary
from ..schema import SmsTables
from .recipient_rows import QueuedCampaign


def sweep(engine: Engine, tables: SmsTables, campaign: QueuedCampaign, now: int) -> int:
    """Hold the due rows of `campaign` that are outside their window at `now` and make the
    held rows that are inside it due; returns how many rows changed."""
    r = tables.recipients
    free = and_(r.c.campaign_id == campaign.id, r.c.status == "pending",
                or_(r.c.lease_until.is_(None), r.c.lease_until < now))
    held = r.c.last_error.startswith(HELD_PREFIX, autoescape=True)
    changed, held_now = 0, False
    with engine.begin() as conn:
        names = conn.execute(select(r.c.timezone).where(free).distinct()).scalars().all()
        for name in names:
            in_zone = r.c.timezone.is_(None) if name is None else r.c.timezone == name
            zone, label = campaign.zone_for(name)
            decision = decide(now, zone, campaign.quiet)
            if decision.hold_until is None:
                values: dict[str, Any] = {"next_attempt_at": now, "last_error": ""}
                which = and_(held, r.c.next_attempt_at > now)
            else:
                until = decision.hold_until
                values = {"next_attempt_at": until,
                          "last_error": held_reason(until, zone, label)}
                which = or_(r.c.next_attempt_at <= now,
                            and_(held, r.c.next_attempt_at != until))
            moved = int(conn.execute(update(r).where(free, in_zone, which)
                                     .values({**values, "updated_at": now})).rowcount or 0)
            changed += moved
            held_now = held_now or (moved > 0 and decision.hold_until is not None)
        if held_now:  # a campaign whose rows wait for their window is sending, not queued
            c = tables.campaigns
            transition(conn, c, "start", c.c.id == campaign.id, now=now,
                       values={"started_at": now, "status_reason": ""})
    return changed


def note_held(engine: Engine, tables: SmsTables, campaign: QueuedCampaign, now: int) -> None:
    """Say on the active campaign what quiet hours hold ("3 held until 09:00
    (America/Chicago); …", soonest first), or nothing once no row is held — so progress
    stays one read of the campaign row."""
    c = tables.campaigns
    with engine.begin() as conn:
        groups = held_summary(conn, tables.recipients, campaign.id, campaign.business)
        reason = "; ".join(g["text"] for g in groups)[:500]
        transition(conn, c, "wait", c.c.id == campaign.id, c.c.status_reason != reason,
                   now=now, values={"status_reason": reason})
