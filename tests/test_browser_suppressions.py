"""Browser tests of the suppression list page: add, bulk add, search, paginate, remove.

Same harness as test_browser.py, through tests/browser_page_support.py: a real stack on
loopback per test, Debian's Chromium, the sidecar's pages inside the relay's Booknetic
page; each test checks what the user sees and what really happened.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, Response, expect

from tests.a11y_support import audit
from tests.browser_page_support import (
    assert_same_document,
    expect_focus,
    frame_query,
    goto_tab,
    mark_document,
    open_sidecar,
    submit_search,
    table_rows,
    wait_for_new_document,
)
from tests.browser_support import ALL_CAPS, PageLog, Stack, call_api, screenshot

pytestmark = pytest.mark.slow  # a stack and Chromium per test


def api_call(method: str, path: str) -> Callable[[Response], bool]:
    """Matches the relay request a page's fetch() makes for the sidecar `path`."""

    def match(response: Response) -> bool:
        query = parse_qs(urlsplit(response.url).query)
        return response.request.method == method and query.get("p") == [path]

    return match


# -- suppression list -----------------------------------------------------------------


def test_suppression_list_add_bulk_search_paginate_remove(page: Page, stack: Stack,
                                                          page_log: PageLog) -> None:
    assert stack.runtime.regions.region(None) is None  # numbers need their country code
    frame = open_sidecar(page, stack)
    goto_tab(frame, "suppressions")
    expect(frame.locator("h1")).to_have_text("Suppression list")
    expect(frame.locator("#suppress-empty")).to_have_text("The list is empty.")
    toast = frame.locator("#toast")

    # A national number cannot be placed without a default country: the field says how.
    frame.locator("#s-phone").fill("(202) 555-0143")
    frame.locator("#s-reason").fill("Complained at the front desk")
    frame.locator("#suppress-one button[type=submit]").click()
    expect(frame.locator("#suppress-one [data-error-for=phone]")).to_have_text(
        "'(202) 555-0143' is not a valid phone number. Write it in international form, "
        "starting with + and the country code.")
    audit(page, "a field error")
    assert table_rows(stack, "suppressions") == []

    # Loosely formatted, with the country code: stored in E.164.
    frame.locator("#s-phone").fill("+1 (202) 555-0143")
    mark_document(page)
    with page.expect_response(api_call("POST", "/api/v1/suppressions")) as answer:
        frame.locator("#suppress-one button[type=submit]").click()
    assert answer.value.status == 201
    expect(toast).to_have_text("+12025550143 added to the suppression list.")
    # The list is updated in place; the fields are cleared, and focus is in the phone
    # field for the next number.
    listed = frame.locator('#suppress-table tr[data-phone="+12025550143"]')
    expect(listed.locator("td")).to_have_text(
        ["+12025550143", "Complained at the front desk", "manual",
         "28 May 2026, 20:26 (UTC)", "Remove"])  # the stack's clock, the site's zone
    assert_same_document(page)
    expect(frame.locator("#s-phone")).to_have_value("")
    expect_focus(frame, "#s-phone")
    audit(page, "a number added")
    (first,) = table_rows(stack, "suppressions")
    assert (first["tenant_id"], first["phone"], first["reason"], first["source"],
            first["created_by"]) == (0, "+12025550143", "Complained at the front desk",
                                     "manual", 1), first

    # The same number written differently: already there, nothing new.
    frame.locator("#s-phone").fill("+1 202-555-0143")
    mark_document(page)
    with page.expect_response(api_call("POST", "/api/v1/suppressions")) as answer:
        frame.locator("#suppress-one button[type=submit]").click()
    assert answer.value.status == 200
    expect(toast).to_have_text("+12025550143 is already on the suppression list.")
    expect(frame.locator("#suppress-table tbody tr")).to_have_count(1)
    assert_same_document(page)
    assert len(table_rows(stack, "suppressions")) == 1

    # Bulk with an invalid line: the invalid ones are listed and NOTHING is saved.
    pasted = ("+1 415 555 0101\nnot-a-number\n+1 312 555 0102, 12125550103\n"
              "+12025550143\n\n")
    frame.locator("#s-numbers").fill(pasted)
    frame.locator("#s-bulk-reason").fill("Imported from the old system")
    with page.expect_response(api_call("POST", "/api/v1/suppressions/bulk")) as answer:
        frame.locator("#suppress-many button[type=submit]").click()
    assert answer.value.status == 422
    expect(frame.locator("#s-invalid")).to_be_visible()
    expect(frame.locator("#s-invalid li")).to_have_text(["not-a-number"])
    audit(page, "invalid numbers listed")
    expect(frame.locator("#suppress-many [data-error-for=numbers]")).to_have_text(
        "1 number(s) are not valid phone numbers; nothing was saved. Fix or remove them, "
        "or choose to skip them.")
    assert [r["phone"] for r in table_rows(stack, "suppressions")] == ["+12025550143"]

    # "Skip invalid": the valid ones are saved, the known one counted as already there.
    frame.locator("#s-skip-invalid").check()
    mark_document(page)
    with page.expect_response(api_call("POST", "/api/v1/suppressions/bulk")) as answer:
        frame.locator("#suppress-many button[type=submit]").click()
    assert answer.value.status == 200
    expect(toast).to_have_text("3 added, 1 already on the list, 1 invalid skipped.")
    expect(frame.locator("#suppress-table tbody tr")).to_have_count(4)
    assert_same_document(page)
    rows = table_rows(stack, "suppressions")
    assert [(r["phone"], r["source"], r["reason"]) for r in rows] == [
        ("+12025550143", "manual", "Complained at the front desk"),
        ("+14155550101", "manual", "Imported from the old system"),
        ("+13125550102", "manual", "Imported from the old system"),
        ("+12125550103", "manual", "Imported from the old system")]
    expect(frame.locator("#suppress-table tbody tr")).to_have_count(4)
    expect(frame.locator('#suppress-table tr[data-phone="+14155550101"] .badge')
           ).to_have_text("manual")

    # Search by phone, through the relay's GET form (the URL keeps action=bkntc_sms).
    frame.locator("#s-q").fill("+1415")
    submit_search(page, frame, "#suppress-search", "suppressions")
    query = frame_query(page)
    assert (query.get("action"), query.get("p"), query.get("q")) == (
        ["bkntc_sms"], ["/ui/suppressions"], ["+1415"]), query
    expect(frame.locator("#suppress-table tbody tr")).to_have_count(1)
    expect(frame.locator("#suppress-table tbody tr")).to_have_attribute(
        "data-phone", "+14155550101")
    expect(frame.locator("#suppress-total")).to_have_text("1 number match “+1415”.")
    expect(frame.locator("#s-q")).to_have_value("+1415")

    # By reason.
    frame.locator("#s-q").fill("front desk")
    submit_search(page, frame, "#suppress-search", "suppressions")
    assert frame_query(page).get("q") == ["front desk"]
    expect(frame.locator("#suppress-table tbody tr")).to_have_count(1)
    expect(frame.locator("#suppress-table tbody tr")).to_have_attribute(
        "data-phone", "+12025550143")
    frame.locator("#s-q").fill("old system")
    submit_search(page, frame, "#suppress-search", "suppressions")
    expect(frame.locator("#suppress-table tbody tr")).to_have_count(3)
    frame.locator("#s-q").fill("nobody-has-this")
    submit_search(page, frame, "#suppress-search", "suppressions")
    expect(frame.locator("#suppress-empty")).to_have_text("No number matches “nobody-has-this”.")

    # More than 50 numbers: two pages, newest first.
    bulk = stack.runtime.suppressions.add_many(
        None, "\n".join(f"+1415555{n:04d}" for n in range(110, 170)), "Old opt-outs")
    assert (bulk.added, bulk.invalid) == (60, [])
    total = len(table_rows(stack, "suppressions"))
    assert total == 64
    ordered, _ = stack.runtime.suppressions.list(None, limit=100)
    mark_document(page)
    frame.locator("#suppress-search a.button", has_text="Clear").click()
    wait_for_new_document(page, "suppressions")
    expect(frame.locator("#suppress-total")).to_have_text(f"{total} numbers.")
    expect(frame.locator("#suppress-table tbody tr td.mono")).to_have_text(
        [r["phone"] for r in ordered[:50]])
    pager = frame.locator("nav.pager a")
    expect(pager).to_have_text(["1", "2"])
    expect(pager.nth(0)).to_have_class(re.compile(r"\bactive\b"))
    mark_document(page)
    pager.nth(1).click()
    wait_for_new_document(page, "suppressions")
    query = frame_query(page)
    assert query.get("action") == ["bkntc_sms"], query
    expect(frame.locator("nav.pager a").nth(1)).to_have_class(re.compile(r"\bactive\b"))
    expect(frame.locator("#suppress-table tbody tr td.mono")).to_have_text(
        [r["phone"] for r in ordered[50:]])
    screenshot(page, "suppressions")

    # Remove, after a confirm: the row goes, and so does the database row. It is the last
    # row (the oldest): focus moves to the Remove button of the row before it, instead of
    # falling to the top of the page.
    target = frame.locator('#suppress-table tr[data-phone="+12025550143"]')
    expect(target.locator("xpath=following-sibling::tr")).to_have_count(0)
    before_id = target.locator("xpath=preceding-sibling::tr[1]").get_attribute("data-id")
    target.locator("button[data-action=remove]").focus()
    mark_document(page)
    with page.expect_response(api_call("DELETE", f"/api/v1/suppressions/{first['id']}")
                              ) as answer:
        target.locator("button[data-action=remove]").click()
    assert answer.value.status == 204
    expect(target).to_have_count(0)
    expect(toast).to_have_text("+12025550143 removed.")
    assert_same_document(page)
    expect_focus(frame, f'#suppress-table tr[data-id="{before_id}"] button[data-action=remove]')
    expect(frame.locator("#suppress-total")).to_have_text(f"{total - 1} numbers.")
    audit(page, "a row removed")
    assert ("Remove +12025550143 from the suppression list? It can receive SMS again."
            in page_log.dialogs), page_log.dialogs
    phones = {r["phone"] for r in table_rows(stack, "suppressions")}
    assert "+12025550143" not in phones and len(phones) == total - 1
    assert stack.runtime.suppressions.is_suppressed(None, "+12025550143") is None

    # Without sms_campaign_suppressions: no tab, and the page URL answers 403.
    stack.act_as([c for c in ALL_CAPS if c != "sms_campaign_suppressions"],
                 user_id=4, user_login="frontdesk", display_name="Sam Front")
    frame = open_sidecar(page, stack)
    expect(frame.locator("#nav-templates")).to_be_visible()
    expect(frame.locator("#nav-suppressions")).to_have_count(0)
    refused = call_api(frame, "POST", "/api/v1/suppressions", {"phone": "+12025550144"})
    assert refused.get("status") == 403 and refused.get("code") == "forbidden", refused
    response = page.goto(stack.relay_url("/ui/suppressions"))
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator(".empty")).to_contain_text(
        "You do not have permission to manage the suppression list")
    audit(page, "403")
    assert len(table_rows(stack, "suppressions")) == total - 1
