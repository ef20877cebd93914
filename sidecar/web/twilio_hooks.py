"""Twilio's webhooks as the bridge relays them (DESIGN.md §10): the checks, in one piece.

Twilio cannot reach the sidecar (it listens on loopback), so it calls the bridge's public
REST routes, and the bridge relays the raw request here, signed with the bridge protocol
(identity `user_id` 0, `tenant_id` null, caps `["twilio_webhook"]`), adding
`X-Bkntc-Public-Url` (the exact URL Twilio called, with its query) and Twilio's own
`X-Twilio-Signature`. A view decorated with `@twilio_webhook` runs only when, in order:

1. the bridge signature is good (create_app's before_request: 401 otherwise);
2. the identity carries `twilio_webhook` and no tenant (403);
3. the body is a form (`application/x-www-form-urlencoded`, as Twilio sends; 415) of at
   most WEBHOOK_MAX_BYTES (413);
4. the public URL starts with the configured public base (403);
5. Twilio's signature over that URL and every form field checks out with the add-on's Auth
   Token, through the official `RequestValidator` (providers/twilio.py; 403).

Such views take form bodies and no page token, like `/bridge/tick`: create_app skips the
CSRF and JSON checks for them (`is_twilio_webhook`). A refusal changes nothing.

Usage (webhooks.py: `/twilio/status` and `/twilio/inbound`):

    @blueprint.post("/inbound")
    @twilio_webhook
    def inbound_message(hook: TwilioRequest) -> Response:
        ...  # hook.form, hook.public_url, hook.received_at
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge, UnsupportedMediaType

from ..errors import Forbidden
from ..providers.twilio import webhook_signature_valid
from . import require

logger = logging.getLogger(__name__)

WEBHOOK_CAPABILITY = "twilio_webhook"
WEBHOOK_MAX_BYTES = 64 * 1024  # a status callback is ~0.5 KB, an inbound SMS a few KB
PUBLIC_URL_HEADER = "X-Bkntc-Public-Url"
SIGNATURE_HEADER = "X-Twilio-Signature"
SIGNATURE_SETTINGS_HEADER = "X-Twilio-Webhooks-Signature-Settings"
FORM_TYPE = "application/x-www-form-urlencoded"


class TwilioSignatureInvalid(Forbidden):
    """The request is not provably Twilio's (signature, URL or configuration)."""

    code = "twilio_signature"


@dataclass(frozen=True)
class TwilioRequest:
    """A verified Twilio webhook: what the view may trust."""

    public_url: str  # the URL Twilio called (what its signature covers)
    form: MultiDict[str, str]  # every field Twilio sent
    received_at: int  # epoch seconds, the runtime's clock


def twilio_webhook(view: Callable[[TwilioRequest], Any]) -> Callable[..., Any]:
    """Make `view(hook)` a Twilio webhook route: it runs only for a request that passes
    every check in the module docstring; any refusal raises before it (nothing changes)."""

    @functools.wraps(view)
    def checked(**kwargs: Any) -> Any:
        return view(verified_twilio_request(), **kwargs)

    checked.twilio_webhook = True  # type: ignore[attr-defined]
    return checked


def is_twilio_webhook(view: Callable[..., Any] | None) -> bool:
    """Whether a view function is a `@twilio_webhook` route (form body, no page token)."""
    return bool(getattr(view, "twilio_webhook", False))


def verified_twilio_request() -> TwilioRequest:
    """Checks 2-5 of the module docstring on the current request; raises Forbidden (403),
    UnsupportedMediaType (415) or RequestEntityTooLarge (413) on the first that fails."""
    require(WEBHOOK_CAPABILITY)
    if g.identity.tenant_id is not None:
        raise Forbidden("Twilio webhooks are relayed without a tenant.")
    if request.mimetype != FORM_TYPE:
        raise UnsupportedMediaType(f"Twilio webhooks are {FORM_TYPE} bodies.")
    if len(request.get_data(cache=True)) > WEBHOOK_MAX_BYTES:
        raise RequestEntityTooLarge()
    runtime = current_app.extensions["runtime"]
    webhook = runtime.public_urls.webhook_settings()
    public_url = request.headers.get(PUBLIC_URL_HEADER, "")
    if webhook.base is None:
        raise _refused("no public base URL is configured (the bridge's option "
                       "bkntc_sms_public_base_url or BKNTC_SMS_PUBLIC_URL)", public_url)
    if not public_url.startswith(webhook.base):
        raise _refused(f"{PUBLIC_URL_HEADER} is not under the public base URL", public_url)
    if not webhook.auth_token:
        raise _refused("the Twilio add-on has no Auth Token to check signatures with",
                       public_url)
    form = request.form
    if not webhook_signature_valid(webhook.auth_token, public_url, form,
                                   request.headers.get(SIGNATURE_HEADER, ""),
                                   request.headers.get(SIGNATURE_SETTINGS_HEADER, "")):
        raise _refused(f"missing or bad {SIGNATURE_HEADER}", public_url)
    return TwilioRequest(public_url, form, int(runtime.clock()))


def _refused(reason: str, public_url: str) -> TwilioSignatureInvalid:
    logger.warning("twilio webhook refused", extra={"path": request.path, "reason": reason,
                                                     "public_url": public_url[:300]})
    return TwilioSignatureInvalid(f"Not a verified Twilio request: {reason}.")
