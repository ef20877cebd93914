"""Resend to failed (DESIGN.md §12): a new draft whose recipients are a campaign's failed
rows that may succeed on another try.

The draft is an ordinary campaign (same body, segment and filters, so it can be read and
edited like any other) whose filters carry `resend_of` = the source campaign's id. Like any
campaign its recipients are taken when it is sent (CampaignService.send): then, instead of
the segment, the snapshot is one INSERT … SELECT of the source's failed rows that are worth
another try — not an invalid number, an opt-out, a landline or another error the provider
says can never succeed for that number (`NOT_WORTH_RESENDING`), not a row that was skipped
by policy, and not a number on the tenant's suppression list now. Names are copied from
the source rows, so the message reads as it would have. Editing the draft keeps the marker.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Insert, and_, exists, func, insert, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from .campaigns import NAME_MAX, CampaignService, Status
from .errors import Conflict, Invalid
from .providers.twilio import NOT_WORTH_RESENDING
from .schema import SmsTables
from .segments import SegmentQuery, SegmentService, tenant_key

RESEND_OF = "resend_of"


class NothingToResend(Conflict):
    def __init__(self, name: str) -> None:
        super().__init__(f"campaign {name!r} has no failed messages that may succeed on "
                         "another try (invalid numbers, opt-outs, landlines and suppressed "
                         "numbers are not resent)")


def resend_source(filters: Mapping[str, Any]) -> int | None:
    """The campaign a draft resends to the failed recipients of, or None."""
    source = filters.get(RESEND_OF)
    return source if isinstance(source, int) and not isinstance(source, bool) else None


def _worth_resending(tables: SmsTables, source_id: int, tenant: int) -> ColumnElement[bool]:
    r, s = tables.recipients, tables.suppressions
    return and_(
        r.c.campaign_id == source_id,
        r.c.tenant_id == tenant,
        r.c.status == "failed",
        or_(r.c.error_code.is_(None), r.c.error_code.not_in(sorted(NOT_WORTH_RESENDING))),
        r.c.last_error.not_like("skipped%"),  # not sent by policy (suppressed at send time)
        ~exists().where(s.c.tenant_id == r.c.tenant_id, s.c.phone == r.c.phone),
    )


def count_resendable(conn: Connection, tables: SmsTables, source_id: int,
                     tenant_id: int | None) -> int:
    r = tables.recipients
    return int(conn.execute(select(func.count()).select_from(r).where(
        _worth_resending(tables, source_id, tenant_key(tenant_id)))).scalar_one())


def resend_marker(row: Mapping[str, Any] | None) -> dict[str, Any]:
    """The part of a stored campaign's filters that an edit keeps: its `resend_of`."""
    stored = json.loads((row or {}).get("filters") or "{}")
    return {RESEND_OF: stored[RESEND_OF]} if RESEND_OF in stored else {}


def snapshot_insert(segments: SegmentService, tables: SmsTables, campaign: Mapping[str, Any],
                    query: SegmentQuery, region: str | None, now: int) -> Insert:
    """The INSERT … SELECT of a campaign's recipients when it is sent: its segment's, or
    for a resend draft the failed rows of the campaign it resends."""
    source = resend_source(campaign["filters"])
    if source is None:
        return segments.snapshot_insert(query, region=region, campaign_id=campaign["id"],
                                        now=now)
    return resend_snapshot(tables, source, campaign_id=campaign["id"],
                           tenant_id=query.tenant_id, now=now)


def resend_snapshot(tables: SmsTables, source_id: int, *, campaign_id: int,
                    tenant_id: int | None, now: int) -> Insert:
    """One INSERT … SELECT writing the source's resendable failed rows as `pending` rows of
    `campaign_id` (the snapshot of a resend draft when it is sent)."""
    r = tables.recipients
    key = tenant_key(tenant_id)
    rows = select(literal(campaign_id), literal(key), r.c.customer_id, r.c.phone,
                  r.c.first_name, r.c.last_name, literal("pending"), literal(0),
                  literal(now)).where(_worth_resending(tables, source_id, key))
    return insert(r).from_select(
        ["campaign_id", "tenant_id", "customer_id", "phone", "first_name", "last_name",
         "status", "attempts", "updated_at"], rows)


def resend_failed(campaigns: CampaignService, tenant_id: int | None, campaign_id: int, *,
                  user_id: int | None = None) -> dict[str, Any]:
    """Create the resend draft of `campaign_id` (of this tenant): returns the new campaign
    with `resend_recipients`, how many it would go to if sent now. Raises NotFound,
    Invalid (a one-off SMS) or NothingToResend; changes nothing then."""
    source = campaigns.get(tenant_id, campaign_id)
    if source["kind"] != "campaign":
        raise Invalid({"campaign": "only campaigns can be resent; send a new one-off SMS"},
                      message="a one-off SMS cannot be resent")
    tables = campaigns.tables
    c = tables.campaigns
    now = int(campaigns.clock())
    name = ("Resend of " + str(source["name"]))[:NAME_MAX]
    filters = {**source["filters"], RESEND_OF: campaign_id}
    with campaigns.engine.begin() as conn:
        recipients = count_resendable(conn, tables, campaign_id, tenant_id)
        if recipients == 0:
            raise NothingToResend(str(source["name"]))
        new_id = int(conn.execute(insert(c).values(
            tenant_id=tenant_key(tenant_id), kind="campaign", name=name,
            segment=source["segment"], filters=json.dumps(filters), body=source["body"],
            template_id=source["template_id"], status=Status.DRAFT.value,
            created_by=user_id, created_at=now, updated_at=now,
        )).inserted_primary_key[0])
    return {**campaigns.get(tenant_id, new_id), "resend_recipients": recipients}
