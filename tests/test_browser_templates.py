"""Browser tests of the message templates page: create, use in a campaign, edit, delete,
copy a built-in.

Same harness as test_browser.py, through tests/browser_page_support.py: a real stack on
loopback per test, Debian's Chromium, the sidecar's pages inside the relay's Booknetic
page; each test checks what the user sees and what really happened.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from sidecar.campaigns import body_error
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
from tests.browser_support import PageLog, Stack, call_api, screenshot

pytestmark = pytest.mark.slow  # a stack and Chromium per test


def own_templates(stack: Stack) -> list[dict[str, Any]]:
    return [t for t in table_rows(stack, "templates") if t["builtin_key"] is None]


# -- templates ------------------------------------------------------------------------


def test_templates_create_use_edit_delete_and_copy(page: Page, stack: Stack,
                                                   page_log: PageLog) -> None:
    frame = open_sidecar(page, stack)
    goto_tab(frame, "templates")
    expect(frame.locator("h1")).to_have_text("Message templates")

    # Built-ins are listed read-only: a "Copy" button and nothing else.
    builtins = [t for t in stack.runtime.templates.list(None) if t["builtin"]]
    assert len(builtins) == 4, builtins
    expect(frame.locator("#template-table tbody tr")).to_have_count(len(builtins))
    for t in builtins:
        listed = frame.locator(f'#template-table tr[data-id="{t["id"]}"]')
        expect(listed.locator(".name")).to_have_text(t["name"])
        expect(listed.locator(".badge")).to_have_text("built-in")
        expect(listed.locator("button")).to_have_text(["Copy"])
    # And the server refuses what the page does not offer.
    refused = call_api(frame, "PUT", f"/api/v1/templates/{builtins[0]['id']}",
                       {"name": "Mine now", "body": "Hello"})
    assert refused.get("status") == 409 and refused.get("code") == "read_only", refused

    # A new template: the dialog counts as you type, and refuses an unknown shortcode.
    frame.locator("#new-template").click()
    dialog = frame.locator("#template-dialog")
    expect(dialog).to_be_visible()
    expect(frame.locator("#template-title")).to_have_text("New template")
    expect_counter(dialog, "")
    audit(page, "new")
    frame.locator("#t-name").fill("Birthday wishes")
    body = frame.locator("#t-body")
    bad = "Happy birthday {first_name}! Enjoy 20% off this month."
    body.fill(bad)
    expect_counter(dialog, bad)
    frame.locator("#template-save").click()
    body_problem = body_error(bad)
    assert body_problem and "unknown shortcode {first_name}" in body_problem
    expect(frame.locator("#template-form [data-error-for=body]")).to_have_text(body_problem)
    expect(frame.locator("#template-form .field.invalid")).to_have_count(1)
    audit(page, "a field error")
    expect(dialog).to_be_visible()
    assert own_templates(stack) == []

    # Over the limit the text stays whole (the box used to keep 1,600 characters without a
    # word): the counter says by how much, and saving is refused with the reason.
    long = "Our news. " * 200
    body.fill(long)
    expect(body).to_have_value(long)
    expect(dialog.locator("#counter-chars")).to_have_text(f"{len(long)} characters of 1600")
    expect(dialog).to_contain_text(
        f"The message is {len(long) - 1600} characters over the limit of 1600.")
    frame.locator("#template-save").click()
    expect(frame.locator("#template-form [data-error-for=body]")).to_have_text(
        str(body_error(long)))
    assert own_templates(stack) == []

    good = "Happy birthday {customer_first_name}! Enjoy 20% off this month."
    body.fill(good)
    expect_counter(dialog, good)
    body.press_sequentially(" 🎂")  # typing one emoji switches the live counter to UCS-2
    good += " 🎂"
    expect_counter(dialog, good)
    expect(frame.locator("#template-form #counter-ucs2")).to_contain_text("“🎂”")
    mark_document(page)
    frame.locator("#template-save").click()
    # Saved: the dialog closes, the list is updated in place, and focus is back on the
    # button that opened the dialog.
    expect(dialog).to_be_hidden()
    expect(frame.locator("#template-table tbody tr")).to_have_count(len(builtins) + 1)
    expect_focus(frame, "#new-template")
    assert_same_document(page)
    audit(page, "a template added")
    (saved,) = own_templates(stack)
    assert (saved["name"], saved["body"], saved["tenant_id"], saved["created_by"]) == (
        "Birthday wishes", good, 0, 1), saved
    template_id = int(saved["id"])
    listed = frame.locator(f'#template-table tr[data-id="{template_id}"]')
    expect(listed.locator(".name")).to_have_text("Birthday wishes")
    expect(listed.locator("td.small")).to_have_text(good)
    expect(listed.locator("button")).to_have_text(["Edit", "Delete"])
    expect(frame.locator("#template-table tbody tr")).to_have_count(len(builtins) + 1)

    # It is offered in the campaign form, and choosing it fills the message.
    goto_tab(frame, "campaigns")
    mark_document(page)
    frame.locator("#new-campaign").click()
    wait_for_new_document(page, "campaign-form")
    expect(frame.locator("h1")).to_have_text("New campaign")
    audit(page)
    option = frame.locator(f'#f-template option[value="{template_id}"]')
    expect(option).to_have_text("Birthday wishes")
    frame.locator("#f-template").select_option(str(template_id))
    expect(frame.locator("#f-body")).to_have_value(good)
    expect_counter(frame.locator("#sms-counter"), good)
    assert not any("Replace the current text" in m for m in page_log.dialogs), page_log.dialogs
    frame.locator("#f-name").fill("Birthday club")
    frame.locator("#save").click()
    expect(frame.locator("body[data-page=campaigns] h1")).to_have_text("Campaigns")
    (campaign_id,) = stack.campaign_ids()
    assert stack.campaign(campaign_id)["template_id"] == template_id
    assert stack.campaign(campaign_id)["body"] == good

    # Edit: the dialog opens with the saved values; the change is saved in place.
    goto_tab(frame, "templates")
    frame.locator(f'#template-table tr[data-id="{template_id}"] button[data-action=edit]'
                  ).click()
    expect(dialog).to_be_visible()
    expect(frame.locator("#template-title")).to_have_text("Edit template")
    expect(frame.locator("#t-name")).to_have_value("Birthday wishes")
    expect(body).to_have_value(good)
    expect_counter(dialog, good)
    edited = "Happy birthday, {customer_first_name}! Your treat is waiting at the desk."
    frame.locator("#t-name").fill("Birthday treat")
    body.fill(edited)
    expect_counter(dialog, edited)
    mark_document(page)
    frame.locator("#template-save").click()
    expect(dialog).to_be_hidden()
    listed = frame.locator(f'#template-table tr[data-id="{template_id}"]')
    expect(listed.locator(".name")).to_have_text("Birthday treat")
    # The row was drawn again; focus is on its new Edit button.
    expect_focus(frame, f'#template-table tr[data-id="{template_id}"] button[data-action=edit]')
    assert_same_document(page)
    expect(listed.locator("td.small")).to_have_text(edited)
    (saved,) = own_templates(stack)
    assert (saved["id"], saved["name"], saved["body"]) == (template_id, "Birthday treat",
                                                           edited)

    # Delete, after a confirm naming it. The campaign made from it keeps its text.
    mark_document(page)
    listed.locator("button[data-action=delete]").click()
    expect(frame.locator(f'#template-table tr[data-id="{template_id}"]')).to_have_count(0)
    assert "Delete the template “Birthday treat”?" in page_log.dialogs, page_log.dialogs
    # The deleted row was the last: focus moves to the row before it.
    expect_focus(frame, "#template-table tbody tr:last-child button")
    assert_same_document(page)
    assert own_templates(stack) == []
    assert stack.campaign(campaign_id)["body"] == good

    # Copy a built-in: a new-template dialog, pre-filled; saving makes the tenant's own.
    loyal = next(t for t in builtins if t["name"] == "Loyal customer offer")
    frame.locator(f'#template-table tr[data-id="{loyal["id"]}"] button[data-action=copy]'
                  ).click()
    expect(dialog).to_be_visible()
    expect(frame.locator("#template-title")).to_have_text("New template")
    expect(frame.locator("#t-name")).to_have_value("Loyal customer offer (copy)")
    expect(body).to_have_value(loyal["body"])
    expect_counter(dialog, loyal["body"])
    screenshot(page, "templates")
    mark_document(page)
    frame.locator("#template-save").click()
    expect(dialog).to_be_hidden()
    expect(frame.locator("#template-table tbody tr")).to_have_count(len(builtins) + 1)
    expect_focus(frame, f'#template-table tr[data-id="{loyal["id"]}"] button[data-action=copy]')
    assert_same_document(page)
    (copy,) = own_templates(stack)
    assert (copy["name"], copy["body"]) == ("Loyal customer offer (copy)", loyal["body"])
    expect(frame.locator(f'#template-table tr[data-id="{copy["id"]}"] button')).to_have_text(
        ["Edit", "Delete"])
    assert stack.runtime.templates.get(None, loyal["id"]) == loyal  # the built-in is intact
