"""The product end to end in a real WordPress (tests/test_wordpress_e2e.py): Debian's
WordPress with the Booknetic stand-in and our bridge plugin activated, the sidecar serving on
loopback (reading the shared secret from WordPress's options, as in production), the fake
Twilio, and a recording proxy between WordPress and the sidecar that lets tests replay and
tamper with real signed requests.

Clocks: the bridge signs with PHP's real `time()`, so the sidecar here checks signature
freshness against the real clock too (`create_app(runtime)` with its default clock). Nothing
in these tests compares data with "now".
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask, Response, request
from playwright.sync_api import FrameLocator, Page, expect

from sidecar.config import Settings
from sidecar.providers.fake_twilio import FakeTwilio
from sidecar.runtime import Runtime
from sidecar.web import create_app
from sidecar.web.server import BackgroundServer
from tests.conftest import MariaDBServer, free_port
from tests.shop import quiet_hours_off
from tests.wp_support import BRIDGE_SLUG, WordPressSite, start_wordpress

FRAME = "#bkntc-sms-frame"


@dataclass
class Recorder:
    """A pass-through HTTP proxy between WordPress and the sidecar that keeps what it saw."""

    target: str
    seen: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def app(self) -> Flask:
        app = Flask("recorder", static_folder=None)  # every path is forwarded
        session = requests.Session()

        @app.route("/<path:path>", methods=["GET", "POST", "PUT", "DELETE"])
        def forward(path: str) -> Response:
            query = request.environ.get("QUERY_STRING", "")
            full = "/" + path + (f"?{query}" if query else "")
            body = request.get_data()
            headers = {k: v for k, v in request.headers.items()
                       if k.lower() in ("content-type", "accept", "x-bkntc-identity",
                                        "x-bkntc-signature", "x-bkntc-csrf",
                                        "x-bkntc-wp-nonce", "x-bkntc-public-url",
                                        "x-twilio-signature",
                                        "x-twilio-webhooks-signature-settings")}
            seen = {"method": request.method, "path": full, "body": body, "headers": headers}
            with self.lock:
                self.seen.append(seen)
            answer = session.request(request.method, self.target + full, data=body,
                                     headers=headers, timeout=30)
            seen["answer"] = {"status": answer.status_code, "body": answer.content,
                              "content_type": answer.headers.get("Content-Type")}
            response = Response(answer.content, status=answer.status_code)
            del response.headers["Content-Type"]  # Flask's default: only the sidecar's own
            for name in ("Content-Type", "Content-Disposition", "X-Bkntc-Export-Total"):
                if name in answer.headers:
                    response.headers[name] = answer.headers[name]
            return response

        return app

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for r in self.seen if r["path"] == path)


@dataclass
class Site:
    wp: WordPressSite
    runtime: Runtime
    fake: FakeTwilio
    sidecar: BackgroundServer
    recorder: Recorder
    proxy_url: str

    def relay(self, path: str) -> str:
        return (f"{self.wp.url}/wp-admin/admin-ajax.php?action=bkntc_sms&p="
                + requests.utils.quote(path, safe=""))

    def bridge_messages(self) -> list[str]:
        """PHP messages of any kind that name the bridge plugin, logged so far."""
        return self.wp.plugin_messages(BRIDGE_SLUG)

    def assert_no_bridge_messages(self) -> None:
        """Not one PHP error, warning, notice or deprecation names the plugin (the modules'
        autouse check after every test)."""
        messages = self.bridge_messages()
        assert not messages, self.wp.diag("PHP messages naming the bridge:\n"
                                          + "\n".join(messages))


def bring_up(mariadb: MariaDBServer, kind: str) -> Iterator[Site]:
    sidecar_port, proxy_port = free_port(), free_port()
    proxy_url = f"http://127.0.0.1:{proxy_port}"
    wp = start_wordpress(mariadb, kind=kind, sidecar_url=proxy_url, disable_wp_cron=True,
                         label=f"e2e-{kind}", customers_per_tenant=80)
    assert wp.dataset is not None
    options = wp.dataset.options
    fake = FakeTwilio(options["bkntc_sms_account_sid"], options["bkntc_sms_auth_token"]).start()
    # No BKNTC_SMS_BRIDGE_SECRET: the sidecar reads the secret the plugin generated.
    settings = Settings.from_env({"BKNTC_SMS_DATABASE_URL": wp.db_url,
                                  "BKNTC_SMS_TWILIO_BASE_URL": fake.base_url,
                                  "BKNTC_SMS_RETRY_DELAYS": "1,1"})
    runtime = Runtime.build(settings)
    # The real clock: quiet hours would hold messages at night (tests/shop.py).
    quiet_hours_off(runtime, wp.dataset.tenant_ids)
    sidecar = BackgroundServer(create_app(runtime), port=sidecar_port).start()
    recorder = Recorder(sidecar.url)
    proxy = BackgroundServer(recorder.app(), port=proxy_port).start()
    try:
        yield Site(wp, runtime, fake, sidecar, recorder, proxy_url)
    finally:
        proxy.stop()
        sidecar.stop()
        runtime.close()
        fake.stop()
        wp.stop()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `condition` until true; fail after `timeout` seconds (a bound, not a delay)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def page_ready(page: Page) -> FrameLocator:
    """The SMS Campaigns iframe once its current page has finished loading, scripts run.
    Call it after a locator showed that the frame holds the page meant (so that its
    navigation is committed).

    The service's buttons are plain HTML until app.js (loaded through the relay, so through
    WordPress) has bound their handlers on DOMContentLoaded; a click before that does
    nothing. Waiting for the frame's `load` state (after DOMContentLoaded) removes that race.
    """
    handle = page.locator(FRAME).element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    frame.wait_for_load_state("load")
    return page.frame_locator(FRAME)


def menu_visible(site: Site, login: str) -> bool:
    session = site.wp.requests_session(login)
    page = session.get(site.wp.panel_url(), timeout=30)
    return 'id="bkntc-menu-sms_campaigns"' in page.text


class Blackhole:
    """A TCP port that accepts connections and never answers (a hung service)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()


def expect_glyph(page: Page, selector: str) -> None:
    """The Font Awesome icon at `selector` draws a glyph (its ::before has content)."""
    expect(page.locator(selector)).to_be_visible()
    content = page.locator(selector).evaluate(
        "el => getComputedStyle(el, '::before').getPropertyValue('content')")
    assert content not in ("", "none", "normal"), f"{selector} draws nothing ({content!r})"
