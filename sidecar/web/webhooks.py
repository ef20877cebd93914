"""Twilio's webhooks, relayed by the bridge (DESIGN.md §10): status callbacks and inbound
messages. twilio_hooks.py checks them; a refusal never reaches these views."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response

from ..providers.twilio import empty_twiml, status_callback_update
from .api import rt
from .twilio_hooks import TwilioRequest, twilio_webhook

logger = logging.getLogger(__name__)

blueprint = Blueprint("webhooks", __name__, url_prefix="/twilio")


@blueprint.post("/status")
@twilio_webhook
def status_callback(hook: TwilioRequest) -> Any:
    """A message's status changed: apply it (forward only). 204 whatever became of it —
    applied, repeated, late, or for a message we do not know (logged, ignored)."""
    update = status_callback_update(hook.form, hook.received_at)
    if update is None:
        logger.info("status callback ignored: no message status we track",
                    extra={"message_id": hook.form.get("MessageSid", "")[:64],
                           "status": hook.form.get("MessageStatus", "")[:32]})
    else:
        rt().deliveries.record_callback(update)
    return Response(status=204)


@blueprint.post("/inbound")
@twilio_webhook
def inbound_message(hook: TwilioRequest) -> Any:
    """An SMS came in: STOP and START change suppression lists across tenants, HELP and
    anything else are logged (sidecar/opt_outs.py). 200 with an empty TwiML `<Response/>`
    whatever it said: Twilio then sends nothing on our behalf."""
    rt().opt_outs.handle_inbound(hook.form)
    return Response(empty_twiml(), status=200, mimetype="text/xml")
