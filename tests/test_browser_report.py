"""Browser test of the campaign report page (DESIGN.md §12): reached from the campaign list
and from the wizard's completion state, its figures equal to the API's, its chart's bars
and table equal to the rows, axe-clean (wait_for_new_document audits every page it opens).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import insert, select

from sidecar.sample_data import metadata_for
from tests.browser_page_support import (
    mark_document,
    open_sidecar,
    send_and_wait,
    wait_for_new_document,
)
from tests.browser_support import OWNER, Stack, call_api, row, screenshot

pytestmark = pytest.mark.slow  # a stack and Chromium per test


def _sent_rows(stack: Stack, campaign_id: int) -> list[Any]:
    r = stack.runtime.tables.recipients
    with stack.engine.connect() as conn:
        return list(conn.execute(select(r.c.customer_id, r.c.sent_at).where(
            r.c.campaign_id == campaign_id, r.c.status == "sent").order_by(r.c.id)))


def test_the_report_page_shows_the_api_figures(page: Page, stack: Stack) -> None:
    campaign_id = int(stack.runtime.campaigns.create(None, {
        "name": "Spring return", "segment": "all_with_phone", "body": "Hi {customer_first_name}!",
        "holdout_percent": 20}, user_id=OWNER["user_id"])["id"])
    campaign = send_and_wait(stack, campaign_id)
    assert campaign["holdout"] > 0 and campaign["sent"] > 0
    # Two bookings in Booknetic after the message (the test stands in for Booknetic).
    sent = _sent_rows(stack, campaign_id)
    table = metadata_for("wp_", "single").tables["wp_bkntc_appointments"]
    with stack.engine.begin() as conn:
        for (customer_id, sent_at), paid in zip(sent[:2], ("35.00", "12.50"), strict=True):
            conn.execute(insert(table).values(
                customer_id=customer_id, status="approved", starts_at=sent_at + 86400,
                ends_at=sent_at + 90000, created_at=sent_at + 600, paid_amount=paid))
    assert stack.runtime.attribution.refresh_open().errors == 0

    frame = open_sidecar(page, stack)
    report = call_api(frame, "GET", f"/api/v1/campaigns/{campaign_id}/report")["ok"]
    assert report["booked_recipients"] == 2 and report["revenue"] == 47.5
    # The list and the send dialog count the held-back recipients apart: the bar ends at
    # 100% without them (they are never sent).
    listed = row(frame, campaign_id)
    expect(listed).to_contain_text(f"{campaign['holdout']} held back")
    listed.locator("button[data-action=progress]").click()
    expect(frame.locator("#wizard-percent")).to_have_text("100%")
    expect(frame.locator("#count-total")).to_have_text(
        str(campaign["total"] - campaign["holdout"]))
    mark_document(page)
    frame.locator("#wizard-report").click()
    wait_for_new_document(page, "report")  # audited by axe-core
    expect(frame.locator("h1")).to_have_text("Report: Spring return")
    for key in ("recipients", "sent", "delivered", "booked_recipients", "bookings"):
        expect(frame.locator(f'[data-key="{key}"]')).to_have_text(str(report[key]))
    expect(frame.locator('[data-key="revenue"]')).to_have_text("47.50")
    expect(frame.locator("#lift-words")).to_have_text(report["lift_words"])
    # The chart: one pair of bars per day, the same numbers as its table and the API.
    bars = frame.locator("#report-chart rect.bar-sent")
    days = frame.locator("#report-days tbody tr")
    expect(days).to_have_count(bars.count())
    total_sent = sum(int(bars.nth(i).get_attribute("data-sent") or 0)
                     for i in range(bars.count()))
    booked = frame.locator("#report-chart rect.bar-booked")
    total_booked = sum(int(booked.nth(i).get_attribute("data-bookings") or 0)
                       for i in range(booked.count()))
    assert (total_sent, total_booked) == (report["sent"], report["bookings"])
    expect(frame.locator("#report-chart > title")).to_contain_text("per day")
    expect(frame.locator("#report-chart text.axis").first).to_have_text("0")
    if report["failed"]:
        first = frame.locator("#report-failures tbody tr").first
        expect(first.locator("td").nth(1)).not_to_have_text("0")
    screenshot(page, "campaign-report")

    # The held-back link opens the logs filtered to the control group.
    mark_document(page)
    frame.locator("a", has_text="held back").click()
    wait_for_new_document(page, "logs")
    expect(frame.locator("#log-table tbody tr")).to_have_count(report["holdout"]["recipients"])


def test_the_campaign_list_links_to_the_report(page: Page, stack: Stack) -> None:
    draft = stack.create_campaign("Not sent", "repeat")
    campaign_id = stack.create_campaign("Quick hello", "booked_last_30")
    send_and_wait(stack, campaign_id)
    frame = open_sidecar(page, stack)
    expect(row(frame, draft).locator("a[data-action=report]")).to_have_count(0)
    mark_document(page)
    row(frame, campaign_id).locator("a[data-action=report]").click()
    wait_for_new_document(page, "report")
    expect(frame.locator("h1")).to_have_text("Report: Quick hello")
