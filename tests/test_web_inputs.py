"""Malformed input is refused with a 4xx naming the field, never a 500, and changes nothing
(sidecar/web/inputs.py, the id range in sidecar/schema.py, the segment and campaign
validators). Each case here answered 500 before: RecursionError, MariaDB error 1064 for a
huge page, DataError for ids above the INT columns, UnicodeEncodeError for lone surrogates.
tests/test_web_garbage.py throws generated garbage at every route on top of these.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import MariaDBServer
from tests.security_support import ID_ENDPOINTS, Endpoint, Sec, open_sec
from tests.web_support import (
    Reply,
    SignedClient,
    Web,
    assert_error,
    decode_identity,
    fresh_phone,
    identity_b64,
    web_fixture,
    with_raw_identity,
)

HUGE = 2**70
HUGE_PAGE = "100000000000000000000"
SURROGATE = "\ud800"


@pytest.fixture(scope="module")
def web(mariadb: MariaDBServer) -> Iterator[Web]:
    yield from web_fixture(mariadb)


@pytest.fixture(scope="module")
def sec(web: Web) -> Iterator[Sec]:
    yield from open_sec(web)


@pytest.fixture
def api(web: Web) -> SignedClient:
    return web.client


def refused(web: Web, send: Any, status: int, code: str,
            fields: dict[str, str | None] | None = None) -> dict[str, Any]:
    """Send, check the JSON refusal, and that no row and no message changed."""
    before = web.state()
    error = assert_error(send(), status, code, fields)
    assert web.state() == before, "a refused request changed something"
    return error


def page_refused(web: Web, reply: Reply, status: int, fragment: str) -> None:
    assert reply.status == status, reply
    assert reply.mimetype == "text/html", reply
    assert fragment in reply.text, reply


# -- JSON nested deeper than any form ---------------------------------------------------


@pytest.mark.parametrize("depth", [33, 5000, 100_000])
@pytest.mark.parametrize("path", ["/api/v1/campaigns", "/api/v1/segments/preview",
                                  "/api/v1/templates", "/api/v1/suppressions"])
def test_deeply_nested_json_is_400(web: Web, api: SignedClient, path: str, depth: int) -> None:
    deep = b"[" * depth + b"]" * depth
    refused(web, lambda: api.post(path, raw_body=deep), 400, "bad_request")
    inside = (b'{"segment": "repeat", "name": "Deep", "body": "Hi", "filters": {"service_ids": '
              + deep + b"}}")
    error = refused(web, lambda: api.post(path, raw_body=inside), 400, "bad_request")
    assert "nested" in error["message"]


def test_json_that_python_accepts_but_json_does_not_is_400(web: Web, api: SignedClient) -> None:
    for raw in (b'{"segment": "repeat", "limit": NaN}', b'{"limit": Infinity}',
                b'{"a": 1' + b"9" * 5000 + b"}", b"\xff\xfe\x00garbage"):
        refused(web, lambda raw=raw: api.post("/api/v1/segments/preview", raw_body=raw),
                400, "bad_request")


def test_a_depth_our_forms_use_still_works(api: SignedClient) -> None:
    reply = api.post("/api/v1/segments/preview",
                     {"segment": "repeat", "filters": {"service_ids": [1], "statuses": []}})
    assert reply.status == 200, reply


# -- pages beyond any table ----------------------------------------------------------------


def test_a_huge_page_number_is_422_on_every_list(web: Web, sec: Sec, api: SignedClient) -> None:
    logs = sec.victims["logs"]
    for path in ("/api/v1/campaigns", "/api/v1/suppressions", "/api/v1/customers",
                 f"/api/v1/campaigns/{logs}/logs"):
        for page in (HUGE_PAGE, "1000001", "9" * 5000):
            refused(web, lambda path=path, page=page: api.get(f"{path}?page={page}"), 422,
                    "validation_failed", {"page": None})
    for path in ("/ui/campaigns", "/ui/", "/ui/suppressions", f"/ui/campaigns/{logs}/logs"):
        page_refused(web, api.get(f"{path}?page={HUGE_PAGE}"), 422, "page must be at most")
    # The last page that can exist still answers (empty), and below 1 still means 1.
    assert api.get("/api/v1/campaigns?page=1000000").json()["campaigns"] == []
    assert api.get("/api/v1/campaigns?page=-" + HUGE_PAGE).json()["page"] == 1


# -- ids beyond the INT columns ------------------------------------------------------------


@pytest.mark.parametrize("ep", ID_ENDPOINTS, ids=[e.name for e in ID_ENDPOINTS])
def test_an_id_that_cannot_exist_in_the_path_is_404(web: Web, sec: Sec, api: SignedClient,
                                                      ep: Endpoint) -> None:
    for bad in (HUGE, 2**31, 0, "9" * 5000):
        before = web.state()
        reply = api.request(ep.method, ep.path(bad), ep.payload())  # type: ignore[arg-type]
        if ep.is_page:
            page_refused(web, reply, 404, "No such page")
        else:
            assert_error(reply, 404, "not_found")
        assert web.state() == before


@pytest.mark.parametrize(("field", "value"), [
    ("template_id", str(HUGE)), ("template_id", str(2**31)), ("service_ids", f"[{HUGE}]"),
    ("location_ids", f"[1, {2**31}]"), ("service_ids", "[1e400]"), ("service_ids", "[[]]"),
    ("location_ids", '[{"a": 1}]'), ("min_appointments", str(HUGE)),
])
def test_ids_and_numbers_beyond_their_columns_are_422(web: Web, api: SignedClient, field: str,
                                                      value: str) -> None:
    """`value` is JSON text: 1e400 is a valid JSON number that Python reads as infinity."""
    if field == "template_id":
        fields = f'"{field}": {value}'
    else:
        fields = f'"filters": {{"{field}": {value}}}'
        preview = f'{{"segment": "repeat", {fields}}}'.encode()
        refused(web, lambda: api.post("/api/v1/segments/preview", raw_body=preview),
                422, "validation_failed", {field: None})
    campaign = f'{{"name": "Range", "segment": "repeat", "body": "Hi", {fields}}}'.encode()
    refused(web, lambda: api.post("/api/v1/campaigns", raw_body=campaign), 422,
            "validation_failed", {field: None})


def test_customer_ids_beyond_the_column_are_422(web: Web, api: SignedClient) -> None:
    refused(web, lambda: api.post("/api/v1/sms/send", {"customer_ids": [1, HUGE],
                                                      "body": "Hi"}),
            422, "validation_failed", {"customer_ids": None})


# -- text that is not text -----------------------------------------------------------------


@pytest.mark.parametrize(("path", "payload", "field"), [
    ("/api/v1/campaigns", {"name": f"Sale {SURROGATE}", "segment": "repeat", "body": "Hi"},
     "name"),
    ("/api/v1/campaigns", {"name": "Sale", "segment": "repeat", "body": f"Hi {SURROGATE}"},
     "body"),
    ("/api/v1/campaigns", {"name": "Sale", "segment": "repeat", "body": "Hi",
                           "filters": {"statuses": [f"x{SURROGATE}"]}}, "statuses"),
    ("/api/v1/segments/preview", {"segment": SURROGATE}, "segment"),
    ("/api/v1/templates", {"name": SURROGATE, "body": "Hi"}, "name"),
    ("/api/v1/suppressions", {"phone": "+12025550100", "reason": "a\udfffb"}, "reason"),
    ("/api/v1/suppressions/bulk", {"numbers": f"+12025550100\n{SURROGATE}"}, "numbers"),
    ("/api/v1/sms/test", {"phone": "+12025550100", "body": f"Hi {SURROGATE}"}, "body"),
    ("/api/v1/sms/send", {"numbers": "+12025550100", "body": SURROGATE}, "body"),
    ("/api/v1/campaigns", {"name": "Sale", "segment": "repeat", "body": "Hi",
                           f"k{SURROGATE}": 1}, "json"),
])
def test_a_lone_surrogate_is_422_naming_the_field(web: Web, api: SignedClient, path: str,
                                                  payload: dict[str, Any], field: str) -> None:
    error = refused(web, lambda: api.post(path, payload), 422, "validation_failed",
                    {field: "not valid text"})
    assert SURROGATE not in error["message"]


def test_valid_unicode_is_kept(api: SignedClient) -> None:
    """The check is for unpaired surrogates only: emoji (a surrogate pair in JSON's
    escapes) and every other character are stored as sent."""
    name = "Sale 😀 Łódź 夏のセール \u202e"
    reply = api.post("/api/v1/templates", {"name": name, "body": "Hi 😀"})
    assert reply.status == 201, reply
    assert reply.json()["name"] == name
    # A pair of surrogates is one character: JSON's escapes for 😀 arrive as "\ud83d\ude00".
    raw = json.dumps({"phone": fresh_phone(), "reason": "\ud83d\ude00 ok"}).encode()
    assert b"\\ud83d\\ude00" in raw
    reply = api.post("/api/v1/suppressions", raw_body=raw)
    assert reply.status == 201 and reply.json()["reason"] == "😀 ok", reply


# -- a signed identity that cannot be stored or shown --------------------------------------


@pytest.mark.parametrize(("field", "value"), [
    ("display_name", f"Owner {SURROGATE}"), ("user_login", SURROGATE), ("user_id", HUGE),
    ("user_id", 2**31), ("user_id", -1), ("tenant_id", HUGE),
])
def test_an_identity_that_cannot_be_stored_or_shown_is_401(web: Web, api: SignedClient,
                                                           field: str, value: Any) -> None:
    """Correctly signed, so only the identity's own checks can refuse it — before it gets
    into a page (UnicodeEncodeError) or a created_by column (DataError)."""
    page = api.prepare("GET", "/ui/campaigns")
    page = with_raw_identity(page, identity_b64({**decode_identity(page), field: value}))
    page_refused(web, api.send(page), 401, "Request refused: identity field")
    write = api.prepare("POST", "/api/v1/templates", {"name": "T", "body": "Hi"})
    write = with_raw_identity(write, identity_b64({**decode_identity(write), field: value}))
    refused(web, lambda: api.send(write), 401, "unauthorized")
