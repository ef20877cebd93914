"""The embedded default (DESIGN.md §8): the whole product on one machine, nothing installed.

`bkntc-sms demo` seeds a SQLite WordPress database with a realistic Booknetic-shaped data
set (a single-site salon: a few hundred customers, a year of appointments, several
services and locations, some bad phones), starts the fake Twilio in-process with a little
latency and a few failures so retries show, runs the sidecar's web app and worker, and a
local relay with a demo sign-in in place of WordPress. Everything binds to 127.0.0.1.
Before it opens, `demo_story.tell_story` sends three past campaigns (one with a held-back
group) as of their days, so the dashboard and the reports start with a business's history.

Deliveries arrive as they would on a live site: the relay serves the bridge's public
webhook routes, BKNTC_SMS_PUBLIC_URL points there, and the fake Twilio calls back through
them a few seconds after each message (DEMO_DELIVERY: some undelivered, some callbacks late,
twice or lost — those the poller finds 10 minutes on). A customer's STOP reply comes in the
same way: the demo prints the command (`inbound_command`) that has the fake Twilio post a
signed inbound SMS to the relay's public inbound route.

The same code paths run as in production; only the database URL, the Twilio base URL and
the relay (the PHP bridge's job in production) differ.
"""

from __future__ import annotations

import secrets
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from .config import Settings
from .db import make_engine
from .demo_story import tell_story
from .providers.fake_twilio import DeliveryRules, FakeTwilio
from .runtime import Runtime
from .sample_data import build_booknetic, set_option
from .segments import SEGMENTS, SegmentQuery
from .web import create_app
from .web.auth import CAPABILITIES, SERVER_CAPABILITIES
from .web.relay import PUBLIC_PREFIX, create_relay
from .web.server import BackgroundServer
from .worker import build_scheduler

DEMO_CUSTOMERS = 300
DEMO_TIMEZONE = "America/Chicago"
# Twilio's price of one US SMS segment (USD): the demo's settings carry it, so a campaign's
# cost is estimated before it is sent.
DEMO_PRICE_PER_SEGMENT = "0.0079"
LOOPBACK = "127.0.0.1"
# What becomes of the demo's messages (sidecar/providers/fake_twilio/lifecycle.py).
DEMO_DELIVERY = DeliveryRules(queued_for=1.0, final_after=3.0, undelivered_rate=0.06,
                              failed_rate=0.02, lost_rate=0.05, duplicate_rate=0.05,
                              out_of_order_rate=0.05, seed=11)

ALL_CAPS = [c for c in CAPABILITIES if c not in SERVER_CAPABILITIES]
PERSONAS: dict[str, dict[str, Any]] = {
    "owner": {"user_id": 1, "user_login": "owner", "display_name": "Alex Morgan (owner)",
              "summary": "Salon owner: every permission.", "caps": ALL_CAPS},
    "frontdesk": {"user_id": 2, "user_login": "frontdesk", "display_name": "Sam Lee (front desk)",
                  "summary": "Can create and send campaigns and read logs; cannot delete or "
                             "change the suppression list.",
                  "caps": ["sms_campaigns", "sms_campaigns_create", "sms_campaigns_send",
                           "sms_campaign_logs"]},
    "viewer": {"user_id": 3, "user_login": "viewer", "display_name": "Jo Park (viewer)",
               "summary": "Can only look at campaigns.", "caps": ["sms_campaigns"]},
}


@dataclass
class DemoDatabase:
    path: Path
    url: str
    customers: int
    appointments: int
    options: dict[str, str]


def seed_demo_database(directory: Path, *, now: int | None = None) -> DemoDatabase:
    """Create (or re-create) the demo's SQLite WordPress database in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "wordpress.sqlite3"
    for leftover in directory.glob("wordpress.sqlite3*"):
        leftover.unlink()
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    try:
        # The salon's numbers are American: Booknetic's own setting says so, as it would
        # on a real install (no BKNTC_SMS_DEFAULT_COUNTRY needed, so a CLI run agrees).
        ds = build_booknetic(engine, "wp_", "single", int(now or time.time()),
                             customers_per_tenant=DEMO_CUSTOMERS,
                             phone_countries={None: "us"})
        set_option(engine, "wp_", "bkntc_sms_bridge_secret", secrets.token_hex(24))
        # A salon in Chicago: its WordPress timezone is what every page's times are in.
        set_option(engine, "wp_", "timezone_string", DEMO_TIMEZONE)
    finally:
        engine.dispose()
    return DemoDatabase(path, url, len(ds.customers), len(ds.appointments), ds.options)


@dataclass
class Demo:
    """A running demo: stop() ends every part of it."""

    url: str
    database: DemoDatabase
    runtime: Runtime
    fake: FakeTwilio
    servers: list[BackgroundServer] = field(default_factory=list)
    scheduler: Any = None

    @property
    def inbound_url(self) -> str:
        """Where Twilio would post a customer's reply: the relay's public inbound route."""
        return self.url.rstrip("/") + PUBLIC_PREFIX + "twilio/inbound"

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        for server in reversed(self.servers):
            server.stop()
        self.fake.stop()
        self.runtime.close()


class _Later:
    """A WSGI app set after its server is bound (the relay needs the sidecar's address,
    the sidecar's settings need the relay's)."""

    app: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


def start_demo(directory: Path, *, port: int = 0, fake_faults: bool = True,
               delivery: DeliveryRules = DEMO_DELIVERY) -> Demo:
    now = int(time.time())
    db = seed_demo_database(directory, now=now)
    # Three weeks of past campaigns, their deliveries and the bookings that followed.
    tell_story(db.url, db.options, now)
    fake = FakeTwilio(db.options["bkntc_sms_account_sid"], db.options["bkntc_sms_auth_token"],
                      latency=0.05 if fake_faults else 0.0,
                      failure_rate_500=0.03 if fake_faults else 0.0,
                      failure_rate_429=0.02 if fake_faults else 0.0,
                      lost_answer=fake_faults, seed=11, delivery=delivery,
                      auto_callbacks=True).start()
    secret = secrets.token_hex(24)
    front_app = _Later()
    front = BackgroundServer(front_app, LOOPBACK, port)  # bound now, serving once started
    settings = Settings.from_env({
        "BKNTC_SMS_DATABASE_URL": db.url,
        "BKNTC_SMS_TWILIO_BASE_URL": fake.base_url,
        "BKNTC_SMS_BRIDGE_SECRET": secret,
        "BKNTC_SMS_RETRY_DELAYS": "10,20",  # short, so a retry is visible in a demo
        "BKNTC_SMS_TICK_SECONDS": "5",
        # Twilio's callbacks come in through the relay's public routes, as through WordPress.
        "BKNTC_SMS_PUBLIC_URL": front.url + PUBLIC_PREFIX,
    })
    runtime = Runtime.build(settings)
    # Quiet hours off: the demo runs on the real clock, and a campaign tried at night should
    # still go out. Setting them under Settings shows messages held until the window opens.
    runtime.tenant_settings.update(None, {"price_per_segment": DEMO_PRICE_PER_SEGMENT,
                                          "quiet_hours": None})
    schedule_demo_campaign(runtime)
    demo = Demo("", db, runtime, fake)
    sidecar = BackgroundServer(create_app(runtime), LOOPBACK, 0).start()
    demo.servers.append(sidecar)
    demo.scheduler = build_scheduler(runtime)
    demo.scheduler.start()

    def identity_for(request: Any) -> dict[str, Any] | None:
        persona = PERSONAS.get(request.cookies.get("bkntc_demo_user", ""))
        if persona is None:
            return None
        return {k: persona[k] for k in ("user_id", "user_login", "display_name", "caps")} | {
            "tenant_id": None}

    front_app.app = create_relay(sidecar.url, lambda: secret, identity_for,
                                 demo_personas=PERSONAS, clock=runtime.clock)
    front.start()
    demo.servers.append(front)
    demo.url = front.url + "/"
    return demo


def schedule_demo_campaign(runtime: Runtime) -> None:
    """A campaign scheduled for 10:00 tomorrow in the salon's zone (scheduled send)."""
    zone = runtime.booknetic.business_zone(None)
    tomorrow = (datetime.fromtimestamp(runtime.clock(), zone.zone) + timedelta(days=1)).date()
    campaign = runtime.campaigns.create(None, {
        "name": "Demo: weekend reminder", "segment": "upcoming_next_7",
        "body": "Hi {customer_first_name}, see you soon! Reply STOP to opt out."})
    runtime.schedules.schedule(None, campaign["id"], {"send_at": f"{tomorrow}T10:00"})


def print_segment_overview(runtime: Runtime) -> None:
    for definition in SEGMENTS.values():
        preview = runtime.segments.preview(SegmentQuery(definition.key), limit=0)
        print(f"  {definition.label:<32} {preview.count:>4} recipients "
              f"({preview.skipped_invalid_phone} invalid, {preview.skipped_duplicate_phone} "
              f"duplicate phones left out)")


def inbound_command(demo: Demo, body: str = "STOP") -> str:
    """The command line that texts `body` to the demo from a demo customer's number, as
    Twilio would post it (signed with the demo's Auth Token)."""
    sample = demo.runtime.segments.preview(SegmentQuery("all_with_phone"), limit=1).sample
    return (f"{sys.executable} -m sidecar.providers.fake_twilio inbound --url "
            f"{demo.inbound_url} --from {sample[0]['phone']} --body {body} "
            f"--auth-token {demo.fake.auth_token}")


def run_demo(data_dir: str | None, port: int) -> int:
    directory = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="bkntc-sms-demo-"))
    demo = start_demo(directory, port=port)
    print(f"Demo data: {demo.database.customers} customers, {demo.database.appointments} "
          f"appointments in {demo.database.path}")
    print_segment_overview(demo.runtime)
    print(f"Times are shown in {demo.runtime.booknetic.business_zone(None).describe()}; "
          "quiet hours are off here (turn them on under Settings). \"Demo: weekend "
          "reminder\" is scheduled for 10:00 tomorrow; three campaigns of the last three "
          "weeks, one with a held-back group, show their bookings on the Dashboard and in "
          "their reports.")
    print(f"\nBooknetic SMS Campaigns demo is running at {demo.url}")
    print("Open it in a browser and sign in as a demo user. Messages go to a fake Twilio on "
          f"{demo.fake.base_url} (nothing is really sent); its delivery reports come back "
          f"through {demo.runtime.public_urls.status_callback()}.")
    print("To reply STOP as a customer would (the number lands on the suppression list; "
          "START takes it back), run:")
    print(f"  {inbound_command(demo)}")
    print("Press Ctrl-C to stop.", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    try:
        while not stopped.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        demo.stop()
    return 0
