"""What a segment preview answers — the count, a sample, the skipped counts — and the
statements that answer it in one round trip."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Select, Table, and_, case, exists, func, literal, select, true

from ..schema import SmsTables


@dataclass
class Preview:
    segment: str
    count: int
    sample: list[dict[str, Any]] = field(default_factory=list)
    skipped_invalid_phone: int = 0
    skipped_duplicate_phone: int = 0
    skipped_suppressed: int = 0
    skipped_upcoming: int = 0  # members with a booking coming up (exclude_upcoming_days)
    render: dict[str, Any] | None = None  # the render report, when a body was given
    # When the phones read were last checked against Booknetic (epoch s; None = never).
    # Not part of the answer's contract (DESIGN.md §7) nor of its equality.
    phones_checked_at: int | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The answer as DESIGN.md §7 prints it (without phones_checked_at)."""
        data = asdict(self)
        del data["phones_checked_at"]
        if self.render is None:
            del data["render"]
        return data


def segment_preview_select(groups: Any, customers: Table, limit: int) -> Select[Any]:
    """The preview of a segment with an appointment condition, as one statement.

    Window aggregates carry the totals on every row, so the sample rows (recipients
    first, lowest id first) also bring the counts; even an empty sample keeps one
    non-recipient row when any customer matched. The appointments are grouped once.
    `groups` is SegmentService's members-by-phone subquery; its groups with `upcoming` = 1
    hold the members the exclude_upcoming_days filter drops, counted only as such.
    """
    kept = groups.c.upcoming == 0
    is_recipient = case(
        (and_(kept, groups.c.phone.is_not(None), groups.c.suppressed == 0), 1), else_=0
    )
    ranked = (
        select(
            groups.c.customer_id,
            groups.c.phone,
            is_recipient.label("is_recipient"),
            func.sum(case((kept, groups.c.n), else_=0)).over().label("members"),
            func.sum(case((and_(kept, groups.c.phone.is_(None)), groups.c.n), else_=0))
            .over().label("invalid"),
            func.count(case((kept, groups.c.phone))).over().label("phones"),
            func.sum(case((and_(kept, groups.c.phone.is_not(None), groups.c.suppressed == 1),
                           1), else_=0)).over().label("suppressed"),
            func.sum(case((kept, 0), else_=groups.c.n)).over().label("upcoming"),
        )
        .order_by(is_recipient.desc(), groups.c.customer_id)
        .limit(max(limit, 1))
        .subquery("ranked")
    )
    return (
        select(ranked, customers.c.first_name, customers.c.last_name)
        .select_from(ranked.outerjoin(customers, customers.c.id == ranked.c.customer_id))
        .order_by(ranked.c.is_recipient.desc(), ranked.c.customer_id)
    )


def whole_tenant_preview_select(tables: SmsTables, customers: Table, key: int, rkey: str,
                                *, exclude_suppressed: bool, limit: int) -> Select[Any]:
    """The preview when the segment is every customer of the tenant, as one statement.

    Without an appointment condition there is nothing to group first, and ranking
    every phone group of the tenant to find ten (what `segment_preview_select` does) costs
    more than the totals themselves. Here the totals are plain aggregates over the
    (tenant_id, region, e164, customer_id) index (`rkey` is the region the phones were
    parsed with), the suppressed count starts from the short
    suppression list, and the sample walks customers in id order, keeping those that
    hold the lowest id of their phone — it stops after `limit` rows.
    """
    phones, supp = tables.phones, tables.suppressions
    totals = (
        select(
            func.count().label("members"),
            func.coalesce(func.sum(case((phones.c.e164.is_(None), 1), else_=0)), 0)
            .label("invalid"),
            func.count(phones.c.e164.distinct()).label("phones"),
        )
        .where(phones.c.tenant_id == key, phones.c.region == rkey)
        .subquery("totals")
    )
    holder = phones.alias("holder")  # a customer of the tenant with that phone
    earlier = phones.alias("earlier")  # ... with a lower id than the sampled one
    is_listed = exists().where(supp.c.tenant_id == key, supp.c.phone == phones.c.e164)
    if exclude_suppressed:
        suppressed: Any = (
            select(func.count())
            .select_from(supp)
            .where(supp.c.tenant_id == key,
                   exists().where(holder.c.tenant_id == key, holder.c.region == rkey,
                                  holder.c.e164 == supp.c.phone))
            .scalar_subquery()
        )
    else:
        suppressed = literal(0)
    sample = (
        select(phones.c.customer_id, phones.c.e164.label("phone"))
        .where(
            phones.c.tenant_id == key,
            phones.c.region == rkey,
            phones.c.e164.is_not(None),
            ~exists().where(earlier.c.tenant_id == key, earlier.c.region == rkey,
                            earlier.c.e164 == phones.c.e164,
                            earlier.c.customer_id < phones.c.customer_id),
            *([~is_listed] if exclude_suppressed else []),
        )
        .order_by(phones.c.customer_id)
        .limit(max(limit, 1))
        .subquery("sample")
    )
    return (
        select(
            sample.c.customer_id,
            sample.c.phone,
            case((sample.c.customer_id.is_not(None), 1), else_=0).label("is_recipient"),
            totals.c.members,
            totals.c.invalid,
            totals.c.phones,
            suppressed.label("suppressed"),
            customers.c.first_name,
            customers.c.last_name,
        )
        .select_from(
            totals.outerjoin(sample, true())
            .outerjoin(customers, customers.c.id == sample.c.customer_id)
        )
        .order_by(sample.c.customer_id)
    )


def read_preview(segment: str, rows: Sequence[Any], limit: int) -> Preview:
    """A Preview from the rows of either preview statement (totals on every row)."""
    upcoming = int(getattr(rows[0], "upcoming", 0) or 0) if rows else 0
    if not rows or not rows[0].members:
        return Preview(segment, 0, skipped_upcoming=upcoming)
    first = rows[0]
    members, invalid = int(first.members), int(first.invalid or 0)
    phones, suppressed = int(first.phones), int(first.suppressed or 0)
    sample = [
        {
            "customer_id": int(r.customer_id),
            "first_name": str(r.first_name or ""),
            "last_name": str(r.last_name or ""),
            "phone": str(r.phone),
        }
        for r in rows[:limit]
        if r.is_recipient
    ]
    return Preview(
        segment=segment,
        count=phones - suppressed,
        sample=sample,
        skipped_invalid_phone=invalid,
        skipped_duplicate_phone=members - invalid - phones,
        skipped_suppressed=suppressed,
        skipped_upcoming=upcoming,
    )
