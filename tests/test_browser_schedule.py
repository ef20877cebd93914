"""Browser tests of scheduling and quiet hours (DESIGN.md §11): the date picker on the
campaign page, the list and dashboard showing when (in the business timezone, named), an
edit while scheduled, Unschedule; the progress wizard saying who is held until when.

The stack's clock stands at START (2026-05-28 20:26:40 UTC); the tenant's Booknetic zone is
America/Chicago, so "2026-06-02T09:30" typed in the picker is 14:30 UTC on 2 June.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine, text

from sidecar.schedules import parse_when
from sidecar.zones import UTC_ZONE
from tests.browser_page_support import (
    FEATURE_CUSTOMERS,
    mark_document,
    open_sidecar,
    wait_for_new_document,
)
from tests.browser_support import ALL_CAPS, Stack, running_stack, screenshot

pytestmark = pytest.mark.slow  # a stack and Chromium per test

SEND_AT = parse_when("2026-06-02T14:30:00+00:00", UTC_ZONE)


@pytest.fixture
def saas(mysql_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Stack]:
    with running_stack(mysql_url, engine_for(mysql_url), customers=FEATURE_CUSTOMERS,
                       kind="saas") as s:
        s.set_option("bkntc_t1_timezone", "America/Chicago")
        s.act_as(ALL_CAPS, tenant_id=1)
        yield s


def test_schedule_with_the_date_picker_see_it_listed_edit_and_unschedule(
        page: Page, saas: Stack) -> None:
    frame = open_sidecar(page, saas)
    mark_document(page)
    frame.locator("#new-campaign").click()
    wait_for_new_document(page, "campaign-form")
    frame.locator("#f-name").fill("Summer hours")
    frame.locator("#f-segment").select_option("all_with_phone")
    frame.locator("#f-body").fill("Hi {customer_first_name}, we open late in June!")
    expect(frame.locator("label:has(#f-send-at)")).to_contain_text("(America/Chicago)")
    # The audience preview has settled (it clears the form's messages when it updates).
    expect(frame.locator("#preview-count")).to_have_text(re.compile(r"^[1-9]\d*$"))
    # Without a time the picker says what is missing, and nothing is created.
    frame.locator("#save-schedule").click()
    expect(frame.locator("#send_at-error")).to_have_text("Choose the date and time to send at.")
    frame.locator("#f-send-at").fill("2026-06-02T09:30")
    mark_document(page)
    frame.locator("#save-schedule").click()
    wait_for_new_document(page, "campaigns")
    row = frame.locator("#campaign-table tbody tr", has_text="Summer hours")
    expect(row.locator(".badge")).to_have_text("scheduled")
    expect(row).to_contain_text("Scheduled for 2 Jun 2026, 09:30 (America/Chicago)")
    campaign_id = int(row.get_attribute("data-id") or 0)
    stored = saas.runtime.campaigns.get(1, campaign_id)
    assert (stored["status"], stored["send_at"], stored["latest_start"]) == (
        "scheduled", SEND_AT, SEND_AT + 7200)
    screenshot(page, "scheduled-campaign")
    # The dashboard lists it with its time.
    mark_document(page)
    frame.locator("#nav-dashboard").click()
    wait_for_new_document(page, "dashboard")
    expect(frame.locator("#scheduled-list")).to_contain_text(
        "Summer hours 2 Jun 2026, 09:30 (America/Chicago)")
    mark_document(page)
    frame.locator("#nav-campaigns").click()
    wait_for_new_document(page, "campaigns")
    row = frame.locator("#campaign-table tbody tr", has_text="Summer hours")

    # Edit while scheduled: the picker shows its time; saving keeps it scheduled, moved.
    mark_document(page)
    row.locator("[data-action=edit]").click()
    wait_for_new_document(page, "campaign-form")
    expect(frame.locator("#f-send-at")).to_have_value("2026-06-02T09:30")
    frame.locator("#f-send-at").fill("2026-06-03T10:00")
    mark_document(page)
    frame.locator("#save").click()
    wait_for_new_document(page, "campaigns")
    row = frame.locator("#campaign-table tbody tr", has_text="Summer hours")
    expect(row).to_contain_text("Scheduled for 3 Jun 2026, 10:00 (America/Chicago)")
    assert saas.runtime.campaigns.get(1, campaign_id)["send_at"] == SEND_AT + 86400 + 1800

    row.locator("[data-action=unschedule]").click()
    row = frame.locator("#campaign-table tbody tr", has_text="Summer hours")
    expect(row.locator(".badge")).to_have_text("draft")
    assert saas.runtime.campaigns.get(1, campaign_id)["send_at"] is None


@pytest.fixture
def quiet_site(mysql_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Stack]:
    """Single-site, quiet hours on (09:00-20:00), the business in Chicago (15:26 at START);
    customers with an even id booked from Tokyo (05:26 there: outside the window)."""
    with running_stack(mysql_url, engine_for(mysql_url), customers=FEATURE_CUSTOMERS,
                       quiet_hours=True) as s:
        s.set_option("timezone_string", "America/Chicago")
        with s.engine.begin() as conn:
            conn.execute(text("UPDATE wp_bkntc_appointments SET client_timezone = CASE "
                              "WHEN customer_id % 2 = 0 THEN 'Asia/Tokyo' ELSE NULL END"))
        yield s


def test_the_progress_wizard_says_who_is_held_until_when(page: Page, quiet_site: Stack) -> None:
    frame = open_sidecar(page, quiet_site)
    svc = quiet_site.runtime.campaigns
    cid = int(svc.create(None, {"name": "Night owls", "segment": "all_with_phone",
                                "body": "Hi {customer_first_name}!"})["id"])
    svc.send(None, cid)
    quiet_site.runtime.outbox.run_queue()
    held = svc.progress(None, cid)
    assert held["status"] == "sending" and "held until 09:00 (Asia/Tokyo)" in held[
        "status_reason"]
    mark_document(page)
    page.reload()
    wait_for_new_document(page, "campaigns")
    row = frame.locator("#campaign-table tbody tr", has_text="Night owls")
    expect(row.locator(".reason")).to_contain_text("held until 09:00 (Asia/Tokyo)")
    row.locator("[data-action=progress]").click()
    expect(frame.locator("#wizard-status")).to_contain_text(
        re.compile(r"Sending… \d+ held until 09:00 \(Asia/Tokyo\)"))
    screenshot(page, "quiet-hours-held")
