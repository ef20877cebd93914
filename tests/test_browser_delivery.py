"""Browser tests of delivery figures where people look (issue 14 item 7) and of Resend to
failed and auto-pause (issue 16 item 5): the campaign list, the progress wizard, the logs
page's delivery filter and its CSV, the dashboard's 30-day delivery rate.

Same harness as test_browser_logs.py: a real stack on loopback, Debian's Chromium, the
fake Twilio with scripted errors; delivery statuses arrive through the row protocol's step
4 (DeliveryRows.apply, what status callbacks and the poller call).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from sidecar.delivery_log import CSV_COLUMNS
from sidecar.providers.base import DeliveryStatus, DeliveryUpdate
from sidecar.segments import SegmentQuery
from tests.a11y_support import audit
from tests.browser_page_support import (
    SLOW_UI,
    goto_tab,
    open_sidecar,
    send_and_wait,
    submit_search,
)
from tests.browser_support import Stack, row, screenshot, wait_until

pytestmark = pytest.mark.slow  # a stack and Chromium per test


def _phones(stack: Stack, segment: str, limit: int) -> list[str]:
    query = SegmentQuery.from_filters(segment, {}, None)
    return [s["phone"] for s in stack.runtime.segments.preview(query, limit=limit)
            .to_dict()["sample"]]


def test_delivery_figures_filter_and_resend_to_failed(page: Page, stack: Stack) -> None:
    phones = _phones(stack, "booked_last_7", 10)
    assert len(phones) >= 6
    stack.fake.script_error(phones[0], 30007, status=400, message="Filtered")
    stack.fake.script_error(phones[1], 21211, status=400, message="Invalid To")
    cid = stack.create_campaign("Weekend offer", "booked_last_7")
    campaign = send_and_wait(stack, cid)
    assert campaign["failed"] >= 2
    sent = [r for r in stack.recipients(cid) if r["status"] == "sent"]
    now = int(stack.clock())
    delivered, undelivered = sent[:3], sent[3:5]
    stack.runtime.outbox.deliveries.apply(
        [DeliveryUpdate(r["provider_message_id"], DeliveryStatus.DELIVERED, now)
         for r in delivered]
        + [DeliveryUpdate(r["provider_message_id"], DeliveryStatus.UNDELIVERED, now, 30003,
                          "unreachable: the phone is off or out of coverage (Twilio 30003)")
           for r in undelivered])
    campaign = stack.campaign(cid)
    assert (campaign["delivered"], campaign["undelivered"]) == (3, 2)

    # The list: delivered and undelivered next to sent.
    frame = open_sidecar(page, stack)
    counts = row(frame, cid).locator(".delivery-counts")
    expect(counts).to_have_text("3 delivered · 2 undelivered")
    # The wizard.
    row(frame, cid).locator("button[data-action=progress]").click()
    expect(frame.locator("#count-delivered")).to_have_text("3")
    expect(frame.locator("#count-undelivered")).to_have_text("2")
    expect(frame.locator("#wizard-resend")).to_be_visible()
    audit(page)
    screenshot(page, "wizard-delivery")
    frame.locator("#wizard-close").click()

    # The logs, filtered by delivery status; the CSV link and the pager keep the filter.
    row(frame, cid).locator("a[data-action=logs]").click()
    expect(frame.locator("#logs-delivered")).to_have_text("3 delivered")
    frame.locator("#log-delivery").select_option("not_delivered")
    submit_search(page, frame, "#log-search", "logs")
    expect(frame.locator("#log-delivery")).to_have_value("not_delivered")
    expect(frame.locator("#log-table tbody tr td:nth-child(2)")).to_have_text(
        [r["phone"] for r in undelivered])
    expect(frame.locator("#download-csv")).to_have_attribute(
        "href", re.compile(r"delivery%3Dnot_delivered"))
    audit(page)
    screenshot(page, "logs-delivery-filter")
    with page.expect_download(timeout=SLOW_UI) as info:
        frame.locator("#download-csv").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    lines = list(csv.reader(io.StringIO(text, newline="")))
    assert lines[0] == list(CSV_COLUMNS)
    column = {name: i for i, name in enumerate(lines[0])}
    assert [r[column["delivery_status"]] for r in lines[1:]] == ["undelivered"] * 2
    assert all("Twilio 30003" in r[column["delivery_error"]] for r in lines[1:])

    # A customer replies STOP (the inbound keyword path's service).
    stack.runtime.opt_outs.opt_out(phones[2], "Replied STOP")

    # The dashboard: the delivery rate of the messages sent in the last 30 days, opt-outs.
    goto_tab(frame, "dashboard")
    expect(frame.locator("#stat-opt-outs")).to_have_text("1")
    rate = 3 / campaign["sent"]
    expect(frame.locator("#stat-delivery-rate")).to_have_text(f"{rate * 100:.1f}%")
    expect(frame.locator("#stat-delivery-detail")).to_have_text(
        f"3 of {campaign['sent']} sent · 2 undelivered")
    audit(page)
    screenshot(page, "dashboard-delivery")

    # The suppression list says where each number came from and when; filter by source.
    goto_tab(frame, "suppressions")
    frame.locator("#s-source").select_option("keyword")
    submit_search(page, frame, "#suppress-search", "suppressions")
    listed = frame.locator("#suppress-table tbody tr")
    expect(listed).to_have_count(1)
    expect(listed.first).to_have_attribute("data-phone", phones[2])
    expect(listed.first.locator(".badge")).to_have_text("replied STOP")
    # When, in the business timezone with its name (UTC here: no zone is set).
    expect(listed.first.locator("td").nth(3)).to_have_text(
        re.compile(r"^\d{1,2} \w{3} \d{4}, \d\d:\d\d \(UTC\)$"))
    frame.locator("#s-source").select_option("manual")
    submit_search(page, frame, "#suppress-search", "suppressions")
    expect(frame.locator("#suppress-empty")).to_have_text("No number comes from there.")
    audit(page)

    # Resend to failed, by keyboard: a draft for the one failure another try may fix.
    goto_tab(frame, "campaigns")
    resend = row(frame, cid).locator("button[data-action=resend-failed]")
    resend.focus()
    page.keyboard.press("Enter")
    expect(frame.locator("#toast")).to_contain_text("made for 1 recipient.")
    drafts = [c for c in stack.campaign_ids() if c != cid]
    assert len(drafts) == 1
    draft = drafts[0]
    expect(row(frame, draft).locator("button[data-action=send]")).to_be_focused()
    expect(row(frame, draft).locator("td").nth(1)).to_have_text(
        f"Failed recipients of campaign #{cid}")
    audit(page)
    screenshot(page, "resend-draft")
    resent = send_and_wait(stack, draft)
    assert resent["total"] == 1 and stack.recipients(draft)[0]["phone"] == phones[0]


def test_an_auto_paused_campaign_says_why(page: Page, stack: Stack) -> None:
    phones = _phones(stack, "booked_last_30", 5000)  # every recipient fails
    assert len(phones) >= 12
    for phone in phones:
        stack.fake.script_error(phone, 30007, status=400, message="Filtered")
    cid = stack.create_campaign("Everyone filtered", "booked_last_30")
    stack.runtime.campaigns.send(None, cid)
    wait_until(lambda: stack.campaign(cid)["status"] == "paused", 300, "the auto-pause")
    reason = stack.campaign(cid)["status_reason"]
    assert reason.startswith("Paused automatically:"), reason
    frame = open_sidecar(page, stack)
    expect(row(frame, cid).locator(".reason")).to_have_text(reason)
    row(frame, cid).locator("button[data-action=progress]").click()
    expect(frame.locator("#wizard-status")).to_have_text(reason)
    expect(frame.locator("#wizard-resume")).to_be_visible()
    audit(page)
    screenshot(page, "auto-paused")
