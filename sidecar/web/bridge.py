"""Endpoints the WordPress bridge calls server to server."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify

from ..errors import Forbidden
from ..runtime import Runtime
from . import require

blueprint = Blueprint("bridge", __name__, url_prefix="/bridge")


@blueprint.post("/tick")
def tick() -> Any:
    """Booknetic's bkntc_cronjob fired: answer 202 at once, run the queue in the background
    (the bridge must never hold up the page request that triggered Booknetic's cron)."""
    require("cron")
    runtime: Runtime = current_app.extensions["runtime"]
    started = runtime.outbox.kick()  # False: joined a run already going
    return jsonify({"accepted": True, "started": started}), 202


@blueprint.get("/check")
def check() -> Any:
    """The bridge settings screen's "test connection": the same lines as `bkntc-sms check`."""
    require("sms_campaigns")
    if g.identity.tenant_id is not None:
        # It names the database host and the tenant count: for the site operator only
        # (the bridge's settings screen), never for a SaaS tenant's users.
        raise Forbidden("The connection check is for the site administrator.")
    from ..checks import run_checks

    runtime: Runtime = current_app.extensions["runtime"]
    results = run_checks(runtime.settings, runtime.engine)
    return {"ok": all(r.ok for r in results), "checks": [r.to_dict() for r in results],
            "identity": g.identity.as_json()}


