"""A simulated inbound SMS: the form Twilio POSTs to a number's (or Messaging Service's)
incoming-message webhook, signed like every Twilio webhook (signing.py).

The fields are Twilio's own names (twilio.com/docs/messaging/guides/webhook-request): the
message ids (`MessageSid`, `SmsSid`, `SmsMessageSid`), `AccountSid`, `MessagingServiceSid`
when a service received it, `From`, `To`, `Body`, `NumMedia`, `NumSegments`, `SmsStatus`
`received`, `ApiVersion`, the countries Twilio geolocates the numbers to, and `OptOutType`
when Advanced Opt-Out matched a keyword.

`python -m sidecar.providers.fake_twilio inbound --url URL --from NUMBER --body STOP
[--opt-out-type STOP] [--to NUMBER] [--auth-token TOKEN]` posts one and prints the answer.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys

import phonenumbers

from sidecar.sms_text import count_segments

from .signing import WebhookAnswer, post_signed_form
from .wire import API_VERSION, SERVICE_SENDER

DEFAULT_TOKEN = "fake-token"  # the fake server's default Auth Token (cli.py)
DEFAULT_ACCOUNT = "AC" + "0" * 32


def _country(number: str) -> str:
    """The ISO country Twilio reports for a number ('' when it cannot tell)."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number, None)) or ""
    except phonenumbers.NumberParseException:
        return ""


def inbound_form(*, account_sid: str, from_: str, body: str, to: str = SERVICE_SENDER,
                 opt_out_type: str | None = None, messaging_service_sid: str | None = None,
                 message_sid: str | None = None) -> dict[str, str]:
    """The form fields of one inbound SMS, as Twilio sends them."""
    sid = message_sid or "SM" + secrets.token_hex(16)
    form = {
        "ToCountry": _country(to), "ToState": "", "ToCity": "", "ToZip": "",
        "SmsMessageSid": sid, "SmsSid": sid, "MessageSid": sid, "AccountSid": account_sid,
        "From": from_, "FromCountry": _country(from_), "FromState": "", "FromCity": "",
        "FromZip": "", "To": to, "Body": body, "NumMedia": "0",
        "NumSegments": str(count_segments(body).segments or 1), "SmsStatus": "received",
        "ApiVersion": API_VERSION,
    }
    if messaging_service_sid:
        form["MessagingServiceSid"] = messaging_service_sid
    if opt_out_type:
        form["OptOutType"] = opt_out_type
    return form


def post_inbound(url: str, auth_token: str, form: dict[str, str], *,
                 timeout: float = 10.0) -> WebhookAnswer:
    """POST an inbound form to `url` (the exact URL the signature covers)."""
    return post_signed_form(url, form, auth_token, timeout=timeout)


def main(argv: list[str]) -> int:
    """Send one signed inbound SMS to a webhook URL and print the HTTP answer (exit 0 for
    a 2xx answer, 1 otherwise)."""
    parser = argparse.ArgumentParser(prog="python -m sidecar.providers.fake_twilio inbound",
                                     description=main.__doc__)
    parser.add_argument("--url", required=True,
                        help="the webhook URL, exactly as Twilio would call it (it is signed)")
    parser.add_argument("--from", dest="from_", required=True, metavar="NUMBER",
                        help="the sender, E.164 (e.g. +16175550142)")
    parser.add_argument("--body", required=True)
    parser.add_argument("--opt-out-type", choices=["STOP", "START", "HELP"],
                        help="as Twilio Advanced Opt-Out adds when the body matched a keyword")
    parser.add_argument("--to", default=SERVICE_SENDER, metavar="NUMBER",
                        help=f"the receiving number (default {SERVICE_SENDER})")
    parser.add_argument("--messaging-service-sid", metavar="MG...")
    parser.add_argument("--account-sid",
                        default=os.environ.get("TWILIO_ACCOUNT_SID", DEFAULT_ACCOUNT))
    parser.add_argument("--auth-token",
                        default=os.environ.get("TWILIO_AUTH_TOKEN", DEFAULT_TOKEN),
                        help="the Auth Token that signs it (env TWILIO_AUTH_TOKEN)")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args(argv)
    form = inbound_form(account_sid=args.account_sid, from_=args.from_, body=args.body,
                        to=args.to, opt_out_type=args.opt_out_type,
                        messaging_service_sid=args.messaging_service_sid)
    answer = post_inbound(args.url, args.auth_token, form, timeout=args.timeout)
    if answer.status is None:
        print(f"no answer from {args.url}", file=sys.stderr)
        return 1
    print(f"HTTP {answer.status} {answer.content_type}".rstrip())
    if answer.body:
        print(answer.body.rstrip("\n"))
    return 0 if 200 <= answer.status < 300 else 1
