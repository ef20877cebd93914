"""JSON API `/api/v1/…` (DESIGN.md §6). Views parse, check a capability, call one service.

Tenant scoping comes from the signed identity only: every service call below passes
`g.identity.tenant_id`, and services answer "not found" for another tenant's objects.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request

from ..campaigns import Status, body_error
from ..errors import Invalid
from ..resend import resend_failed
from ..runtime import Runtime
from ..segments import SEGMENTS, SegmentQuery
from ..segments.phone_upkeep import phones_note
from . import localtime, require
from .inputs import json_object, page_args

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")


def rt() -> Runtime:
    runtime: Runtime = current_app.extensions["runtime"]
    return runtime


def tenant() -> int | None:
    return g.identity.tenant_id


def body() -> dict[str, Any]:
    """The request's JSON object (sidecar/web/inputs.py says what it refuses)."""
    return json_object(request.get_data(cache=True))


# -- status and segments -----------------------------------------------------------------


@blueprint.get("/status")
def status() -> Any:
    require("sms_campaigns")
    runtime = rt()
    bk = runtime.booknetic
    return {
        "twilio": bk.twilio_status().public(),
        "halt": runtime.outbox.halt_state(),
        "booknetic_version": bk.booknetic_version(),
        "multi_tenant": bk.multi_tenant,
        "identity": g.identity.as_json(),
    }


@blueprint.get("/segments")
def segments() -> Any:
    require("sms_campaigns")
    bk = rt().booknetic
    return {
        "segments": [{"key": d.key, "label": d.label, "description": d.description}
                     for d in SEGMENTS.values()],
        "filters": {"services": bk.services(tenant()), "locations": bk.locations(tenant()),
                    "statuses": bk.statuses(tenant())},
    }


@blueprint.post("/segments/preview")
def preview() -> Any:
    require("sms_campaigns")
    require("sms_campaigns_create")
    data = body()
    query = SegmentQuery.from_filters(data.get("segment"), data.get("filters") or {},
                                      tenant())
    limit = data.get("limit", 10)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 <= limit <= 100:
        raise Invalid({"limit": "must be a whole number from 0 to 100"},
                      message="limit must be 0-100")
    text = data.get("body")
    if text is not None and (problem := body_error(text)):
        raise Invalid({"body": problem}, message=f"body: {problem}")
    runtime = rt()
    found = runtime.segments.preview(
        query, limit=limit, body=text,
        price_per_segment=None if text is None else runtime.segment_price(tenant()))
    return {**found.to_dict(), "phones_checked_at": found.phones_checked_at,
            "phones_note": phones_note(found.phones_checked_at, int(runtime.clock()),
                                       show=localtime)}


# -- campaigns ---------------------------------------------------------------------------


@blueprint.get("/campaigns")
def list_campaigns() -> Any:
    require("sms_campaigns")
    page, per_page = page_args()
    status_filter = request.args.get("status") or None
    if status_filter and status_filter not in {s.value for s in Status}:
        raise Invalid({"status": f"unknown status {status_filter!r}"},
                      message="unknown status")
    rows, total = rt().campaigns.list(tenant(), status=status_filter, limit=per_page,
                                      offset=(page - 1) * per_page)
    return {"campaigns": rows, "total": total, "page": page, "per_page": per_page}


@blueprint.post("/campaigns")
def create_campaign() -> Any:
    require("sms_campaigns")
    require("sms_campaigns_create")
    campaign = rt().campaigns.create(tenant(), body(), user_id=g.identity.user_id)
    return jsonify(campaign), 201


@blueprint.get("/campaigns/<int:campaign_id>")
def show_campaign(campaign_id: int) -> Any:
    require("sms_campaigns")
    return rt().campaigns.get(tenant(), campaign_id)


@blueprint.put("/campaigns/<int:campaign_id>")
def update_campaign(campaign_id: int) -> Any:
    require("sms_campaigns")
    require("sms_campaigns_create")
    return rt().campaigns.update(tenant(), campaign_id, body())


@blueprint.delete("/campaigns/<int:campaign_id>")
def delete_campaign(campaign_id: int) -> Any:
    require("sms_campaigns")
    require("sms_campaigns_delete")
    rt().campaigns.delete(tenant(), campaign_id)
    return Response(status=204)


@blueprint.post("/campaigns/<int:campaign_id>/resend-failed")
def resend_failed_campaign(campaign_id: int) -> Any:
    """A new draft for the failed recipients that may succeed on another try (§12)."""
    require("sms_campaigns")
    require("sms_campaigns_create")
    return jsonify(resend_failed(rt().campaigns, tenant(), campaign_id,
                                 user_id=g.identity.user_id)), 201


@blueprint.post("/campaigns/<int:campaign_id>/send")
def send_campaign(campaign_id: int) -> Any:
    require("sms_campaigns")
    require("sms_campaigns_send")
    runtime = rt()
    campaign = runtime.campaigns.send(tenant(), campaign_id)
    if campaign["status"] == "queued":
        runtime.outbox.kick(campaign_id)  # the first batch goes out straight away
    return campaign


@blueprint.post("/campaigns/<int:campaign_id>/pause")
def pause_campaign(campaign_id: int) -> Any:
    require("sms_campaigns")
    require("sms_campaigns_send")
    return rt().campaigns.pause(tenant(), campaign_id)


@blueprint.post("/campaigns/<int:campaign_id>/resume")
def resume_campaign(campaign_id: int) -> Any:
    require("sms_campaigns")
    require("sms_campaigns_send")
    runtime = rt()
    runtime.outbox.provider()  # 409 with the fix when sending cannot work anyway
    runtime.outbox.clear_halt()  # resuming is the admin saying "try again"
    campaign = runtime.campaigns.resume(tenant(), campaign_id)
    runtime.outbox.kick(campaign_id)
    return campaign


@blueprint.post("/campaigns/<int:campaign_id>/schedule")
def schedule_campaign(campaign_id: int) -> Any:
    require("sms_campaigns")
    require("sms_campaigns_send")
    return rt().schedules.schedule(tenant(), campaign_id, body())


@blueprint.post("/campaigns/<int:campaign_id>/unschedule")
def unschedule_campaign(campaign_id: int) -> Any:
    require("sms_campaigns")
    require("sms_campaigns_send")
    return rt().schedules.unschedule(tenant(), campaign_id)


@blueprint.post("/campaigns/<int:campaign_id>/duplicate")
def duplicate_campaign(campaign_id: int) -> Any:
    require("sms_campaigns")
    require("sms_campaigns_create")
    return jsonify(rt().campaigns.duplicate(tenant(), campaign_id,
                                            user_id=g.identity.user_id)), 201


@blueprint.get("/campaigns/<int:campaign_id>/audience")
def campaign_audience(campaign_id: int) -> Any:
    """Who a Send would reach now and what it would cost: the preview of the campaign's
    segment, filters and body with the render report (the Send confirmation shows it)."""
    require("sms_campaigns")
    require("sms_campaigns_send")
    runtime = rt()
    campaign = runtime.campaigns.get(tenant(), campaign_id)
    query = SegmentQuery.from_filters(campaign["segment"], campaign["filters"], tenant())
    preview = runtime.segments.preview(query, limit=0, body=campaign["body"],
                                       price_per_segment=runtime.segment_price(tenant()))
    return {"campaign_id": campaign_id, "status": campaign["status"],
            "actions": campaign["actions"], "body": campaign["body"], **preview.to_dict()}


@blueprint.get("/campaigns/<int:campaign_id>/progress")
def campaign_progress(campaign_id: int) -> Any:
    require("sms_campaigns")
    progress = rt().campaigns.progress(tenant(), campaign_id)
    # Shown as "4 waiting to retry at …": the time through the pages' one time format.
    # Only when a retry waits: the business zone is an options read, and a poll must stay
    # one primary-key read of the campaign (tests/test_progress_cost.py).
    waiting = progress["next_retry_at"] is not None
    progress["next_retry_text"] = localtime(progress["next_retry_at"]) if waiting else ""
    return progress


@blueprint.get("/campaigns/<int:campaign_id>/report")
def campaign_report(campaign_id: int) -> Any:
    """DESIGN.md §12: the campaign's funnel, bookings, revenue and lift (one row read)."""
    require("sms_campaigns")
    return rt().reports.report(tenant(), campaign_id)
