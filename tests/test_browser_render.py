"""Browser tests of what the pages say before a campaign goes out (issue 15 items 6-8): the
render report in the campaign form and its fixes, the booking-aware filter, the Send
confirmation with recipients, segments and cost (and no Send when nobody would get it), a
message over the limit kept whole and refused, a sent campaign shown read-only, and the
retries waiting in the progress wizard.

Same harness as test_browser.py, through tests/browser_page_support.py: a real stack on
loopback per test, Debian's Chromium, the sidecar's pages inside the relay's Booknetic page;
each test checks what the page shows against the server's own answer and what really
happened (rows in MariaDB, messages at the fake Twilio).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from sidecar.segments import SegmentQuery
from sidecar.sms_text import MAX_BODY_CHARS, count_segments, render
from tests.a11y_support import audit
from tests.browser_page_support import (
    expect_focus,
    mark_document,
    open_sidecar,
    send_and_wait,
    wait_for_new_document,
)
from tests.browser_support import (
    SEND_TIMEOUT,
    Stack,
    confirm_send,
    row,
    screenshot,
    wait_until,
)

pytestmark = pytest.mark.slow  # a stack and Chromium per test

CURLY = "\u2019"
SHOWN_CHARACTERS = 6  # report.js


def add_customer(stack: Stack, first: str | None, last: str | None, phone: str) -> None:
    """A customer books for the first time (the test plays Booknetic), and the phones are
    checked as the worker's upkeep would (previews only read them; on the frozen clock the
    upkeep may already have run before this insert and is not due again)."""
    with stack.engine.begin() as conn:
        conn.execute(stack.runtime.booknetic.customers.insert().values(
            first_name=first, last_name=last, email=None, phone_number=phone))
    segments = stack.runtime.segments
    segments.refresh_phones(None, segments.region(None))


def server_report(stack: Stack, body: str, segment: str = "all_with_phone",
                  **filters: Any) -> tuple[int, dict[str, Any]]:
    """What the page must show: the preview's count and render report, from the service."""
    preview = stack.runtime.segments.preview(
        SegmentQuery.from_filters(segment, filters, None), limit=0, body=body,
        price_per_segment=stack.runtime.segment_price(None))
    assert preview.render is not None
    return preview.count, preview.render


def money(amount: Decimal) -> str:
    """An amount as the pages write it: thousands separated, 2 to 4 decimals."""
    text = f"{amount.quantize(Decimal('0.0001')):,.4f}"
    whole, cents = text.split(".")
    return whole + "." + (cents.rstrip("0").ljust(2, "0"))


def ucs2_lines(report: dict[str, Any]) -> int:
    """Lines the page lists for the characters that force UCS-2: one each, the first six,
    then one "And N more characters" line."""
    chars = len(report["ucs2_characters"])
    return min(chars, SHOWN_CHARACTERS) + (chars > SHOWN_CHARACTERS)


def open_form(page: Page, stack: Stack) -> FrameLocator:
    frame = open_sidecar(page, stack)
    mark_document(page)
    frame.locator("#new-campaign").click()
    wait_for_new_document(page, "campaign-form")
    return frame


def go(page: Page, frame: FrameLocator, path: str, page_name: str) -> None:
    """Navigate the sidecar's frame to `path` the way its own links do."""
    mark_document(page)
    frame.locator("body").evaluate("(body, path) => window.BkntcSms.go(path)", path)
    wait_for_new_document(page, page_name)


# -- the render report in the form ----------------------------------------------------------


def test_the_form_reports_segments_ucs2_and_empty_names_and_fixes_them(
        page: Page, stack: Stack) -> None:
    add_customer(stack, "Aoife", f"O{CURLY}Brien", "+14155553001")
    add_customer(stack, None, "Nameless", "+14155553002")
    frame = open_form(page, stack)
    frame.locator("#f-name").fill("Autumn offer")
    frame.locator("#f-segment").select_option("all_with_phone")
    body = f"Hi {{customer_first_name}}, it{CURLY}s time for your autumn visit! " \
           "Book this week for 10% off."
    frame.locator("#f-body").fill(body)
    count, report = server_report(stack, body)
    expect(frame.locator("#report-segments")).to_have_text(f"{report['segments_total']:,}")
    expect(frame.locator("#report-messages")).to_have_text(f"{count:,}")
    assert report["encoding"]["ucs2"] == count  # the body's curly apostrophe: every message
    ucs2 = frame.locator("#report-ucs2-list")
    expect(ucs2).to_contain_text(f"{CURLY} (right single quotation mark) in your message.")
    expect(frame.locator("#report-ucs2-cost")).to_contain_text(
        f"These switch {count:,} messages to UCS-2")
    empties = report["empty_placeholders"]["{customer_first_name}"]
    assert empties >= 1
    expect(frame.locator("#report-empty-list")).to_contain_text(
        f"{empties:,} recipient{' has' if empties == 1 else 's have'} no first name: "
        "they would get “Hi , it")
    expect(frame.locator("#report-no-price")).to_be_visible()
    audit(page, "render report with UCS-2 and empty names")
    frame.locator("#render-report").scroll_into_view_if_needed()
    screenshot(page, "render-report-form")

    # Plain quotes in the message: what is left comes from names only (the sample data
    # has "Łukasz", "Sofía" and a flower emoji among the first names).
    frame.locator("#report-fix-quotes").click()
    expect_focus(frame, "#f-body")
    plain = body.replace(CURLY, "'")
    expect(frame.locator("#f-body")).to_have_value(plain)
    _, report = server_report(stack, plain)
    assert not any(source["in_body"] for source in report["ucs2_sources"].values())
    assert CURLY not in report["ucs2_characters"]  # the surname is not in this message
    expect(frame.locator("#report-segments")).to_have_text(f"{report['segments_total']:,}")
    expect(ucs2.locator("li")).to_have_count(ucs2_lines(report))
    expect(ucs2).not_to_contain_text("your message")
    expect(frame.locator("#report-fix-quotes")).to_be_hidden()

    # {customer_name} instead of the first name: nobody is left without a name, and the
    # surname's curly apostrophe now reaches one message.
    frame.locator("#report-use-name").click()
    named = plain.replace("{customer_first_name}", "{customer_name}")
    expect(frame.locator("#f-body")).to_have_value(named)
    count, report = server_report(stack, named)
    assert report["ucs2_sources"][CURLY]["last_names"] == 1
    expect(frame.locator("#report-empty-codes")).to_be_hidden()
    expect(ucs2).to_contain_text(f"{CURLY} (right single quotation mark) in 1 last name.")
    expect(frame.locator("#report-segments")).to_have_text(f"{report['segments_total']:,}")
    gsm7, ucs2_count = report["encoding"]["gsm7"], report["encoding"]["ucs2"]
    expect(frame.locator("#report-lines")).to_contain_text(
        f"{gsm7:,} in GSM-7 (160 characters per SMS), {ucs2_count:,} in UCS-2 (70 per SMS).")
    audit(page, "render report after the fixes")
    frame.locator("#render-report").scroll_into_view_if_needed()
    screenshot(page, "render-report-fixed")

    # Booking-aware: leave out whoever is booked in the next 7 days.
    frame.locator(".filters-box summary").click()
    expect(frame.locator(".filters-box")).to_have_attribute("open", "")
    frame.locator("#f-upcoming").fill("7")
    count, report = server_report(stack, named, exclude_upcoming_days=7)
    upcoming = stack.preview("all_with_phone", {"exclude_upcoming_days": 7}).skipped_upcoming
    assert upcoming > 0
    expect(frame.locator("#preview-count")).to_have_text(str(count))
    expect(frame.locator("#skip-upcoming")).to_have_text(str(upcoming))
    expect(frame.locator("#report-messages")).to_have_text(f"{count:,}")
    audit(page, "booking-aware filter")
    frame.locator("#f-upcoming").scroll_into_view_if_needed()
    screenshot(page, "booking-aware-filter")
    mark_document(page)
    frame.locator("#save").click()
    wait_for_new_document(page, "campaigns")
    (campaign_id,) = stack.campaign_ids()
    saved = stack.campaign(campaign_id)
    assert saved["body"] == named and saved["filters"]["exclude_upcoming_days"] == 7


def test_a_body_over_the_limit_is_kept_whole_and_refused(page: Page, stack: Stack) -> None:
    frame = open_form(page, stack)
    frame.locator("#f-name").fill("Too long")
    text = "Our news. " * 200  # 2,000 characters
    frame.locator("#f-body").fill(text)
    body = frame.locator("#f-body")
    expect(body).to_have_value(text)  # nothing cut off
    over = len(text) - MAX_BODY_CHARS
    expect(frame.locator("#counter-chars")).to_have_text(f"{len(text)} characters of 1600")
    expect(frame.locator("#sms-counter")).to_contain_text(
        f"The message is {over} characters over the limit of {MAX_BODY_CHARS}.")
    expect(body).to_have_attribute("aria-invalid", "true")
    expect(frame.locator("#report-empty")).to_have_text(
        "Fix the message to see how many SMS it takes.")
    audit(page, "a message over the limit")
    screenshot(page, "body-over-the-limit")
    frame.locator("#save").click()
    expect(frame.locator("#body-error")).to_have_text(
        f"the message is {len(text)} characters; the limit is {MAX_BODY_CHARS}")
    expect_focus(frame, "#f-body")
    assert stack.campaign_ids() == []
    # Shortened, it is accepted.
    body.fill(text[:MAX_BODY_CHARS])
    expect(frame.locator("#counter-chars")).to_have_text(f"{MAX_BODY_CHARS} characters")
    expect(body).not_to_have_attribute("aria-invalid", "true")
    mark_document(page)
    frame.locator("#save").click()
    wait_for_new_document(page, "campaigns")
    (campaign_id,) = stack.campaign_ids()
    assert stack.campaign(campaign_id)["body"] == text[:MAX_BODY_CHARS]


# -- the Send confirmation ------------------------------------------------------------------


def test_the_send_confirmation_states_recipients_segments_and_cost(
        page: Page, stack: Stack) -> None:
    stack.runtime.segment_price = lambda tenant: Decimal("0.0079") if tenant is None else None
    body = "Hello {customer_full_name}! Our spring colours are in. " \
           "Book a colouring this month and get a free treatment."
    campaign_id = stack.create_campaign("Spring colours", "booked_last_90", body)
    count, report = server_report(stack, body, "booked_last_90")
    assert count > 0 and report["segments_total"] > count  # some messages take two
    frame = open_sidecar(page, stack)
    send = row(frame, campaign_id).locator("button[data-action=send]")
    send.click()
    dialog = frame.locator("#send-dialog")
    expect(dialog).to_be_visible()
    expect_focus(frame, "#send-title")
    expect(frame.locator("#send-title")).to_have_text("Send “Spring colours”?")
    expect(frame.locator("#send-recipients")).to_have_text(f"{count:,}")
    expect(frame.locator("#send-segments")).to_have_text(f"{report['segments_total']:,}")
    assert report["ucs2_extra_segments"] > 1
    cost = Decimal("0.0079") * report["segments_total"]
    assert report["estimated_cost"] == float(cost)
    expect(frame.locator("#send-cost")).to_have_text(money(cost))
    expect(frame.locator("#send-confirm")).to_have_text(f"Send to {count:,} recipients")
    expect(frame.locator("#send-no-price")).to_be_hidden()
    expect(frame.locator("#send-cost-note")).to_be_visible()
    # The names bring accented letters: the confirmation says what they cost and where
    # they come from.
    expect(frame.locator("#send-ucs2-cost")).to_have_text(
        f"These switch {report['encoding']['ucs2']:,} messages to UCS-2, 70 characters per SMS "
        f"instead of 160: {report['ucs2_extra_segments']:,} more SMS segments to pay for.")
    expect(frame.locator("#send-ucs2-list li")).to_have_count(ucs2_lines(report))
    expect(frame.locator("#send-empty")).to_be_hidden()  # the full name is never empty
    audit(page, "send confirmation")
    screenshot(page, "send-confirmation")

    # Cancel sends nothing and puts focus back on Send.
    frame.locator("#send-cancel").click()
    expect(dialog).to_be_hidden()
    expect_focus(frame, f'#campaign-table tr[data-id="{campaign_id}"] [data-action=send]')
    assert stack.campaign(campaign_id)["status"] == "draft"
    assert stack.received_count() == 0

    send.click()
    confirm_send(frame)
    expect(frame.locator("#wizard-status")).to_have_text(re.compile(r"^Done: "),
                                                          timeout=SEND_TIMEOUT)
    wait_until(lambda: stack.at_rest(campaign_id), SEND_TIMEOUT / 1000, "the send to settle")
    campaign = stack.assert_counters_match_rows(campaign_id)
    assert campaign["total"] == count and campaign["sent"] == stack.received_count()
    # What went out is what the confirmation counted: the sent messages as the fake billed
    # them, the failed ones (magic numbers the fake refuses) as the engine rendered them.
    billed = sum(m.num_segments for m in stack.fake.received()) + sum(
        count_segments(render(body, first_name=r["first_name"], last_name=r["last_name"],
                              phone=r["phone"])).segments
        for r in stack.recipients(campaign_id) if r["status"] == "failed")
    assert billed == report["segments_total"]


def test_the_confirmation_offers_the_full_name_for_missing_first_names(
        page: Page, stack: Stack) -> None:
    add_customer(stack, None, "Nameless", "+14155553002")
    body = "Hi {customer_first_name}, your next visit is on us this month!"
    campaign_id = stack.create_campaign("Free visit", "all_with_phone", body)
    count, report = server_report(stack, body)
    empties = report["empty_placeholders"]["{customer_first_name}"]
    assert empties > 1
    frame = open_sidecar(page, stack)
    row(frame, campaign_id).locator("button[data-action=send]").click()
    expect(frame.locator("#send-empty-list")).to_have_text(
        f"{empties:,} recipients have no first name: they would get “Hi , your next visit is on…”.")
    expect(frame.locator("#send-no-price")).to_be_visible()
    expect(frame.locator("#send-cost")).to_have_text("—")
    audit(page, "send confirmation with missing first names")
    screenshot(page, "send-missing-names")
    # With the keyboard: the offer saves the campaign with {customer_name} and the dialog
    # counts again; focus goes to Send.
    frame.locator("#send-use-name").focus()
    page.keyboard.press("Enter")
    expect(frame.locator("#send-empty")).to_be_hidden()
    expect_focus(frame, "#send-confirm")
    named = body.replace("{customer_first_name}", "{customer_name}")
    saved = stack.campaign(campaign_id)
    assert saved["body"] == named and saved["status"] == "draft"
    count, report = server_report(stack, named)
    expect(frame.locator("#send-recipients")).to_have_text(f"{count:,}")
    expect(frame.locator("#send-segments")).to_have_text(f"{report['segments_total']:,}")
    page.keyboard.press("Escape")
    expect(frame.locator("#send-dialog")).to_be_hidden()
    assert stack.received_count() == 0


def test_nobody_to_send_to_offers_no_send(page: Page, stack: Stack) -> None:
    # Everyone booked in the next 7 days, less everyone booked in the next 7 days.
    campaign_id = stack.create_campaign("See you soon", "upcoming_next_7",
                                        exclude_upcoming_days=7)
    preview = stack.preview("upcoming_next_7", {"exclude_upcoming_days": 7})
    assert preview.count == 0 and preview.skipped_upcoming > 0
    frame = open_sidecar(page, stack)
    row(frame, campaign_id).locator("button[data-action=send]").click()
    nobody = frame.locator("#send-nobody")
    expect(nobody).to_be_visible()
    expect(nobody).to_contain_text("Nobody to send to.")
    expect(frame.locator("#send-nobody-why")).to_contain_text(
        f"{preview.skipped_upcoming} with an appointment coming up")
    expect(frame.locator("#send-confirm")).to_be_hidden()
    expect(frame.locator("#send-cancel")).to_have_text("Close")
    edit = frame.locator("#send-edit")
    expect(edit).to_be_visible()
    audit(page, "send confirmation, nobody to send to")
    screenshot(page, "send-nobody")
    frame.locator("#send-cancel").click()
    assert stack.campaign(campaign_id)["status"] == "draft"
    assert stack.received_count() == 0


# -- a sent campaign, and retries -----------------------------------------------------------


def test_a_sent_campaign_is_shown_read_only(page: Page, stack: Stack) -> None:
    campaign_id = stack.create_campaign("Done deal", "booked_last_7", "Thanks {customer_name}!")
    done = send_and_wait(stack, campaign_id)
    assert done["status"] == "completed"
    frame = open_sidecar(page, stack)
    go(page, frame, f"/ui/campaigns/{campaign_id}/edit", "campaign-form")
    expect(frame.locator("h1")).to_have_text("Campaign “Done deal”")
    expect(frame.locator("#readonly-notice")).to_contain_text("This campaign has been sent")
    expect(frame.locator("#save")).to_have_count(0)
    expect(frame.locator("#f-body")).to_be_disabled()
    expect(frame.locator("#f-name")).to_be_disabled()
    expect(frame.locator("#counter-chars")).to_have_text("23 characters")
    expect(frame.locator("#counter-segments")).to_contain_text("1 SMS")
    expect(frame.locator("#f-template")).to_be_hidden()
    expect(frame.locator(".shortcodes")).to_be_hidden()
    expect(frame.locator("#sent-summary")).to_contain_text(str(done["sent"]))
    audit(page, "a sent campaign, read-only")
    screenshot(page, "campaign-read-only")
    mark_document(page)
    frame.locator("#duplicate-readonly").click()
    wait_for_new_document(page, "campaign-form")
    copy_id = max(stack.campaign_ids())
    assert copy_id != campaign_id and stack.campaign(copy_id)["status"] == "draft"
    expect(frame.locator("#f-name")).to_have_value("Copy of Done deal")
    expect(frame.locator("#save")).to_be_visible()
    expect_focus(frame, "#f-name")
    assert stack.campaign(campaign_id)["status"] == "completed"


def test_the_wizard_says_how_many_wait_to_retry_and_when(page: Page, stack: Stack) -> None:
    campaign_id = stack.create_campaign("Retry me", "booked_last_30")
    stack.preview("booked_last_30")  # the phones are parsed (the list below reads them)
    with stack.engine.connect() as conn:
        recipients = sorted(r.phone for r in conn.execute(stack.runtime.segments.recipients_select(
            SegmentQuery("booked_last_30"), int(stack.clock()), None)))
    chosen = [p for p in recipients if not p.startswith("+1500")][:3]  # not magic numbers
    assert len(chosen) == 3 and len(recipients) > 3
    for phone in chosen:  # Twilio answers "too many requests" to these, every time
        stack.fake.script_error(phone, 20429, status=429, message="Too Many Requests")
    start = int(stack.clock())
    frame = open_sidecar(page, stack)
    row(frame, campaign_id).locator("button[data-action=send]").click()
    confirm_send(frame)
    retry = frame.locator("#wizard-retry")
    when = stack.runtime.booknetic.business_zone(None).format(start + 1)
    expect(retry).to_have_text(f"3 messages waiting to retry at {when}. "
                               "They are retried automatically.", timeout=SEND_TIMEOUT)
    expect(frame.locator("#wizard-status")).to_have_text("Sending…")
    audit(page, "wizard with retries waiting")
    screenshot(page, "wizard-retries")
    stack.clock.advance(1)  # due: the worker tries again, and they wait longer
    wait_until(lambda: stack.runtime.campaigns.progress(None, campaign_id)["next_retry_at"]
               == start + 1 + 2, SEND_TIMEOUT / 1000, "the second retry to be scheduled")
    # The page shows minutes: the later time reads the same here, so the API said it above.
    later = stack.runtime.booknetic.business_zone(None).format(start + 1 + 2)
    expect(retry).to_contain_text(f"3 messages waiting to retry at {later}.",
                                  timeout=SEND_TIMEOUT)
    stack.clock.advance(2)  # the third failure is final
    expect(frame.locator("#wizard-status")).to_have_text(re.compile(r"^Done: "),
                                                          timeout=SEND_TIMEOUT)
    expect(retry).to_be_hidden()
    wait_until(lambda: stack.at_rest(campaign_id), SEND_TIMEOUT / 1000, "the send to settle")
    done = stack.assert_counters_match_rows(campaign_id)
    expect(frame.locator("#wizard-status")).to_have_text(
        f"Done: {done['sent']} sent, {done['failed']} failed.")
    rows = {r["phone"]: r for r in stack.recipients(campaign_id)}
    for phone in chosen:
        assert rows[phone]["status"] == "failed" and rows[phone]["attempts"] == 3
