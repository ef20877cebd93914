"""JSON API of the tenant's settings (DESIGN.md §11): `GET|PUT /api/v1/settings`.

Reading needs `sms_campaigns` (anyone who sees campaigns sees what governs them); changing
needs `sms_campaigns_send`, since the settings decide when and how much is sent. PUT takes
a partial object and answers the whole one; a bad value is a 422 naming its field, and
nothing is written unless every value is good.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g

from . import require
from .api import body, rt, tenant

blueprint = Blueprint("api_settings", __name__, url_prefix="/api/v1")


@blueprint.get("/settings")
def show_settings() -> Any:
    require("sms_campaigns")
    return rt().tenant_settings.for_tenant(tenant()).to_json()


@blueprint.put("/settings")
def change_settings() -> Any:
    require("sms_campaigns")
    require("sms_campaigns_send")
    changed = rt().tenant_settings.update(tenant(), body(), user_id=g.identity.user_id)
    return changed.to_json()
