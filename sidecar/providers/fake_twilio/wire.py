"""Twilio's 2010-04-01 Messages wire format as the fake speaks it: paths, error bodies,
the MessageInstance JSON, list pages, the checks on a create, magic test numbers."""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from sidecar.sms_text import MAX_BODY_CHARS

if TYPE_CHECKING:
    from .lifecycle import Plan

API_VERSION = "2010-04-01"
# The sender a Messaging Service "picks" when a message it accepted is sent.
SERVICE_SENDER = "+15005550006"

LIST_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages\.json$")
ONE_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)\.json$")

# Twilio's test-credential magic numbers (tech-notes §1.8). Any other From is accepted, because
# the fake also stands in for a live account.
MAGIC_FROM: dict[str, tuple[int, str]] = {
    "+15005550001": (21212, "The 'From' number +15005550001 is not a valid phone number."),
    "+15005550007": (
        21606,
        "The 'From' phone number provided is not a valid message-capable "
        "Twilio phone number for this destination/account.",
    ),
    "+15005550008": (
        21611,
        "This 'From' number has exceeded the maximum number of queued messages.",
    ),
}
MAGIC_TO: dict[str, tuple[int, str]] = {
    "+15005550001": (21211, "The 'To' number +15005550001 is not a valid phone number."),
    "+15005550002": (
        21612,
        "The 'To' phone number: +15005550002, is not currently reachable "
        "using the 'From' phone number via SMS.",
    ),
    "+15005550003": (
        21408,
        "Permission to send an SMS has not been enabled for the region "
        "indicated by the 'To' number: +15005550003.",
    ),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient"),
    "+15005550009": (21614, "'To' number is not a valid mobile number"),
}

_HTML_500 = (
    "<html><head><title>{status} Server Error</title></head>"
    "<body><h1>{status} Server Error</h1><p>An unexpected error occurred.</p></body></html>"
)
TIMEOUT = "timeout"  # an item for script_response_sequence


@dataclass
class ReceivedMessage:
    """A message the fake accepted (what Twilio would have stored)."""

    sid: str
    account_sid: str
    to: str
    from_: str | None
    body: str
    status_callback: str | None
    received_at: float
    status: str
    messaging_service_sid: str | None = None
    num_segments: int = 1
    error_code: int | None = None
    answer_lost: bool = False  # stored, but the client saw a 500 or a timeout
    updated_at: float | None = None
    validity_period: int | None = None  # seconds, as the request's ValidityPeriod said
    date_sent: float | None = None  # None while Twilio holds it queued
    plan: Plan | None = None  # its statuses over time (lifecycle.py); None: set by hand


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    hang: bool = False  # sleep `timeout_sleep`, then drop the connection without answering


def rfc2822(ts: float) -> str:
    return format_datetime(datetime.fromtimestamp(ts, UTC))


def error(status: int, code: int, message: str) -> Reply:
    """Twilio's legacy error body, which the library turns into TwilioRestException."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Reply(status, json.dumps(body).encode())


def html(status: int) -> Reply:
    return Reply(status, _HTML_500.format(status=status).encode(), "text/html; charset=utf-8")


def json_reply(status: int, payload: dict[str, Any]) -> Reply:
    return Reply(status, json.dumps(payload).encode())


def message_json(m: ReceivedMessage) -> dict[str, Any]:
    """The JSON MessageInstance Twilio answers for a stored message."""
    uri = f"/{API_VERSION}/Accounts/{m.account_sid}/Messages/{m.sid}"
    return {
        "account_sid": m.account_sid,
        "api_version": API_VERSION,
        "body": m.body,
        "date_created": rfc2822(m.received_at),
        "date_sent": None if m.date_sent is None else rfc2822(m.date_sent),
        "date_updated": rfc2822(m.updated_at or m.received_at),
        "direction": "outbound-api",
        "error_code": m.error_code,
        "error_message": None if m.error_code is None else f"Error {m.error_code}",
        "from": m.from_,
        "messaging_service_sid": m.messaging_service_sid,
        # A Messaging Service has not picked a sender yet, so Twilio reports 0 segments.
        "num_media": "0",
        "num_segments": "0" if m.status == "accepted" else str(m.num_segments),
        "price": None,
        "price_unit": "USD",
        "sid": m.sid,
        "status": m.status,
        "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
        "to": m.to,
        "uri": f"{uri}.json",
    }


def list_page(path: str, query: dict[str, list[str]],
              messages: list[ReceivedMessage]) -> Reply:
    """One page of the Messages list: newest first, filtered by To/From/DateSent. A message
    still queued has no date_sent, so no DateSent filter lists it (as on Twilio). The
    caller holds the lock `messages` needs and has settled their statuses."""

    def arg(name: str) -> str | None:
        return query[name][0] if name in query else None

    try:
        page_size = min(max(int(arg("PageSize") or 50), 1), 1000)
        page = max(int(arg("Page") or 0), 0)
        date_filters = [
            (op, _parse_date(arg(f"DateSent{op}")))
            for op in ("", "<", ">")
            if arg(f"DateSent{op}")
        ]
    except ValueError as exc:
        return error(400, 20001, f"Invalid parameter: {exc}")
    rows = [
        m
        for m in reversed(messages)
        if (arg("To") is None or m.to == arg("To"))
        and (arg("From") is None or m.from_ == arg("From"))
        and all(m.date_sent is not None and _date_matches(m.date_sent, op, d)
                for op, d in date_filters)
    ]
    chunk = [message_json(m) for m in rows[page * page_size : (page + 1) * page_size]]
    filters = {k: v[0] for k, v in query.items() if k not in ("Page", "PageSize", "PageToken")}

    def page_uri(number: int) -> str:
        params = {**filters, "PageSize": page_size, "Page": number}
        if number:
            params["PageToken"] = f"PA{number}"
        return f"{path}?{urllib.parse.urlencode(params)}"

    start = page * page_size
    return json_reply(
        200,
        {
            "messages": chunk,
            "start": start,
            "end": start + max(len(chunk) - 1, 0),
            "page": page,
            "page_size": page_size,
            "uri": page_uri(page),
            "first_page_uri": page_uri(0),
            "next_page_uri": page_uri(page + 1) if start + page_size < len(rows) else None,
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
        },
    )


def form_value(form: dict[str, list[str]], name: str) -> str:
    return form.get(name, [""])[0].strip()


def check_create(form: dict[str, list[str]]) -> Reply | None:
    """Twilio's checks on a create, in order: the error to answer, or None when valid."""
    to, from_ = form_value(form, "To"), form_value(form, "From")
    service = form_value(form, "MessagingServiceSid")
    body = form.get("Body", [""])[0]
    if not to:
        return error(400, 21604, "A 'To' phone number is required.")
    if not body and not (form_value(form, "MediaUrl") or form_value(form, "ContentSid")):
        return error(400, 21602, "Message body is required.")
    if len(body) > MAX_BODY_CHARS:
        return error(
            400,
            21617,
            f"The concatenated message body exceeds the {MAX_BODY_CHARS} character limit.",
        )
    if not from_ and not service:
        return error(400, 21603, "A 'From' phone number is required.")
    validity = form_value(form, "ValidityPeriod")
    if validity and not (validity.isascii() and validity.isdigit() and 1 <= int(validity) <= 36000):
        return error(400, 21609, "ValidityPeriod must be between 1 and 36000 seconds.")
    return None


def check_magic_numbers(form: dict[str, list[str]]) -> Reply | None:
    """Twilio's test-credential magic numbers (tech-notes §1.8): their error, or None."""
    to, from_ = form_value(form, "To"), form_value(form, "From")
    for number, table in ((from_, MAGIC_FROM), (to, MAGIC_TO)):
        if number in table:
            code, message = table[number]
            return error(400, code, message)
    return None


def _parse_date(text: str | None) -> datetime:
    """`YYYY-MM-DD` (a whole day) or an ISO 8601 datetime as the library sends it."""
    assert text is not None
    if len(text) == 10:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date_matches(ts: float, op: str, bound: datetime) -> bool:
    """Twilio's DateSent filters: `=` same day, `<` on or before, `>` on or after."""
    sent = datetime.fromtimestamp(ts, UTC)
    whole_day = bound.time() == datetime.min.time()
    left, right = (sent.date(), bound.date()) if whole_day or op == "" else (sent, bound)
    return {"": left == right, "<": left <= right, ">": left >= right}[op]
