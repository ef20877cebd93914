"""Keeping the phones table fresh off the request path (issue 17, item 4).

A preview only reads `bkntc_sms_phones` as the last phone check left it: the check scans a
tenant's customers (about 0.3 s for 100,000), which made previews 1.1-2.4x slower than the
segment statement alone. The worker runs `keep_phones_fresh` every UPKEEP_SECONDS for every
tenant; a campaign snapshot still checks first (CampaignService.send), and its check counts
as fresh for everybody. The start time of the last check of each tenant and region is in
the meta table, so whichever process checked, every process knows how old the phones are,
and a preview whose phones are older than STALE_AFTER_SECONDS says so on the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..delivery_log import iso
from .service import SegmentService

logger = logging.getLogger(__name__)

# How often the worker checks each tenant's phones (a check of an unchanged tenant is one
# aggregate over its rows; only changed numbers are parsed).
UPKEEP_SECONDS = 20
# A preview whose phones were last checked longer ago than this says how old they are.
STALE_AFTER_SECONDS = 60


def keep_phones_fresh(segments: SegmentService, *, max_age: float = UPKEEP_SECONDS) -> int:
    """Check the phones of every tenant (each with its current default region) whose
    last check, by any process, started `max_age` s ago or more; returns how many phone
    rows changed. A tenant that fails is logged and the others still get their check."""
    bk = segments.bk
    tenants: list[int | None] = [None]
    if bk.multi_tenant:
        tenants += bk.tenant_ids()
    changed = 0
    for tenant in tenants:
        try:
            changed += segments.refresh_phones(tenant, segments.region(tenant),
                                               max_age=max_age)
        except Exception:  # a scheduled job never lets an exception escape
            logger.exception("phone check failed", extra={"tenant_id": tenant})
    if changed:
        logger.info("phones refreshed", extra={"changed": changed, "tenants": len(tenants)})
    return changed


def phones_note(checked_at: int | None, now: int, *,
                show: Callable[[int], str] = iso) -> str:
    """What a preview page says about the age of the phone numbers it read: nothing while
    they were checked within STALE_AFTER_SECONDS, else when (`show`: the pages pass their
    business-timezone formatter)."""
    if checked_at is None:
        return ("Phone numbers have not been checked against Booknetic yet; the worker "
                "checks them within a minute.")
    if now - checked_at <= STALE_AFTER_SECONDS:
        return ""
    return (f"Phone numbers as checked against Booknetic at {show(checked_at)}; changes "
            "made since then show once the worker checks again. Sending always checks "
            "first.")
