"""Delivery figures wherever the API shows them (DESIGN.md §6, §7, §10): campaign JSON and
progress carry delivered/undelivered, the logs filter by delivery status (`?delivery=`),
the CSV keeps its columns and adds delivery_status, delivered_at and delivery_error, and
the dashboard gives the 30-day delivery rate (delivered / sent of the messages sent in the
window). The real app on MariaDB, statuses applied through the service the webhook calls.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from sidecar.delivery_log import CSV_COLUMNS, iso
from sidecar.providers.base import DeliveryStatus
from sidecar.providers.twilio import delivery_update
from tests.conftest import MariaDBServer
from tests.web_support import (
    TENANT1,
    TENANT2,
    Reply,
    SignedClient,
    Web,
    assert_error,
    fresh_phone,
    settle,
    web_fixture,
)

OLD_COLUMNS = ("recipient_id", "customer_id", "first_name", "last_name", "phone", "status",
               "attempts", "last_error", "error_code", "sent_at", "provider_message_id")
T0 = 1_780_000_000


@pytest.fixture(scope="module")
def web(mariadb: MariaDBServer) -> Iterator[Web]:
    yield from web_fixture(mariadb, customers=20)


@pytest.fixture
def api(web: Web) -> SignedClient:
    return web.client


def report(web: Web, sid: str, status: str, at: int, code: int | None = None) -> None:
    made = delivery_update(sid, status, code, at)
    assert made is not None
    web.runtime.deliveries.record_callback(made)


def logged(web: Web) -> tuple[int, dict[str, list[int]]]:
    """A campaign whose rows are in every delivery state ("None": sent before delivery
    tracking; "failed to send"/"pending": no message); row ids by state."""
    cid = web.campaign(1, name="Delivery logs")
    states = (["delivered"] * 4 + ["undelivered"] * 3 + ["failed"] * 2 + ["sent"] * 2
              + ["queued"] * 2 + ["None"] * 2)
    rows, state_of = [], {}
    for n, state in enumerate(states):
        phone = fresh_phone()
        state_of[phone] = state
        rows.append({"phone": phone, "first_name": f"D{n}", "status": "sent", "attempts": 1,
                     "sent_at": T0 + n, "provider_message_id": f"SM{cid:08d}{n:024d}",
                     "delivery_status": None if state == "None" else "queued"})
    for state, status in (("failed to send", "failed"), ("pending", "pending")):
        phone = fresh_phone()
        state_of[phone] = state
        rows.append({"phone": phone, "first_name": state, "status": status,
                     "delivery_status": None})
    web.recipient_rows(cid, 1, rows)
    ids: dict[str, list[int]] = {}
    for n, row in enumerate(web.shop.rows(cid)):
        state = state_of[row["phone"]]
        ids.setdefault(state, []).append(row["id"])
        if state in ("delivered", "undelivered", "failed", "sent"):
            code = {"undelivered": 30003, "failed": 30007}.get(state)
            report(web, row["provider_message_id"], state, T0 + 100 + n, code)
    return cid, ids


def test_campaign_and_progress_carry_the_delivery_counters(web: Web,
                                                          api: SignedClient) -> None:
    cid, _ = logged(web)
    shown = api.get(f"/api/v1/campaigns/{cid}").json()
    progress = api.get(f"/api/v1/campaigns/{cid}/progress").json()
    listed = {c["id"]: c for c in api.get("/api/v1/campaigns?per_page=100").json()
              ["campaigns"]}[cid]
    for data in (shown, progress, listed):
        assert (data["delivered"], data["undelivered"]) == (4, 5), data


def test_logs_filter_by_delivery_status(web: Web, api: SignedClient) -> None:
    cid, ids = logged(web)
    path = f"/api/v1/campaigns/{cid}/logs?per_page=100"

    def ids_for(query: str) -> list[int]:
        reply = api.get(path + query)
        assert reply.status == 200, reply
        return sorted(r["id"] for r in reply.json()["logs"])

    assert ids_for("&delivery=delivered") == sorted(ids["delivered"])
    assert ids_for("&delivery=undelivered") == sorted(ids["undelivered"])
    assert ids_for("&delivery=failed") == sorted(ids["failed"])
    assert ids_for("&delivery=not_delivered") == sorted(ids["undelivered"] + ids["failed"])
    assert ids_for("&delivery=pending") == sorted(ids["sent"] + ids["queued"] + ids["None"])
    assert ids_for("&delivery=delivered&status=failed") == []
    assert ids_for("&delivery=delivered&q=D1") == sorted(ids["delivered"])[1:2]
    assert ids_for("") == sorted(i for state in ids.values() for i in state)
    rows = {r["id"]: r for r in api.get(path).json()["logs"]}
    undelivered = rows[ids["undelivered"][0]]
    assert (undelivered["delivery_status"], undelivered["delivery_error_code"],
            undelivered["delivered_at"]) == ("undelivered", 30003, None)
    assert undelivered["delivery_error"] == ("unreachable: the phone is off or out of "
                                             "coverage (Twilio 30003)")
    delivered = rows[ids["delivered"][0]]
    assert delivered["delivered_at"] == T0 + 100 and delivered["delivery_error"] == ""
    assert rows[ids["None"][0]]["delivery_status"] is None
    for bad in ("DELIVERED", "read", "sent", "1"):
        assert_error(api.get(path + f"&delivery={bad}"), 422, "validation_failed",
                     {"delivery": "use one of delivered, undelivered, failed"})
        assert_error(api.get(f"/api/v1/campaigns/{cid}/logs.csv?delivery={bad}"), 422,
                     "validation_failed", {"delivery": None})
    assert_error(api.get(path + "&delivery=delivered", who=TENANT2), 404, "not_found")


def delivery_cells(page: Reply) -> dict[int, tuple[str, str]]:
    """The logs page's Delivery cells by row id: (data-delivery, the words shown)."""
    assert page.status == 200 and page.mimetype == "text/html", (page.status, page.text[:300])
    return {int(rid): (raw, " ".join(re.sub(r"<[^>]+>", " ", shown).split()))
            for rid, raw, shown in re.findall(
                r'<tr data-status="\w+" data-id="(\d+)">.*?<td class="small" '
                r'data-delivery="(\w*)" data-label="Delivery">(.*?)</td>', page.text, re.S)}


def test_logs_page_says_what_became_of_each_message_and_filters_by_it(
        web: Web, api: SignedClient) -> None:
    cid, ids = logged(web)
    c = web.runtime.tables.campaigns
    with web.engine.begin() as conn:  # the 15 rows Twilio took (written straight in)
        conn.execute(update(c).where(c.c.id == cid).values(sent=15, failed=1, pending=1,
                                                           total=17))
    path = f"/ui/campaigns/{cid}/logs"
    page = api.get(path)
    # In an owner's words: Twilio's "queued"/"sent" (and none) are no report yet,
    # "undelivered" and "failed" both did not arrive, with the reason.
    words = {"delivered": "Delivered", "sent": "No report yet", "queued": "No report yet",
             "None": "No report yet", "undelivered": "Not delivered unreachable: the phone "
             "is off or out of coverage (Twilio 30003)", "failed": "Not delivered filtered "
             "by the carrier as spam (Twilio 30007)", "failed to send": "", "pending": ""}
    assert delivery_cells(page) == {
        rid: ("" if state in ("None", "failed to send", "pending") else state, words[state])
        for state, rids in ids.items() for rid in rids}
    summary = re.search(r'id="delivery-summary">(.*?)</p>', page.text, re.S)
    assert summary and " ".join(re.sub(r"<[^>]+>", " ", summary[1]).split()) == (
        "Delivery reports: 4 delivered · 5 not delivered · 6 awaiting a report")

    for chosen, states in (("delivered", ["delivered"]),
                           ("not_delivered", ["undelivered", "failed"]),
                           ("pending", ["sent", "queued", "None"])):
        filtered = api.get(f"{path}?delivery={chosen}")
        assert sorted(delivery_cells(filtered)) == sorted(i for s in states for i in ids[s])
        assert f'<option value="{chosen}" selected>' in filtered.text
        # The CSV link follows the filter (with the others).
        both = api.get(f"{path}?delivery={chosen}&status=sent&q=D")
        assert f"logs.csv%3Fstatus%3Dsent%26delivery%3D{chosen}%26q%3DD" in both.text
    for bad in ("DELIVERED", "read", "1"):
        refused = api.get(f"{path}?delivery={bad}")
        assert refused.status == 422 and refused.mimetype == "text/html"
        assert "delivery" in refused.text
    assert api.get(path + "?delivery=delivered", who=TENANT2).status == 404


def parse(reply: Reply) -> list[dict[str, str]]:
    table = list(csv.reader(io.StringIO(reply.text)))
    assert tuple(table[0]) == CSV_COLUMNS
    return [dict(zip(CSV_COLUMNS, row, strict=True)) for row in table[1:]]


def test_csv_keeps_its_columns_and_adds_the_delivery_ones(web: Web, api: SignedClient) -> None:
    assert CSV_COLUMNS[:len(OLD_COLUMNS)] == OLD_COLUMNS
    assert CSV_COLUMNS[len(OLD_COLUMNS):len(OLD_COLUMNS) + 3] == (
        "delivery_status", "delivered_at", "delivery_error")
    cid, ids = logged(web)
    rows = {int(r["recipient_id"]): r for r in parse(api.get(
        f"/api/v1/campaigns/{cid}/logs.csv"))}
    first = rows[ids["delivered"][0]]
    assert (first["delivery_status"], first["delivered_at"], first["delivery_error"]) == (
        "delivered", iso(T0 + 100), "")
    failed = rows[ids["failed"][0]]
    assert (failed["delivery_status"], failed["delivered_at"], failed["delivery_error"]) == (
        "failed", "", "filtered by the carrier as spam (Twilio 30007)")
    assert rows[ids["None"][0]]["delivery_status"] == ""
    assert rows[ids["failed"][0]]["status"] == "sent"  # Twilio took it; it did not arrive
    only = parse(api.get(f"/api/v1/campaigns/{cid}/logs.csv?delivery=not_delivered"))
    assert sorted(int(r["recipient_id"]) for r in only) == sorted(ids["undelivered"]
                                                                  + ids["failed"])


def test_dashboard_delivery_rate_over_the_messages_sent_in_30_days(web: Web,
                                                                   api: SignedClient) -> None:
    settle()
    before = api.get("/api/v1/dashboard", who=TENANT2).json()["deliveries"]
    assert set(before) == {"days", "sent", "delivered", "undelivered", "rate"}
    assert before["days"] == 30
    cid = web.sent_campaign(2, name="Rate")
    sent = [r for r in web.shop.rows(cid) if r["status"] == "sent"]
    assert len(sent) >= 4
    now = int(web.runtime.clock())
    for row, status in zip(sent, ["delivered", "delivered", "undelivered", "failed"],
                           strict=False):
        report(web, row["provider_message_id"], status, now, None if status == "delivered"
               else 30005)
    after = api.get("/api/v1/dashboard", who=TENANT2).json()["deliveries"]
    assert (after["sent"], after["delivered"], after["undelivered"]) == (
        before["sent"] + len(sent), before["delivered"] + 2, before["undelivered"] + 2)
    assert after["rate"] == round(after["delivered"] / after["sent"], 4)
    assert api.get("/api/v1/dashboard", who=TENANT1).json()["deliveries"] == \
        web.runtime.dashboard.summary(1)["deliveries"]  # tenant 1 is another matter
    # Thirty days on the messages leave the window, with their deliveries.
    web.shop.clock.advance(30 * 86400)
    try:
        gone = api.get("/api/v1/dashboard", who=TENANT2).json()["deliveries"]
        assert (gone["sent"], gone["delivered"], gone["rate"]) == (0, 0, None)
    finally:
        web.shop.clock.advance(-30 * 86400)


def test_the_rate_counts_a_late_delivery_on_the_day_the_message_was_sent(
        web: Web, api: SignedClient) -> None:
    settle()
    cid = web.sent_campaign(3, name="Late")
    row = next(r for r in web.shop.rows(cid) if r["status"] == "sent")
    web.shop.clock.advance(2 * 86400)  # delivered two days later
    try:
        report(web, row["provider_message_id"], DeliveryStatus.DELIVERED.value,
               int(web.runtime.clock()))
        data = api.get("/api/v1/dashboard", who=TENANT1.in_tenant(3)).json()
        assert data["deliveries"]["delivered"] >= 1
        d = web.runtime.tables.daily
        from sqlalchemy import select

        with web.engine.connect() as conn:
            days = dict(conn.execute(select(d.c.day, d.c.delivered)
                                     .where(d.c.tenant_id == 3)).all())
        assert days[row["sent_at"] // 86400] >= 1
        assert days.get(int(web.runtime.clock()) // 86400, 0) == 0
    finally:
        web.shop.clock.advance(-2 * 86400)
