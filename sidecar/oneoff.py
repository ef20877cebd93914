"""Test SMS and one-off ("manual") SMS.

A test SMS goes straight to the provider, rendered for the dummy customer "Test Customer".
A manual SMS — to chosen Booknetic customers or to pasted numbers — goes through the same
engine as campaigns: it becomes a campaign of kind 'manual' whose recipient rows are
written here instead of from a segment, so retries, logs and progress work the same.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, and_, insert, select

from .booknetic import Booknetic
from .campaigns import Status, body_error, transition
from .errors import Invalid
from .phone_region import RegionResolver
from .phones import InvalidPhone, normalise_phone, require_phone
from .providers.base import SmsProvider
from .schema import SmsTables, is_row_id
from .segments import SegmentService, region_key, tenant_key
from .sms_text import render
from .suppressions import split_numbers

MANUAL_MAX_RECIPIENTS = 1000
TEST_FIRST, TEST_LAST = "Test", "Customer"


class OneOffInvalid(Invalid):
    def __init__(self, errors: dict[str, str], invalid: list[str] | None = None) -> None:
        super().__init__(errors, invalid, message="; ".join(errors.values()))


@dataclass
class ManualResult:
    campaign_id: int
    total: int
    skipped_suppressed: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    duplicates: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"campaign_id": self.campaign_id, "total": self.total,
                "skipped_suppressed": self.skipped_suppressed, "invalid": self.invalid,
                "duplicates": self.duplicates}


class OneOffService:
    def __init__(self, engine: Engine, tables: SmsTables, booknetic: Booknetic,
                 segments: SegmentService, provider: Callable[[], SmsProvider], *,
                 regions: RegionResolver, clock: Callable[[], float] = time.time) -> None:
        self.engine, self.tables, self.bk, self.segments = engine, tables, booknetic, segments
        self.provider, self.regions, self.clock = provider, regions, clock

    # -- test SMS -------------------------------------------------------------------------

    def send_test(self, tenant_id: int | None, raw_phone: str, body: Any) -> dict[str, Any]:
        """Send one SMS now; the answer says what Twilio did (never raises for Twilio)."""
        errors: dict[str, str] = {}
        try:
            phone = require_phone(raw_phone, self.regions.region(tenant_id))
        except InvalidPhone as exc:
            errors["phone"] = str(exc)
            phone = ""
        if problem := body_error(body):
            errors["body"] = problem
        if errors:
            raise OneOffInvalid(errors)
        suppressed = self._suppressed(tenant_id, [phone])
        if suppressed:
            reason = suppressed[phone] or "no reason given"
            raise OneOffInvalid({"phone": f"{phone} is on the suppression list ({reason}); "
                                          "remove it there first to send to it"})
        provider = self.provider()  # raises ProviderNotReady with the fix
        text = render(body, first_name=TEST_FIRST, last_name=TEST_LAST, phone=phone)
        result = provider.send(phone, text)
        return {"to": phone, "body": text, "ok": result.ok, "outcome": result.outcome.value,
                "message_id": result.message_id, "error_code": result.error_code,
                "error": result.error}

    # -- manual SMS -----------------------------------------------------------------------

    def send_manual(self, tenant_id: int | None, body: Any, *,
                    customer_ids: list[int] | None = None, numbers: str | None = None,
                    user_id: int | None = None) -> ManualResult:
        """Queue a one-off SMS to chosen customers or pasted numbers (not both)."""
        if problem := body_error(body):
            raise OneOffInvalid({"body": problem})
        assert isinstance(body, str)
        if bool(customer_ids) == bool(numbers and numbers.strip()):
            raise OneOffInvalid({"recipients": "choose customers or paste numbers"})
        self.provider()  # refuse before queuing anything when sending cannot work
        invalid: list[str] = []
        if customer_ids:
            candidates = self._customers(tenant_id, customer_ids, invalid)
        else:
            candidates = []
            region = self.regions.region(tenant_id)
            for raw in split_numbers(numbers or ""):
                phone = normalise_phone(raw, region)
                if phone is None:
                    invalid.append(raw)
                else:
                    candidates.append((None, phone, "", ""))
        unique: dict[str, tuple[int | None, str, str, str]] = {}
        for candidate in candidates:
            unique.setdefault(candidate[1], candidate)
        duplicates = len(candidates) - len(unique)
        suppressed = self._suppressed(tenant_id, list(unique))
        recipients = [c for p, c in unique.items() if p not in suppressed]
        if len(recipients) > MANUAL_MAX_RECIPIENTS:
            raise OneOffInvalid({"recipients": f"at most {MANUAL_MAX_RECIPIENTS} recipients; "
                                               "use a campaign for more"})
        if not recipients:
            raise OneOffInvalid({"recipients": "nobody to send to: "
                                 + ", ".join(filter(None, [
                                     f"{len(invalid)} invalid" if invalid else "",
                                     f"{len(suppressed)} suppressed" if suppressed else ""]))
                                 or "no recipients"}, invalid)
        now = int(self.clock())
        summary = {"manual": {"invalid": invalid, "skipped_suppressed": sorted(suppressed),
                              "duplicates": duplicates}}
        c = self.tables.campaigns
        with self.engine.begin() as conn:
            result = conn.execute(insert(c).values(
                tenant_id=tenant_key(tenant_id), kind="manual",
                name=f"One-off SMS to {len(recipients)} recipient"
                     f"{'' if len(recipients) == 1 else 's'}",
                segment=None, filters=json.dumps(summary), body=body,
                status=Status.DRAFT.value, total=len(recipients), pending=len(recipients),
                created_by=user_id, created_at=now, updated_at=now))
            campaign_id = int(result.inserted_primary_key[0])
            transition(conn, c, "send", c.c.id == campaign_id, now=now,
                       values={"queued_at": now})
            conn.execute(insert(self.tables.recipients), [
                {"campaign_id": campaign_id, "tenant_id": tenant_key(tenant_id),
                 "customer_id": cid, "phone": phone, "first_name": first[:191],
                 "last_name": last[:191], "status": "pending", "updated_at": now}
                for cid, phone, first, last in recipients])
        return ManualResult(campaign_id, len(recipients), sorted(suppressed), invalid,
                            duplicates)

    def _customers(self, tenant_id: int | None, ids: list[int],
                   invalid: list[str]) -> list[tuple[int | None, str, str, str]]:
        """The chosen customers of this tenant with their normalised phones."""
        if len(ids) > MANUAL_MAX_RECIPIENTS:
            raise OneOffInvalid({"customer_ids": f"at most {MANUAL_MAX_RECIPIENTS} customers"})
        if not all(is_row_id(i) for i in ids):
            raise OneOffInvalid({"customer_ids": "must be a list of customer ids"})
        region = self.regions.region(tenant_id)
        self.segments.refresh_phones(tenant_id, region)
        c, p = self.bk.customers, self.tables.phones
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(c.c.id, c.c.first_name, c.c.last_name, c.c.phone_number, p.c.e164)
                .select_from(c.outerjoin(p, and_(p.c.tenant_id == tenant_key(tenant_id),
                                                 p.c.region == region_key(region),
                                                 p.c.customer_id == c.c.id)))
                .where(c.c.id.in_(ids), self.bk.tenant_clause(c, tenant_id))
                .order_by(c.c.id)).all()
        found = {int(r.id) for r in rows}
        invalid.extend(f"customer #{i} (not found)" for i in ids if i not in found)
        result: list[tuple[int | None, str, str, str]] = []
        for r in rows:
            name = f"{r.first_name or ''} {r.last_name or ''}".strip() or f"customer #{r.id}"
            if r.e164 is None:
                invalid.append(f"{name}: {r.phone_number or 'no phone'}")
            else:
                result.append((int(r.id), str(r.e164), r.first_name or "", r.last_name or ""))
        return result

    def _suppressed(self, tenant_id: int | None, phones: list[str]) -> dict[str, str]:
        if not phones:
            return {}
        s = self.tables.suppressions
        with self.engine.connect() as conn:
            return {str(r.phone): str(r.reason) for r in conn.execute(
                select(s.c.phone, s.c.reason).where(s.c.tenant_id == tenant_key(tenant_id),
                                                   s.c.phone.in_(phones)))}
