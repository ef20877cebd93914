"""Keyboard-only browser tests: the main tasks done with `page.keyboard` alone (Tab,
Shift+Tab, Enter, Space, arrows, Escape), asserting where focus is after each step.

Create a campaign, preview its audience, send it, pause, resume, open its logs; add a
number to the suppression list; send a test SMS; switch the Send SMS tabs with the arrow
keys; and the two dialogs: focus moves in on open, Tab and Shift+Tab stay inside (the pages
live in an iframe, where a plain modal <dialog> would let Tab out to the WordPress page),
Escape closes, and focus returns to the control that opened it.

Same harness as test_browser.py (tests/browser_page_support.py): a real stack on loopback,
Debian's Chromium, the sidecar's pages inside the relay's Booknetic page. Screenshots of
the focus states go to test-artifacts/screenshots/keyboard-*.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from tests.a11y_support import audit
from tests.browser_page_support import (
    expect_focus,
    mark_document,
    open_sidecar,
    send_and_wait,
    table_rows,
    wait_for_new_document,
)
from tests.browser_support import SEND_TIMEOUT, PageLog, Stack, screenshot

pytestmark = pytest.mark.slow  # a stack and Chromium per test

MAX_TABS = 60  # more presses than any page here has controls before the target


# -- helpers -----------------------------------------------------------------------------

_WHERE = """() => {
  const frame = document.querySelector('#bkntc-sms-frame');
  if (document.activeElement !== frame) return 'outer page';
  const doc = frame.contentDocument, el = doc.activeElement;
  if (!el || el === doc.body) return 'frame body';
  const dialog = el.closest('dialog[open]');
  return (dialog ? '#' + dialog.id + ' ' : '') + el.tagName.toLowerCase() +
         (el.id ? '#' + el.id : '') + (el.dataset.action ? '[' + el.dataset.action + ']' : '');
}"""


def where(page: Page) -> str:
    """What has keyboard focus, in words: 'outer page', 'frame body', or the element."""
    return page.evaluate(_WHERE)


def tab_to(page: Page, frame: FrameLocator, selector: str, *, back: bool = False,
           within: str | None = None) -> int:
    """Press Tab (Shift+Tab when `back`) until `selector` in the frame has focus; return
    how many presses it took. Focus must never fall to the frame's <body> on the way, nor
    leave `within` (a selector) when given."""
    target = frame.locator(selector)
    for presses in range(MAX_TABS + 1):
        if target.evaluate_all("els => els.some((e) => e === document.activeElement)"):
            return presses
        page.keyboard.press("Shift+Tab" if back else "Tab")
        at = where(page)
        assert at != "frame body", f"focus fell to <body> on the way to {selector}"
        if within is not None:
            assert frame.locator(f"{within} :focus").count() == 1, (
                f"focus left {within} for {at} on the way to {selector}")
    raise AssertionError(f"{selector} not reached with {MAX_TABS} Tabs (at {where(page)})")


def into_frame(page: Page, frame: FrameLocator) -> None:
    """From the top of the WordPress page, Tab into the sidecar's frame: its first stop is
    the skip link, which shows itself when focused."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    tab_to(page, frame, ".skip-link")
    expect(frame.locator(".skip-link")).to_be_in_viewport()


def cycle_stays_in(page: Page, frame: FrameLocator, dialog: str, presses: int) -> set[str]:
    """Press Tab, then Shift+Tab, `presses` times each; focus must stay in the dialog.
    Returns the controls visited."""
    seen: set[str] = set()
    for key in ("Tab", "Shift+Tab"):
        for _ in range(presses):
            page.keyboard.press(key)
            at = where(page)
            assert at.startswith(dialog + " "), f"{key} took focus out of {dialog}: {at}"
            seen.add(at.removeprefix(dialog + " "))
    return seen


# -- 1 -----------------------------------------------------------------------------------


def test_keyboard_create_preview_send_pause_resume_and_open_logs(page: Page, stack: Stack,
                                                                 page_log: PageLog) -> None:
    expected = stack.preview_count("all_with_phone")
    batch = stack.runtime.settings.batch_size
    assert expected > batch, (expected, batch)
    # The fake answers one batch, then holds every message inside its HTTP call: the
    # campaign is mid-send when Pause is pressed — a condition, not a race.
    stack.fake.hold(after=batch)
    frame = open_sidecar(page, stack)
    into_frame(page, frame)
    screenshot(page, "keyboard-skip-link")
    page.keyboard.press("Enter")  # the skip link: focus to the page's content
    expect_focus(frame, "main")
    tab_to(page, frame, "#new-campaign")
    screenshot(page, "keyboard-new-campaign")

    # Create: the form, typed.
    mark_document(page)
    page.keyboard.press("Enter")
    wait_for_new_document(page, "campaign-form")
    tab_to(page, frame, "#f-name")
    page.keyboard.type("Keyboard hello")
    tab_to(page, frame, "#f-body")
    page.keyboard.type("Hi {customer_first_name}, see you soon!")
    expect(frame.locator("#counter-segments")).to_contain_text("1 SMS")

    # Preview: choose the segment with the arrow keys; the count follows.
    tab_to(page, frame, "#f-segment")
    options = frame.locator("#f-segment option").evaluate_all("os => os.map((o) => o.value)")
    steps = options.index("all_with_phone") - options.index(
        frame.locator("#f-segment").input_value())
    for _ in range(abs(steps)):
        page.keyboard.press("ArrowDown" if steps > 0 else "ArrowUp")
    expect(frame.locator("#f-segment")).to_have_value("all_with_phone")
    expect(frame.locator("#preview-count")).to_have_text(str(expected))
    expect_focus(frame, "#f-segment")
    screenshot(page, "keyboard-segment-preview")

    # Save: the list opens with focus on the new campaign's Send.
    tab_to(page, frame, "#save")
    mark_document(page)
    page.keyboard.press("Enter")
    wait_for_new_document(page, "campaigns")
    (campaign_id,) = stack.campaign_ids()
    assert stack.campaign(campaign_id)["name"] == "Keyboard hello"
    expect_focus(frame, f'#campaign-table tr[data-id="{campaign_id}"] [data-action=send]')
    screenshot(page, "keyboard-send-button")

    # Send: the confirmation takes focus (its title) and says who gets it; Tab stays in it
    # and its Send goes; then the wizard takes focus (its title), and Tab stays in it.
    page.keyboard.press("Enter")
    expect_focus(frame, "#send-title")
    expect(frame.locator("#send-title")).to_have_text("Send “Keyboard hello”?")
    expect(frame.locator("#send-recipients")).to_have_text(f"{expected:,}")
    visited = cycle_stays_in(page, frame, "#send-dialog", 4)
    assert {"button#send-cancel", "button#send-confirm"} <= visited, visited
    tab_to(page, frame, "#send-confirm", within="#send-dialog")
    page.keyboard.press("Enter")
    expect_focus(frame, "#wizard-title")
    expect(frame.locator("#count-total")).to_have_text(str(expected))
    expect(frame.locator("#wizard-status")).to_have_text("Sending…")  # the first batch went
    visited = cycle_stays_in(page, frame, "#progress-dialog", 8)
    assert {"button#wizard-pause", "button#wizard-hide"} <= visited, visited

    # Pause: the Pause button goes, focus moves to Resume (not to <body>).
    tab_to(page, frame, "#wizard-pause", within="#progress-dialog")
    screenshot(page, "keyboard-wizard-pause")
    page.keyboard.press("Enter")
    expect(frame.locator("#wizard-status")).to_have_text("Paused by a user.")
    expect_focus(frame, "#wizard-resume")
    assert stack.campaign(campaign_id)["status"] == "paused"
    expect(frame.locator("#wizard-hide")).to_be_hidden()  # it would not be "keep sending"
    expect(frame.locator("#wizard-close")).to_have_text("Close (it stays paused)")
    audit(page, "paused, by keyboard")
    screenshot(page, "keyboard-wizard-resume")

    # Resume: focus moves to Pause; when the send finishes, to View logs.
    page.keyboard.press("Enter")
    expect_focus(frame, "#wizard-pause")
    stack.fake.release()
    expect(frame.locator("#wizard-status")).to_have_text(re.compile(r"^Done: "),
                                                           timeout=SEND_TIMEOUT)
    expect_focus(frame, "#wizard-logs")
    done = stack.assert_counters_match_rows(campaign_id)
    assert done["status"] == "completed" and done["total"] == expected
    screenshot(page, "keyboard-wizard-done")

    # Open the logs.
    mark_document(page)
    page.keyboard.press("Enter")
    wait_for_new_document(page, "logs")
    expect(frame.locator("h1")).to_have_text("Keyboard hello")
    expect(frame.locator("#log-table tbody tr")).to_have_count(min(done["total"], 50))
    tab_to(page, frame, "#log-q")
    page.keyboard.type(stack.recipients(campaign_id)[0]["phone"])
    mark_document(page)
    page.keyboard.press("Enter")
    wait_for_new_document(page, "logs")
    expect(frame.locator("#log-table tbody tr")).to_have_count(1)


# -- 2 -----------------------------------------------------------------------------------


def test_keyboard_suppression_test_sms_and_the_send_to_tabs(page: Page, stack: Stack) -> None:
    frame = open_sidecar(page, stack)
    into_frame(page, frame)
    tab_to(page, frame, "#nav-suppressions")
    mark_document(page)
    page.keyboard.press("Enter")
    wait_for_new_document(page, "suppressions")

    # A number the page cannot place: the error is tied to the field, which gets focus.
    tab_to(page, frame, "#s-phone")
    page.keyboard.type("202 555")
    page.keyboard.press("Enter")
    error = frame.locator("#s-phone-error")
    expect(error).to_contain_text("is not a valid phone number")
    expect_focus(frame, "#s-phone")
    expect(frame.locator("#s-phone")).to_have_attribute("aria-invalid", "true")
    expect(frame.locator("#s-phone")).to_have_attribute("aria-describedby",
                                                        re.compile(r"\bs-phone-error\b"))
    screenshot(page, "keyboard-field-error")

    # Add one: the list is updated in place and focus is back in the cleared phone field.
    page.keyboard.press("Control+A")
    page.keyboard.type("+1 202 555 0199")
    page.keyboard.press("Tab")
    expect_focus(frame, "#s-reason")
    page.keyboard.type("Asked at the desk")
    page.keyboard.press("Enter")
    expect(frame.locator("#toast")).to_have_text("+12025550199 added to the suppression list.")
    expect(frame.locator('#suppress-table tr[data-phone="+12025550199"]')).to_be_visible()
    expect_focus(frame, "#s-phone")
    expect(frame.locator("#s-phone")).to_have_value("")
    expect(frame.locator("#s-phone")).not_to_have_attribute("aria-invalid", "true")
    assert [(r["phone"], r["reason"]) for r in table_rows(stack, "suppressions")] == [
        ("+12025550199", "Asked at the desk")]

    # Send a test SMS.
    tab_to(page, frame, "#nav-sms", back=True)
    mark_document(page)
    page.keyboard.press("Enter")
    wait_for_new_document(page, "sms")
    tab_to(page, frame, "#test-phone")
    page.keyboard.type("+1 202 555 0188")
    tab_to(page, frame, "#test-send")
    page.keyboard.press("Enter")
    expect(frame.locator("#test-result")).to_have_text(re.compile(r"^Sent to \+12025550188 "))
    expect_focus(frame, "#test-send")  # the busy button kept focus
    assert [m.to for m in stack.fake.received()] == ["+12025550188"]

    # "Send to" is a tab set: one Tab stop, arrows move and select, Tab goes to the panel.
    tab_to(page, frame, "#mode-customers")
    page.keyboard.press("ArrowRight")
    expect_focus(frame, "#mode-numbers")
    expect(frame.locator("#mode-numbers")).to_have_attribute("aria-selected", "true")
    expect(frame.locator("#mode-customers")).to_have_attribute("aria-selected", "false")
    expect(frame.locator("#pane-numbers")).to_be_visible()
    expect(frame.locator("#pane-customers")).to_be_hidden()
    screenshot(page, "keyboard-send-to-tabs")
    page.keyboard.press("Tab")
    expect_focus(frame, "#manual-numbers")
    page.keyboard.press("Shift+Tab")
    expect_focus(frame, "#mode-numbers")
    page.keyboard.press("Home")
    expect_focus(frame, "#mode-customers")
    expect(frame.locator("#pane-customers")).to_be_visible()
    page.keyboard.press("ArrowLeft")  # wraps round
    expect_focus(frame, "#mode-numbers")
    audit(page, "phone numbers tab, by keyboard")


# -- 3 -----------------------------------------------------------------------------------


def test_keyboard_dialogs_keep_focus_and_escape_closes(page: Page, stack: Stack) -> None:
    finished = stack.create_campaign("Finished one", "booked_last_7")
    send_and_wait(stack, finished)
    paused = stack.create_campaign("Paused one", "all_with_phone")
    stack.runtime.campaigns.send(None, paused)
    stack.runtime.campaigns.pause(None, paused)
    frame = open_sidecar(page, stack)

    # The wizard of a finished campaign: Escape closes it; focus is back on Progress.
    progress = f'#campaign-table tr[data-id="{finished}"] [data-action=progress]'
    frame.locator(progress).focus()
    page.keyboard.press("Enter")
    expect_focus(frame, "#wizard-title")
    expect(frame.locator("#wizard-status")).to_have_text(re.compile(r"^Done: "))
    expect_focus(frame, "#wizard-title")
    visited = cycle_stays_in(page, frame, "#progress-dialog", 6)
    assert visited >= {"button#wizard-close"}, visited
    page.keyboard.press("Escape")
    expect(frame.locator("#progress-dialog")).to_be_hidden()
    expect_focus(frame, progress)

    # A paused campaign: nothing says "still sending", and Escape says nothing of it.
    paused_progress = f'#campaign-table tr[data-id="{paused}"] [data-action=progress]'
    frame.locator(paused_progress).focus()
    page.keyboard.press("Enter")
    expect(frame.locator("#wizard-status")).to_have_text("Paused by a user.")
    expect(frame.locator("#wizard-hide")).to_be_hidden()
    expect(frame.locator("#progress-dialog")).not_to_contain_text("still sending")
    page.keyboard.press("Escape")
    expect(frame.locator("#progress-dialog")).to_be_hidden()
    expect_focus(frame, paused_progress)
    expect(frame.locator("#toast")).not_to_contain_text("Still sending")
    assert stack.campaign(paused)["status"] == "paused"

    # The template dialog: focus on its first field, Tab stays in, Escape closes and
    # focus returns to "+ New template".
    tab_to(page, frame, "#nav-templates", back=True)
    mark_document(page)
    page.keyboard.press("Enter")
    wait_for_new_document(page, "templates")
    tab_to(page, frame, "#new-template")
    page.keyboard.press("Enter")
    expect_focus(frame, "#t-name")
    screenshot(page, "keyboard-template-dialog")
    visited = cycle_stays_in(page, frame, "#template-dialog", 12)
    assert {"input#t-name", "textarea#t-body", "button#template-save"} <= visited, visited
    page.keyboard.press("Escape")
    expect(frame.locator("#template-dialog")).to_be_hidden()
    expect_focus(frame, "#new-template")

    # Saved with the keyboard: a field error first (focus goes to it), then saved.
    page.keyboard.press("Enter")
    expect_focus(frame, "#t-name")
    page.keyboard.type("Reminder")
    tab_to(page, frame, "#template-save", within="#template-dialog")
    page.keyboard.press("Enter")
    expect(frame.locator("#t-body-error")).not_to_be_empty()
    expect_focus(frame, "#t-body")
    page.keyboard.type("See you {customer_first_name}!")
    tab_to(page, frame, "#template-save", within="#template-dialog")
    page.keyboard.press("Enter")
    expect(frame.locator("#template-dialog")).to_be_hidden()
    expect(frame.locator("#template-table tr", has_text="Reminder")).to_be_visible()
    expect_focus(frame, "#new-template")
