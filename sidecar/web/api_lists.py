"""JSON API for the lists a tenant keeps: message templates and the suppression list."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from ..errors import Invalid, NotFound
from . import require
from .api import body, rt, tenant
from .inputs import page_args

blueprint = Blueprint("api_lists", __name__, url_prefix="/api/v1")


def _can_read_templates() -> None:
    require("sms_campaigns")
    if not (g.identity.can("sms_campaign_templates") or g.identity.can("sms_campaigns_create")):
        require("sms_campaign_templates")


@blueprint.get("/templates")
def list_templates() -> Any:
    _can_read_templates()
    return {"templates": rt().templates.list(tenant())}


@blueprint.get("/templates/<int:template_id>")
def show_template(template_id: int) -> Any:
    _can_read_templates()
    return rt().templates.get(tenant(), template_id)


@blueprint.post("/templates")
def create_template() -> Any:
    require("sms_campaigns")
    require("sms_campaign_templates")
    return jsonify(rt().templates.create(tenant(), body(), user_id=g.identity.user_id)), 201


@blueprint.put("/templates/<int:template_id>")
def update_template(template_id: int) -> Any:
    require("sms_campaigns")
    require("sms_campaign_templates")
    return rt().templates.update(tenant(), template_id, body())


@blueprint.delete("/templates/<int:template_id>")
def delete_template(template_id: int) -> Any:
    require("sms_campaigns")
    require("sms_campaign_templates")
    rt().templates.delete(tenant(), template_id)
    return Response(status=204)


@blueprint.get("/suppressions")
def list_suppressions() -> Any:
    require("sms_campaigns")
    require("sms_campaign_suppressions")
    page, per_page = page_args(default=50, maximum=200)
    query = request.args.get("q", "")
    if len(query) > 100:
        raise Invalid({"q": "at most 100 characters"}, message="search text too long")
    # ?source=manual|keyword|provider (422 naming `source` for anything else)
    source = request.args.get("source") or None
    rows, total = rt().suppressions.list(tenant(), query=query, limit=per_page,
                                         offset=(page - 1) * per_page, source=source)
    return {"suppressions": rows, "total": total, "page": page, "per_page": per_page}


@blueprint.post("/suppressions")
def add_suppression() -> Any:
    require("sms_campaigns")
    require("sms_campaign_suppressions")
    data = body()
    phone, reason = data.get("phone"), data.get("reason", "")
    wrong = {name: "must be text" for name, value in (("phone", phone), ("reason", reason))
             if not isinstance(value, str)}
    if wrong:
        raise Invalid(wrong)
    row = rt().suppressions.add(tenant(), phone, reason, user_id=g.identity.user_id)
    if not row["added"]:
        row["message"] = f"{row['phone']} is already on the suppression list."
    return jsonify(row), 201 if row["added"] else 200


@blueprint.post("/suppressions/bulk")
def add_suppressions() -> Any:
    require("sms_campaigns")
    require("sms_campaign_suppressions")
    data = body()
    numbers, reason = data.get("numbers"), data.get("reason", "")
    wrong = {}
    if not isinstance(numbers, str):
        wrong["numbers"] = "paste the numbers as text, one per line"
    if not isinstance(reason, str):
        wrong["reason"] = "must be text"
    if wrong:
        raise Invalid(wrong)
    result = rt().suppressions.add_many(tenant(), numbers, reason,
                                        user_id=g.identity.user_id,
                                        skip_invalid=data.get("skip_invalid") is True)
    return {"added": result.added, "already": result.already, "invalid": result.invalid}


@blueprint.get("/suppressions/<int:suppression_id>")
def show_suppression(suppression_id: int) -> Any:
    require("sms_campaigns")
    require("sms_campaign_suppressions")
    rows, _ = rt().suppressions.list(tenant(), limit=1, offset=0, only_id=suppression_id)
    if not rows:
        raise NotFound(f"suppression {suppression_id} not found")
    return rows[0]


@blueprint.delete("/suppressions/<int:suppression_id>")
def remove_suppression(suppression_id: int) -> Any:
    require("sms_campaigns")
    require("sms_campaign_suppressions")
    rt().suppressions.remove(tenant(), suppression_id)
    return Response(status=204)
