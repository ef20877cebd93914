"""The web app: JSON API, admin pages and bridge endpoints, all behind the bridge signature.

`create_app(runtime)` has no side effects at import time. Every request except /healthz
must carry the bridge's signed identity (auth.py); the identity, tenant and capabilities
of `g.identity` come from nothing else. Pages are written to be served through a relay (the
WordPress bridge, or relay.py for the demo and browser tests): every URL they contain is
relative to the relay endpoint — see `relay_url()` and the README's relay contract.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Flask, Response, current_app, g, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import UnsupportedMediaType

from .. import __version__
from ..errors import Forbidden
from ..runtime import Runtime
from ..zones import UTC_ZONE, BusinessZone
from .auth import CAPABILITY_LABELS, CsrfFailed, NonceStore, SecretSource, csrf_token, verify
from .errors import register_error_handlers
from .inputs import RowIdConverter

RELAY_QUERY = "?action=bkntc_sms&p="
MAX_BODY_BYTES = 2 * 1024 * 1024
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")


def relay_url(path: str) -> str:
    """A URL for the browser: relative to the relay endpoint, carrying the sidecar path."""
    return RELAY_QUERY + quote(path, safe="/")


def path_with_query() -> str:
    """Exactly what the bridge signed: the path plus the raw query string, if any."""
    query = request.environ.get("QUERY_STRING", "")
    return request.path + (f"?{query}" if query else "")


def require(capability: str) -> None:
    """403 unless the signed identity carries `capability`."""
    if not g.identity.can(capability):
        raise Forbidden("You do not have permission to "
                        f"{CAPABILITY_LABELS.get(capability, capability)} "
                        f"(capability {capability!r}).")


def business_zone() -> BusinessZone:
    """The signed tenant's business timezone, read once per request: every time a page
    shows is in it, with its name (DESIGN.md §11). Error pages of a request without an
    identity, or of a database outage, show UTC (named so)."""
    if "business_zone" not in g:
        identity = getattr(g, "identity", None)
        runtime: Runtime = current_app.extensions["runtime"]
        try:
            g.business_zone = (UTC_ZONE if identity is None
                               else runtime.booknetic.business_zone(identity.tenant_id))
        except DBAPIError:
            g.business_zone = UTC_ZONE
    zone: BusinessZone = g.business_zone
    return zone


def localtime(epoch: float | None, with_date: bool = True) -> str:
    """The `localtime` template filter: "2 Dec 2026, 14:32 (America/Chicago)"."""
    return business_zone().format(epoch, with_date=with_date)


def create_app(runtime: Runtime) -> Flask:
    app = Flask(__name__)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_SORT_KEYS=False)
    app.url_map.converters["int"] = RowIdConverter  # before any route: ids in range or 404
    app.extensions["runtime"] = runtime
    secrets_ = SecretSource(runtime.settings.bridge_secret,
                            lambda: runtime.booknetic.option("bkntc_sms_bridge_secret"))
    nonces = NonceStore(runtime.engine, runtime.tables)
    app.extensions["bridge_secret"] = secrets_
    from .twilio_hooks import is_twilio_webhook

    @app.before_request
    def authenticate() -> Response | None:
        if request.path in ("/healthz", "/metrics"):  # unsigned; /metrics: loopback only
            return None
        body = request.get_data(cache=True)
        # The runtime's clock: the wall clock in production, the test's own clock in tests
        # (which sign with the same one), so "now" is one value on both sides.
        g.identity = verify(request.headers, request.method, path_with_query(), body,
                            secret=secrets_.get(), nonces=nonces, now=int(runtime.clock()))
        # A signature vouches for the tenant id, not that the tenant still exists: nothing
        # (not even a template or a suppression) is written for a tenant Booknetic lacks.
        runtime.booknetic.require_tenant(g.identity.tenant_id)
        secret = secrets_.get() or ""
        g.csrf = csrf_token(secret, g.identity)
        form_route = (request.path == "/bridge/tick"
                      or is_twilio_webhook(app.view_functions.get(request.endpoint or "")))
        if request.method in STATE_CHANGING and not form_route:
            # Writes come from our own pages' fetch() calls only: JSON plus the per-user
            # token from the page. A cross-site form can send neither. (The tick and
            # Twilio's webhooks are server to server: twilio_hooks.py checks the latter.)
            if request.headers.get("X-Bkntc-Csrf", "") != g.csrf:
                raise CsrfFailed("The page's security token is missing or stale; reload it.")
            if body and not request.is_json:
                raise UnsupportedMediaType("Send JSON.")
        return None

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Cache-Control", "no-store")
        if response.mimetype == "text/html":
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                "script-src 'self'; connect-src 'self'; frame-ancestors 'self'")
        return response

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        # The bridge compares this with its own version (one release: same major.minor).
        return {"status": "ok", "version": __version__}

    @app.context_processor
    def template_globals() -> dict[str, Any]:
        zone = business_zone()
        return {"u": relay_url, "identity": getattr(g, "identity", None),
                "csrf": getattr(g, "csrf", ""),
                "wp_nonce": request.headers.get("X-Bkntc-Wp-Nonce", ""),
                # For static/app.js's formatTime: the zone's name, and its offset now for a
                # browser that does not know the name.
                "zone": zone, "zone_offset": zone.offset_at(runtime.clock())}

    app.add_template_filter(localtime)

    from . import (
        api,
        api_lists,
        api_messages,
        api_settings,
        bridge,
        metrics,
        pages,
        report_page,
        webhooks,
    )

    for module in (api, api_lists, api_messages, api_settings, metrics, pages, report_page):
        app.register_blueprint(module.blueprint)
    app.register_blueprint(bridge.blueprint)
    app.register_blueprint(webhooks.blueprint)
    register_error_handlers(app)
    return app
