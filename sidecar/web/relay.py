"""A local stand-in for the WordPress bridge's relay — for the demo and browser tests.

It does what the PHP bridge does (README, "Relay contract"), in Python:

* serves a Booknetic-like admin page whose iframe shows the sidecar's pages;
* takes every browser request at `/wp-admin/admin-ajax.php?action=bkntc_sms&p=<path>`,
  checks the signed-in user (and, for writes, the "WordPress" nonce), signs the request
  exactly as DESIGN.md §6 says, and forwards it to the sidecar server to server;
* passes the sidecar's answer back untouched (status, body, content type, download name);
* takes Twilio's webhooks at the bridge's two public REST routes
  (`POST /wp-json/bkntc-sms/v1/twilio/status|inbound`) and relays each raw request to the
  sidecar exactly as DESIGN.md §10 says the bridge does (`relay_webhook`).

Who the user is comes from `identity_for(request)`: the demo's sign-in cookie, or a fixed
identity a test chooses. It exists only in demo and test setups, bound to loopback.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from flask import Flask, Response, redirect, render_template, request

from .auth import sign
from .twilio_hooks import (
    PUBLIC_URL_HEADER,
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    WEBHOOK_CAPABILITY,
    WEBHOOK_MAX_BYTES,
)

IdentityFor = Callable[[Any], dict[str, Any] | None]
# The bridge's public REST namespace (rest_url('bkntc-sms/v1/')) and what it relays there.
PUBLIC_PREFIX = "/wp-json/bkntc-sms/v1/"
WEBHOOKS = ("twilio/status", "twilio/inbound")
WEBHOOK_IDENTITY = {"user_id": 0, "user_login": "", "display_name": "Twilio webhook",
                    "tenant_id": None, "caps": [WEBHOOK_CAPABILITY]}

FORWARD_REQUEST_HEADERS = ("Content-Type", "Accept", "X-Bkntc-Csrf")
# The same lists as bridge-plugin/src/class-relay.php.
FORWARD_RESPONSE_HEADERS = ("Content-Type", "Content-Disposition", "Cache-Control",
                            "Content-Security-Policy", "X-Content-Type-Options",
                            "Referrer-Policy", "X-Bkntc-Export-Total", "X-Bkntc-Export-Rows",
                            "X-Bkntc-Export-Truncated", "Retry-After")

def create_relay(sidecar_url: str, secret: Callable[[], str], identity_for: IdentityFor, *,
                 demo_personas: dict[str, dict[str, Any]] | None = None,
                 start_path: str = "/ui/campaigns", timeout: float = 30.0,
                 clock: Callable[[], float] = time.time) -> Flask:
    """The relay app. `clock` dates each signature (the bridge uses PHP's time()); give it
    the sidecar runtime's clock when both run in one process, as the tests do."""
    app = Flask(__name__)
    app.secret_key = secrets.token_hex(16)
    wp_nonce = secrets.token_hex(8)  # what wp_create_nonce() would give this "session"
    session = requests.Session()
    app.extensions["relay_wp_nonce"] = wp_nonce

    @app.get("/")
    def home() -> Any:
        return redirect("/wp-admin/admin.php?page=booknetic&module=sms_campaigns")

    @app.get("/wp-admin/admin.php")
    def admin_page() -> Any:
        identity = identity_for(request)
        if identity is None:
            return redirect("/demo/login")
        return render_template("relay_shell.html", title="SMS Campaigns", start=start_path,
                                      user=identity["display_name"],
                                      demo=demo_personas is not None)

    if demo_personas is not None:
        @app.route("/demo/login", methods=["GET", "POST"])
        def demo_login() -> Any:
            if request.method == "POST":
                persona = request.form.get("persona", "")
                if persona in demo_personas:
                    response = redirect("/wp-admin/admin.php?page=booknetic&module=sms_campaigns")
                    response.set_cookie("bkntc_demo_user", persona, httponly=True,
                                        samesite="Lax")
                    return response
            return render_template("relay_login.html", personas=demo_personas)

    @app.route("/wp-admin/admin-ajax.php", methods=["GET", "POST", "PUT", "DELETE"])
    def relay() -> Any:
        if request.args.get("action") != "bkntc_sms":
            return Response("0", status=400)  # what admin-ajax.php says to unknown actions
        identity = identity_for(request)
        if identity is None:
            return Response("You are not signed in.", status=401)
        if request.method != "GET" and request.headers.get("X-WP-Nonce") != wp_nonce:
            return Response('{"error":{"code":"wp_nonce","message":"The page has expired; '
                            'reload it."}}', status=403, content_type="application/json")
        path = sidecar_path(request.args)
        if path is None:
            return Response("Bad sidecar path.", status=400)
        body = request.get_data()
        headers = {h: request.headers[h] for h in FORWARD_REQUEST_HEADERS if h in request.headers}
        headers["X-Bkntc-Wp-Nonce"] = wp_nonce
        headers.update(sign(secret(), request.method, path, body, ts=int(clock()), **identity))
        try:
            answer = session.request(request.method, sidecar_url + path, data=body,
                                     headers=headers, timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            return Response(f"The SMS Campaigns service is not reachable at {sidecar_url}: "
                            f"{exc.__class__.__name__}. Is `bkntc-sms serve` running?",
                            status=502, content_type="text/plain")
        response = Response(answer.content, status=answer.status_code)
        for name in FORWARD_RESPONSE_HEADERS:
            if name in answer.headers:
                response.headers[name] = answer.headers[name]
        return response

    @app.post(PUBLIC_PREFIX + "twilio/<hook>")
    def relay_webhook(hook: str) -> Any:
        """A public route, as WordPress's REST API serves it: no sign-in. Relays only the two
        webhook paths, with a body size limit, and answers with the sidecar's answer."""
        path = f"twilio/{hook}"
        if path not in WEBHOOKS:
            return Response('{"code":"rest_no_route"}', status=404,
                            content_type="application/json")
        if (request.content_length or 0) > WEBHOOK_MAX_BYTES:
            return Response("Request too large.", status=413, content_type="text/plain")
        body = request.stream.read(WEBHOOK_MAX_BYTES + 1)  # never more, whatever it says
        if len(body) > WEBHOOK_MAX_BYTES:
            return Response("Request too large.", status=413, content_type="text/plain")
        query = request.environ.get("QUERY_STRING", "")
        headers = {PUBLIC_URL_HEADER: request.host_url.rstrip("/") + request.path
                   + (f"?{query}" if query else ""),
                   SIGNATURE_HEADER: request.headers.get(SIGNATURE_HEADER, "")}
        for name in ("Content-Type", SIGNATURE_SETTINGS_HEADER):
            if name in request.headers:
                headers[name] = request.headers[name]
        headers.update(sign(secret(), "POST", "/" + path, body, ts=int(clock()),
                            **WEBHOOK_IDENTITY))
        try:
            answer = session.post(sidecar_url + "/" + path, data=body, headers=headers,
                                  timeout=timeout, allow_redirects=False)
        except requests.RequestException as exc:
            return Response(f"The SMS Campaigns service is not reachable: "
                            f"{exc.__class__.__name__}", status=502, content_type="text/plain")
        response = Response(answer.content, status=answer.status_code)
        if "Content-Type" in answer.headers:
            response.headers["Content-Type"] = answer.headers["Content-Type"]
        return response

    return app


def sidecar_path(args: Any) -> str | None:
    """`p` plus any other query parameters (a GET form adds its fields beside `p`)."""
    raw = args.get("p", "")
    parts = urlsplit(raw)
    if not raw.startswith("/") or parts.scheme or parts.netloc or ".." in parts.path:
        return None
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, values in args.lists() if k not in ("action", "p") for v in values]
    return parts.path + (f"?{urlencode(query)}" if query else "")
