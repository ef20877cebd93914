"""Server-rendered admin pages under /ui (shown inside Booknetic's panel by the bridge).

Pages render data; every change goes through the JSON API from static/app.js, so the
rules live in one place. Links and script calls use relay-relative URLs (`u()` in
templates), never the sidecar's own address.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, g, render_template, request

from ..campaigns import Status
from ..segments import SEGMENTS
from ..sms_text import GSM7_BASIC, GSM7_EXTENSION, MAX_BODY_CHARS, SHORTCODES
from . import require
from .api import page_args, rt, tenant

blueprint = Blueprint("pages", __name__, url_prefix="/ui")

STATUS_TABS = [("", "All")] + [(s.value, s.value.capitalize()) for s in Status]


def _chrome(active: str) -> dict[str, Any]:
    """What every page shows: navigation, the Twilio banner, a sending halt."""
    runtime = rt()
    twilio = runtime.booknetic.twilio_status()
    return {"active": active, "twilio": twilio.public(), "halt": runtime.outbox.halt_state(),
            "send_blocked": twilio.problem or "",
            "can": {cap: g.identity.can(cap) for cap in (
                "sms_campaigns_create", "sms_campaigns_send", "sms_campaigns_delete",
                "sms_campaign_templates", "sms_campaign_logs", "sms_campaign_suppressions")}}


@blueprint.get("/")
@blueprint.get("/campaigns")
def campaigns() -> str:
    require("sms_campaigns")
    page, per_page = page_args(default=20)
    status = request.args.get("status") or None
    if status not in {s.value for s in Status}:
        status = None
    rows, total = rt().campaigns.list(tenant(), status=status, limit=per_page,
                                      offset=(page - 1) * per_page)
    pages = max((total + per_page - 1) // per_page, 1)
    progress_id = request.args.get("progress", type=int)
    return render_template("campaigns.html", campaigns=rows, total=total, page=page,
                           pages=pages, status=status or "", tabs=STATUS_TABS,
                           progress_id=progress_id, **_chrome("campaigns"))


def _form(campaign: dict[str, Any] | None) -> str:
    runtime = rt()
    bk = runtime.booknetic
    options = {
        "services": bk.services(tenant()),
        "locations": bk.locations(tenant()),
        "statuses": bk.statuses(tenant()),
    }
    sms = {"basic": "".join(sorted(GSM7_BASIC)), "extension": "".join(sorted(GSM7_EXTENSION)),
           "max": MAX_BODY_CHARS}
    return render_template(
        "campaign_form.html", campaign=campaign, segments=list(SEGMENTS.values()),
        options=options, templates=runtime.templates.list(tenant()),
        shortcodes=SHORTCODES, sms_json=json.dumps(sms, ensure_ascii=False),
        filters=(campaign or {}).get("filters") or {"exclude_suppressed": True},
        **_chrome("campaigns"))


@blueprint.get("/campaigns/new")
def new_campaign() -> str:
    require("sms_campaigns")
    require("sms_campaigns_create")
    return _form(None)


@blueprint.get("/campaigns/<int:campaign_id>/edit")
def edit_campaign(campaign_id: int) -> str:
    require("sms_campaigns")
    require("sms_campaigns_create")
    return _form(rt().campaigns.get(tenant(), campaign_id))
