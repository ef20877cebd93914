"""Stored XSS is escaped in the pages and kept verbatim by the API; SQL metacharacters in
every text input are stored literally or refused with 422, never a 500; and Booknetic's
tables are untouched after all of it (tests/security_support.py has the shared parts).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import quote

import pytest
from markupsafe import escape
from sqlalchemy import text

from sidecar.delivery_log import CSV_COLUMNS
from sidecar.phones import normalise_phone
from sidecar.suppressions import split_numbers
from tests.conftest import MariaDBServer
from tests.security_support import Sec, open_sec
from tests.web_support import (
    TENANT3,
    SignedClient,
    Web,
    assert_error,
    fresh_phone,
    settle,
    wait_for,
    web_fixture,
)


@pytest.fixture(scope="module")
def web(mariadb: MariaDBServer) -> Iterator[Web]:
    yield from web_fixture(mariadb)


@pytest.fixture(scope="module")
def sec(web: Web) -> Iterator[Sec]:
    yield from open_sec(web)


# -- stored XSS ------------------------------------------------------------------------------

XSS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{7*7}}"]
DANGEROUS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "onerror=alert(1)>"]


def _assert_escaped(html: str, value: str) -> None:
    assert str(escape(value)) in html, value
    for raw in DANGEROUS:
        if raw in value:
            assert raw not in html, raw


@pytest.mark.parametrize("payload", XSS)
def test_stored_xss_is_escaped_in_pages_and_kept_verbatim_by_the_api(sec: Sec,
                                                                     payload: str) -> None:
    api = sec.client.as_(TENANT3)
    name = f"N {payload}"
    body = f"B {payload}" if "{" not in payload else "B plain"
    reply = api.post("/api/v1/campaigns", {"name": name, "segment": "repeat", "body": body})
    assert reply.status == 201, reply
    cid = reply.json()["id"]
    shown = api.get(f"/api/v1/campaigns/{cid}").json()
    assert (shown["name"], shown["body"]) == (name, body)
    listed = api.get("/api/v1/campaigns?per_page=100").json()["campaigns"]
    assert [c["name"] for c in listed if c["id"] == cid] == [name]

    for path in ("/ui/campaigns?per_page=100", f"/ui/campaigns/{cid}/edit"):
        page = api.get(path)
        assert page.status == 200 and "Content-Security-Policy" in page.headers
        _assert_escaped(page.text, name)
        _assert_escaped(page.text, body)
        assert "N 49" not in page.text  # templates never evaluate data

    if "{" in payload:  # a body with braces is a shortcode: unknown ones are refused
        assert_error(api.post("/api/v1/campaigns", {"name": "x", "segment": "repeat",
                                                    "body": f"B {payload}"}),
                     422, "validation_failed", {"body": "unknown shortcode"})


def test_xss_in_the_signed_user_and_in_booknetic_data_is_escaped(sec: Sec) -> None:
    payload = "<script>alert('who')</script>"
    who = replace(TENANT3, display_name=payload, user_login='"><img src=x onerror=alert(2)>')
    page = sec.client.get("/ui/campaigns", who=who)
    assert page.status == 200
    _assert_escaped(page.text, payload)
    assert "<img src=x onerror=alert(2)>" not in page.text

    # A service name typed by a tenant's staff in Booknetic reaches the campaign form.
    service = sec.web.shop.ds.services_of(3)[0]
    with sec.web.engine.begin() as conn:
        conn.execute(text("UPDATE wp_bkntc_services SET name = :n WHERE id = :i"),
                     {"n": '<script>alert("svc")</script>', "i": service["id"]})
    try:
        form = sec.client.get("/ui/campaigns/new", who=TENANT3)
        assert form.status == 200
        _assert_escaped(form.text, '<script>alert("svc")</script>')
        assert '<script>alert("svc")</script>' not in form.text
    finally:
        with sec.web.engine.begin() as conn:
            conn.execute(text("UPDATE wp_bkntc_services SET name = :n WHERE id = :i"),
                         {"n": service["name"], "i": service["id"]})


def _messages_to(sec: Sec, phone: str) -> list[str]:
    return [m.body for m in sec.web.shop.fake.received() if m.to == phone]


def _test_and_oneoff_arrive_as_written(sec: Sec, api: SignedClient, body: str) -> int:
    """A test SMS and a one-off SMS with `body` are accepted, and Twilio gets it verbatim;
    returns the one-off's campaign id."""
    to_test, to_manual = fresh_phone(), fresh_phone()
    tested = api.post("/api/v1/sms/test", {"phone": to_test, "body": body})
    assert tested.status == 200 and tested.json()["body"] == body, tested
    manual = api.post("/api/v1/sms/send", {"numbers": to_manual, "body": body})
    assert manual.status == 201, manual
    settle()
    assert _messages_to(sec, to_test) == [body]
    assert wait_for(lambda: _messages_to(sec, to_manual), what="the one-off") == [body]
    return int(manual.json()["campaign_id"])


@pytest.mark.parametrize("payload", XSS)
def test_stored_xss_in_templates_suppressions_and_messages_is_escaped_or_refused(
        sec: Sec, payload: str) -> None:
    api = sec.client.as_(TENANT3)
    braces = "{" in payload  # a shortcode-looking payload: unknown ones are refused

    # Templates: kept verbatim by the API, escaped on both pages that show them.
    name = f"T {payload}"
    body = "B plain" if braces else f"B {payload}"
    created = api.post("/api/v1/templates", {"name": name, "body": body})
    assert created.status == 201, created
    tid = created.json()["id"]
    shown = api.get(f"/api/v1/templates/{tid}").json()
    assert (shown["name"], shown["body"]) == (name, body)
    listed = api.get("/api/v1/templates").json()["templates"]
    assert [(t["name"], t["body"]) for t in listed if t["id"] == tid] == [(name, body)]
    for path in ("/ui/templates", "/ui/campaigns/new"):
        page = api.get(path)
        assert page.status == 200 and "Content-Security-Policy" in page.headers
        _assert_escaped(page.text, name)
        _assert_escaped(page.text, body)
        assert "T 49" not in page.text
    if braces:
        for reply in (api.post("/api/v1/templates", {"name": "x", "body": f"B {payload}"}),
                      api.put(f"/api/v1/templates/{tid}", {"name": "x", "body": payload})):
            assert_error(reply, 422, "validation_failed", {"body": "unknown shortcode"})
        assert api.get(f"/api/v1/templates/{tid}").json() == shown

    # Suppressions: the reason is data; the phone must be a phone (its text is echoed in
    # the JSON error only); the search text is echoed escaped.
    phone, reason = fresh_phone(), f"R {payload}"
    added = api.post("/api/v1/suppressions", {"phone": phone, "reason": reason})
    assert added.status == 201 and added.json()["reason"] == reason, added
    q = quote(reason, safe="")
    found = api.get(f"/api/v1/suppressions?q={q}").json()["suppressions"]
    assert [(r["phone"], r["reason"]) for r in found] == [(phone, reason)]
    for path in ("/ui/suppressions?per_page=100", f"/ui/suppressions?q={q}",
                 f"/ui/suppressions?q={quote('nothing ' + payload, safe='')}"):
        page = api.get(path)
        assert page.status == 200 and "Content-Security-Policy" in page.headers
        _assert_escaped(page.text, "nothing " + payload if "nothing" in path else reason)
    assert_error(api.post("/api/v1/suppressions", {"phone": payload}), 422,
                 "validation_failed", {"phone": "not a valid phone number"}, invalid=[payload])
    kept = fresh_phone()
    assert_error(api.post("/api/v1/suppressions/bulk", {"numbers": f"{kept}\n{payload}"}), 422,
                 "validation_failed", {"numbers": "nothing was saved"},
                 invalid=split_numbers(payload))
    assert api.get(f"/api/v1/suppressions?q={quote(kept)}").json()["total"] == 0

    # Test SMS and one-off SMS: numbers must be phones, bodies are sent as written.
    assert_error(api.post("/api/v1/sms/test", {"phone": payload, "body": "Hi"}), 422,
                 "validation_failed", {"phone": "not a valid phone number"})
    assert_error(api.post("/api/v1/sms/send", {"numbers": payload, "body": "Hi"}), 422,
                 "validation_failed", {"recipients": "nobody to send to"},
                 invalid=split_numbers(payload))
    text_ = f"S {payload}"
    if braces:
        for reply in (api.post("/api/v1/sms/test", {"phone": fresh_phone(), "body": text_}),
                      api.post("/api/v1/sms/send", {"numbers": fresh_phone(), "body": text_})):
            assert_error(reply, 422, "validation_failed", {"body": "unknown shortcode"})
    else:
        _test_and_oneoff_arrive_as_written(sec, api, text_)

    # Searches echo nothing unescaped and find nothing.
    customers = api.get(f"/api/v1/customers?q={quote(payload, safe='')}").json()
    assert (customers["total"], customers["customers"]) == (0, [])


def test_xss_in_recipient_names_and_errors_is_escaped_in_the_logs_page(sec: Sec) -> None:
    """A tenant's staff typed markup into a Booknetic customer's name; a one-off SMS to that
    customer puts the name into the recipient rows, which the logs page shows."""
    api = sec.client.as_(TENANT3)
    customer = next(c for c in sec.web.shop.ds.customers_of(3)
                    if normalise_phone(c["phone_number"]))
    first, last = "<script>alert('first')</script>", '"><img src=x onerror=alert(1)>'
    with sec.web.engine.begin() as conn:
        original = conn.execute(text("SELECT first_name, last_name FROM wp_bkntc_customers "
                                     "WHERE id = :i"), {"i": customer["id"]}).one()
        conn.execute(text("UPDATE wp_bkntc_customers SET first_name = :f, last_name = :l "
                          "WHERE id = :i"), {"f": first, "l": last, "i": customer["id"]})
    try:
        reply = api.post("/api/v1/sms/send", {"customer_ids": [customer["id"]],
                                              "body": "Hi {customer_first_name}"})
    finally:
        with sec.web.engine.begin() as conn:
            conn.execute(text("UPDATE wp_bkntc_customers SET first_name = :f, last_name = :l "
                              "WHERE id = :i"),
                         {"f": original[0], "l": original[1], "i": customer["id"]})
    assert reply.status == 201, reply
    cid = reply.json()["campaign_id"]
    settle()
    (row,) = api.get(f"/api/v1/campaigns/{cid}/logs").json()["logs"]
    assert (row["first_name"], row["last_name"]) == (first, last)  # verbatim in JSON
    assert _messages_to(sec, row["phone"])[-1] == f"Hi {first}"  # an SMS is plain text

    # Markup in the campaign name, an error text and a message id, written straight in.
    name = "<script>alert('campaign')</script>"
    logged = sec.web.campaign(3, name=name)
    error, message_id = "<img src=x onerror=alert(2)>", "<script>alert(3)</script>"
    sec.web.recipient_rows(logged, 3, [{"phone": fresh_phone(), "first_name": first,
                                        "last_name": last, "status": "failed",
                                        "attempts": 1, "last_error": error,
                                        "provider_message_id": message_id}])
    for campaign in (cid, logged):
        page = api.get(f"/ui/campaigns/{campaign}/logs")
        assert page.status == 200 and "Content-Security-Policy" in page.headers
        _assert_escaped(page.text, f"{first} {last}")
    page = api.get(f"/ui/campaigns/{logged}/logs")
    for value in (name, error, message_id):
        _assert_escaped(page.text, value)
    # The search box echoes its text escaped; a status outside the fixed set is a 422 page.
    q = "<script>alert('q')</script>"
    searched = api.get(f"/ui/campaigns/{logged}/logs?q={quote(q, safe='')}")
    assert searched.status == 200
    _assert_escaped(searched.text, q)
    bad = api.get(f"/ui/campaigns/{logged}/logs?status={quote(q, safe='')}")
    assert bad.status == 422 and bad.mimetype == "text/html"
    _assert_escaped(bad.text, q)
    assert_error(api.get(f"/api/v1/campaigns/{logged}/logs?status={quote(q, safe='')}"), 422,
                 "validation_failed", {"status": None})
    # The CSV is a download (attachment, nosniff), never a page; the name stays as data.
    exported = api.get(f"/api/v1/campaigns/{logged}/logs.csv")
    assert exported.status == 200 and exported.mimetype == "text/csv"
    assert exported.headers["X-Content-Type-Options"] == "nosniff"
    assert exported.headers["Content-Disposition"].startswith("attachment;")
    assert first in exported.text and error in exported.text
    # And the dashboard lists the newest campaign under its escaped name.
    recent = api.get("/api/v1/dashboard").json()["recent"]
    assert recent[0]["id"] == logged and recent[0]["name"] == name
    _assert_escaped(api.get("/ui/dashboard").text, name)
    assert sec.web.booknetic_fingerprint() == sec.pristine


# -- SQL metacharacters ----------------------------------------------------------------------

SQL = ["' OR 1=1 --", '"; DROP TABLE wp_bkntc_customers; --', "\\", "%_",
       "' UNION SELECT user_pass FROM wp_users -- ", "1); DELETE FROM wp_bkntc_appointments; #"]
SQL_IDS = ["quote-or", "drop-table", "backslash", "like-wildcards", "union", "delete"]


@pytest.mark.parametrize("payload", SQL, ids=SQL_IDS)
def test_sql_metacharacters_are_data_or_422_never_500(sec: Sec, payload: str) -> None:
    api = sec.client.as_(TENANT3)
    trimmed = payload.strip()

    # Stored and echoed literally: name, body, a status filter value.
    created = api.post("/api/v1/campaigns", {"name": payload, "segment": "all_with_phone",
                                             "body": payload,
                                             "filters": {"statuses": [payload]}})
    assert created.status == 201, created
    campaign = created.json()
    assert (campaign["name"], campaign["body"]) == (trimmed, payload)
    assert campaign["filters"]["statuses"] == [trimmed]
    cid = campaign["id"]
    assert api.get(f"/api/v1/campaigns/{cid}").json()["name"] == trimmed
    edited = api.put(f"/api/v1/campaigns/{cid}", {"name": payload + " v2",
                                                 "segment": "repeat", "body": payload + "!"})
    assert edited.status == 200 and edited.json()["name"] == (payload + " v2").strip()
    # A status filter is compared for equality: nobody has such a status (no LIKE, no OR).
    preview = api.post("/api/v1/segments/preview", {"segment": "all_with_phone",
                                                    "filters": {"statuses": [payload]}})
    assert preview.status == 200 and preview.json()["count"] == 0
    sent = api.post(f"/api/v1/campaigns/{cid}/duplicate")
    assert sent.status == 201 and sent.json()["name"] == f"Copy of {(payload + ' v2').strip()}"

    # Refused with 422 where the value must come from a fixed set or be a number.
    encoded = quote(payload, safe="")
    assert_error(api.get(f"/api/v1/campaigns?status={encoded}"), 422, "validation_failed",
                 {"status": None})
    for query in (f"page={encoded}", f"per_page={encoded}"):
        assert api.get(f"/api/v1/campaigns?{query}").status == 422
    assert_error(api.post("/api/v1/campaigns", {"name": "x", "segment": payload, "body": "y"}),
                 422, "validation_failed", {"segment": None})
    assert_error(api.post("/api/v1/segments/preview", {"segment": payload}), 422,
                 "validation_failed", {"segment": None})
    for name in ("service_ids", "location_ids"):
        assert_error(api.post("/api/v1/segments/preview",
                              {"segment": "repeat", "filters": {name: [payload]}}),
                     422, "validation_failed", {name: None})
    assert_error(api.post("/api/v1/segments/preview",
                          {"segment": "repeat", "filters": {"min_appointments": payload}}),
                 422, "validation_failed", {"min_appointments": None})
    # The pages ignore a status they do not know.
    page = api.get(f"/ui/campaigns?status={encoded}")
    assert page.status == 200
    assert api.get(f"/ui/campaigns/{cid}/edit").status == 200

    assert sec.web.booknetic_fingerprint() == sec.pristine


def _contains(needle: str, *values: str | None) -> bool:
    return any(needle.lower() in (v or "").lower() for v in values)


@pytest.mark.parametrize("payload", SQL, ids=SQL_IDS)
def test_sql_metacharacters_in_lists_and_messages_are_data_or_422_never_500(
        sec: Sec, payload: str) -> None:
    api = sec.client.as_(TENANT3)
    trimmed = payload.strip()
    encoded = quote(payload, safe="")

    # Templates: name and body are data.
    created = api.post("/api/v1/templates", {"name": payload, "body": payload})
    assert created.status == 201, created
    template = created.json()
    assert (template["name"], template["body"]) == (trimmed, payload)
    edited = api.put(f"/api/v1/templates/{template['id']}", {"name": payload + " v2",
                                                             "body": payload + "!"})
    assert edited.status == 200 and edited.json()["name"] == (payload + " v2").strip()
    assert api.get(f"/api/v1/templates/{template['id']}").json()["body"] == payload + "!"

    # Suppressions: the reason is data, the phone must be a phone; the search is literal
    # (LIKE wildcards match themselves only).
    phone = fresh_phone()
    added = api.post("/api/v1/suppressions", {"phone": phone, "reason": payload})
    assert added.status == 201 and added.json()["reason"] == trimmed, added
    assert_error(api.post("/api/v1/suppressions", {"phone": payload, "reason": "x"}), 422,
                 "validation_failed", {"phone": None}, invalid=[payload])
    everything = api.get("/api/v1/suppressions?per_page=200").json()
    assert everything["total"] <= 200
    expected = [r["id"] for r in everything["suppressions"]
                if _contains(trimmed, r["phone"], r["reason"])]
    found = api.get(f"/api/v1/suppressions?per_page=200&q={encoded}").json()
    assert [r["id"] for r in found["suppressions"]] == expected and found["total"] == len(
        expected)
    assert added.json()["id"] in expected
    page = api.get(f"/ui/suppressions?q={encoded}")
    assert page.status == 200 and phone in page.text
    for query in (f"page={encoded}", f"per_page={encoded}"):
        assert_error(api.get(f"/api/v1/suppressions?{query}"), 422, "validation_failed")
    kept = fresh_phone()
    assert_error(api.post("/api/v1/suppressions/bulk", {"numbers": f"{payload}\n{kept}"}),
                 422, "validation_failed", {"numbers": None}, invalid=split_numbers(payload))
    skipped = api.post("/api/v1/suppressions/bulk", {"numbers": f"{payload}\n{kept}",
                                                     "reason": payload, "skip_invalid": True})
    assert skipped.status == 200, skipped
    assert skipped.json() == {"added": 1, "already": 0, "invalid": split_numbers(payload)}

    # Test and one-off SMS: numbers must be phones, the body is sent exactly as written.
    assert_error(api.post("/api/v1/sms/test", {"phone": payload, "body": "Hi"}), 422,
                 "validation_failed", {"phone": None})
    assert_error(api.post("/api/v1/sms/send", {"numbers": payload, "body": "Hi"}), 422,
                 "validation_failed", {"recipients": None}, invalid=split_numbers(payload))
    cid = _test_and_oneoff_arrive_as_written(sec, api, payload)  # the one-off's

    # Customer search: literal, only the tenant's own customers.
    ds = sec.web.shop.ds
    matches = [c for c in ds.customers_of(3)
               if _contains(trimmed, c["first_name"], c["last_name"], c["phone_number"],
                            c.get("email"), f"{c['first_name'] or ''} {c['last_name'] or ''}")]
    customers = api.get(f"/api/v1/customers?q={encoded}&per_page=100").json()
    assert customers["total"] == len(matches)
    for query in (f"page={encoded}", f"per_page={encoded}"):
        assert_error(api.get(f"/api/v1/customers?{query}"), 422, "validation_failed")

    # Logs: the search is literal, the status comes from a fixed set.
    logs = api.get(f"/api/v1/campaigns/{cid}/logs?q={encoded}").json()
    assert (logs["total"], logs["logs"]) == (0, [])
    assert api.get(f"/api/v1/campaigns/{cid}/logs").json()["total"] == 1
    for path in (f"/api/v1/campaigns/{cid}/logs?status={encoded}",
                 f"/api/v1/campaigns/{cid}/logs.csv?status={encoded}"):
        assert_error(api.get(path), 422, "validation_failed", {"status": None})
    for query in (f"page={encoded}", f"per_page={encoded}"):
        assert_error(api.get(f"/api/v1/campaigns/{cid}/logs?{query}"), 422,
                     "validation_failed")
    exported = api.get(f"/api/v1/campaigns/{cid}/logs.csv?q={encoded}")
    assert exported.status == 200 and exported.headers["X-Bkntc-Export-Total"] == "0"
    assert exported.text.strip() == ",".join(CSV_COLUMNS)
    assert api.get(f"/ui/campaigns/{cid}/logs?q={encoded}").status == 200
    refused = api.get(f"/ui/campaigns/{cid}/logs?status={encoded}")
    assert refused.status == 422 and refused.mimetype == "text/html"

    assert sec.web.booknetic_fingerprint() == sec.pristine


def test_booknetic_tables_are_intact_after_everything(sec: Sec) -> None:
    settle()
    assert sec.web.booknetic_fingerprint() == sec.pristine
    ds = sec.web.shop.ds
    counts = {name: n for name, (n, _) in sec.pristine.items()}
    assert counts["wp_bkntc_customers"] == len(ds.customers)
    assert counts["wp_bkntc_appointments"] == len(ds.appointments)
