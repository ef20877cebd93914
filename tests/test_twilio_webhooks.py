"""`POST /twilio/status` (DESIGN.md §10): Twilio's status callbacks as the bridge relays them.

The security matrix of the webhook: a callback that would change a row (a real message's
"delivered") is refused with nothing changed when Twilio's signature is missing, forged,
made for another URL or another body, when the public URL is not ours, when the bridge's
signature is missing or another user's, when the body is too big or not a form. Accepted
callbacks answer 204 — also repeated, late, out-of-order ones and unknown message ids —
and move rows only forward, with the campaign's counters. The real app on MariaDB, the
official RequestValidator on both sides (tests/webhook_support.py signs as Twilio does).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from sidecar.runtime import Runtime
from sidecar.web import create_app
from tests.conftest import MariaDBServer
from tests.security_support import ALL
from tests.web_support import (
    CRON,
    TENANT1,
    Reply,
    Signed,
    SignedClient,
    Web,
    assert_error,
    web_fixture,
)
from tests.webhook_support import (
    FORM,
    PUBLIC_BASE,
    STATUS_URL,
    message_sid,
    status_form,
    twilio_signed,
)

BRIDGE = replace(ALL, user_id=0, user_login="", display_name="Twilio webhook", tenant_id=None,
                 caps=("twilio_webhook",))


@pytest.fixture(scope="module")
def web(mariadb: MariaDBServer) -> Iterator[Web]:
    yield from web_fixture(mariadb, customers=12)


@pytest.fixture(scope="module")
def campaign(web: Web) -> int:
    return web.sent_campaign(1, name="Delivery matrix")


def rows(web: Web, campaign_id: int) -> list[dict[str, Any]]:
    return [r for r in web.shop.rows(campaign_id) if r["status"] == "sent"]


def webhook(web: Web, form: dict[str, str] | None = None, *, who: Any = BRIDGE,
            **signing: Any) -> Signed:
    """A status callback as the bridge relays it: Twilio-signed form, bridge-signed."""
    body, headers = twilio_signed(web.twilio_token, form, **signing)
    signed = web.client.prepare("POST", "/twilio/status", raw_body=body, who=who,
                                content_type=FORM)
    return replace(signed, headers={**signed.headers, **headers})


def early_count(web: Web) -> int:
    e = web.runtime.tables.early_statuses
    with web.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(e)).scalar_one())


def snapshot(web: Web) -> tuple[Any, ...]:
    return web.state(), early_count(web)


def send(web: Web, request: Signed) -> Reply:
    return web.client.send(request)


# -- accepted -----------------------------------------------------------------------------


def test_a_delivered_callback_moves_the_row_and_the_counters_once(web: Web,
                                                                  campaign: int) -> None:
    row = rows(web, campaign)[0]
    sid = row["provider_message_id"]
    assert (row["delivery_status"], row["delivery_check_at"]) == (
        "queued", row["sent_at"] + 600)
    before = web.runtime.campaigns.get(1, campaign)
    reply = send(web, webhook(web, status_form(sid, "delivered")))
    assert (reply.status, reply.body) == (204, b"")
    after = {r["id"]: r for r in rows(web, campaign)}[row["id"]]
    assert (after["delivery_status"], after["delivered_at"], after["delivery_check_at"]) == (
        "delivered", web.shop.clock(), None)
    shown = web.runtime.campaigns.get(1, campaign)
    assert (shown["delivered"], shown["undelivered"]) == (before["delivered"] + 1,
                                                          before["undelivered"])
    # The same callback again (Twilio does retry), or a late "sent": nothing moves.
    state = snapshot(web)
    for status in ("delivered", "sent", "queued", "undelivered"):
        assert send(web, webhook(web, status_form(sid, status, 30003))).status == 204
    assert snapshot(web) == state


def test_undelivered_keeps_the_carrier_error_in_words(web: Web, campaign: int) -> None:
    row = rows(web, campaign)[1]
    sid = row["provider_message_id"]
    assert send(web, webhook(web, status_form(sid, "sent"))).status == 204
    assert send(web, webhook(web, status_form(sid, "undelivered", 30005))).status == 204
    after = {r["id"]: r for r in rows(web, campaign)}[row["id"]]
    assert (after["delivery_status"], after["delivery_error_code"], after["delivered_at"]) == (
        "undelivered", 30005, None)
    assert after["delivery_error"] == ("unknown number: it does not exist or is no longer in "
                                       "service (Twilio 30005)")
    assert web.runtime.campaigns.get(1, campaign)["undelivered"] >= 1


def test_an_unknown_message_id_is_answered_and_changes_no_row(web: Web) -> None:
    state, held = web.state(), early_count(web)
    assert send(web, webhook(web, status_form(message_sid(), "delivered"))).status == 204
    # Kept for its batch (it may be being recorded now), never applied to another row.
    assert (web.state(), early_count(web)) == (state, held + 1)


@pytest.mark.parametrize("form", [
    status_form(status="receiving"), status_form(status="partially_delivered"),
    status_form(sid="not-a-message-id"), {"AccountSid": "AC1"}, {}],
    ids=["inbound status", "status we do not track", "no message id", "no status",
         "empty form"])
def test_callbacks_we_cannot_use_are_answered_and_ignored(web: Web,
                                                          form: dict[str, str]) -> None:
    state = snapshot(web)
    assert send(web, webhook(web, form)).status == 204
    assert snapshot(web) == state


def test_the_sha256_signature_variant_is_checked_too(web: Web, campaign: int) -> None:
    """X-Twilio-Webhooks-Signature-Settings names the algorithm (tech-notes §1.6)."""
    row = rows(web, campaign)[2]
    form = status_form(row["provider_message_id"], "sent")
    payload = STATUS_URL + "".join(k + form[k] for k in sorted(form))
    sha256 = base64.b64encode(hmac.new(web.twilio_token.encode(), payload.encode(),
                                       hashlib.sha256).digest()).decode()
    request = webhook(web, form)
    settings = {"X-Twilio-Webhooks-Signature-Settings": "key=KS1,algorithm=HMAC_SHA256"}
    state = snapshot(web)
    refused = replace(request, headers={**request.headers, **settings})  # SHA-1 signature
    assert_error(send(web, refused), 403, "twilio_signature")
    assert snapshot(web) == state
    accepted = webhook(web, form)
    accepted = replace(accepted, headers={**accepted.headers, **settings,
                                          "X-Twilio-Signature": sha256})
    assert send(web, accepted).status == 204
    assert {r["id"]: r for r in rows(web, campaign)}[row["id"]]["delivery_status"] == "sent"


# -- refused, nothing changed -------------------------------------------------------------


def _headers(request: Signed, **changes: str | None) -> Signed:
    return request.with_headers(**changes)


def _json_body(web: Web, form: dict[str, str]) -> Signed:
    _, headers = twilio_signed(web.twilio_token, form)
    signed = web.client.prepare("POST", "/twilio/status", form, who=BRIDGE)  # JSON
    return replace(signed, headers={**signed.headers, **headers})


def _typed(web: Web, form: dict[str, str], content_type: str | None) -> Signed:
    body, headers = twilio_signed(web.twilio_token, form)
    signed = web.client.prepare("POST", "/twilio/status", raw_body=body, who=BRIDGE,
                                content_type=content_type)
    return replace(signed, headers={**signed.headers, **headers})


def _tampered_body(web: Web, form: dict[str, str], **changes: str | None) -> Signed:
    """Twilio signed `form`; the body says otherwise (re-signed by the bridge)."""
    sent = {k: v for k, v in {**form, **changes}.items() if v is not None}
    body, headers = twilio_signed(web.twilio_token, sent, signed_form=form)
    signed = web.client.prepare("POST", "/twilio/status", raw_body=body, who=BRIDGE,
                                content_type=FORM)
    return replace(signed, headers={**signed.headers, **headers})


FOREIGN = "https://attacker.example/wp-json/bkntc-sms/v1/twilio/status"
Attack = Callable[[Web, dict[str, str]], Signed]
ATTACKS: dict[str, tuple[Attack, int, str]] = {
    "no X-Twilio-Signature": (lambda w, f: _headers(webhook(w, f), X_Twilio_Signature=None),
                              403, "twilio_signature"),
    "empty X-Twilio-Signature": (lambda w, f: _headers(webhook(w, f), X_Twilio_Signature=""),
                                 403, "twilio_signature"),
    "signed with another Auth Token": (
        lambda w, f: _headers(webhook(w, f), X_Twilio_Signature=twilio_signed(
            "another-auth-token-0123456789abcd", f)[1]["X-Twilio-Signature"]),
        403, "twilio_signature"),
    "signed for another URL": (lambda w, f: webhook(w, f, signed_url=PUBLIC_BASE + "other"),
                               403, "twilio_signature"),
    "signed for another query": (lambda w, f: webhook(w, f, signed_url=STATUS_URL + "?x=1"),
                                 403, "twilio_signature"),
    "a public URL not under our base": (lambda w, f: webhook(w, f, url=FOREIGN),
                                        403, "twilio_signature"),
    "our base only in the query": (lambda w, f: webhook(w, f, url="https://attacker.example/"
                                                        f"?u={STATUS_URL}"),
                                   403, "twilio_signature"),
    "no X-Bkntc-Public-Url": (lambda w, f: _headers(webhook(w, f), X_Bkntc_Public_Url=None),
                              403, "twilio_signature"),
    "a field changed after Twilio signed": (
        lambda w, f: _tampered_body(w, {**f, "MessageStatus": "undelivered"},
                                    MessageStatus="delivered"), 403, "twilio_signature"),
    "a field added after Twilio signed": (
        lambda w, f: _tampered_body(w, f, ErrorCode="30003"), 403, "twilio_signature"),
    "a field removed after Twilio signed": (
        lambda w, f: _tampered_body(w, f, SmsStatus=None), 403, "twilio_signature"),
    "no bridge signature": (lambda w, f: _headers(webhook(w, f), X_Bkntc_Signature=None,
                                                  X_Bkntc_Identity=None),
                            401, "unauthorized"),
    "bridge signature of another body": (
        lambda w, f: replace(webhook(w, f), body=twilio_signed(
            w.twilio_token, {**f, "MessageStatus": "sent"})[0]), 401, "unauthorized"),
    "relayed as a tenant's user": (lambda w, f: webhook(w, f, who=replace(ALL, tenant_id=1)),
                                   403, "forbidden"),
    "without the twilio_webhook capability": (
        lambda w, f: webhook(w, f, who=replace(BRIDGE, caps=(CRON,))), 403, "forbidden"),
    "a user's capabilities only": (lambda w, f: webhook(w, f, who=TENANT1.in_tenant(None)),
                                   403, "forbidden"),
    "oversized body": (lambda w, f: webhook(w, {**f, "Body": "x" * 70_000}),
                       413, "too_large"),
    "JSON body": (_json_body, 415, "unsupported_media_type"),
    "multipart content type": (lambda w, f: _typed(w, f, "multipart/form-data; boundary=x"),
                               415, "unsupported_media_type"),
    "no content type": (lambda w, f: _typed(w, f, None), 415, "unsupported_media_type"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_refused_callbacks_change_nothing(web: Web, campaign: int, attack: str) -> None:
    row = next(r for r in rows(web, campaign) if r["delivery_status"] in ("queued", "sent"))
    make, status, code = ATTACKS[attack]
    request = make(web, status_form(row["provider_message_id"], "delivered"))
    state = snapshot(web)
    assert_error(send(web, request), status, code)
    assert snapshot(web) == state
    # A callback for that message, relayed as it should be, is accepted: the refusal was
    # the attack's ("sent" keeps the row open for the next attack).
    assert send(web, webhook(web, status_form(row["provider_message_id"], "sent"))).status \
        == 204


def test_a_replayed_relay_is_refused_and_a_replayed_callback_changes_nothing(
        web: Web, campaign: int) -> None:
    row = next(r for r in rows(web, campaign) if r["delivery_status"] == "queued")
    request = webhook(web, status_form(row["provider_message_id"], "delivered"))
    assert send(web, request).status == 204
    state = snapshot(web)
    assert_error(send(web, request), 401, "unauthorized")  # the bridge's nonce, again
    # Twilio's own request relayed again with a fresh bridge signature: forward-only.
    assert send(web, webhook(web, status_form(row["provider_message_id"], "delivered"))
                ).status == 204
    assert snapshot(web) == state


def test_without_a_public_base_url_nothing_is_trusted(web: Web, campaign: int) -> None:
    """No BKNTC_SMS_PUBLIC_URL and no option: no URL can be checked, so nothing passes —
    and messages carry no StatusCallback."""
    runtime = Runtime.build(replace(web.runtime.settings, public_url=None),
                            engine=web.engine, clock=web.runtime.clock)
    try:
        assert runtime.public_urls.status_callback() is None
        client = SignedClient(web.client.transport.__class__(create_app(runtime)),
                              clock=web.runtime.clock)
        row = next(r for r in rows(web, campaign) if r["delivery_status"] == "queued")
        body, headers = twilio_signed(web.twilio_token,
                                      status_form(row["provider_message_id"], "delivered"))
        request = client.prepare("POST", "/twilio/status", raw_body=body, who=BRIDGE,
                                 content_type=FORM)
        state = snapshot(web)
        reply = client.send(replace(request, headers={**request.headers, **headers}))
        error = assert_error(reply, 403, "twilio_signature")
        assert "no public base URL" in error["message"]
        assert snapshot(web) == state
    finally:
        runtime.outbox.close()


def test_messages_ask_for_callbacks_at_the_public_base(web: Web, campaign: int) -> None:
    """Campaign messages, one-off SMS (the same engine) and test SMS alike."""
    sids = {r["provider_message_id"] for r in rows(web, campaign)}
    callbacks = {m.status_callback for m in web.shop.fake.received() if m.sid in sids}
    assert callbacks == {STATUS_URL}
    test = web.client.post("/api/v1/sms/test", {"phone": "+12025550177", "body": "Test"},
                           who=TENANT1)
    assert test.status == 200, test
    (message,) = [m for m in web.shop.fake.received() if m.sid == test.json()["message_id"]]
    assert message.status_callback == STATUS_URL


def test_json_error_bodies_stay_small_and_say_why(web: Web) -> None:
    reply = send(web, _headers(webhook(web), X_Twilio_Signature=None))
    assert reply.status == 403 and len(reply.body) < 400
    assert "X-Twilio-Signature" in json.loads(reply.body)["error"]["message"]
