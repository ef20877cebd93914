"""Per-recipient logs of a campaign, and their CSV export.

Each row shows what became of its message after Twilio accepted it (DESIGN.md §10), and the
logs can be filtered by that delivery status as well as by the send status.

The export streams rows in id order in chunks (keyset pagination, never OFFSET), at most
EXPORT_CAP rows, as UTF-8 with a header row. Cells that a spreadsheet would run as a
formula get a leading apostrophe (OWASP's advice), so a customer named "=HYPERLINK(…)"
stays text: cells starting with = + - @ (or their full-width forms U+FF1D, U+FF0B, U+FF0D,
U+FF20), also after leading blanks, and cells starting with a tab or CR.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select

from .campaigns import CampaignNotFound
from .db import contains_text
from .schema import SmsTables
from .segments import tenant_key

EXPORT_CAP = 5000
EXPORT_CHUNK = 1000
STATUSES = ("pending", "sent", "failed", "skipped", "holdout")
# The `delivery` filter: a final status, both that were not delivered, or none yet ("pending":
# sent to Twilio, no final status known).
DELIVERY_FILTERS = ("delivered", "undelivered", "failed", "not_delivered", "pending")
CSV_COLUMNS = ("recipient_id", "customer_id", "first_name", "last_name", "phone", "status",
               "attempts", "last_error", "error_code", "sent_at", "provider_message_id",
               "delivery_status", "delivered_at", "delivery_error",
               # when a pending row is due again (a retry, or held by quiet hours, §11)
               "next_attempt_at",
               # DESIGN.md §12: the control group or not, the earliest attributed booking
               "group", "booked_at", "revenue")
# Spreadsheets skip blanks before a formula, and some read the full-width signs as their
# ASCII twins, so both count as a formula's start.
_FORMULA_SIGNS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_CONTROL_START = ("\t", "\r")


def neutralise(value: Any) -> str:
    """The cell as text, with an apostrophe in front when a spreadsheet could run it."""
    text = "" if value is None else str(value)
    if text.startswith(_CONTROL_START) or text.lstrip().startswith(_FORMULA_SIGNS):
        return "'" + text
    return text


def iso(epoch: int | None) -> str:
    if not epoch:
        return ""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


class DeliveryLog:
    def __init__(self, engine: Engine, tables: SmsTables) -> None:
        self.engine, self.tables = engine, tables

    def campaign(self, tenant_id: int | None, campaign_id: int) -> dict[str, Any]:
        c = self.tables.campaigns
        with self.engine.connect() as conn:
            row = conn.execute(select(c.c.id, c.c.name, c.c.kind, c.c.status, c.c.total,
                                      c.c.sent, c.c.failed, c.c.pending, c.c.delivered,
                                      c.c.undelivered, c.c.body)
                               .where(c.c.id == campaign_id,
                                      c.c.tenant_id == tenant_key(tenant_id))).mappings().first()
        if row is None:
            raise CampaignNotFound(campaign_id)
        return dict(row)

    def _where(self, campaign_id: int, status: str | None, query: str,
               delivery: str | None = None) -> list[Any]:
        r = self.tables.recipients
        where: list[Any] = [r.c.campaign_id == campaign_id]
        if status:
            if status not in STATUSES:
                raise ValueError(f"unknown status {status!r}; use one of {', '.join(STATUSES)}")
            where.append(r.c.status == status)
        if delivery:
            where.append(self._delivery_clause(delivery))
        if query.strip():
            full = r.c.first_name + " " + r.c.last_name
            where.append(contains_text(query.strip(), [r.c.first_name, r.c.last_name, full],
                                       ascii_columns=[r.c.phone]))
        return where

    def _delivery_clause(self, delivery: str) -> Any:
        r = self.tables.recipients
        if delivery == "not_delivered":
            return r.c.delivery_status.in_(["undelivered", "failed"])
        if delivery == "pending":
            return and_(r.c.provider_message_id.is_not(None), r.c.provider_message_id != "",
                        or_(r.c.delivery_status.is_(None),
                            r.c.delivery_status.in_(["queued", "sent"])))
        if delivery in DELIVERY_FILTERS:
            return r.c.delivery_status == delivery
        raise ValueError(f"unknown delivery status {delivery!r}; use one of "
                         f"{', '.join(DELIVERY_FILTERS)}")

    def rows(self, tenant_id: int | None, campaign_id: int, *, status: str | None = None,
             query: str = "", limit: int = 50, offset: int = 0, delivery: str | None = None
             ) -> tuple[list[dict[str, Any]], int]:
        self.campaign(tenant_id, campaign_id)  # 404 for another tenant's campaign
        r = self.tables.recipients
        where = self._where(campaign_id, status, query, delivery)
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(r).where(*where)).scalar_one()
            rows = conn.execute(
                select(r.c.id, r.c.customer_id, r.c.first_name, r.c.last_name, r.c.phone,
                       r.c.status, r.c.attempts, r.c.last_error, r.c.error_code, r.c.sent_at,
                       r.c.provider_message_id, r.c.next_attempt_at, r.c.updated_at,
                       r.c.delivery_status, r.c.delivered_at, r.c.delivery_error_code,
                       r.c.delivery_error)
                .where(*where).order_by(r.c.id).limit(limit).offset(offset)).mappings().all()
        return [dict(x) for x in rows], int(total)

    def export_csv(self, tenant_id: int | None, campaign_id: int, *,
                   status: str | None = None, query: str = "",
                   delivery: str | None = None) -> tuple[Iterator[str], int]:
        """A generator of CSV text and the number of matching rows (may exceed the cap)."""
        self.campaign(tenant_id, campaign_id)
        r = self.tables.recipients
        where = self._where(campaign_id, status, query, delivery)
        with self.engine.connect() as conn:
            total = int(conn.execute(select(func.count()).select_from(r)
                                     .where(*where)).scalar_one())

        def generate() -> Iterator[str]:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(CSV_COLUMNS)
            after, written = 0, 0
            while written < EXPORT_CAP:
                with self.engine.connect() as conn:
                    chunk = conn.execute(
                        select(r.c.id, r.c.customer_id, r.c.first_name, r.c.last_name,
                               r.c.phone, r.c.status, r.c.attempts, r.c.last_error,
                               r.c.error_code, r.c.sent_at, r.c.provider_message_id,
                               r.c.delivery_status, r.c.delivered_at, r.c.delivery_error,
                               r.c.next_attempt_at, r.c.booked_at, r.c.revenue_cents)
                        .where(*where, r.c.id > after).order_by(r.c.id)
                        .limit(min(EXPORT_CHUNK, EXPORT_CAP - written))).all()
                if not chunk:
                    break
                for row in chunk:
                    writer.writerow([neutralise(v) for v in (
                        row.id, row.customer_id, row.first_name, row.last_name, row.phone,
                        row.status, row.attempts, row.last_error, row.error_code,
                        iso(row.sent_at), row.provider_message_id, row.delivery_status,
                        iso(row.delivered_at), row.delivery_error,
                        iso(row.next_attempt_at) if row.status == "pending" else "",
                        "holdout" if row.status == "holdout" else "sent", iso(row.booked_at),
                        "" if row.revenue_cents is None else f"{row.revenue_cents / 100:.2f}")])
                written += len(chunk)
                after = int(chunk[-1].id)
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
            yield buffer.getvalue()

        return generate(), total


def export_filename(campaign: dict[str, Any]) -> str:
    stamp = time.strftime("%Y%m%d-%H%M", time.gmtime())
    safe = "".join(ch if ch.isalnum() else "-" for ch in str(campaign["name"]))[:40].strip("-")
    return f"sms-campaign-{campaign['id']}-{safe or 'logs'}-{stamp}.csv"
