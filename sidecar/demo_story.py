"""The demo's past (issue 16 item 6): a few campaigns sent over the last three weeks, with
deliveries, a STOP reply, a held-back group and the bookings that followed, so the
dashboard and a campaign report look like a real business on first launch.

Told through the product's own code paths on a clock set in the past (create, send, the
send engine, the delivery poller, the opt-out service, the attribution refresh) against a
fault-free fake Twilio of its own; the bookings are Booknetic appointments written as its
booking panel would. Deterministic for a given `now`: fixed seeds, fixed picks.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select

from .config import Settings
from .providers.fake_twilio import DeliveryRules, FakeTwilio
from .runtime import Runtime

DAY = 86400
# (days ago, name, segment, holdout percent, body); sent at 15:00 UTC (morning in Chicago).
PAST_CAMPAIGNS = (
    (20, "Spring colour offer", "all_with_phone", 20,
     "Hi {customer_first_name}, 15% off colour this month. Reply STOP to opt out."),
    (12, "We miss you", "repeat", 0,
     "Hi {customer_first_name}, it has been a while! Book your next visit online."),
    (4, "Last-minute openings", "all_with_phone", 0,
     "Hi {customer_first_name}, a few chairs free this week. Reply STOP to opt out."),
)
# One message in this many is followed by a booking (deterministic picks by row order).
BOOKING_EVERY = 7
HOLDOUT_BOOKING_EVERY = 12


class _PastClock:
    """The story's clock: time stands where the story puts it."""

    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at


def tell_story(database_url: str, options: dict[str, str], now: int) -> dict[str, int]:
    """Send PAST_CAMPAIGNS as of their days, record their deliveries, one STOP reply and the
    bookings that followed, then refresh their attribution as of `now`. Writes our tables
    and Booknetic's appointments (the demo's SQLite only); returns campaign ids by name."""
    fake = FakeTwilio(options["bkntc_sms_account_sid"], options["bkntc_sms_auth_token"],
                      delivery=DeliveryRules(callbacks=False, undelivered_rate=0.04,
                                             failed_rate=0.01, seed=7), seed=7).start()
    clock = _PastClock(now - 30 * DAY)
    runtime = Runtime.build(Settings.from_env({
        "BKNTC_SMS_DATABASE_URL": database_url, "BKNTC_SMS_TWILIO_BASE_URL": fake.base_url,
        "BKNTC_SMS_BRIDGE_SECRET": "demo-story-not-served"}), clock=clock)
    try:
        runtime.tenant_settings.update(None, {"quiet_hours": None})
        ids: dict[str, int] = {}
        for days_ago, name, segment, holdout, body in PAST_CAMPAIGNS:
            clock.at = (now // DAY - days_ago) * DAY + 15 * 3600
            ids[name] = _send(runtime, name, segment, holdout, body)
            clock.at += 900  # a quarter of an hour on, the poller asks Twilio how it went
            for _ in range(50):  # the poller asks in bounded batches
                if runtime.deliveries.due() == 0:
                    break
                runtime.deliveries.poll()
            _book(runtime, ids[name], now)
        first = ids[PAST_CAMPAIGNS[0][1]]
        clock.at = (now // DAY - PAST_CAMPAIGNS[0][0]) * DAY + 17 * 3600
        for phone in _sent_phones(runtime, first)[1:]:  # one not on the list already
            if runtime.opt_outs.opt_out(phone, "replied STOP"):
                break
        clock.at = now
        runtime.attribution.refresh_open()
        return ids
    finally:
        runtime.close()
        fake.stop()


def _send(runtime: Runtime, name: str, segment: str, holdout: int, body: str) -> int:
    campaign = runtime.campaigns.create(None, {"name": name, "segment": segment, "body": body,
                                               "holdout_percent": holdout})
    campaign_id = int(campaign["id"])
    runtime.campaigns.send(None, campaign_id)
    runtime.outbox.drain(campaign_id)
    return campaign_id


def _sent_phones(runtime: Runtime, campaign_id: int) -> list[str]:
    r = runtime.tables.recipients
    with runtime.engine.connect() as conn:
        return [str(p) for p in conn.execute(select(r.c.phone).where(
            r.c.campaign_id == campaign_id, r.c.status == "sent").order_by(r.c.id)).scalars()]


def _book(runtime: Runtime, campaign_id: int, now: int) -> None:
    """Appointments made by some of the campaign's recipients after its message (and by a
    few held back), as Booknetic's booking panel would write them."""
    r, c = runtime.tables.recipients, runtime.tables.campaigns
    appointments = runtime.booknetic.appointments
    with runtime.engine.connect() as conn:
        started = int(conn.execute(select(c.c.queued_at).where(c.c.id == campaign_id))
                      .scalar_one())
        rows = conn.execute(select(r.c.customer_id, r.c.sent_at, r.c.status)
                            .where(r.c.campaign_id == campaign_id,
                                   r.c.status.in_(("sent", "holdout")))
                            .order_by(r.c.id)).all()
    values: list[dict[str, Any]] = []
    sent = [x for x in rows if x.status == "sent"]
    held = [x for x in rows if x.status == "holdout"]
    picks = ([(x, int(x.sent_at)) for x in sent[::BOOKING_EVERY]]
             + [(x, started) for x in held[::HOLDOUT_BOOKING_EVERY]])
    for index, (row, since) in enumerate(picks):
        created = min(since + (3 + index % 5 * 17) * 3600, now - 3600)
        starts = created + (2 + index % 6) * DAY
        values.append({"customer_id": row.customer_id, "status": "approved",
                       "starts_at": starts, "ends_at": starts + 3600, "created_at": created,
                       "paid_amount": f"{45 + index % 4 * 15}.00"})
    if values:
        with runtime.engine.begin() as conn:
            conn.execute(insert(appointments), values)
