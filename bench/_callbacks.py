"""Twilio status callbacks for the benchmarks (bench/deliveries, bench/webhooks): each sent
message's callback signed as Twilio signs it, optionally with what the bridge adds when it
relays one to the sidecar, posted concurrently, and the check that every one was applied.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlencode

import requests
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from sidecar.runtime import Runtime
from sidecar.web.auth import sign

FORM = "application/x-www-form-urlencoded"
# What the bridge signs a relayed webhook as (DESIGN.md §10).
WEBHOOK_IDENTITY = {"user_id": 0, "user_login": "", "display_name": "Twilio",
                    "tenant_id": None, "caps": ["twilio_webhook"]}

Callback = tuple[bytes, dict[str, str]]  # body, headers
Fate = tuple[str, int | None]  # final status, error code


@dataclass(frozen=True)
class Posted:
    """What posting a batch of callbacks took."""

    count: int
    wall: float  # seconds, first request sent to last answer
    codes: Counter[int]
    latencies: tuple[float, ...]  # seconds per request

    @property
    def per_second(self) -> float:
        return self.count / self.wall

    def latency_ms(self, quantile: float) -> float:
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[max(0, min(98, round(quantile * 100) - 1))] * 1000

    def __add__(self, other: Posted) -> Posted:
        return Posted(self.count + other.count, self.wall + other.wall,
                      self.codes + other.codes, self.latencies + other.latencies)


def sent_sids(runtime: Runtime, campaign_id: int) -> list[str]:
    """The provider message ids of a campaign's sent messages, in recipient order."""
    r = runtime.tables.recipients
    with runtime.engine.connect() as conn:
        return list(conn.execute(select(r.c.provider_message_id).where(
            r.c.campaign_id == campaign_id, r.c.status == "sent").order_by(r.c.id)).scalars())


def fate_of(n: int) -> Fate:
    """A mix of outcomes, so a callback applied to the wrong row shows: every 7th message
    undelivered (unknown number), every 11th failed (filtered), the rest delivered."""
    if n % 7 == 3:
        return "undelivered", 30005
    if n % 11 == 5:
        return "failed", 30007
    return "delivered", None


def status_form(sid: str, fate: Fate) -> dict[str, str]:
    """A status callback's fields as Twilio posts them."""
    status, code = fate
    form = {"AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01", "From": "+15005550006",
            "To": "+12025550100", "MessageSid": sid, "SmsSid": sid, "MessageStatus": status,
            "SmsStatus": status}
    if code is not None:
        form["ErrorCode"] = str(code)
    return form


def twilio_callback(token: str, url: str, form: Mapping[str, str]) -> Callback:
    """The callback as Twilio sends it to `url`: form body and its X-Twilio-Signature."""
    signature = RequestValidator(token).compute_signature(url, dict(form))
    return urlencode(form).encode(), {"Content-Type": FORM, "X-Twilio-Signature": signature}


def as_relayed(callback: Callback, public_url: str, secret: str, ts: int) -> Callback:
    """The callback as the bridge relays it to the sidecar's POST /twilio/status: the URL
    Twilio called and the bridge signature added (a fresh nonce each)."""
    body, headers = callback
    return body, {**headers, "X-Bkntc-Public-Url": public_url,
                  **sign(secret, "POST", "/twilio/status", body, ts=ts, **WEBHOOK_IDENTITY)}


def post_all(url: str, callbacks: Sequence[Callback], clients: int) -> Posted:
    """POST every callback to `url` from `clients` threads (one keep-alive session each)."""
    local = threading.local()

    def post(callback: Callback) -> tuple[int, float]:
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        body, headers = callback
        started = time.perf_counter()
        status = session.post(url, data=body, headers=headers, timeout=60).status_code
        return status, time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=clients) as pool:
        wall = time.perf_counter()
        answers = list(pool.map(post, callbacks))
        wall = time.perf_counter() - wall
    return Posted(len(answers), wall, Counter(s for s, _ in answers),
                  tuple(t for _, t in answers))


def misapplied(runtime: Runtime, campaign_id: int, expected: Mapping[str, Fate]) -> list[str]:
    """What differs between a campaign's rows and counters and the fates its callbacks
    carried (empty when every callback was applied to its own row, once)."""
    r, c = runtime.tables.recipients, runtime.tables.campaigns
    with runtime.engine.connect() as conn:
        rows = {sid: (status, code) for sid, status, code in conn.execute(
            select(r.c.provider_message_id, r.c.delivery_status, r.c.delivery_error_code)
            .where(r.c.campaign_id == campaign_id, r.c.status == "sent"))}
        counters = conn.execute(select(c.c.delivered, c.c.undelivered)
                                .where(c.c.id == campaign_id)).one()
        held = conn.execute(select(func.count()).select_from(
            runtime.tables.early_statuses)).scalar_one()
    problems = []
    wrong = [sid for sid, fate in expected.items() if rows.get(sid) != fate]
    if wrong:
        problems.append(f"{len(wrong)} of {len(expected)} rows do not carry their callback's "
                        f"status (e.g. {wrong[0]}: {rows.get(wrong[0])} != "
                        f"{expected[wrong[0]]})")
    if set(rows) != set(expected):
        problems.append(f"{len(set(rows) ^ set(expected))} rows without a callback")
    fates = Counter(status for status, _ in expected.values())
    want = (fates["delivered"], fates["undelivered"] + fates["failed"])
    if tuple(counters) != want:
        problems.append(f"counters delivered/undelivered {tuple(counters)} != {want}")
    if held:
        problems.append(f"{held} callbacks held as for unknown messages")
    return problems
