"""The README's first command: `bkntc-sms demo` brings the whole product up on a fresh
machine, and a campaign can be sent in it end to end — driven through a real browser."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.browser_support import SEND_TIMEOUT, UI_TIMEOUT
from tests.conftest import ARTIFACTS, free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BKNTC_SMS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "sidecar", "demo", "--port", str(port), "--data-dir",
         str(tmp_path / "demo")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 300  # a safety net: it starts in seconds when idle
    url = None
    assert process.stdout is not None
    while time.monotonic() < deadline and url is None:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        match = re.search(r"demo is running at (http://127\.0\.0\.1:\d+/)", line)
        if match:
            url = match.group(1)
    try:
        assert url is not None, "".join(lines)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
def test_demo_command_sends_a_campaign_end_to_end(demo: str, browser: Browser) -> None:
    shots = ARTIFACTS / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(UI_TIMEOUT)
    expect.set_options(timeout=UI_TIMEOUT)
    try:
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(demo)
        expect(page.locator("text=This sign-in exists only in demo mode")).to_be_visible()
        page.click("button[value=owner]")
        frame = page.frame_locator("#bkntc-sms-frame")
        frame.locator("#new-campaign").click()
        frame.locator("#f-name").fill("Demo: see you soon")
        frame.locator("#f-segment").select_option("upcoming_next_7")
        # The preview of the chosen segment and message (the form's default segment has a
        # count of its own: the demo's past campaigns brought bookings).
        with page.expect_response(lambda r: "segments/preview" in r.url and all(
                part in (r.request.post_data or "")
                for part in ("upcoming_next_7", "see you this week"))) as previewed:
            frame.locator("#f-body").fill("Hi {customer_first_name}, see you this week!")
        recipients = int(previewed.value.json()["count"])
        assert recipients > 0
        expect(frame.locator("#preview-count")).to_have_text(str(recipients))
        frame.locator("#save").click()
        row = frame.locator("#campaign-table tbody tr").first
        expect(row).to_contain_text("Demo: see you soon")
        row.locator("button[data-action=send]").click()
        expect(frame.locator("#send-recipients")).to_have_text(f"{recipients:,}")
        frame.locator("#send-confirm").click()
        dialog = frame.locator("#progress-dialog")
        expect(dialog).to_be_visible()
        # The demo's fake Twilio fails a few requests on purpose; retries come 10-30 s later
        # (the demo runs on the real clock, as an operator's would).
        expect(frame.locator("#wizard-close")).to_be_visible(timeout=SEND_TIMEOUT)
        page.screenshot(path=str(shots / "demo-completed.png"))
        expect(frame.locator("#count-total")).to_have_text(str(recipients))
        expect(frame.locator("#count-pending")).to_have_text("0")
        sent = int(frame.locator("#count-sent").inner_text())
        failed = int(frame.locator("#count-failed").inner_text())
        assert sent + failed == recipients and sent > 0
        expect(frame.locator("#wizard-status")).to_contain_text("Done")
        # The demo salon is in Chicago: times are shown there, named.
        expect(frame.locator("#wizard-times")).to_contain_text("(America/Chicago)")
        frame.locator("#wizard-logs").click()
        expect(frame.locator("#log-table tbody tr")).to_have_count(min(recipients, 50))
    finally:
        context.close()
