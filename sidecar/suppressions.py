"""The suppression ("never SMS") list of each tenant.

Numbers are stored in E.164, unique per tenant. Segments leave them out and the engine
checks them again just before each send (outbox/). Every row says where it came from
(`source`, DESIGN.md §10): `manual` — an admin added it, one number or a pasted list (this
module); `keyword` — the customer replied STOP; `provider` — Twilio refused the number
(21610, 30004, 30005, 30006). The last two are added and taken back by sidecar/opt_outs.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, func, or_, select

from .db import contains_text, insert_ignore
from .errors import Invalid, NotFound
from .phone_region import RegionResolver
from .phones import InvalidPhone, normalise_phone, require_phone
from .schema import SmsTables
from .segments import tenant_key

REASON_MAX = 255
SOURCES = ("manual", "keyword", "provider")
BULK_MAX = 5000
_SPLIT = re.compile(r"[\n,;\t]+")
# What people type around a phone number's digits.
_PHONE_FORMATTING = re.compile(r"[\s()+.\-/]")


class SuppressionError(Invalid):
    """Bad input; `errors` maps fields to messages, `invalid` lists rejected numbers."""

    def __init__(self, errors: dict[str, str], invalid: list[str] | None = None) -> None:
        super().__init__(errors, invalid, message="; ".join(errors.values()))


class SuppressionNotFound(NotFound):
    pass


@dataclass(frozen=True)
class BulkResult:
    added: int
    already: int
    invalid: list[str]


def split_numbers(text: str) -> list[str]:
    """Numbers pasted one per line (or separated by commas, semicolons or tabs)."""
    return [part.strip() for part in _SPLIT.split(text or "") if part.strip()]


class SuppressionService:
    def __init__(self, engine: Engine, tables: SmsTables, *, regions: RegionResolver,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine, self.tables = engine, tables
        self.regions, self.clock = regions, clock

    def add(self, tenant_id: int | None, raw_phone: str, reason: str = "", *,
            user_id: int | None = None) -> dict[str, Any]:
        """Add one number by hand (source `manual`); `added` is False when it was already
        on the list."""
        reason = (reason or "").strip()
        if len(reason) > REASON_MAX:
            raise SuppressionError({"reason": f"at most {REASON_MAX} characters"})
        try:
            phone = require_phone(raw_phone, self.regions.region(tenant_id))
        except InvalidPhone as exc:
            raise SuppressionError({"phone": str(exc)}, [raw_phone]) from None
        with self.engine.begin() as conn:
            added = insert_ignore(conn, self.tables.suppressions, [{
                "tenant_id": tenant_key(tenant_id), "phone": phone, "reason": reason,
                "source": "manual", "created_by": user_id, "created_at": int(self.clock())}])
            row = self._find(conn, tenant_id, phone)
        return {**row, "added": added == 1}

    def add_many(self, tenant_id: int | None, text: str, reason: str = "", *,
                 user_id: int | None = None, skip_invalid: bool = False) -> BulkResult:
        """Add pasted numbers in one transaction. With any invalid number nothing is saved
        (unless `skip_invalid`), and every invalid one is reported."""
        numbers = split_numbers(text)
        if not numbers:
            raise SuppressionError({"numbers": "paste at least one phone number"})
        if len(numbers) > BULK_MAX:
            raise SuppressionError({"numbers": f"at most {BULK_MAX} numbers at a time"})
        reason = (reason or "").strip()[:REASON_MAX]
        valid: dict[str, None] = {}
        invalid: list[str] = []
        region = self.regions.region(tenant_id)
        for raw in numbers:
            phone = normalise_phone(raw, region)
            if phone is None:
                invalid.append(raw)
            else:
                valid[phone] = None
        if invalid and not skip_invalid:
            raise SuppressionError(
                {"numbers": f"{len(invalid)} number(s) are not valid phone numbers; nothing "
                            "was saved. Fix or remove them, or choose to skip them."}, invalid)
        now = int(self.clock())
        with self.engine.begin() as conn:
            added = insert_ignore(conn, self.tables.suppressions, [
                {"tenant_id": tenant_key(tenant_id), "phone": phone, "reason": reason,
                 "source": "manual", "created_by": user_id, "created_at": now}
                for phone in valid])
        return BulkResult(added, len(valid) - added, invalid)

    def remove(self, tenant_id: int | None, suppression_id: int) -> None:
        s = self.tables.suppressions
        with self.engine.begin() as conn:
            gone = conn.execute(delete(s).where(
                s.c.id == suppression_id, s.c.tenant_id == tenant_key(tenant_id))).rowcount
        if gone != 1:
            raise SuppressionNotFound(f"suppression {suppression_id} not found")

    def list(self, tenant_id: int | None, *, query: str = "", limit: int = 50,
             offset: int = 0, only_id: int | None = None,
             source: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """One page of the tenant's list, newest first, and how many rows match; `query`
        searches phone and reason, `source` keeps one of SOURCES."""
        s = self.tables.suppressions
        where = [s.c.tenant_id == tenant_key(tenant_id)]
        if only_id is not None:
            where.append(s.c.id == only_id)
        if source is not None:
            if source not in SOURCES:
                raise SuppressionError({"source": f"must be one of {', '.join(SOURCES)}"})
            where.append(s.c.source == source)
        if query.strip():
            where.append(or_(contains_text(query.strip(), [s.c.reason],
                                           ascii_columns=[s.c.phone]),
                             *self._phone_matches(tenant_id, query)))
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(s).where(*where)).scalar_one()
            rows = conn.execute(select(s).where(*where).order_by(s.c.id.desc())
                                .limit(limit).offset(offset)).mappings().all()
        return [self._public(r) for r in rows], int(total)

    def _phone_matches(self, tenant_id: int | None, query: str) -> list[Any]:
        """A search typed as a phone number ("+1 415 555 0183", "(415) 555-0183"): the
        number it is in the tenant's region, and its digits anywhere in a stored number
        (a national number without a region, or a partial one)."""
        s = self.tables.suppressions
        matches = []
        phone = normalise_phone(query, self.regions.region(tenant_id))
        if phone is not None:
            matches.append(s.c.phone == phone)
        digits = _PHONE_FORMATTING.sub("", query)
        if digits.isdigit() and digits.isascii() and len(digits) >= 3:
            matches.append(contains_text(digits, [], ascii_columns=[s.c.phone]))
        return matches

    def is_suppressed(self, tenant_id: int | None, phone: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            return self._find(conn, tenant_id, phone) or None

    def _find(self, conn: Any, tenant_id: int | None, phone: str) -> dict[str, Any]:
        s = self.tables.suppressions
        row = conn.execute(select(s).where(s.c.tenant_id == tenant_key(tenant_id),
                                           s.c.phone == phone)).mappings().first()
        return self._public(row) if row else {}

    @staticmethod
    def _public(row: Any) -> dict[str, Any]:
        return {"id": int(row["id"]), "phone": row["phone"], "reason": row["reason"],
                "source": row["source"], "created_at": int(row["created_at"])}
