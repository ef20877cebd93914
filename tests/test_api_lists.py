"""The JSON API's list endpoints (sidecar/web/api_lists.py), end to end: message templates
and the suppression list.

Every request is signed as the WordPress bridge signs it (tests/web_support.py). The data is
the SaaS sample set (tenants 1, 2, 3 and NULL-tenant rows). Sending goes through the
unpatched twilio library to the fake Twilio over HTTP; waiting is polling with a deadline,
never a fixed sleep.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from sidecar.phone_region import RegionResolver
from sidecar.suppressions import SuppressionService
from tests.api_support import spaced
from tests.web_support import SUPER, TENANT1, TENANT2, SignedClient, Web, assert_error, fresh_phone

# -- message templates -------------------------------------------------------------------

TEMPLATE_KEYS = {"id", "name", "body", "builtin", "updated_at"}
BUILTIN_NAMES = ["General announcement", "Loyal customer offer", "Re-engagement (90 days)",
                 "Seasonal campaign"]
AUTHOR = TENANT1.with_caps("sms_campaigns", "sms_campaigns_create")
TEMPLATE_MANAGER = TENANT1.with_caps("sms_campaigns", "sms_campaign_templates")


def template_rows(web: Web) -> int:
    with web.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(
            web.runtime.tables.templates)).scalar_one())


def test_templates_list_the_builtins_first_then_the_tenants_own(api: SignedClient) -> None:
    reply = api.get("/api/v1/templates")
    assert reply.status == 200
    data = reply.json()
    assert set(data) == {"templates"}
    listed = data["templates"]
    assert all(set(t) == TEMPLATE_KEYS for t in listed)
    assert [t["name"] for t in listed[:4]] == BUILTIN_NAMES
    assert all(t["builtin"] for t in listed[:4]) and not any(t["builtin"] for t in listed[4:])
    own = [t["name"] for t in listed[4:]]
    assert own == sorted(own)
    for who in (TENANT2, SUPER):  # the built-ins are everybody's
        assert api.get("/api/v1/templates", who=who).json()["templates"][:4] == listed[:4]


def test_template_create_show_update_delete(web: Web, api: SignedClient) -> None:
    reply = api.post("/api/v1/templates", {"name": "  Birthday  ",
                                           "body": "Happy birthday {customer_first_name}!"})
    assert reply.status == 201, reply
    created = reply.json()
    assert set(created) == TEMPLATE_KEYS
    assert (created["name"], created["body"], created["builtin"]) == (
        "Birthday", "Happy birthday {customer_first_name}!", False)
    path = f"/api/v1/templates/{created['id']}"
    assert api.get(path).json() == created
    assert created in api.get("/api/v1/templates").json()["templates"]
    assert created["id"] not in {t["id"] for t in
                                 api.get("/api/v1/templates", who=TENANT2).json()["templates"]}
    assert_error(api.get(path, who=TENANT2), 404, "not_found")

    updated = api.put(path, {"name": "Birthday 2", "body": "Hi {customer_name}"})
    assert updated.status == 200, updated
    assert (updated.json()["id"], updated.json()["name"], updated.json()["body"]) == (
        created["id"], "Birthday 2", "Hi {customer_name}")
    assert api.get(path).json() == updated.json()

    deleted = api.delete(path)
    assert deleted.status == 204 and deleted.body == b""
    assert_error(api.get(path), 404, "not_found")
    assert_error(api.put(path, {"name": "x", "body": "y"}), 404, "not_found")
    assert_error(api.delete(path), 404, "not_found")
    assert_error(api.get("/api/v1/templates/987654"), 404, "not_found")
    assert_error(api.get("/api/v1/templates/abc"), 404, "not_found")


def test_templates_are_read_by_campaign_authors_and_written_by_template_managers(
        api: SignedClient) -> None:
    mine = api.post("/api/v1/templates", {"name": "Managed", "body": "Hi"},
                    who=TEMPLATE_MANAGER)
    assert mine.status == 201, mine
    path = f"/api/v1/templates/{mine.json()['id']}"
    for who in (AUTHOR, TEMPLATE_MANAGER):
        assert api.get("/api/v1/templates", who=who).status == 200
        assert api.get(path, who=who).json() == mine.json()
    for reply in (api.post("/api/v1/templates", {"name": "x", "body": "y"}, who=AUTHOR),
                  api.put(path, {"name": "x", "body": "y"}, who=AUTHOR),
                  api.delete(path, who=AUTHOR)):
        error = assert_error(reply, 403, "forbidden")
        assert "(capability 'sms_campaign_templates')" in error["message"]
    neither = TENANT1.with_caps("sms_campaigns", "sms_campaigns_send")
    assert_error(api.get("/api/v1/templates", who=neither), 403, "forbidden")
    assert_error(api.get(path, who=neither), 403, "forbidden")
    assert api.get(path).json() == mine.json()


def test_builtin_templates_are_read_only(web: Web, api: SignedClient) -> None:
    builtins = api.get("/api/v1/templates").json()["templates"][:4]
    for template in builtins:
        path = f"/api/v1/templates/{template['id']}"
        for reply in (api.put(path, {"name": "Mine now", "body": "Hi"}), api.delete(path),
                      api.delete(path, who=SUPER), api.put(path, {"name": "x", "body": "y"},
                                                           who=TENANT2)):
            error = assert_error(reply, 409, "read_only")
            assert "built-in templates cannot be changed" in error["message"]
        assert api.get(path).json() == template
    assert api.get("/api/v1/templates").json()["templates"][:4] == builtins


TEMPLATE_OK = {"name": "Valid", "body": "Hi {customer_first_name}"}
TEMPLATE_INVALID: list[tuple[str, dict[str, Any], dict[str, str | None]]] = [
    ("empty name", {**TEMPLATE_OK, "name": ""}, {"name": "give the template a name"}),
    ("blank name", {**TEMPLATE_OK, "name": "   "}, {"name": "give the template a name"}),
    ("missing name", {"body": "Hi"}, {"name": None}),
    ("name not text", {**TEMPLATE_OK, "name": ["x"]}, {"name": None}),
    ("name too long", {**TEMPLATE_OK, "name": "n" * 192}, {"name": "191"}),
    ("empty body", {**TEMPLATE_OK, "body": ""}, {"body": "empty"}),
    ("missing body", {"name": "x"}, {"body": "empty"}),
    ("body not text", {**TEMPLATE_OK, "body": 7}, {"body": "empty"}),
    ("oversized body", {**TEMPLATE_OK, "body": "y" * 1601}, {"body": "limit is 1600"}),
    ("unknown shortcode", {**TEMPLATE_OK, "body": "Hi {coupon_code}"},
     {"body": "unknown shortcode {coupon_code}"}),
    ("everything wrong", {"name": " ", "body": "{x}"}, {"name": None, "body": None}),
]


@pytest.mark.parametrize(("payload", "fields"), [(p, f) for _, p, f in TEMPLATE_INVALID],
                         ids=[c[0] for c in TEMPLATE_INVALID])
def test_template_create_and_update_reject_bad_input_with_field_messages(
        web: Web, api: SignedClient, payload: dict[str, Any],
        fields: dict[str, str | None]) -> None:
    before = template_rows(web)
    assert_error(api.post("/api/v1/templates", payload), 422, "validation_failed", fields)
    assert template_rows(web) == before
    mine = web.template(1, name="Unchanged")
    assert_error(api.put(f"/api/v1/templates/{mine}", payload), 422, "validation_failed",
                 fields)
    assert api.get(f"/api/v1/templates/{mine}").json()["name"] == "Unchanged"


def test_template_bodies_must_be_json_objects(web: Web, api: SignedClient) -> None:
    before = template_rows(web)
    assert_error(api.post("/api/v1/templates", raw_body=b"name=x&body=y"), 400, "bad_request")
    assert_error(api.post("/api/v1/templates", ["x", "y"]), 400, "bad_request")
    assert_error(api.post("/api/v1/templates", raw_body=b'{"name":"x","body":"y"}',
                          content_type="text/plain"), 415, "unsupported_media_type")
    assert template_rows(web) == before


# -- suppression list ----------------------------------------------------------------------

SUPPRESSION_KEYS = {"id", "phone", "reason", "source", "created_at"}


def suppression_count(web: Web, tenant_id: int | None) -> int:
    return web.runtime.suppressions.list(tenant_id)[1]


def test_suppression_add_show_remove_and_a_duplicate_is_200(api: SignedClient) -> None:
    phone = fresh_phone()
    reply = api.post("/api/v1/suppressions", {"phone": spaced(phone),
                                              "reason": "  asked at the desk  "})
    assert reply.status == 201, reply
    row = reply.json()
    assert set(row) == SUPPRESSION_KEYS | {"added"}
    assert (row["phone"], row["reason"], row["source"], row["added"]) == (
        phone, "asked at the desk", "manual", True)

    again = api.post("/api/v1/suppressions", {"phone": phone[1:], "reason": "other"})
    assert again.status == 200, again
    duplicate = again.json()
    assert duplicate["added"] is False
    assert duplicate["message"] == f"{phone} is already on the suppression list."
    assert (duplicate["id"], duplicate["reason"]) == (row["id"], "asked at the desk")

    path = f"/api/v1/suppressions/{row['id']}"
    shown = api.get(path)
    assert shown.status == 200 and shown.json() == {k: row[k] for k in SUPPRESSION_KEYS}
    assert_error(api.get(path, who=TENANT2), 404, "not_found")
    assert_error(api.delete(path, who=TENANT2), 404, "not_found")
    # Each tenant keeps its own list: the same number is new to tenant 2.
    theirs = api.post("/api/v1/suppressions", {"phone": phone}, who=TENANT2)
    assert theirs.status == 201 and theirs.json()["id"] != row["id"]

    removed = api.delete(path)
    assert removed.status == 204 and removed.body == b""
    assert_error(api.get(path), 404, "not_found")
    assert_error(api.delete(path), 404, "not_found")
    assert_error(api.get("/api/v1/suppressions/abc"), 404, "not_found")
    assert api.get(f"/api/v1/suppressions/{theirs.json()['id']}", who=TENANT2).status == 200


def test_suppression_add_rejects_bad_input_with_field_messages(web: Web,
                                                               api: SignedClient) -> None:
    before = suppression_count(web, 1)
    error = assert_error(api.post("/api/v1/suppressions", {"phone": "call me maybe"}), 422,
                         "validation_failed", {"phone": "'call me maybe' is not a valid phone"},
                         invalid=["call me maybe"])
    assert "international form" in error["fields"]["phone"]
    assert_error(api.post("/api/v1/suppressions", {"phone": "   "}), 422, "validation_failed",
                 {"phone": "empty"})
    assert_error(api.post("/api/v1/suppressions", {"phone": fresh_phone(), "reason": "r" * 256}),
                 422, "validation_failed", {"reason": "at most 255"})
    assert_error(api.post("/api/v1/suppressions", {"reason": "no phone"}), 422,
                 "validation_failed")
    assert_error(api.post("/api/v1/suppressions", raw_body=b"phone=+12025550143"), 400,
                 "bad_request")
    assert suppression_count(web, 1) == before
    longest = api.post("/api/v1/suppressions", {"phone": fresh_phone(), "reason": "r" * 255})
    assert longest.status == 201 and longest.json()["reason"] == "r" * 255


@pytest.mark.parametrize(("path", "payload", "field"), [
    ("/api/v1/suppressions", {"phone": 12025550143, "reason": "ok"}, "phone"),
    ("/api/v1/suppressions", {"phone": "+12025550143", "reason": 5}, "reason"),
    ("/api/v1/suppressions/bulk", {"numbers": "+12025550143", "reason": ["x"]}, "reason"),
    ("/api/v1/suppressions/bulk", {"numbers": ["+12025550143"]}, "numbers"),
], ids=["phone not text", "reason not text", "bulk reason not text", "bulk numbers not text"])
def test_a_field_that_is_not_text_is_reported_under_its_own_name(
        api: SignedClient, path: str, payload: dict[str, Any], field: str) -> None:
    """Product bug (see report): api_lists.add_suppression marks both "phone" and "reason"
    as "must be text" whichever is wrong, and add_suppressions blames "numbers" for a
    non-text reason, so the page highlights a field that is fine."""
    assert_error(api.post(path, payload), 422, "validation_failed", {field: None})


def test_bulk_add_saves_nothing_when_a_line_is_invalid_unless_told_to_skip(
        web: Web, api: SignedClient) -> None:
    a, b = fresh_phone(), fresh_phone()
    pasted = f"{a}\nnot a phone, {spaced(b)};  \n123\n{a}"
    before = suppression_count(web, 1)
    for extra in ({}, {"skip_invalid": False}, {"skip_invalid": "yes"}):
        assert_error(api.post("/api/v1/suppressions/bulk", {"numbers": pasted,
                                                            "reason": "import", **extra}),
                     422, "validation_failed", {"numbers": "nothing was saved"},
                     invalid=["not a phone", "123"])
    assert suppression_count(web, 1) == before

    reply = api.post("/api/v1/suppressions/bulk", {"numbers": pasted, "reason": " import ",
                                                   "skip_invalid": True})
    assert reply.status == 200, reply
    assert reply.json() == {"added": 2, "already": 0, "invalid": ["not a phone", "123"]}
    assert suppression_count(web, 1) == before + 2
    for phone in (a, b):
        (row,) = api.get(f"/api/v1/suppressions?q={quote(phone)}").json()["suppressions"]
        assert (row["phone"], row["reason"], row["source"]) == (phone, "import", "manual")
    again = api.post("/api/v1/suppressions/bulk", {"numbers": f"{b}\t{a}"})
    assert again.status == 200 and again.json() == {"added": 0, "already": 2, "invalid": []}


@pytest.mark.parametrize(("numbers", "fragment"), [
    ("", "at least one"), ("\n , ;\t", "at least one"),
    ("\n".join(["+12025550143"] * 5001), "at most 5000"),
], ids=["empty", "only separators", "too many"])
def test_bulk_add_needs_one_to_5000_numbers(web: Web, api: SignedClient, numbers: str,
                                            fragment: str) -> None:
    before = suppression_count(web, 1)
    assert_error(api.post("/api/v1/suppressions/bulk", {"numbers": numbers}), 422,
                 "validation_failed", {"numbers": fragment})
    assert suppression_count(web, 1) == before


def test_suppression_list_searches_and_pages(api: SignedClient) -> None:
    marker = f"list-{uuid.uuid4().hex[:8]}"
    phones = [fresh_phone() for _ in range(7)]
    ids = [api.post("/api/v1/suppressions", {"phone": p, "reason": f"{marker} #{i}"}).json()["id"]
           for i, p in enumerate(phones)]
    seen: list[int] = []
    for page in range(1, 5):
        data = api.get(f"/api/v1/suppressions?q={marker}&per_page=3&page={page}").json()
        assert set(data) == {"suppressions", "total", "page", "per_page"}
        assert (data["total"], data["page"], data["per_page"]) == (7, page, 3)
        assert all(set(r) == SUPPRESSION_KEYS for r in data["suppressions"])
        seen += [r["id"] for r in data["suppressions"]]
    assert seen == sorted(ids, reverse=True)  # newest first, no gaps, no repeats
    by_phone = api.get(f"/api/v1/suppressions?q={phones[3][-7:]}").json()
    assert [r["id"] for r in by_phone["suppressions"]] == [ids[3]]
    by_reason = api.get(f"/api/v1/suppressions?q={marker}%20%236").json()
    assert [r["id"] for r in by_reason["suppressions"]] == [ids[6]]
    assert api.get(f"/api/v1/suppressions?q={marker}", who=TENANT2).json()["total"] == 0
    clamped = api.get(f"/api/v1/suppressions?q={marker}&per_page=1000&page=-3").json()
    assert (clamped["per_page"], clamped["page"], len(clamped["suppressions"])) == (200, 1, 7)
    assert_error(api.get("/api/v1/suppressions?q=" + "a" * 101), 422, "validation_failed",
                 {"q": "100"})
    assert api.get("/api/v1/suppressions?q=" + "a" * 100).status == 200
    assert_error(api.get("/api/v1/suppressions?per_page=lots"), 422, "validation_failed",
                 {"per_page": None})


def test_suppression_search_finds_a_number_however_it_is_typed(web: Web,
                                                               api: SignedClient) -> None:
    """A number is stored in E.164; people search it the way they write it."""
    phone = fresh_phone()  # +1AAA555NNNN
    area, exchange, line = phone[2:5], phone[5:8], phone[8:]
    added = api.post("/api/v1/suppressions", {"phone": phone}).json()["id"]
    for typed in (f"+1 {area} {exchange} {line}", f"({area}) {exchange}-{line}",
                  f"{area}.{exchange}.{line}", f"1-{area}-{exchange}-{line}", spaced(phone),
                  f"{exchange}-{line}", phone):
        found = api.get(f"/api/v1/suppressions?q={quote(typed)}").json()["suppressions"]
        assert [r["id"] for r in found] == [added], typed
    assert api.get(f"/api/v1/suppressions?q={quote(spaced(phone))}",
                   who=TENANT2).json()["total"] == 0
    # A national number is read with the tenant's region (here the operator's override).
    uk = SuppressionService(web.runtime.engine, web.runtime.tables,
                            regions=RegionResolver(web.runtime.booknetic, override="GB"))
    row = uk.add(1, "+44 20 7946 0018")
    rows, total = uk.list(1, query="020 7946 0018")
    assert total == 1 and rows[0]["id"] == row["id"]
    assert uk.list(1, query="020 7946 0019")[1] == 0
