"""JSON API for messages outside campaigns and for reading results: test SMS, one-off
SMS, the customer search behind it, per-recipient logs with CSV export, the dashboard."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, g, jsonify, request, stream_with_context

from ..delivery_log import DELIVERY_FILTERS, EXPORT_CAP, STATUSES, export_filename
from ..errors import Invalid, ProviderRefused
from ..phones import normalise_phone
from . import require
from .api import body, rt, tenant
from .inputs import page_args

blueprint = Blueprint("api_messages", __name__, url_prefix="/api/v1")


@blueprint.post("/sms/test")
def send_test() -> Any:
    require("sms_campaigns")
    require("sms_campaigns_send")
    data = body()
    phone = data.get("phone")
    if not isinstance(phone, str):
        raise Invalid({"phone": "enter a phone number"})
    result = rt().oneoff.send_test(tenant(), phone, data.get("body"))
    if not result["ok"]:
        raise ProviderRefused(f"Twilio did not accept the test SMS to "
                              f"{result['to']}: {result['error']}")
    return result


@blueprint.post("/sms/send")
def send_manual() -> Any:
    require("sms_campaigns")
    require("sms_campaigns_send")
    data = body()
    customer_ids = data.get("customer_ids") or None
    numbers = data.get("numbers") or None
    if customer_ids is not None and not isinstance(customer_ids, list):
        raise Invalid({"customer_ids": "must be a list of customer ids"})
    if numbers is not None and not isinstance(numbers, str):
        raise Invalid({"numbers": "paste the numbers as text"})
    runtime = rt()
    result = runtime.oneoff.send_manual(tenant(), data.get("body"), customer_ids=customer_ids,
                                        numbers=numbers, user_id=g.identity.user_id)
    runtime.outbox.kick(result.campaign_id)
    return jsonify(result.to_dict()), 201


@blueprint.get("/customers")
def search_customers() -> Any:
    require("sms_campaigns")
    require("sms_campaigns_send")
    page, per_page = page_args(default=20, maximum=100)
    query = request.args.get("q", "")[:100]
    runtime = rt()
    rows, total = runtime.booknetic.search_customers(tenant(), query, limit=per_page,
                                                     offset=(page - 1) * per_page)
    region = runtime.regions.region(tenant())
    for row in rows:
        row["phone"] = normalise_phone(row["phone_number"], region)
    return {"customers": rows, "total": total, "page": page, "per_page": per_page}


def _log_filters() -> tuple[str | None, str, str | None]:
    status = request.args.get("status") or None
    if status and status not in STATUSES:
        raise Invalid({"status": f"use one of {', '.join(STATUSES)}"}, message="unknown status")
    delivery = request.args.get("delivery") or None
    if delivery and delivery not in DELIVERY_FILTERS:
        raise Invalid({"delivery": f"use one of {', '.join(DELIVERY_FILTERS)}"},
                      message="unknown delivery status")
    return status, request.args.get("q", "")[:100], delivery


@blueprint.get("/campaigns/<int:campaign_id>/logs")
def campaign_logs(campaign_id: int) -> Any:
    require("sms_campaigns")
    require("sms_campaign_logs")
    page, per_page = page_args(default=50, maximum=500)
    status, query, delivery = _log_filters()
    rows, total = rt().logs.rows(tenant(), campaign_id, status=status, query=query,
                                 delivery=delivery, limit=per_page,
                                 offset=(page - 1) * per_page)
    return {"logs": rows, "total": total, "page": page, "per_page": per_page}


@blueprint.get("/campaigns/<int:campaign_id>/logs.csv")
def campaign_logs_csv(campaign_id: int) -> Any:
    require("sms_campaigns")
    require("sms_campaign_logs")
    status, query, delivery = _log_filters()
    logs = rt().logs
    campaign = logs.campaign(tenant(), campaign_id)
    chunks, total = logs.export_csv(tenant(), campaign_id, status=status, query=query,
                                    delivery=delivery)
    response = Response(stream_with_context(chunks), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    # An ASCII name for every client plus the real one (RFC 6266/5987) for names like
    # "Łódź" or "夏のセール"; headers themselves must stay Latin-1 (waitress enforces it).
    name = export_filename(campaign)
    fallback = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "-"
                       for ch in name)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}")
    response.headers["X-Bkntc-Export-Total"] = str(total)
    response.headers["X-Bkntc-Export-Rows"] = str(min(total, EXPORT_CAP))
    if total > EXPORT_CAP:
        response.headers["X-Bkntc-Export-Truncated"] = (
            f"The export holds the first {EXPORT_CAP} of {total} rows (the limit per file); "
            "filter by status or search to export the rest.")
    return response


@blueprint.get("/dashboard")
def dashboard() -> Any:
    require("sms_campaigns")
    return rt().dashboard.summary(tenant())
