"""Browser tests of a campaign's per-recipient logs page: filter, search, paginate,
download the CSV.

Same harness as test_browser.py, through tests/browser_page_support.py: a real stack on
loopback per test, Debian's Chromium, the sidecar's pages inside the relay's Booknetic
page; each test checks what the user sees and what really happened.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import FrameLocator, Locator, Page, expect
from sqlalchemy import insert, update

from sidecar.delivery_log import CSV_COLUMNS, EXPORT_CAP
from tests.a11y_support import audit
from tests.browser_page_support import (
    SLOW_UI,
    frame_query,
    goto_tab,
    mark_document,
    open_sidecar,
    send_and_wait,
    submit_search,
    wait_for_new_document,
)
from tests.browser_support import Stack, row, screenshot

pytestmark = pytest.mark.slow  # a stack and Chromium per test


def download_csv(page: Page, frame: FrameLocator) -> tuple[str, list[list[str]]]:
    """Click "Download CSV" and parse what the browser saved."""
    with page.expect_download(timeout=SLOW_UI) as info:
        frame.locator("#download-csv").click()
    download = info.value
    saved = download.path()
    text = Path(saved).read_text(encoding="utf-8")
    return download.suggested_filename, list(csv.reader(io.StringIO(text, newline="")))


def search_or_problem(frame: FrameLocator, page_name: str, box: str, form: str,
                      text: str) -> str | None:
    """Like submit_search, but also survives an error page: None when the search page came
    back, else what went wrong ("answered 500 ('…')")."""
    page = frame.owner.page
    frame.locator(box).fill(text)
    mark_document(page)
    with page.expect_response(lambda r: page_name in r.url and "q=" in r.url) as answer:
        frame.locator(f"{form} button[type=submit]").click()
    wait_for_new_document(page, page_name if answer.value.ok else "")
    if answer.value.ok:
        return None
    return (f"answered {answer.value.status} "
            f"({frame.locator('main h1').inner_text()!r})")


# -- logs -----------------------------------------------------------------------------


def insert_log_rows(stack: Stack, campaign_id: int, count: int, failed_every: int,
                    names: list[tuple[str, str]] | None = None) -> None:
    """Recipient rows written straight into the table (a campaign without sending)."""
    now = int(stack.clock())
    names = names or [(f"Bulk{n}", "Import") for n in range(1, count + 1)]
    rows = [{"campaign_id": campaign_id, "tenant_id": 0, "customer_id": None,
             "phone": f"+1202{n:07d}", "first_name": names[n - 1][0],
             "last_name": names[n - 1][1],
             "status": "failed" if n % failed_every == 0 else "sent", "attempts": 1,
             "last_error": "the number cannot be reached — Twilio 21214"
             if n % failed_every == 0 else "",
             "error_code": 21214 if n % failed_every == 0 else None,
             "provider_message_id": None if n % failed_every == 0 else f"SM{n:032x}",
             "sent_at": None if n % failed_every == 0 else now, "updated_at": now}
            for n in range(1, count + 1)]
    failed = sum(1 for r in rows if r["status"] == "failed")
    c = stack.runtime.tables.campaigns
    with stack.engine.begin() as conn:
        conn.execute(insert(stack.runtime.tables.recipients), rows)
        conn.execute(update(c).where(c.c.id == campaign_id).values(
            status="completed", total=count, sent=count - failed, failed=failed, pending=0,
            queued_at=now, started_at=now, finished_at=now, updated_at=now))


def log_phones(frame: FrameLocator) -> Locator:
    return frame.locator("#log-table tbody tr td:nth-child(2)")


def test_logs_filter_search_paginate_and_download_csv(page: Page, stack: Stack) -> None:
    body = "Hi {customer_first_name}, thanks for visiting us this year!"
    campaign_id = stack.create_campaign("Everyone, with logs", "all_with_phone", body)
    campaign = send_and_wait(stack, campaign_id)
    recipients = stack.recipients(campaign_id)
    total, failed = campaign["total"], campaign["failed"]
    assert campaign["status"] == "completed" and total > 150 and failed >= 2, campaign
    pages = (total + 49) // 50

    frame = open_sidecar(page, stack)
    row(frame, campaign_id).locator("a[data-action=logs]").click()
    expect(frame.locator("body[data-page=logs] h1")).to_have_text("Everyone, with logs")
    expect(frame.locator(".page-head .sent")).to_have_text(f"{campaign['sent']} sent")
    expect(frame.locator(".page-head .failed")).to_have_text(f"{failed} failed")
    expect(frame.locator("#csv-cap")).to_have_count(0)
    expect(log_phones(frame)).to_have_text([r["phone"] for r in recipients[:50]])
    expect(frame.locator("#log-table + p")).to_have_text(f"{total} rows.")
    pager = frame.locator("nav.pager a")
    expect(pager).to_have_text([str(n) for n in range(1, pages + 1)])
    audit(page)
    screenshot(page, "logs")

    # Pagination.
    mark_document(page)
    pager.nth(1).click()
    wait_for_new_document(page, "logs")
    assert frame_query(page).get("action") == ["bkntc_sms"]
    expect(frame.locator("nav.pager a").nth(1)).to_have_class(re.compile(r"\bactive\b"))
    expect(log_phones(frame)).to_have_text([r["phone"] for r in recipients[50:100]])
    mark_document(page)
    frame.locator("nav.pager a").last.click()
    wait_for_new_document(page, "logs")
    expect(log_phones(frame)).to_have_text([r["phone"] for r in recipients[(pages - 1) * 50:]])

    # Filter by status through the GET form.
    frame.locator("#log-status").select_option("failed")
    submit_search(page, frame, "#log-search", "logs")
    query = frame_query(page)
    assert (query.get("action"), query.get("p"), query.get("status")) == (
        ["bkntc_sms"], [f"/ui/campaigns/{campaign_id}/logs"], ["failed"]), query
    failed_rows = [r for r in recipients if r["status"] == "failed"]
    expect(log_phones(frame)).to_have_text([r["phone"] for r in failed_rows])
    expect(frame.locator('#log-table tbody tr:not([data-status="failed"])')).to_have_count(0)
    expect(frame.locator("#log-table + p")).to_have_text(f"{failed} rows match.")
    magic = frame.locator("#log-table tbody tr", has_text="+15005550009")
    expect(magic.locator("td:nth-child(5)")).to_have_text(
        "the number is not a mobile number (cannot receive SMS) — Twilio 21614: "
        "'To' number is not a valid mobile number (21614)")
    # The CSV follows the filter.
    name, csv_rows = download_csv(page, frame)
    assert re.fullmatch(rf"sms-campaign-{campaign_id}-Everyone--with-logs-\d{{8}}-\d{{4}}\.csv",
                        name), name
    assert csv_rows[0] == list(CSV_COLUMNS)
    assert [r[5] for r in csv_rows[1:]] == ["failed"] * failed
    assert [r[4] for r in csv_rows[1:]] == ["'" + r["phone"] for r in failed_rows]

    # Search by name (with every status again).
    # (Accented names are searched in test_search_with_accented_text.)
    named = next(r for r in recipients
                 if r["last_name"] and f"{r['first_name']}{r['last_name']}".isascii())
    who = f"{named['first_name']} {named['last_name']}"
    matches, n_matches = stack.runtime.logs.rows(None, campaign_id, query=who, limit=500)
    assert n_matches >= 1
    frame.locator("#log-status").select_option("")
    frame.locator("#log-q").fill(who)
    submit_search(page, frame, "#log-search", "logs")
    assert frame_query(page).get("q") == [who]
    expect(frame.locator("#log-table tbody tr td:nth-child(1)")).to_have_text(
        [f"{r['first_name']} {r['last_name']}".strip() for r in matches[:50]])
    expect(frame.locator("#log-q")).to_have_value(who)

    # By phone: the "+" survives the form, the relay and the sidecar's query.
    target = recipients[7]
    frame.locator("#log-q").fill(target["phone"])
    submit_search(page, frame, "#log-search", "logs")
    assert frame_query(page).get("q") == [target["phone"]]
    expect(log_phones(frame)).to_have_text([target["phone"]])
    expect(frame.locator("#log-table + p")).to_have_text("1 row match.")
    _, csv_rows = download_csv(page, frame)
    assert [r[0] for r in csv_rows[1:]] == [str(target["id"])]

    # Everything: header, one line per recipient, phones neutralised for spreadsheets.
    frame.locator("#log-q").fill("")
    submit_search(page, frame, "#log-search", "logs")
    expect(frame.locator("#log-table + p")).to_have_text(f"{total} rows.")
    _, csv_rows = download_csv(page, frame)
    header, data = csv_rows[0], csv_rows[1:]
    assert header == list(CSV_COLUMNS)
    assert len(data) == total
    column = {name: header.index(name) for name in header}
    assert [int(r[column["recipient_id"]]) for r in data] == [r["id"] for r in recipients]
    assert all(r[column["phone"]] == "'" + db["phone"] for r, db in zip(data, recipients,
                                                                        strict=True))
    assert [r[column["status"]] for r in data] == [db["status"] for db in recipients]
    assert [r[column["provider_message_id"]] for r in data] == [
        db["provider_message_id"] or "" for db in recipients]

    # More than 5,000 rows: the page says the CSV is capped, and it is.
    big_id = stack.create_campaign("Imported history", "all_with_phone")
    insert_log_rows(stack, big_id, EXPORT_CAP + 50, failed_every=101)
    big = stack.assert_counters_match_rows(big_id)
    goto_tab(frame, "campaigns")
    row(frame, big_id).locator("a[data-action=logs]").click()
    expect(frame.locator("body[data-page=logs] h1")).to_have_text("Imported history")
    expect(frame.locator("#csv-cap")).to_have_text(
        f"The CSV holds the first {EXPORT_CAP} of {EXPORT_CAP + 50} rows (the limit per "
        "file). Filter by status or search to export the rest.")
    big_pages = (EXPORT_CAP + 50 + 49) // 50
    expect(frame.locator("nav.pager a")).to_have_text(
        ["1", "2", "3", str(big_pages - 2), str(big_pages - 1), str(big_pages)])
    _, csv_rows = download_csv(page, frame)
    assert csv_rows[0] == list(CSV_COLUMNS)
    assert len(csv_rows) - 1 == EXPORT_CAP
    big_rows = stack.recipients(big_id)
    assert [int(r[0]) for r in csv_rows[1:]] == [r["id"] for r in big_rows[:EXPORT_CAP]]
    head = page.request.get(stack.relay_url(f"/api/v1/campaigns/{big_id}/logs.csv"))
    assert head.status == 200
    assert head.headers["x-bkntc-export-total"] == str(EXPORT_CAP + 50)
    assert head.headers["x-bkntc-export-rows"] == str(EXPORT_CAP)
    assert "first 5000 of 5050" in head.headers["x-bkntc-export-truncated"]
    # Filtered below the cap: no note, every matching row.
    frame.locator("#log-status").select_option("failed")
    submit_search(page, frame, "#log-search", "logs")
    expect(frame.locator("#csv-cap")).to_have_count(0)
    _, csv_rows = download_csv(page, frame)
    assert len(csv_rows) - 1 == big["failed"] == (EXPORT_CAP + 50) // 101


def test_csv_of_campaigns_with_accented_or_non_latin_names(page: Page, stack: Stack) -> None:
    """BUG: export_filename() keeps every str.isalnum() character and the view writes it
    raw into `Content-Disposition: attachment; filename="…"`.
    - "Łódź …" (not Latin-1): waitress cannot encode the header and answers 500, so the
      user gets no CSV at all;
    - "Crème …" (Latin-1): the header goes out as Latin-1 bytes, which Chromium does not
      take as a file name, and the file is saved as "admin-ajax.csv".
    sidecar/delivery_log.py export_filename and sidecar/web/api_messages.py
    campaign_logs_csv."""
    problems: list[str] = []
    for name in ("Łódź spring offer", "Crème brûlée week"):
        campaign_id = stack.create_campaign(name, "booked_last_7")
        campaign = send_and_wait(stack, campaign_id)
        frame = open_sidecar(page, stack)
        row(frame, campaign_id).locator("a[data-action=logs]").click()
        expect(frame.locator("body[data-page=logs] h1")).to_have_text(name)
        answer = page.request.get(
            stack.relay_url(f"/api/v1/campaigns/{campaign_id}/logs.csv"))
        if answer.status != 200:
            problems.append(f"{name!r}: the CSV export answered {answer.status} "
                            f"({answer.text().splitlines()[0]!r})")
            continue
        saved_as, csv_rows = download_csv(page, frame)
        assert csv_rows[0] == list(CSV_COLUMNS)
        assert len(csv_rows) - 1 == campaign["total"]
        if not saved_as.startswith(f"sms-campaign-{campaign_id}-"):
            problems.append(f"{name!r}: the CSV was saved as {saved_as!r}")
    assert problems == [], problems


def test_search_with_accented_text(page: Page, stack: Stack) -> None:
    """REGRESSION from commit 7e0d252 ("byte-compared phone columns"; passes at 083e0f1):
    sidecar/schema.py declares the phone columns of bkntc_sms_recipients and
    bkntc_sms_suppressions ascii/ascii_bin (_Phone = _ascii(20)). The searches OR
    `phone LIKE :q` with the name or reason columns, so any non-ASCII search text —
    "Müller", "José", "Nguyễn", the data set's own names — makes MariaDB fail with
    error 1267 "Illegal mix of collations (ascii_bin,IMPLICIT) and
    (utf8mb4_general_ci,COERCIBLE) for operation 'like'" and the page answers 500.
    sidecar/delivery_log.py DeliveryLog._where and sidecar/suppressions.py
    SuppressionService.list."""
    campaign_id = stack.create_campaign("Imported names", "all_with_phone")
    names = [("José", "Müller"), ("Zoë", "Nguyễn"), ("Ana", "Smith")]
    insert_log_rows(stack, campaign_id, len(names), failed_every=1000, names=names)
    stack.runtime.suppressions.add(None, "+12025550190", "Frau Müller asked us to stop")
    stack.runtime.suppressions.add(None, "+12025550191", "Wrong number")
    problems: list[str] = []

    frame = open_sidecar(page, stack)
    row(frame, campaign_id).locator("a[data-action=logs]").click()
    expect(frame.locator("body[data-page=logs] h1")).to_have_text("Imported names")
    problem = search_or_problem(frame, "logs", "#log-q", "#log-search", "Müller")
    if problem is None:
        expect(log_phones(frame)).to_have_text(["+12020000001"])
    else:
        problems.append(f"logs search for 'Müller' {problem}")

    frame = open_sidecar(page, stack)
    goto_tab(frame, "suppressions")
    problem = search_or_problem(frame, "suppressions", "#s-q", "#suppress-search", "Müller")
    if problem is None:
        expect(frame.locator("#suppress-table tbody tr")).to_have_attribute(
            "data-phone", "+12025550190")
    else:
        problems.append(f"suppression search for 'Müller' {problem}")
    assert problems == [], problems
