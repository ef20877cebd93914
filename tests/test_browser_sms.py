"""Browser tests of the Send SMS page: the test SMS and the one-off SMS to chosen
customers or pasted numbers.

Same harness as test_browser.py, through tests/browser_page_support.py: a real stack on
loopback per test, Debian's Chromium, the sidecar's pages inside the relay's Booknetic
page; each test checks what the user sees and what really happened.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from sidecar.phones import normalise_phone
from sidecar.sample_data.scenarios import SCENARIO_KEYS
from sidecar.sms_text import render
from tests.a11y_support import audit
from tests.browser_page_support import (
    assert_same_document,
    expect_counter,
    expect_focus,
    goto_tab,
    mark_document,
    open_sidecar,
    table_rows,
    wait_for_new_document,
)
from tests.browser_support import SEND_TIMEOUT, Stack, call_api, screenshot

pytestmark = pytest.mark.slow  # a stack and Chromium per test


def scenario_customer(stack: Stack, key: str) -> dict[str, Any]:
    """A hand-made customer of the data set (single site: customers follow SCENARIO_KEYS)."""
    return stack.ds.customers[SCENARIO_KEYS.index(key)]


def full_name(customer: dict[str, Any]) -> str:
    return f"{customer['first_name'] or ''} {customer['last_name'] or ''}".strip()


# -- test SMS -------------------------------------------------------------------------


def test_test_sms_sent_refused_and_twilio_error(page: Page, stack: Stack) -> None:
    frame = open_sidecar(page, stack)
    goto_tab(frame, "sms")
    expect(frame.locator("h1")).to_have_text("Send SMS")
    result = frame.locator("#test-result")
    phone_error = frame.locator("#test-form [data-error-for=phone]")

    body = "Hello {customer_full_name}, this is a test from the salon."
    frame.locator("#test-phone").fill("+1 202 555 0188")
    frame.locator("#test-body").fill(body)
    frame.locator("#test-send").click()
    rendered = "Hello Test Customer, this is a test from the salon."
    expect(result).to_have_text(re.compile(
        r"^Sent to \+12025550188 \(Twilio id (SM[0-9a-f]{32})\): “"
        + re.escape(rendered) + "”$"))
    expect(result).not_to_have_class(re.compile(r"\berror\b"))
    (message,) = stack.fake.received()
    assert (message.to, message.body) == ("+12025550188", rendered)
    assert message.sid in result.inner_text()
    audit(page, "test SMS sent")
    expect(frame.locator("#test-send")).to_be_enabled()

    # A number the page cannot place: the field says so; nothing is sent.
    frame.locator("#test-phone").fill("202 555")
    frame.locator("#test-send").click()
    expect(phone_error).to_contain_text("'202 555' is not a valid phone number.")
    expect(result).to_have_class(re.compile(r"\berror\b"))
    audit(page, "a field error")

    # A suppressed number is refused with the reason, before Twilio is asked.
    stack.runtime.suppressions.add(None, "+12025550177", "Asked us to stop")
    frame.locator("#test-phone").fill("+12025550177")
    frame.locator("#test-send").click()
    refusal = ("+12025550177 is on the suppression list (Asked us to stop); remove it "
               "there first to send to it")
    expect(result).to_have_text(refusal)
    expect(result).to_have_class(re.compile(r"\berror\b"))
    expect(phone_error).to_have_text(refusal)
    assert stack.fake.stats.requests_total == 1

    # Twilio's magic "not a mobile number": Twilio's error, in words and with its code.
    frame.locator("#test-phone").fill("+15005550009")
    frame.locator("#test-send").click()
    expect(result).to_have_text(
        "Twilio did not accept the test SMS to +15005550009: the number is not a mobile "
        "number (cannot receive SMS) — Twilio 21614: 'To' number is not a valid mobile "
        "number")
    expect(result).to_have_class(re.compile(r"\berror\b"))
    expect(phone_error).to_have_text("")
    assert stack.fake.stats.by_status.get(400) == 1  # Twilio was asked, and said no
    assert len(stack.fake.received()) == 1
    assert stack.campaign_ids() == []  # a test SMS leaves no campaign or log behind
    screenshot(page, "sms")


# -- one-off SMS ----------------------------------------------------------------------


def pick_customer(frame: FrameLocator, stack: Stack, customer: dict[str, Any]) -> None:
    """Search the customer by name and tick them; the list shows what the server found."""
    name = full_name(customer)
    found, _ = stack.runtime.booknetic.search_customers(None, name, limit=20)
    assert customer["id"] in [c["id"] for c in found], (name, found)
    frame.locator("#customer-q").fill(name)
    shown = [f"{full_name(c) or '(no name)'} · "
             f"{normalise_phone(c['phone_number'], None) or c['phone_number'] or 'no phone'}"
             + ("" if normalise_phone(c["phone_number"], None) else " (no valid phone number)")
             for c in found]
    expect(frame.locator("#customer-results li")).to_have_text(shown)
    frame.locator(f'#customer-results input[value="{customer["id"]}"]').check()


def manual_campaigns(stack: Stack) -> list[dict[str, Any]]:
    return [c for c in table_rows(stack, "campaigns") if c["kind"] == "manual"]


def test_one_off_sms_to_customers_and_to_pasted_numbers(page: Page, stack: Stack) -> None:
    chosen = [scenario_customer(stack, key) for key in ("b7_in", "two_active")]
    suppressed = scenario_customer(stack, "b90_in")
    invalid = scenario_customer(stack, "garbage_na")
    assert invalid["phone_number"] == "n/a"
    phones = {c["id"]: normalise_phone(c["phone_number"], None)
              for c in [*chosen, suppressed]}
    assert all(phones.values()), phones
    stack.runtime.suppressions.add(None, phones[suppressed["id"]], "Asked us to stop")

    frame = open_sidecar(page, stack)
    goto_tab(frame, "sms")
    # The list starts with the first customers by name, then follows the search box.
    first_page, total = stack.runtime.booknetic.search_customers(None, "", limit=20)
    expect(frame.locator("#customer-results li")).to_have_count(len(first_page))
    expect(frame.locator("#customer-pager")).to_contain_text(f"({total} customers)")
    for customer in [*chosen, invalid, suppressed]:
        pick_customer(frame, stack, customer)
    bad = frame.locator(f'#customer-results input[value="{suppressed["id"]}"] + span')
    expect(bad).not_to_have_class(re.compile(r"\bbad\b"))
    pick_customer(frame, stack, invalid)  # ticking twice leaves one
    bad = frame.locator(f'#customer-results input[value="{invalid["id"]}"] + span')
    expect(bad).to_have_class(re.compile(r"\bbad\b"))
    expect(bad).to_have_attribute("title", "No valid phone number")
    picked = [*chosen, invalid, suppressed]
    expect(frame.locator("#picked-count")).to_have_text(str(len(picked)))
    expect(frame.locator("#picked")).to_have_text(
        "(" + ", ".join(full_name(c) for c in picked) + ")")
    audit(page, "customers picked")

    body = "Hi {customer_first_name}, your appointment reminder from the salon."
    frame.locator("#manual-body").fill(body)
    expect_counter(frame.locator("#manual-counter"), body)
    frame.locator("#manual-send").click()
    expect(frame.locator("#manual-result")).to_have_text(
        f"Sending to 2 recipients — 1 skipped (suppressed); 1 invalid: "
        f"{full_name(invalid)}: n/a.")
    expect(frame.locator("#progress-dialog")).to_be_visible()
    expect(frame.locator("#wizard-name")).to_have_text("“one-off SMS”")
    expect(frame.locator("#wizard-status")).to_have_text("Done: 2 sent.", timeout=SEND_TIMEOUT)
    audit(page, "completed")

    (campaign,) = manual_campaigns(stack)
    campaign_id = int(campaign["id"])
    done = stack.assert_counters_match_rows(campaign_id)
    assert (done["status"], done["total"], done["sent"], done["failed"]) == (
        "completed", 2, 2, 0), done
    assert json.loads(campaign["filters"])["manual"] == {
        "invalid": [f"{full_name(invalid)}: n/a"],
        "skipped_suppressed": [phones[suppressed["id"]]], "duplicates": 0}
    recipients = stack.recipients(campaign_id)
    assert sorted((r["customer_id"], r["phone"], r["status"]) for r in recipients) == sorted(
        (c["id"], phones[c["id"]], "sent") for c in chosen)
    # One message per valid chosen customer, with their own first name.
    received = {m.to: m.body for m in stack.fake.received()}
    assert len(stack.fake.received()) == 2
    assert received == {phones[c["id"]]: render(body, first_name=c["first_name"],
                                                 last_name=c["last_name"],
                                                 phone=phones[c["id"]]) for c in chosen}
    assert all(c["first_name"] in received[phones[c["id"]]] for c in chosen)

    # The wizard leads to this one-off's logs, which list them.
    logs_link = frame.locator("#wizard-logs")
    expect(logs_link).to_be_visible()
    logs_link.click()
    expect(frame.locator("body[data-page=logs] h1")).to_have_text(
        "One-off SMS to 2 recipients")
    log_rows = frame.locator("#log-table tbody tr")
    expect(log_rows).to_have_count(2)
    by_id = sorted(recipients, key=lambda r: r["id"])
    expect(log_rows.locator("td:nth-child(1)")).to_have_text(
        [full_name(r) for r in by_id])
    expect(log_rows.locator("td:nth-child(2)")).to_have_text([r["phone"] for r in by_id])
    expect(log_rows.locator("td:nth-child(3)")).to_have_text(["sent", "sent"])
    expect(log_rows.locator('td[data-label="Message id"]')).to_have_text(
        [r["provider_message_id"] for r in by_id])

    # Pasted numbers: newlines and commas, duplicates in other formats, one invalid and
    # one suppressed.
    goto_tab(frame, "sms")
    frame.locator("#mode-numbers").click()
    expect(frame.locator("#pane-numbers")).to_be_visible()
    expect(frame.locator("#pane-customers")).to_be_hidden()
    audit(page, "phone numbers mode")
    stack.runtime.suppressions.add(None, "+12025550177", "Wrong number")
    frame.locator("#manual-numbers").fill(
        "+1 202 555 0161\n+12025550161, 12025550162\n+1 (202) 555-0162, not a phone\n"
        "+12025550163\n+1 202 555 0177\n")
    numbers_body = "Hello {customer_full_name}, your order is ready for pick-up."
    frame.locator("#manual-body").fill(numbers_body)
    before = len(stack.fake.received())
    frame.locator("#manual-send").click()
    expect(frame.locator("#manual-result")).to_have_text(
        "Sending to 3 recipients — 1 skipped (suppressed); 1 invalid: not a phone; "
        "2 duplicate(s) merged.")
    expect(frame.locator("#wizard-status")).to_have_text("Done: 3 sent.", timeout=SEND_TIMEOUT)
    screenshot(page, "sms-one-off")

    second = next(c for c in manual_campaigns(stack) if c["id"] != campaign_id)
    done = stack.assert_counters_match_rows(int(second["id"]))
    assert (done["total"], done["sent"], done["failed"], done["status"]) == (
        3, 3, 0, "completed"), done
    assert json.loads(second["filters"])["manual"] == {
        "invalid": ["not a phone"], "skipped_suppressed": ["+12025550177"], "duplicates": 2}
    new = stack.fake.received()[before:]
    expected = ["+12025550161", "+12025550162", "+12025550163"]
    assert sorted(m.to for m in new) == expected  # each exactly once, nothing else
    assert {m.to: m.body for m in new} == {
        p: render(numbers_body, first_name="", last_name="", phone=p) for p in expected}
    assert "+12025550177" not in stack.received_to()
    assert all(r["customer_id"] is None for r in stack.recipients(int(second["id"])))


def test_enter_in_the_customer_search_does_not_send(page: Page, stack: Stack) -> None:
    """BUG: "Find customers" (#customer-q) sits inside #manual-form, whose only submit
    button is "Send now"; pressing Enter in the search box — what people do in a search box
    — submits the form and sends the one-off SMS to everyone ticked so far, without a
    confirm. sidecar/web/templates/sms.html (the search input inside the form) and app.js
    initSms (no keydown guard)."""
    ticked = scenario_customer(stack, "b7_in")
    searched = scenario_customer(stack, "two_active")
    frame = open_sidecar(page, stack)
    goto_tab(frame, "sms")
    pick_customer(frame, stack, ticked)
    frame.locator("#manual-body").fill("Hi {customer_first_name}, see you soon!")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    frame.locator("#customer-q").fill(full_name(searched))
    frame.locator("#customer-q").press("Enter")
    # One more round trip through the relay: a submit from the Enter key would have gone
    # out before it.
    expect(frame.locator("#customer-results li").first).to_contain_text(full_name(searched))
    assert "ok" in call_api(frame, "GET", "/api/v1/status")
    assert posts == [], (
        f"Enter in the customer search submitted the one-off form: {posts}; the fake Twilio "
        f"received {stack.received_count()} message(s)")
    expect(frame.locator("#manual-result")).to_be_hidden()
    assert stack.campaign_ids() == []


def test_a_hidden_one_off_send_can_be_reopened(page: Page, stack: Stack) -> None:
    """"Hide and keep sending" on the Send SMS page points to where the one-off SMS can be
    found again: the page's Recent one-off messages (updated in place), with its logs."""
    # The fake holds every message (the stack releases them when it stops): the send is
    # still going while the test hides and reopens it, however slow the machine.
    stack.fake.hold()
    frame = open_sidecar(page, stack)
    goto_tab(frame, "sms")
    frame.locator("#mode-numbers").click()
    frame.locator("#manual-numbers").fill(
        "\n".join(f"+1202555{n:04d}" for n in range(150, 158)))
    frame.locator("#manual-body").fill("Your order is ready.")
    frame.locator("#manual-send").click()
    expect(frame.locator("#manual-result")).to_have_text("Sending to 8 recipients.")
    (one_off,) = manual_campaigns(stack)
    hide = frame.locator("#wizard-hide")
    expect(hide).to_have_text("Hide and keep sending")
    mark_document(page)
    hide.click()
    expect(frame.locator("#toast")).to_have_text(
        "Still sending in the background. It is listed under Recent one-off messages.")
    expect(frame.locator("#progress-dialog")).to_be_hidden()
    row = frame.locator(f'#oneoff-table tr[data-id="{one_off["id"]}"]')
    expect(row).to_contain_text("Your order is ready.")
    assert_same_document(page)
    expect_focus(frame, "#manual-send")  # back on the button that opened the wizard
    audit(page, "a one-off SMS listed")
    mark_document(page)
    row.locator("a", has_text="Logs").click()
    wait_for_new_document(page, "logs")
    expect(frame.locator("#log-table tbody tr")).to_have_count(8)
