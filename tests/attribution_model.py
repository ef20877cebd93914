"""An independent reading of DESIGN.md §12's attribution rules, in plain Python.

It never touches SQL or the sidecar's code: it takes the world as lists of dicts (campaigns,
recipient rows, customers with their raw phones, appointments, price rows) and says which
appointments each recipient row gets, written straight from the contract's sentences.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import phonenumbers

DAY = 86400
INACTIVE = ("canceled", "rejected")


def e164(raw: str | None, region: str | None) -> str | None:
    """The normalised number of §3 (None when missing or invalid)."""
    if not raw:
        return None
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def revenue(appointment: dict[str, Any], prices: list[dict[str, Any]]) -> Decimal:
    """The sum of price * negative_or_positive when the appointment has price rows, else
    paid_amount."""
    mine = [p for p in prices if p["appointment_id"] == appointment["id"]]
    if mine:
        return sum((Decimal(str(p["price"])) * p["negative_or_positive"] for p in mine),
                   Decimal(0))
    return Decimal(str(appointment.get("paid_amount") or 0))


def cents(amount: Decimal) -> int:
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def expected(campaigns: list[dict[str, Any]], rows: list[dict[str, Any]],
             customers: list[dict[str, Any]], appointments: list[dict[str, Any]],
             prices: list[dict[str, Any]], region: str | None) -> dict[int, list[int]]:
    """recipient row id -> the ids of the appointments attributed to it (sorted)."""
    by_campaign = {c["id"]: c for c in campaigns}
    phone_of = {(c["id"]): (c["tenant"], e164(c["phone"], region)) for c in customers}
    result: dict[int, list[int]] = {r["id"]: [] for r in rows}
    for a in appointments:
        if a["status"] in INACTIVE or a["created_at"] is None:
            continue
        tenant, phone = phone_of.get(a["customer_id"], (None, None))
        if phone is None or tenant != a["tenant"]:
            continue
        when = a["created_at"]
        # Sent rows: every campaign message to this number in this tenant whose window
        # holds the booking; the latest one (equal times: the higher campaign id) gets it.
        touches = [
            r for r in rows
            if r["status"] == "sent" and r["phone"] == phone and r["tenant"] == tenant
            and by_campaign[r["campaign_id"]]["kind"] == "campaign"
            and r["sent_at"] <= when <= r["sent_at"] + by_campaign[r["campaign_id"]]["days"] * DAY
        ]
        if touches:
            last = max(touches, key=lambda r: (r["sent_at"], r["campaign_id"]))
            result[last["id"]].append(a["id"])
        # Holdout rows: the control window of their own campaign, whatever else touched.
        for r in rows:
            if r["status"] != "holdout" or r["phone"] != phone or r["tenant"] != tenant:
                continue
            c = by_campaign[r["campaign_id"]]
            if c["queued_at"] <= when <= c["queued_at"] + c["days"] * DAY:
                result[r["id"]].append(a["id"])
    return {k: sorted(v) for k, v in result.items()}


def row_figures(attributed: dict[int, list[int]], appointments: list[dict[str, Any]],
                prices: list[dict[str, Any]]) -> dict[int, tuple[int | None, int | None,
                                                                   int | None]]:
    """recipient row id -> (booked appointment id, booked_at, revenue cents), as §12's CSV
    wants them: the earliest appointment (ties: lowest id), its created_at, the row's sum."""
    by_id = {a["id"]: a for a in appointments}
    out: dict[int, tuple[int | None, int | None, int | None]] = {}
    for rid, ids in attributed.items():
        if not ids:
            out[rid] = (None, None, None)
            continue
        first = min(ids, key=lambda i: (by_id[i]["created_at"], i))
        total = sum((revenue(by_id[i], prices) for i in ids), Decimal(0))
        out[rid] = (first, by_id[first]["created_at"], cents(total))
    return out
