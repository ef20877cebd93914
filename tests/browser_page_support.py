"""Helpers for the browser tests of the pages around campaigns (test_browser_templates.py,
_suppressions, _sms, _logs, _dashboard): message templates, the suppression list,
test and one-off SMS, per-recipient logs with their CSV export, and the dashboard.

Same harness as test_browser.py (browser_support.py): a real stack on loopback per test,
Debian's Chromium, the sidecar's pages inside the relay's Booknetic page. Each test checks
what the user sees and what really happened: the sidecar's rows in MariaDB and the messages
the fake Twilio received.

The stack has no default phone region (no BKNTC_SMS_DEFAULT_COUNTRY, no Booknetic option),
so numbers typed without "+1" (or a bare 11-digit "1…" form) are invalid; the tests type
international numbers and check that a national one is refused with the hint to write it
internationally.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, Frame, FrameLocator, Locator, Page, expect
from sqlalchemy import Engine, select

from sidecar.sms_text import count_segments
from tests import a11y_support as a11y
from tests.browser_support import (
    FRAME,
    SEND_TIMEOUT,
    UI_TIMEOUT,
    PageLog,
    Stack,
    launch_browser,
    open_admin,
    open_page,
    running_stack,
    wait_until,
)

# Big enough for four pages of logs (all_with_phone ≈ 160), small enough to build fast.
FEATURE_CUSTOMERS = 200
# The machine may be busy with other work: waits are generous (they end as soon as the
# page is ready, so a fast machine does not pay for them).
SLOW_UI = 60_000
RELOAD_MARK = "__bkntcTestMark"


def feature_browser() -> Iterator[Browser]:
    """Body of the modules' `browser` fixture: the session's shared Chromium
    (tests/conftest.py), with these modules' timeouts."""
    with launch_browser() as b:
        expect.set_options(timeout=SLOW_UI)
        try:
            yield b
        finally:
            expect.set_options(timeout=UI_TIMEOUT)


def feature_stack(mysql_url: str, engine: Engine) -> Iterator[Stack]:
    """Body of the modules' `stack` fixture."""
    with running_stack(mysql_url, engine, customers=FEATURE_CUSTOMERS) as s:
        yield s


def feature_page(browser: Browser, page_log: PageLog,
                 request: pytest.FixtureRequest) -> Iterator[Page]:
    """Body of the modules' `page` fixture."""
    with open_page(browser, page_log, request) as p:
        p.set_default_timeout(SLOW_UI)
        yield p


# -- helpers -----------------------------------------------------------------------------


def open_sidecar(page: Page, stack: Stack) -> FrameLocator:
    """open_admin(), and wait until the campaign list's script has run (its buttons work)."""
    frame = open_admin(page, stack)
    wait_for_new_document(page, "campaigns")
    return frame


def goto_tab(frame: FrameLocator, tab: str, page_name: str | None = None) -> None:
    """Click one of the sidecar's own navigation tabs and wait for that page, scripts
    included: `body[data-page]` exists before app.js has bound anything."""
    page = frame.owner.page
    mark_document(page)
    frame.locator(f"#nav-{tab}").click()
    wait_for_new_document(page, page_name or tab)


def frame_of(page: Page) -> Frame:
    """The iframe as a Playwright Frame (the same object across its navigations)."""
    handle = page.locator(FRAME).element_handle()
    frame = handle.content_frame() if handle else None
    assert frame is not None, "the SMS Campaigns iframe is missing"
    return frame


def frame_query(page: Page) -> dict[str, list[str]]:
    """The query of the iframe's current address (what the relay got)."""
    return parse_qs(urlsplit(frame_of(page).url).query, keep_blank_values=True)


def mark_document(page: Page) -> None:
    """Tag the iframe's current document, so `wait_for_new_document` can tell a reload."""
    frame_of(page).evaluate(f"() => {{ window.{RELOAD_MARK} = true; }}")


def wait_for_new_document(page: Page, page_name: str) -> None:
    """Wait until the iframe holds a new, fully loaded document of `page_name`, and audit
    it for accessibility."""
    page.wait_for_function(
        """([mark, name]) => {
             const el = document.querySelector('#bkntc-sms-frame');
             const w = el && el.contentWindow;
             return !!w && !w[mark] && w.document.readyState === 'complete'
                    && !!w.document.body && w.document.body.dataset.page === name;
           }""", arg=[RELOAD_MARK, page_name], timeout=SLOW_UI)
    a11y.audit(page)


def assert_same_document(page: Page) -> None:
    """The iframe still holds the document mark_document() tagged: the page changed in
    place instead of reloading (which would drop keyboard focus to the top)."""
    assert frame_of(page).evaluate(f"() => window.{RELOAD_MARK} === true"), (
        "the page reloaded instead of updating in place")


def expect_focus(frame: FrameLocator, selector: str) -> None:
    """Keyboard focus is on `selector` inside the sidecar's frame."""
    expect(frame.locator(selector)).to_be_focused()


def expect_counter(scope: FrameLocator | Locator, text: str) -> None:
    """The live SMS counter shows what sidecar.sms_text says about `text`."""
    info = count_segments(text)
    chars = len(text)
    segments = (f"{info.segments} SMS"
                + (f" ({info.per_segment} per part)" if info.segments > 1 else "")
                + " per recipient"
                + (", before names are filled in" if "{customer_" in text else ""))
    expect(scope.locator("#counter-chars")).to_have_text(
        f"{chars} character{'' if chars == 1 else 's'}")
    expect(scope.locator("#counter-encoding")).to_have_text(info.encoding)
    expect(scope.locator("#counter-segments")).to_have_text(segments)


def table_rows(stack: Stack, table_name: str) -> list[dict[str, Any]]:
    table = getattr(stack.runtime.tables, table_name)
    with stack.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table).order_by(table.c.id)).mappings()]


def send_and_wait(stack: Stack, campaign_id: int) -> dict[str, Any]:
    """Send through the service and let the stack's worker finish it."""
    stack.runtime.campaigns.send(None, campaign_id)
    wait_until(lambda: stack.campaign(campaign_id)["status"] in ("completed", "failed"),
               SEND_TIMEOUT / 1000, f"campaign {campaign_id} to finish")
    return stack.assert_counters_match_rows(campaign_id)


def submit_search(page: Page, frame: FrameLocator, form: str, page_name: str) -> None:
    mark_document(page)
    frame.locator(f"{form} button[type=submit]").click()
    wait_for_new_document(page, page_name)
