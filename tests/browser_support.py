"""The browser-test harness: a real running stack on 127.0.0.1 and a headless Chromium.

Per test (`running_stack`): a fresh MariaDB database loaded with the Booknetic sample data,
a fake Twilio with the data set's credentials, the sidecar's web app served by waitress,
the APScheduler worker ticking every second, and the local relay (signing exactly like the
WordPress bridge) in front of it — every part a real server on loopback. Who the relay says
the user is comes from `stack.identity`, which a test may change at any time.

Time is one `FrozenClock` (tests/clock.py) given to the data set, the runtime (so the web
app and the worker), the relay's signatures and the fake Twilio: the page's preview and the
test's own are computed at the same "now", however long the steps between them take. A send
that must be caught half-way is held at the fake (`fake.hold(after=N)`), not raced.

Per session (`launch_browser`): Debian's Chromium driven by Playwright; nothing is
downloaded. Each test gets its own browser context (`open_page`) that accepts every
confirm() and records it, collects JavaScript errors (a test fails on any), and leaves a
screenshot under test-artifacts/screenshots/ when the test failed.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    FrameLocator,
    Page,
    expect,
)
from sqlalchemy import Engine, func, select, update

from sidecar.campaigns import ACTIVE
from sidecar.config import Settings
from sidecar.providers.fake_twilio import FakeTwilio
from sidecar.runtime import Runtime
from sidecar.sample_data import Dataset, build_booknetic, set_option
from sidecar.segments import Preview, SegmentQuery
from sidecar.web import RELAY_QUERY, create_app
from sidecar.web.auth import CAPABILITIES, SERVER_CAPABILITIES
from sidecar.web.relay import create_relay
from sidecar.web.server import BackgroundServer
from sidecar.worker import build_scheduler
from tests import a11y_support as a11y
from tests.clock import FrozenClock
from tests.conftest import shared_browser
from tests.shop import quiet_hours_off

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
LOOPBACK = "127.0.0.1"
PREFIX = "wp_"
# Enough customers that all_with_phone has more than 2,000 valid, distinct numbers.
CUSTOMERS = 2500
ADMIN_PATH = "/wp-admin/admin.php?page=booknetic&module=sms_campaigns"
AJAX_PATH = "/wp-admin/admin-ajax.php"
FRAME = "#bkntc-sms-frame"

ALL_CAPS = [c for c in CAPABILITIES if c not in SERVER_CAPABILITIES]
OWNER: dict[str, Any] = {"user_id": 1, "user_login": "owner", "display_name": "Alex Owner",
                         "tenant_id": None, "caps": ALL_CAPS}

# Safety nets for a busy 2-core machine (two suites at once): every wait ends as soon as
# its condition holds, so a fast machine does not pay for them.
UI_TIMEOUT = 60_000  # ms: a page, a preview, a counter
SEND_TIMEOUT = 300_000  # ms: a whole campaign going out


# -- the stack ---------------------------------------------------------------------------


@dataclass
class Stack:
    """Every running part of one test's installation, plus the helpers tests assert with."""

    url: str  # the relay ("WordPress") base URL
    engine: Engine
    ds: Dataset
    fake: FakeTwilio
    runtime: Runtime
    identity: dict[str, Any]  # what the relay signs as the signed-in user; mutable
    clock: FrozenClock
    servers: list[BackgroundServer] = field(default_factory=list)
    scheduler: Any = None
    queue_runs: int = 0  # queue runs the worker has finished (a scheduler listener counts)

    # -- URLs -----------------------------------------------------------------------------

    @property
    def admin_url(self) -> str:
        """Booknetic's admin page with the SMS Campaigns module (the sidecar in an iframe)."""
        return self.url + ADMIN_PATH

    def relay_url(self, sidecar_path: str) -> str:
        """What the browser opens to get `sidecar_path` through the relay."""
        return self.url + AJAX_PATH + RELAY_QUERY + sidecar_path

    # -- who is signed in -----------------------------------------------------------------

    def act_as(self, caps: list[str], **fields: Any) -> None:
        """Switch the signed-in user; takes effect on the next request through the relay."""
        self.identity.clear()
        self.identity.update({**OWNER, **fields, "caps": list(caps)})

    # -- database ------------------------------------------------------------------------

    def set_option(self, name: str, value: str) -> None:
        set_option(self.engine, PREFIX, name, value)

    def create_campaign(self, name: str, segment: str, body: str = "Hi {customer_first_name}!",
                        **filters: Any) -> int:
        campaign = self.runtime.campaigns.create(None, {
            "name": name, "segment": segment, "body": body, "filters": filters},
            user_id=OWNER["user_id"])
        return int(campaign["id"])

    def campaign(self, campaign_id: int) -> dict[str, Any]:
        return self.runtime.campaigns.get(None, campaign_id)

    def campaign_ids(self) -> list[int]:
        c = self.runtime.tables.campaigns
        with self.engine.connect() as conn:
            return [int(i) for i in conn.execute(select(c.c.id).order_by(c.c.id)).scalars()]

    def status_counts(self, campaign_id: int) -> Counter[str]:
        """Recipient rows of a campaign by status (what the logs hold)."""
        r = self.runtime.tables.recipients
        with self.engine.connect() as conn:
            return Counter({str(s): int(n) for s, n in conn.execute(
                select(r.c.status, func.count()).where(r.c.campaign_id == campaign_id)
                .group_by(r.c.status))})

    def recipients(self, campaign_id: int) -> list[dict[str, Any]]:
        r = self.runtime.tables.recipients
        with self.engine.connect() as conn:
            return [dict(x) for x in conn.execute(
                select(r).where(r.c.campaign_id == campaign_id).order_by(r.c.id)).mappings()]

    def at_rest(self, campaign_id: int) -> bool:
        """Nothing of the campaign is on its way: no row claimed, no request inside the
        fake, and every message the fake accepted is recorded as sent."""
        r = self.runtime.tables.recipients
        with self.engine.connect() as conn:
            claimed = conn.execute(select(func.count()).where(
                r.c.campaign_id == campaign_id, r.c.claimed_by.is_not(None))).scalar_one()
        return (claimed == 0 and self.fake.stats.in_flight == 0
                and self.received_count() == self.campaign(campaign_id)["sent"])

    def wait_for_queue_runs(self, count: int) -> None:
        """Wait until the worker has finished `count` more queue runs."""
        target = self.queue_runs + count
        wait_until(lambda: self.queue_runs >= target, SEND_TIMEOUT / 1000,
                   f"{count} more queue runs of the worker")

    def assert_counters_match_rows(self, campaign_id: int) -> dict[str, Any]:
        """The campaign row's counters equal its recipient rows; returns the campaign."""
        campaign = self.campaign(campaign_id)
        counts = self.status_counts(campaign_id)
        assert (campaign["sent"], campaign["failed"], campaign["pending"]) == (
            counts["sent"], counts["failed"], counts["pending"]), (campaign, counts)
        assert campaign["total"] == sum(counts.values()), (campaign, counts)
        return campaign

    def preview(self, segment: str, filters: dict[str, Any] | None = None) -> Preview:
        """The server-side truth for what the form's preview must show."""
        query = SegmentQuery.from_filters(segment, form_filters(**(filters or {})), None)
        return self.runtime.segments.preview(query, limit=0)

    def preview_count(self, segment: str, filters: dict[str, Any] | None = None) -> int:
        return self.preview(segment, filters).count

    # -- the fake Twilio ------------------------------------------------------------------

    def received_to(self) -> Counter[str]:
        return Counter(m.to for m in self.fake.received())

    def received_count(self) -> int:
        return len(self.fake.received())

    # -- shutting down --------------------------------------------------------------------

    def stop(self) -> None:
        # Whatever a failed test left running: stop it being served first, so the
        # background run ends after its current batches (answered, if the fake held it).
        self.fake.release()
        c = self.runtime.tables.campaigns
        with contextlib.suppress(Exception), self.engine.begin() as conn:
            conn.execute(update(c).where(c.c.status.in_([s.value for s in ACTIVE]))
                         .values(status="paused", status_reason="test teardown"))
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
        self.runtime.outbox.wait_idle(timeout=30)
        for server in reversed(self.servers):
            server.stop()
        self.runtime.close()
        self.fake.stop()


def form_filters(service_ids: list[int] | None = None, location_ids: list[int] | None = None,
                 statuses: list[str] | None = None, min_appointments: int | None = None,
                 exclude_suppressed: bool = True,
                 exclude_upcoming_days: int | None = None) -> dict[str, Any]:
    """Filters exactly as the campaign form's collect() sends them."""
    return {"service_ids": service_ids or [], "location_ids": location_ids or [],
            "statuses": statuses or [], "min_appointments": min_appointments,
            "exclude_suppressed": exclude_suppressed,
            "exclude_upcoming_days": exclude_upcoming_days}


def start_stack(url: str, engine: Engine, *, customers: int = CUSTOMERS,
                kind: str = "single", quiet_hours: bool = False) -> Stack:
    """A running stack at START; quiet hours off unless `quiet_hours` (tests/shop.py)."""
    clock = FrozenClock()
    ds = build_booknetic(engine, PREFIX, kind, int(clock()), customers_per_tenant=customers)
    fake = FakeTwilio(ds.options["bkntc_sms_account_sid"],
                      ds.options["bkntc_sms_auth_token"], clock=clock).start()
    secret = secrets.token_hex(24)
    try:
        settings = Settings.from_env({
            "BKNTC_SMS_DATABASE_URL": url,
            "BKNTC_SMS_TABLE_PREFIX": PREFIX,
            "BKNTC_SMS_TWILIO_BASE_URL": fake.base_url,
            "BKNTC_SMS_BRIDGE_SECRET": secret,
            "BKNTC_SMS_RETRY_DELAYS": "1,2",
            "BKNTC_SMS_TICK_SECONDS": "1",
            # The clock stands still, so a retry would never fall due: a request must not
            # time out merely because the machine is busy (or the fake holds it).
            "BKNTC_SMS_TWILIO_TIMEOUT": "60",
        })
        runtime = Runtime.build(settings, engine=engine, clock=clock)
        if not quiet_hours:
            quiet_hours_off(runtime, ds.tenant_ids)
    except Exception:
        fake.stop()
        raise
    stack = Stack("", engine, ds, fake, runtime, dict(OWNER), clock)
    try:
        sidecar = BackgroundServer(create_app(runtime), LOOPBACK, 0).start()
        stack.servers.append(sidecar)
        stack.scheduler = build_scheduler(runtime)

        def count_queue_runs(event: JobExecutionEvent) -> None:
            if event.job_id == "queue-run":
                stack.queue_runs += 1

        stack.scheduler.add_listener(count_queue_runs, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        stack.scheduler.start()

        def identity_for(request: Any) -> dict[str, Any] | None:
            return dict(stack.identity) if stack.identity else None

        relay = create_relay(sidecar.url, lambda: secret, identity_for, clock=clock,
                             timeout=SEND_TIMEOUT / 1000)
        front = BackgroundServer(relay, LOOPBACK, 0).start()
        stack.servers.append(front)
        stack.url = front.url
    except Exception:
        stack.stop()
        raise
    return stack


@contextlib.contextmanager
def running_stack(url: str, engine: Engine, *, customers: int = CUSTOMERS,
                  kind: str = "single", quiet_hours: bool = False) -> Iterator[Stack]:
    stack = start_stack(url, engine, customers=customers, kind=kind, quiet_hours=quiet_hours)
    try:
        yield stack
    finally:
        stack.stop()


# -- the browser -------------------------------------------------------------------------


@contextlib.contextmanager
def launch_browser() -> Iterator[Browser]:
    """The session's one Chromium (tests/conftest.py: Playwright's sync API allows one
    running instance per thread, so every browser test shares it)."""
    expect.set_options(timeout=UI_TIMEOUT)
    yield shared_browser()




@dataclass
class PageLog:
    """What a page said besides its DOM: confirm() texts and JavaScript errors."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


# Console errors that are about our code (CSP refusals, script errors), not the expected
# "Failed to load resource: 403" a refused API call logs.
_BAD_CONSOLE = re.compile(r"Refused to|Uncaught|SyntaxError|TypeError|ReferenceError")


@contextlib.contextmanager
def open_page(browser: Browser, log: PageLog, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context and page that accepts every confirm() (recording its text)
    and collects JavaScript errors; the test fails on any, and a failed test leaves a
    screenshot of where it stopped. Pages audited for accessibility (tests/a11y_support.py)
    fail the test at the end on any serious or critical violation."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(UI_TIMEOUT)
    page = context.new_page()

    def on_dialog(dialog: Dialog) -> None:
        log.dialogs.append(dialog.message)
        dialog.accept()

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and _BAD_CONSOLE.search(message.text):
            log.errors.append(f"console: {message.text}")

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda exc: log.errors.append(f"pageerror: {exc}"))
    page.on("console", on_console)
    failed_before = request.session.testsfailed
    a11y.start(page, request.node.nodeid)
    try:
        yield page
        if request.session.testsfailed > failed_before:
            with contextlib.suppress(Exception):
                screenshot(page, f"FAILED-{request.node.name}")
        assert not log.errors, f"JavaScript errors on the page: {log.errors}"
        a11y.finish(page, check=True)
    finally:
        a11y.finish(page, check=False)
        context.close()


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# -- page helpers ------------------------------------------------------------------------


def open_admin(page: Page, stack: Stack) -> FrameLocator:
    """Open Booknetic's SMS Campaigns module and wait for the campaign list in its iframe."""
    page.goto(stack.admin_url)
    frame = page.frame_locator(FRAME)
    expect(frame.locator("body[data-page=campaigns] h1")).to_have_text("Campaigns")
    a11y.audit(page, outer=True)
    a11y.audit(page)
    return frame


def reload_admin(page: Page) -> FrameLocator:
    page.reload()
    frame = page.frame_locator(FRAME)
    expect(frame.locator("body[data-page=campaigns] h1")).to_have_text("Campaigns")
    a11y.audit(page)
    return frame


def row(frame: FrameLocator, campaign_id: int) -> Any:
    return frame.locator(f'#campaign-table tr[data-id="{campaign_id}"]')


def confirm_send(frame: FrameLocator) -> None:
    """In the Send confirmation (opened by a row's Send), wait for the audience and press
    "Send to N recipients"."""
    expect(frame.locator("#send-dialog")).to_be_visible()
    confirm = frame.locator("#send-confirm")
    expect(confirm).to_be_visible()
    confirm.click()


def call_api(frame: FrameLocator, method: str, path: str,
             data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call the JSON API from inside the page (the page's own fetch helper: relay, CSRF
    token, WordPress nonce). Returns {"ok": payload} or {"status": n, "message": text}."""
    return frame.locator("body").evaluate(
        """(body, [method, path, data]) => window.BkntcSms.api(method, path, data ?? undefined)
             .then((payload) => ({ok: payload}),
                   (err) => ({status: err.status, code: err.code, message: err.message}))""",
        [method, path, data])


def wait_until(condition: Callable[[], bool], timeout: float, what: str,
               interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
