"""Browser tests (issue 4): the admin pages in headless Chromium, inside the relay's
Booknetic page, against a real stack on loopback (see browser_support.py).

Each test checks what the user sees and what really happened: the sidecar's rows in MariaDB
and the messages the fake Twilio received.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, FrameLocator, Page, expect
from sqlalchemy import Engine

from sidecar.segments.phone_upkeep import STALE_AFTER_SECONDS
from sidecar.sms_text import count_segments, render
from sidecar.web import RELAY_QUERY
from tests.a11y_support import audit
from tests.browser_support import (
    ALL_CAPS,
    CUSTOMERS,
    SEND_TIMEOUT,
    PageLog,
    Stack,
    call_api,
    confirm_send,
    launch_browser,
    open_admin,
    open_page,
    reload_admin,
    row,
    running_stack,
    screenshot,
    wait_until,
)

pytestmark = pytest.mark.slow  # a stack and Chromium per test

DONE = re.compile(r"^Done: ")
SMALL = 600
# A send caught half-way: the fake answers this many messages, then holds the rest until the
# test releases them (fake.hold), so "mid-send" lasts as long as the test needs.
MID = 100


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launch_browser() as b:  # the session's shared Chromium, with this suite's timeouts
        yield b


@pytest.fixture
def stack(mysql_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Stack]:
    """A salon with a few hundred customers."""
    with running_stack(mysql_url, engine_for(mysql_url), customers=SMALL) as s:
        yield s


@pytest.fixture
def big_stack(mysql_url: str, engine_for: Callable[[str], Engine]) -> Iterator[Stack]:
    """A salon big enough for a 2,000-recipient campaign (and a few hundred inactive)."""
    with running_stack(mysql_url, engine_for(mysql_url), customers=CUSTOMERS) as s:
        yield s


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Browser, page_log: PageLog, request: pytest.FixtureRequest) -> Iterator[Page]:
    with open_page(browser, page_log, request) as p:
        yield p


def counter_text(text: str) -> tuple[str, str, re.Pattern[str]]:
    """What the form's SMS counter must show for `text`, computed by sidecar.sms_text:
    characters, encoding, and the segment count (with the per-part size when split)."""
    info = count_segments(text)
    chars = len(text)
    segments = f"{info.segments} SMS" + (
        f" ({info.per_segment} per part)" if info.segments > 1 else "") + " per recipient"
    return (f"{chars} character{'' if chars == 1 else 's'}", info.encoding,
            re.compile("^" + re.escape(segments) + r"\b"))


def send_from_list(frame: FrameLocator, page_log: PageLog, campaign_id: int) -> None:
    """Click the row's Send button, confirm in the Send dialog, and see the wizard open."""
    row(frame, campaign_id).locator("button[data-action=send]").click()
    expect(frame.locator("#send-title")).to_contain_text("Send “")
    confirm_send(frame)
    expect(frame.locator("#progress-dialog")).to_be_visible()


def wizard_counters(frame: FrameLocator) -> dict[str, int]:
    return {name: int(frame.locator(f"#count-{name}").inner_text())
            for name in ("total", "sent", "failed", "pending")}


def assert_wizard_matches_database(frame: FrameLocator, stack: Stack,
                                   campaign_id: int) -> dict[str, int]:
    """After completion: the wizard's counters = the campaign row = its recipient rows =
    what the fake Twilio received."""
    campaign = stack.assert_counters_match_rows(campaign_id)
    shown = wizard_counters(frame)
    assert shown == {k: campaign[k] for k in ("total", "sent", "failed", "pending")}, (
        shown, campaign)
    assert campaign["pending"] == 0
    received = stack.received_to()
    assert sum(received.values()) == campaign["sent"]
    sent_phones = {r["phone"] for r in stack.recipients(campaign_id) if r["status"] == "sent"}
    assert set(received) == sent_phones
    return shown


# -- 1 -----------------------------------------------------------------------------------


def test_create_campaign_with_filters_preview_and_counter(page: Page, stack: Stack,
                                                          page_log: PageLog) -> None:
    frame = open_admin(page, stack)
    frame.locator("#new-campaign").click()
    expect(frame.locator("h1")).to_have_text("New campaign")
    form = frame.locator("#campaign-form")
    preview = frame.locator("#preview-count")

    # The default segment is previewed as soon as the form opens.
    first_segment = frame.locator("#f-segment").input_value()
    expect(preview).to_have_text(str(stack.preview_count(first_segment)))
    audit(page)

    frame.locator("#f-name").fill("Spring re-engagement")
    frame.locator("#f-segment").select_option("booked_last_90")
    expected = stack.preview_count("booked_last_90")
    expect(preview).to_have_text(str(expected))
    expect(frame.locator("#segment-description")).not_to_be_empty()

    # Filters: each change gives a new count, and the page shows the server's count.
    frame.locator(".filters-box summary").click()
    haircut = next(s for s in stack.runtime.booknetic.services(None) if s["name"] == "Haircut")
    steps: list[tuple[str, dict]] = [
        ("service", {"service_ids": [haircut["id"]]}),
        ("status", {"service_ids": [haircut["id"]], "statuses": ["canceled"]}),
        ("min", {"service_ids": [haircut["id"]], "statuses": ["canceled"],
                 "min_appointments": 2}),
    ]
    for step, filters in steps:
        if step == "service":
            form.locator(f'input[name=service_ids][value="{haircut["id"]}"]').check()
        elif step == "status":
            form.locator('input[name=statuses][value="canceled"]').check()
        else:
            frame.locator("#f-min").fill("2")
        new = stack.preview_count("booked_last_90", filters)
        assert new != expected, f"the {step} filter should change the count ({new})"
        expect(preview).to_have_text(str(new))
        expected = new
    # Un-tick the status filter again: back to the segment's usual statuses.
    form.locator('input[name=statuses][value="canceled"]').uncheck()
    final = stack.preview("booked_last_90", {"service_ids": [haircut["id"]],
                                             "min_appointments": 2})
    expected = final.count
    expect(preview).to_have_text(str(expected))
    assert expected > 0
    expect(frame.locator("#skip-invalid")).to_have_text(str(final.skipped_invalid_phone))
    expect(frame.locator("#skip-duplicate")).to_have_text(str(final.skipped_duplicate_phone))
    expect(frame.locator("#skip-suppressed")).to_have_text(str(final.skipped_suppressed))
    expect(frame.locator("#preview-sample tbody tr")).to_have_count(min(expected, 10))
    # The phones were checked just now: nothing said. Past a minute (the preview never
    # checks them itself) the page says when they were checked.
    phones = frame.locator("#preview-phones")
    expect(phones).to_be_hidden()
    stack.clock.advance(STALE_AFTER_SECONDS + 1)
    frame.locator("#f-min").fill("3")
    expect(preview).to_have_text(str(stack.preview_count(
        "booked_last_90", {"service_ids": [haircut["id"]], "min_appointments": 3})))
    expect(phones).to_be_visible()
    expect(phones).to_contain_text("as checked against Booknetic at")
    audit(page, "phones checked over a minute ago")
    frame.locator("#f-min").fill("2")
    expect(preview).to_have_text(str(expected))

    # The SMS counter (a JavaScript port) agrees with sidecar.sms_text for edge cases.
    body = frame.locator("#f-body")
    texts = ["", "a", "a" * 160, "a" * 161, "a" * (153 * 2), "a" * (153 * 2 + 1),
             "€" * 80, "€" * 81, "a" * 152 + "€" * 5, "{" * 81, "ç" * 70, "ç" * 71,
             "😀" * 35, "😀" * 36, "😀" * 67, "a" * 66 + "😀" * 3, "👍🏽" * 20,
             "Hi {customer_first_name}, ça va? 🎉", "Line one\nLine two ^ ~ \\ | []"]
    for text in texts:
        body.fill(text)
        value = body.input_value()
        chars, encoding, segments = counter_text(value)
        expect(frame.locator("#counter-segments")).to_have_text(segments)
        expect(frame.locator("#counter-encoding")).to_have_text(encoding)
        expect(frame.locator("#counter-chars")).to_have_text(chars)
        ucs2 = frame.locator("#counter-ucs2")
        if encoding == "UCS-2":
            expect(ucs2).to_be_visible()
            for char in count_segments(value).ucs2_chars:
                expect(ucs2).to_contain_text(f"“{char}”")
        else:
            expect(ucs2).to_be_hidden()

    # Typing one "ç" into a GSM-7 text switches it to UCS-2 and names the character.
    body.fill("Hello, see you soon")
    expect(frame.locator("#counter-encoding")).to_have_text("GSM-7")
    body.press_sequentially(" ç")
    expect(frame.locator("#counter-encoding")).to_have_text("UCS-2")
    expect(frame.locator("#counter-ucs2")).to_contain_text("“ç”")
    expect(frame.locator("#counter-ucs2")).to_contain_text("UCS-2")
    audit(page, "filters open, UCS-2 warning")
    screenshot(page, "campaign-form-with-preview")

    # A built-in template fills the body (after confirming the replacement).
    template = next(t for t in stack.runtime.templates.list(None)
                    if t["builtin"] and t["name"] == "Re-engagement (90 days)")
    frame.locator("#f-template").select_option(label=template["name"] + " (built-in)")
    expect(body).to_have_value(template["body"])
    assert any("Replace the current text" in m for m in page_log.dialogs), page_log.dialogs
    expect(frame.locator("#counter-segments")).to_have_text(counter_text(template["body"])[2])

    frame.locator("#save").click()
    expect(frame.locator("h1")).to_have_text("Campaigns")
    (campaign_id,) = stack.campaign_ids()
    listed = row(frame, campaign_id)
    expect(listed.locator(".name")).to_have_text("Spring re-engagement")
    expect(listed.locator(".badge")).to_have_text("draft")
    expect(listed.locator("button[data-action=send]")).to_be_enabled()
    audit(page, "a draft")
    screenshot(page, "campaign-list")

    saved = stack.campaign(campaign_id)
    assert saved["status"] == "draft" and saved["total"] == 0
    assert saved["name"] == "Spring re-engagement" and saved["segment"] == "booked_last_90"
    assert saved["body"] == template["body"] and saved["template_id"] == template["id"]
    assert saved["filters"] == {"service_ids": [haircut["id"]], "location_ids": [],
                                "statuses": [], "min_appointments": 2,
                                "exclude_suppressed": True, "exclude_upcoming_days": None}
    assert stack.received_count() == 0


# -- 2 -----------------------------------------------------------------------------------


def test_send_and_watch_the_wizard_complete(page: Page, stack: Stack,
                                            page_log: PageLog) -> None:
    body = "Hi {customer_first_name}, we miss you! Book again this month."
    campaign_id = stack.create_campaign("Monthly hello", "booked_last_30", body)
    frame = open_admin(page, stack)
    expect(row(frame, campaign_id).locator(".badge")).to_have_text("draft")

    send_from_list(frame, page_log, campaign_id)
    expect(frame.locator("#wizard-name")).to_have_text("“Monthly hello”")
    expect(frame.locator("#wizard-status")).to_have_text(DONE, timeout=SEND_TIMEOUT)

    shown = assert_wizard_matches_database(frame, stack, campaign_id)
    assert shown["sent"] > 0
    # The data set's Twilio magic numbers in this segment fail permanently, and say so.
    assert shown["failed"] == stack.status_counts(campaign_id)["failed"] > 0
    expect(frame.locator("#wizard-status")).to_have_text(
        f"Done: {shown['sent']} sent, {shown['failed']} failed.")
    expect(frame.locator("#wizard-percent")).to_have_text("100%")
    assert stack.campaign(campaign_id)["status"] == "completed"
    for stage in ("preparing", "sending", "finalizing"):
        expect(frame.locator(f'#wizard-stages li[data-stage="{stage}"]')).to_have_class(
            re.compile(r"\bdone\b"))
    expect(frame.locator("#wizard-pause")).to_be_hidden()
    expect(frame.locator("#wizard-close")).to_be_visible()
    logs = frame.locator("#wizard-logs")
    expect(logs).to_be_visible()
    href = logs.get_attribute("href") or ""
    assert href.startswith(RELAY_QUERY), href
    assert f"/ui/campaigns/{campaign_id}/logs" in href, href
    # Resolved against the iframe's own address, it goes through the relay.
    assert logs.evaluate("a => a.href") == stack.relay_url(f"/ui/campaigns/{campaign_id}/logs")
    audit(page, "completed")
    screenshot(page, "wizard-completed")

    # Every message went out with its own rendered text.
    messages = {m.to: m.body for m in stack.fake.received()}
    for r in stack.recipients(campaign_id):
        if r["status"] == "sent":
            assert messages[r["phone"]] == render(body, first_name=r["first_name"],
                                                  last_name=r["last_name"], phone=r["phone"])

    frame.locator("#wizard-close").click()
    listed = row(frame, campaign_id)
    expect(listed.locator(".badge")).to_have_text("completed")
    expect(listed.locator(".sent")).to_have_text(str(shown["sent"]))
    expect(listed.locator("button[data-action=send]")).to_have_count(0)


# -- 3 -----------------------------------------------------------------------------------


def test_pause_and_resume_mid_send(page: Page, big_stack: Stack, page_log: PageLog) -> None:
    campaign_id = big_stack.create_campaign("Winback", "inactive_180")
    expected_total = big_stack.preview_count("inactive_180")
    assert 300 <= expected_total <= 700, expected_total
    big_stack.fake.hold(after=MID)
    frame = open_admin(page, big_stack)

    send_from_list(frame, page_log, campaign_id)
    expect(frame.locator("#count-total")).to_have_text(str(expected_total))
    expect(frame.locator("#count-sent")).not_to_have_text("0")
    assert 0 < big_stack.received_count() <= MID < expected_total - 100, "should be mid-send"
    audit(page, "sending")
    screenshot(page, "wizard-mid-send")

    frame.locator("#wizard-pause").click()
    # The page shows what the server answered: the pause is in the database by now.
    expect(frame.locator("#wizard-resume")).to_be_visible()
    at_pause = big_stack.received_count()
    expect(frame.locator("#wizard-pause")).to_be_hidden()
    expect(frame.locator("#wizard-status")).to_have_text("Paused by a user.")
    audit(page, "paused")
    assert big_stack.campaign(campaign_id)["status"] == "paused"

    # The held messages were inside their HTTP call: they may still go out, and the
    # batches already claimed may finish — at most one batch per sending thread.
    big_stack.fake.release()
    wait_until(lambda: big_stack.at_rest(campaign_id), SEND_TIMEOUT / 1000,
               "the paused campaign to come to rest (no claim, nothing in flight)")
    settled = big_stack.received_count()
    settings = big_stack.runtime.settings
    assert settled - at_pause <= settings.batch_size * settings.send_concurrency, (
        at_pause, settled)
    # Then nothing more goes out, however often the worker runs the queue.
    big_stack.wait_for_queue_runs(2)
    assert big_stack.received_count() == settled, "messages still going out while paused"
    paused = big_stack.assert_counters_match_rows(campaign_id)
    assert paused["status"] == "paused" and paused["pending"] > 0
    assert paused["sent"] + paused["failed"] + paused["pending"] == expected_total
    assert paused["sent"] == settled
    expect(frame.locator("#count-pending")).to_have_text(str(paused["pending"]))
    expect(frame.locator("#count-sent")).to_have_text(str(paused["sent"]))

    frame.locator("#wizard-resume").click()
    expect(frame.locator("#wizard-pause")).to_be_visible()
    expect(frame.locator("#wizard-status")).to_have_text(DONE, timeout=SEND_TIMEOUT)
    shown = assert_wizard_matches_database(frame, big_stack, campaign_id)
    assert shown["total"] == expected_total
    received = big_stack.received_to()
    assert all(n == 1 for n in received.values()), {p: n for p, n in received.items() if n > 1}
    assert len(received) == shown["sent"] == expected_total - shown["failed"]
    assert big_stack.campaign(campaign_id)["status"] == "completed"


# -- 4 -----------------------------------------------------------------------------------


def test_hide_and_reopen_progress(page: Page, big_stack: Stack, page_log: PageLog) -> None:
    campaign_id = big_stack.create_campaign("Background send", "inactive_180")
    big_stack.fake.hold(after=MID)  # still sending, whatever the machine's speed
    frame = open_admin(page, big_stack)

    send_from_list(frame, page_log, campaign_id)
    expect(frame.locator("#wizard-hide")).to_be_visible()
    expect(frame.locator("#count-sent")).not_to_have_text("0")
    frame.locator("#wizard-hide").click()
    expect(frame.locator("#progress-dialog")).to_be_hidden()
    expect(frame.locator("#toast")).to_contain_text("Still sending in the background")

    # The page reloads by itself and lists the campaign as on its way.
    listed = row(frame, campaign_id)
    expect(listed.locator(".badge")).to_have_text("sending")
    expect(frame.locator("#progress-dialog")).to_be_hidden()
    assert big_stack.campaign(campaign_id)["status"] == "sending"

    listed.locator("button[data-action=progress]").click()
    expect(frame.locator("#progress-dialog")).to_be_visible()
    expect(frame.locator("#wizard-name")).to_have_text("“Background send”")
    total = big_stack.campaign(campaign_id)["total"]
    expect(frame.locator("#count-total")).to_have_text(str(total))
    sent_on_reopen = int(frame.locator("#count-sent").inner_text())
    assert 0 < sent_on_reopen <= MID, sent_on_reopen
    big_stack.fake.release()
    expect(frame.locator("#wizard-status")).to_have_text(DONE, timeout=SEND_TIMEOUT)
    shown = assert_wizard_matches_database(frame, big_stack, campaign_id)
    # The counters moved while we watched: the reopened wizard is live.
    assert shown["sent"] > sent_on_reopen, (sent_on_reopen, shown)
    assert all(n == 1 for n in big_stack.received_to().values())


# -- 5 -----------------------------------------------------------------------------------


def test_banner_when_twilio_is_not_configured(page: Page, stack: Stack,
                                              page_log: PageLog) -> None:
    from sidecar.sample_data import CORE_PLUGIN, php_serialize_list

    campaign_id = stack.create_campaign("Quick note", "booked_last_7")
    frame = open_admin(page, stack)
    expect(frame.locator("#twilio-banner")).to_have_count(0)
    send = row(frame, campaign_id).locator("button[data-action=send]")
    expect(send).to_be_enabled()

    active_plugins = stack.ds.options["active_plugins"]
    token = stack.ds.options["bkntc_sms_auth_token"]

    # The add-on is installed but not active.
    stack.set_option("active_plugins", php_serialize_list([CORE_PLUGIN]))
    problem = stack.runtime.booknetic.twilio_status().problem
    assert problem and "activate it" in problem
    frame = reload_admin(page)
    banner = frame.locator("#twilio-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("SMS sending is not set up.")
    expect(banner).to_contain_text("activate it in WordPress → Plugins")
    audit(page, "Twilio banner")
    send = row(frame, campaign_id).locator("button[data-action=send]")
    expect(send).to_be_disabled()
    expect(send).to_have_attribute("title", problem)
    screenshot(page, "twilio-banner")
    # The server refuses too, whatever the page does.
    refused = call_api(frame, "POST", f"/api/v1/campaigns/{campaign_id}/send")
    assert refused.get("status") == 409 and "activate it" in refused["message"], refused

    # Active, but the Auth Token is blank.
    stack.set_option("active_plugins", active_plugins)
    stack.set_option("bkntc_sms_auth_token", "")
    problem = stack.runtime.booknetic.twilio_status().problem
    assert problem and "missing Auth Token" in problem
    frame = reload_admin(page)
    banner = frame.locator("#twilio-banner")
    expect(banner).to_contain_text("missing Auth Token")
    send = row(frame, campaign_id).locator("button[data-action=send]")
    expect(send).to_be_disabled()
    expect(send).to_have_attribute("title", problem)
    refused = call_api(frame, "POST", f"/api/v1/campaigns/{campaign_id}/send")
    assert refused.get("status") == 409 and "Auth Token" in refused["message"], refused
    assert stack.campaign(campaign_id)["status"] == "draft"
    assert stack.status_counts(campaign_id) == Counter()
    assert stack.received_count() == 0

    # Configured again: the banner is gone and sending works.
    stack.set_option("bkntc_sms_auth_token", token)
    frame = reload_admin(page)
    expect(frame.locator("#twilio-banner")).to_have_count(0)
    send = row(frame, campaign_id).locator("button[data-action=send]")
    expect(send).to_be_enabled()
    expect(send).not_to_have_attribute("title", re.compile(".+"))
    send_from_list(frame, page_log, campaign_id)
    expect(frame.locator("#wizard-status")).to_have_text(DONE, timeout=SEND_TIMEOUT)
    assert_wizard_matches_database(frame, stack, campaign_id)
    assert stack.received_count() > 0


# -- 6 -----------------------------------------------------------------------------------


def test_permissions_in_the_ui(page: Page, stack: Stack) -> None:
    draft_id = stack.create_campaign("Draft for later", "repeat")
    done_id = stack.create_campaign("Already sent", "booked_last_7")
    stack.runtime.campaigns.send(None, done_id)
    wait_until(lambda: stack.campaign(done_id)["status"] == "completed", SEND_TIMEOUT / 1000,
               "the worker to complete the sent campaign")
    received_before = stack.received_count()

    stack.act_as(["sms_campaigns"], user_id=3, user_login="viewer",
                 display_name="Jo Viewer")
    frame = open_admin(page, stack)
    expect(page.locator(".bar")).to_contain_text("Jo Viewer")
    expect(frame.locator("#campaign-table tbody tr")).to_have_count(2)
    expect(row(frame, draft_id).locator(".badge")).to_have_text("draft")
    expect(row(frame, done_id).locator(".badge")).to_have_text("completed")
    expect(frame.locator("#new-campaign")).to_have_count(0)
    audit(page, "read-only user")
    for action in ("send", "delete", "edit", "duplicate", "pause", "resume"):
        expect(frame.locator(f"button[data-action={action}], a[data-action={action}]")
               ).to_have_count(0)
    # Looking is allowed: the sent campaign's progress opens.
    row(frame, done_id).locator("button[data-action=progress]").click()
    expect(frame.locator("#wizard-status")).to_have_text(DONE)
    expect(frame.locator("#wizard-logs")).to_be_hidden()  # no sms_campaign_logs

    # The server refuses what the page does not offer.
    for method, path, data in [
        ("POST", f"/api/v1/campaigns/{draft_id}/send", None),
        ("DELETE", f"/api/v1/campaigns/{draft_id}", None),
        ("POST", "/api/v1/campaigns", {"name": "x", "segment": "repeat", "body": "y"}),
    ]:
        refused = call_api(frame, method, path, data)
        assert refused.get("status") == 403 and refused.get("code") == "forbidden", refused
    assert stack.campaign_ids() == [draft_id, done_id]
    assert stack.campaign(draft_id)["status"] == "draft"
    assert stack.received_count() == received_before

    # Opening the new-campaign page directly shows the 403 page.
    response = page.goto(stack.relay_url("/ui/campaigns/new"))
    assert response is not None and response.status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")
    expect(page.locator(".empty")).to_contain_text(
        "You do not have permission to create and edit campaigns")
    audit(page, "403")

    # The same pages for the owner: everything is offered.
    stack.act_as(ALL_CAPS)
    frame = open_admin(page, stack)
    expect(frame.locator("#new-campaign")).to_be_visible()
    expect(row(frame, draft_id).locator("button[data-action=send]")).to_be_enabled()
    expect(row(frame, draft_id).locator("button[data-action=delete]")).to_be_visible()
    expect(row(frame, done_id).locator("button[data-action=delete]")).to_be_visible()


# -- 7 -----------------------------------------------------------------------------------


def test_two_thousand_recipients_through_the_pages(page: Page, big_stack: Stack,
                                                   page_log: PageLog) -> None:
    expected_total = big_stack.preview_count("all_with_phone")
    assert expected_total >= 2000, expected_total
    frame = open_admin(page, big_stack)
    frame.locator("#new-campaign").click()
    expect(frame.locator("h1")).to_have_text("New campaign")
    frame.locator("#f-name").fill("Everyone")
    frame.locator("#f-segment").select_option("all_with_phone")
    expect(frame.locator("#preview-count")).to_have_text(str(expected_total))
    body = "Hello {customer_full_name}: our summer hours start Monday. Reply STOP to opt out."
    frame.locator("#f-body").fill(body)
    expect(frame.locator("#counter-encoding")).to_have_text("GSM-7")
    frame.locator("#save").click()
    expect(frame.locator("h1")).to_have_text("Campaigns")
    (campaign_id,) = big_stack.campaign_ids()
    expect(row(frame, campaign_id).locator(".badge")).to_have_text("draft")

    send_from_list(frame, page_log, campaign_id)
    expect(frame.locator("#count-total")).to_have_text(str(expected_total))
    expect(frame.locator("#wizard-status")).to_have_text(DONE, timeout=SEND_TIMEOUT)
    shown = assert_wizard_matches_database(frame, big_stack, campaign_id)
    assert shown["total"] == expected_total
    assert shown["sent"] >= 2000 - shown["failed"]
    received = big_stack.received_to()
    assert all(n == 1 for n in received.values())
    assert big_stack.campaign(campaign_id)["status"] == "completed"
    expect(frame.locator("#wizard-percent")).to_have_text("100%")
