"""The JSON API and the bridge endpoints, end to end: real app, real MariaDB, fake Twilio.

Every request is signed as the WordPress bridge signs it (tests/web_support.py). The data is
the SaaS sample set (tenants 1, 2, 3 and NULL-tenant rows); tenant 3 is reserved for the
list/pagination test so its counts are exact. Sending goes through the unpatched twilio
library to the fake Twilio over HTTP; waiting is polling with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sidecar.segments import SEGMENTS, SegmentQuery
from sidecar.sms_text import MAX_BODY_CHARS
from tests.conftest import MariaDBServer
from tests.web_support import (
    CRON_CALLER,
    SUPER,
    TENANT1,
    TENANT2,
    TENANT3,
    Reply,
    SignedClient,
    Web,
    Who,
    assert_error,
    close_web,
    open_web,
    settle,
    wait_for,
    web_fixture,
)

CAMPAIGN_KEYS = {"id", "tenant_id", "kind", "name", "segment", "segment_label", "filters", "body",
                 "template_id", "status", "status_reason", "total", "sent", "failed", "pending",
                 "created_by", "created_at", "updated_at", "queued_at", "started_at",
                 "finished_at", "actions"}
PROGRESS_KEYS = {"id", "status", "status_reason", "total", "sent", "failed", "pending",
                 "started_at", "finished_at", "updated_at"}
DEFAULT_FILTERS = {"service_ids": [], "location_ids": [], "statuses": [],
                   "min_appointments": None, "exclude_suppressed": True}


@pytest.fixture(scope="module")
def web(mariadb: MariaDBServer) -> Iterator[Web]:
    # Small batches, few in flight: a pause leaves pending rows to resume.
    yield from web_fixture(mariadb, env={"BKNTC_SMS_BATCH_SIZE": "5",
                                         "BKNTC_SMS_SEND_CONCURRENCY": "2"})


@pytest.fixture
def api(web: Web) -> SignedClient:
    return web.client


def new_campaign(api: SignedClient, who: Who = TENANT1, **fields: Any) -> dict[str, Any]:
    payload = {"name": "Spring offer", "segment": "repeat",
               "body": "Hi {customer_first_name}, 10% off this week!", **fields}
    reply = api.post("/api/v1/campaigns", payload, who=who)
    assert reply.status == 201, reply
    created: dict[str, Any] = reply.json()
    return created


def progress(api: SignedClient, cid: int, who: Who = TENANT1) -> dict[str, Any]:
    reply = api.get(f"/api/v1/campaigns/{cid}/progress", who=who)
    assert reply.status == 200, reply
    data: dict[str, Any] = reply.json()
    return data


def wait_finished(api: SignedClient, cid: int, who: Who = TENANT1,
                  timeout: float = 30.0) -> dict[str, Any]:
    return wait_for(lambda: (p if (p := progress(api, cid, who))["status"]
                             in ("completed", "failed") else None),
                    timeout=timeout, what=f"campaign {cid} to finish")


# -- health, status, segments ------------------------------------------------------------


def test_healthz_is_the_only_unsigned_endpoint(web: Web) -> None:
    client = web.app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert client.get("/api/v1/status").status_code == 401


def test_status_reports_twilio_identity_and_mode(web: Web, api: SignedClient) -> None:
    reply = api.get("/api/v1/status")
    assert reply.status == 200
    data = reply.json()
    assert set(data) == {"twilio", "halt", "booknetic_version", "multi_tenant", "identity"}
    assert data["halt"] is None and data["multi_tenant"] is True
    assert data["booknetic_version"] == web.shop.ds.options["bkntc_plugin_version"]
    twilio = data["twilio"]
    assert twilio["ready"] is True and twilio["active"] and twilio["configured"]
    assert twilio["problem"] is None and twilio["sender"] == "+15005550006"
    assert data["identity"] == {"user_id": TENANT1.user_id, "user_login": TENANT1.user_login,
                                "display_name": TENANT1.display_name, "tenant_id": 1,
                                "caps": sorted(TENANT1.caps)}
    # Never the auth token, never the whole account SID.
    assert web.shop.ds.options["bkntc_sms_auth_token"] not in reply.text
    assert web.shop.ds.options["bkntc_sms_account_sid"] not in reply.text
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["Cache-Control"] == "no-store"


def test_status_for_the_super_admin_has_no_tenant(api: SignedClient) -> None:
    data = api.get("/api/v1/status", who=SUPER).json()
    assert data["identity"]["tenant_id"] is None


def test_segments_lists_every_segment_and_only_the_tenants_filters(
        web: Web, api: SignedClient) -> None:
    ds = web.shop.ds
    for who in (TENANT1, TENANT2, SUPER):
        reply = api.get("/api/v1/segments", who=who)
        assert reply.status == 200
        data = reply.json()
        assert [s["key"] for s in data["segments"]] == list(SEGMENTS)
        assert all(set(s) == {"key", "label", "description"} and s["label"]
                   for s in data["segments"])
        filters = data["filters"]
        assert sorted((s["id"], s["name"]) for s in filters["services"]) == sorted(
            (s["id"], s["name"]) for s in ds.services_of(who.tenant_id))
        assert sorted((x["id"], x["name"]) for x in filters["locations"]) == sorted(
            (x["id"], x["name"]) for x in ds.locations_of(who.tenant_id))
        assert filters["statuses"] == sorted(
            {a["status"] for a in ds.appointments_of(who.tenant_id)})


# -- preview -------------------------------------------------------------------------------

PREVIEW_CASES: list[tuple[Who, str, dict[str, Any], int | None]] = [
    (TENANT1, "all_with_phone", {}, None),
    (TENANT2, "repeat", {}, None),
    (SUPER, "all_with_phone", {}, 100),
    (TENANT1, "booked_last_30", {"service_ids": ["FIRST_SERVICE"]}, 5),
    (TENANT3, "first_time", {"min_appointments": 1, "exclude_suppressed": False}, 0),
    (TENANT1, "inactive_90", {"statuses": ["approved"]}, 3),
    (TENANT2, "canceled_recent", {"location_ids": ["FIRST_LOCATION"]}, None),
    (TENANT1, "all_with_phone", {"statuses": ["approved", "pending"], "min_appointments": 2},
     100),
]


@pytest.mark.parametrize(("who", "segment", "filters", "limit"), PREVIEW_CASES,
                         ids=[f"t{c[0].tenant_id}-{c[1]}-{i}" for i, c in
                              enumerate(PREVIEW_CASES)])
def test_preview_matches_the_segment_service(web: Web, api: SignedClient, who: Who, segment: str,
                                             filters: dict[str, Any], limit: int | None) -> None:
    ds = web.shop.ds
    concrete: dict[str, Any] = {}
    for key, value in filters.items():
        if value == ["FIRST_SERVICE"]:
            value = [ds.services_of(who.tenant_id)[0]["id"]]
        elif value == ["FIRST_LOCATION"]:
            value = [ds.locations_of(who.tenant_id)[0]["id"]]
        concrete[key] = value
    payload: dict[str, Any] = {"segment": segment, "filters": concrete}
    if limit is not None:
        payload["limit"] = limit
    reply = api.post("/api/v1/segments/preview", payload, who=who)
    assert reply.status == 200, reply
    expected = web.runtime.segments.preview(
        SegmentQuery.from_filters(segment, concrete, who.tenant_id),
        limit=10 if limit is None else limit).to_dict()
    assert reply.json() == expected
    data = reply.json()
    assert set(data) == {"segment", "count", "sample", "skipped_invalid_phone",
                         "skipped_duplicate_phone", "skipped_suppressed"}
    assert len(data["sample"]) <= (10 if limit is None else limit)
    assert all(set(s) == {"customer_id", "first_name", "last_name", "phone"}
               and s["phone"].startswith("+") for s in data["sample"])


def test_preview_differs_between_tenants_and_never_shows_another_tenants_customer(
        web: Web, api: SignedClient) -> None:
    ds = web.shop.ds
    for who in (TENANT1, TENANT2, SUPER):
        sample = api.post("/api/v1/segments/preview", {"segment": "all_with_phone",
                                                       "limit": 100}, who=who).json()["sample"]
        own = {c["id"] for c in ds.customers_of(who.tenant_id)}
        assert sample and {s["customer_id"] for s in sample} <= own


PREVIEW_INVALID: list[tuple[str, dict[str, Any], set[str]]] = [
    ("unknown segment", {"segment": "vip_customers"}, {"segment"}),
    ("missing segment", {"filters": {}}, {"segment"}),
    ("segment not text", {"segment": ["repeat"]}, {"segment"}),
    ("service_ids not a list", {"segment": "repeat", "filters": {"service_ids": "1"}},
     {"service_ids"}),
    ("service_ids not ids", {"segment": "repeat", "filters": {"service_ids": ["x"]}},
     {"service_ids"}),
    ("location_ids zero", {"segment": "repeat", "filters": {"location_ids": [0]}},
     {"location_ids"}),
    ("location_ids bool", {"segment": "repeat", "filters": {"location_ids": [True]}},
     {"location_ids"}),
    ("statuses not a list", {"segment": "repeat", "filters": {"statuses": "approved"}},
     {"statuses"}),
    ("statuses not text", {"segment": "repeat", "filters": {"statuses": [1]}}, {"statuses"}),
    ("min_appointments text", {"segment": "repeat", "filters": {"min_appointments": "many"}},
     {"min_appointments"}),
    ("min_appointments negative", {"segment": "repeat", "filters": {"min_appointments": -1}},
     {"min_appointments"}),
    ("min_appointments fraction", {"segment": "repeat", "filters": {"min_appointments": 1.5}},
     {"min_appointments"}),
    ("exclude_suppressed text", {"segment": "repeat",
                                 "filters": {"exclude_suppressed": "yes"}},
     {"exclude_suppressed"}),
    ("several at once", {"segment": "nope", "filters": {"service_ids": ["x"],
                                                        "statuses": [2]}},
     {"segment", "service_ids", "statuses"}),
    ("limit too big", {"segment": "repeat", "limit": 101}, {"limit"}),
    ("limit negative", {"segment": "repeat", "limit": -1}, {"limit"}),
    ("limit text", {"segment": "repeat", "limit": "5"}, {"limit"}),
    ("limit bool", {"segment": "repeat", "limit": True}, {"limit"}),
    # Product bug (see report): a non-object `filters` makes preview crash with a 500.
    ("filters a list", {"segment": "repeat", "filters": ["x"]}, {"filters"}),
    ("filters text", {"segment": "repeat", "filters": "service_ids=1"}, {"filters"}),
]


@pytest.mark.parametrize(("payload", "fields"), [(p, f) for _, p, f in PREVIEW_INVALID],
                         ids=[c[0] for c in PREVIEW_INVALID])
def test_preview_rejects_bad_input_with_field_messages(api: SignedClient, payload: dict[str, Any],
                                                       fields: set[str]) -> None:
    reply = api.post("/api/v1/segments/preview", payload)
    assert_error(reply, 422, "validation_failed", dict.fromkeys(fields))


def test_preview_needs_a_json_object(api: SignedClient) -> None:
    assert_error(api.post("/api/v1/segments/preview", raw_body=b"segment=repeat"), 400,
                 "bad_request")
    assert_error(api.post("/api/v1/segments/preview", ["repeat"]), 400, "bad_request")
    assert_error(api.post("/api/v1/segments/preview"), 400, "bad_request")
    assert_error(api.post("/api/v1/segments/preview", raw_body=b'{"segment":"repeat"}',
                          content_type="text/plain"), 415, "unsupported_media_type")


def test_preview_for_an_unknown_tenant_is_not_found(api: SignedClient) -> None:
    reply = api.post("/api/v1/segments/preview", {"segment": "repeat"},
                     who=TENANT1.in_tenant(999))
    assert_error(reply, 404, "not_found")


# -- create, show, list ----------------------------------------------------------------


def test_create_returns_the_new_draft(web: Web, api: SignedClient) -> None:
    service_id = web.shop.ds.services_of(1)[0]["id"]
    reply = api.post("/api/v1/campaigns", {
        "name": "  Spring offer  ", "segment": "booked_last_90",
        "body": "Hi {customer_first_name}!",
        "filters": {"service_ids": [service_id, str(service_id)], "statuses": [" approved "],
                    "min_appointments": "2", "exclude_suppressed": False}})
    assert reply.status == 201, reply
    created = reply.json()
    assert set(created) == CAMPAIGN_KEYS
    assert created["name"] == "Spring offer"  # trimmed
    assert created["status"] == "draft" and created["tenant_id"] == 1
    assert created["created_by"] == TENANT1.user_id and created["kind"] == "campaign"
    assert created["segment"] == "booked_last_90"
    assert created["segment_label"] == SEGMENTS["booked_last_90"].label
    assert created["filters"] == {"service_ids": [service_id], "location_ids": [],
                                  "statuses": ["approved"], "min_appointments": 2,
                                  "exclude_suppressed": False}
    assert (created["total"], created["sent"], created["failed"], created["pending"]) == (
        0, 0, 0, 0)
    assert created["actions"] == ["edit", "delete", "send", "duplicate"]
    shown = api.get(f"/api/v1/campaigns/{created['id']}")
    assert shown.status == 200 and shown.json() == created


def test_create_without_filters_stores_the_defaults(api: SignedClient) -> None:
    created = new_campaign(api)
    assert created["filters"] == DEFAULT_FILTERS


def test_a_body_of_exactly_the_limit_is_accepted(api: SignedClient) -> None:
    body = "x" * MAX_BODY_CHARS
    created = new_campaign(api, body=body)
    assert created["body"] == body
    too_long = body + "x"
    assert_error(api.post("/api/v1/campaigns", {"name": "n", "segment": "repeat",
                                                "body": too_long}),
                 422, "validation_failed", {"body": "1601 characters"})


VALID = {"name": "Spring", "segment": "repeat", "body": "Hello {customer_first_name}"}
CREATE_INVALID: list[tuple[str, dict[str, Any], dict[str, str | None]]] = [
    ("empty name", {**VALID, "name": ""}, {"name": "give the campaign a name"}),
    ("blank name", {**VALID, "name": "   "}, {"name": "give the campaign a name"}),
    ("missing name", {k: v for k, v in VALID.items() if k != "name"}, {"name": None}),
    ("name not text", {**VALID, "name": 42}, {"name": None}),
    ("name too long", {**VALID, "name": "n" * 192}, {"name": "191"}),
    ("empty body", {**VALID, "body": ""}, {"body": "empty"}),
    ("missing body", {k: v for k, v in VALID.items() if k != "body"}, {"body": None}),
    ("oversized body", {**VALID, "body": "y" * 1601}, {"body": "limit is 1600"}),
    ("unknown shortcode", {**VALID, "body": "Hi {coupon_code}"},
     {"body": "unknown shortcode {coupon_code}"}),
    ("unknown segment", {**VALID, "segment": "vip"}, {"segment": "unknown segment"}),
    ("missing segment", {k: v for k, v in VALID.items() if k != "segment"}, {"segment": None}),
    ("filters not an object", {**VALID, "filters": ["repeat"]}, {"filters": None}),
    ("service ids not ids", {**VALID, "filters": {"service_ids": ["one"]}},
     {"service_ids": None}),
    ("location ids not a list", {**VALID, "filters": {"location_ids": 3}},
     {"location_ids": None}),
    ("statuses not text", {**VALID, "filters": {"statuses": [{"a": 1}]}}, {"statuses": None}),
    ("status too long", {**VALID, "filters": {"statuses": ["s" * 51]}}, {"statuses": None}),
    ("min appointments text", {**VALID, "filters": {"min_appointments": "lots"}},
     {"min_appointments": None}),
    ("exclude_suppressed not bool", {**VALID, "filters": {"exclude_suppressed": "no"}},
     {"exclude_suppressed": None}),
    ("template id text", {**VALID, "template_id": "abc"}, {"template_id": None}),
    ("everything wrong", {"name": "", "body": "", "segment": "x"},
     {"name": None, "body": None, "segment": None}),
]


@pytest.mark.parametrize(("payload", "fields"), [(p, f) for _, p, f in CREATE_INVALID],
                         ids=[c[0] for c in CREATE_INVALID])
def test_create_rejects_bad_input_with_field_messages(web: Web, api: SignedClient,
                                                      payload: dict[str, Any],
                                                      fields: dict[str, str | None]) -> None:
    before = len(web.campaign_rows())
    error = assert_error(api.post("/api/v1/campaigns", payload), 422, "validation_failed",
                         fields)
    assert error["message"]
    assert len(web.campaign_rows()) == before


@pytest.mark.parametrize(("raw", "content_type", "status", "code"), [
    (b"name=Spring&segment=repeat", "application/json", 400, "bad_request"),
    (b'{"name": "Spring", ', "application/json", 400, "bad_request"),
    (b'["Spring"]', "application/json", 400, "bad_request"),
    (b"", "application/json", 400, "bad_request"),
    (b'{"name":"Spring","segment":"repeat","body":"Hi"}', "text/plain", 415,
     "unsupported_media_type"),
    (b"name=Spring&segment=repeat&body=Hi", "application/x-www-form-urlencoded", 415,
     "unsupported_media_type"),
    (b'{"name":"Spring","segment":"repeat","body":"Hi"}', None, 415, "unsupported_media_type"),
], ids=["form-as-json", "truncated-json", "json-array", "empty", "text-plain", "form",
        "no-content-type"])
def test_create_needs_a_json_object_body(web: Web, api: SignedClient, raw: bytes,
                                         content_type: str | None, status: int,
                                         code: str) -> None:
    before = len(web.campaign_rows())
    reply = api.post("/api/v1/campaigns", raw_body=raw, content_type=content_type)
    assert_error(reply, status, code)
    assert len(web.campaign_rows()) == before


def test_show_unknown_ids_and_unknown_endpoints(api: SignedClient) -> None:
    assert_error(api.get("/api/v1/campaigns/987654"), 404, "not_found")
    assert_error(api.get("/api/v1/campaigns/abc"), 404, "not_found")
    assert_error(api.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(api.request("PATCH", "/api/v1/campaigns", {"name": "x"}), 405,
                 "method_not_allowed")


def test_a_request_over_the_size_limit_is_refused(api: SignedClient) -> None:
    big = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert_error(api.post("/api/v1/campaigns", raw_body=big), 413, "too_large")


def test_list_pages_and_filters_by_status(web: Web, api: SignedClient) -> None:
    """Tenant 3 is used by this test only, so every count is exact."""
    drafts = [new_campaign(api, TENANT3, name=f"Draft {i}")["id"] for i in range(5)]
    failed = new_campaign(api, TENANT3, name="Nobody", segment="all_with_phone",
                          filters={"statuses": ["no-such-status"]})["id"]
    sent = api.post(f"/api/v1/campaigns/{failed}/send", who=TENANT3)
    assert sent.status == 200 and sent.json()["status"] == "failed"
    settle()
    paused = web.campaign(3, name="Paused one", status="paused")
    everything = sorted([*drafts, failed, paused], reverse=True)

    seen: list[int] = []
    for page in range(1, 10):
        data = api.get(f"/api/v1/campaigns?per_page=3&page={page}", who=TENANT3).json()
        assert set(data) == {"campaigns", "total", "page", "per_page"}
        assert (data["total"], data["page"], data["per_page"]) == (7, page, 3)
        if not data["campaigns"]:
            break
        assert len(data["campaigns"]) <= 3
        assert all(set(c) == CAMPAIGN_KEYS and c["tenant_id"] == 3 for c in data["campaigns"])
        seen += [c["id"] for c in data["campaigns"]]
    assert seen == everything  # newest first, no gaps, no repeats

    def ids(query: str) -> tuple[list[int], int]:
        data = api.get(f"/api/v1/campaigns{query}", who=TENANT3).json()
        return [c["id"] for c in data["campaigns"]], data["total"]

    assert ids("?status=draft") == (sorted(drafts, reverse=True), 5)
    assert ids("?status=failed") == ([failed], 1)
    assert ids("?status=paused") == ([paused], 1)
    assert ids("?status=completed") == ([], 0)
    assert ids("?status=") == (everything, 7)
    assert ids("") == (everything, 7)
    assert ids("?status=draft&per_page=2&page=3") == ([min(drafts)], 5)

    clamp = api.get("/api/v1/campaigns?per_page=1000&page=-4", who=TENANT3).json()
    assert (clamp["per_page"], clamp["page"], len(clamp["campaigns"])) == (100, 1, 7)
    one = api.get("/api/v1/campaigns?per_page=0", who=TENANT3).json()
    assert one["per_page"] == 1 and len(one["campaigns"]) == 1
    assert api.get("/api/v1/campaigns?page=99", who=TENANT3).json()["campaigns"] == []

    assert_error(api.get("/api/v1/campaigns?status=sent", who=TENANT3), 422,
                 "validation_failed", {"status": "unknown status"})
    assert_error(api.get("/api/v1/campaigns?status=DRAFT", who=TENANT3), 422,
                 "validation_failed", {"status": None})
    assert_error(api.get("/api/v1/campaigns?page=two", who=TENANT3), 422,
                 "validation_failed", {"page": None})


def test_a_bad_per_page_is_reported_under_its_own_name(api: SignedClient) -> None:
    """Product bug (see report): api.page_args() names "page" for a bad per_page too."""
    assert_error(api.get("/api/v1/campaigns?per_page=1.5"), 422, "validation_failed",
                 {"per_page": None})


# -- update, delete, duplicate -------------------------------------------------------------


def test_update_a_draft(web: Web, api: SignedClient) -> None:
    created = new_campaign(api)
    location = web.shop.ds.locations_of(1)[0]["id"]
    reply = api.put(f"/api/v1/campaigns/{created['id']}", {
        "name": "Renamed", "segment": "first_time", "body": "Welcome {customer_name}",
        "filters": {"location_ids": [location]}})
    assert reply.status == 200, reply
    updated = reply.json()
    assert set(updated) == CAMPAIGN_KEYS
    assert (updated["id"], updated["name"], updated["segment"], updated["body"]) == (
        created["id"], "Renamed", "first_time", "Welcome {customer_name}")
    assert updated["filters"]["location_ids"] == [location]
    assert updated["status"] == "draft"
    assert api.get(f"/api/v1/campaigns/{created['id']}").json() == updated


def test_update_validates_and_refuses_unknown_ids(api: SignedClient) -> None:
    created = new_campaign(api)
    path = f"/api/v1/campaigns/{created['id']}"
    assert_error(api.put(path, {"name": "", "segment": "repeat", "body": "x" * 1601}), 422,
                 "validation_failed", {"name": None, "body": "1601"})
    assert_error(api.put(path, {**VALID, "body": "Hi {first}"}), 422, "validation_failed",
                 {"body": "{first}"})
    assert_error(api.put(path, raw_body=b"not json"), 400, "bad_request")
    assert_error(api.put(path, raw_body=b'{"name":"x"}', content_type="text/html"), 415,
                 "unsupported_media_type")
    assert api.get(path).json() == created  # nothing changed
    assert_error(api.put("/api/v1/campaigns/987654", VALID), 404, "not_found")


def test_delete_a_draft(api: SignedClient) -> None:
    created = new_campaign(api)
    path = f"/api/v1/campaigns/{created['id']}"
    reply = api.delete(path)
    assert reply.status == 204 and reply.body == b""
    assert_error(api.get(path), 404, "not_found")
    assert_error(api.delete(path), 404, "not_found")


def test_duplicate_makes_a_fresh_draft(api: SignedClient) -> None:
    created = new_campaign(api, name="Original", segment="booked_last_7",
                           filters={"statuses": ["approved"]})
    reply = api.post(f"/api/v1/campaigns/{created['id']}/duplicate")
    assert reply.status == 201, reply
    copy = reply.json()
    assert set(copy) == CAMPAIGN_KEYS
    assert copy["id"] != created["id"] and copy["name"] == "Copy of Original"
    assert copy["status"] == "draft" and copy["total"] == 0
    for key in ("segment", "body", "filters", "tenant_id", "kind"):
        assert copy[key] == created[key], key
    assert_error(api.post("/api/v1/campaigns/987654/duplicate"), 404, "not_found")


def test_progress_shape_and_unknown_ids(api: SignedClient) -> None:
    created = new_campaign(api)
    data = progress(api, created["id"])
    assert set(data) == PROGRESS_KEYS
    assert data["id"] == created["id"] and data["status"] == "draft"
    assert_error(api.get("/api/v1/campaigns/987654/progress"), 404, "not_found")


def test_transitions_that_do_not_apply_are_conflicts(api: SignedClient) -> None:
    draft = new_campaign(api)["id"]
    for action in ("pause", "resume"):
        error = assert_error(api.post(f"/api/v1/campaigns/{draft}/{action}"), 409, "conflict")
        assert "draft" in error["message"]
        assert_error(api.post(f"/api/v1/campaigns/987654/{action}"), 404, "not_found")
    assert_error(api.post("/api/v1/campaigns/987654/send"), 404, "not_found")
    assert_error(api.delete("/api/v1/campaigns/987654"), 404, "not_found")


# -- sending -------------------------------------------------------------------------------


def test_send_delivers_every_recipient_to_the_fake_twilio(web: Web, api: SignedClient) -> None:
    settle()
    marker = "T2-repeat-send"
    created = new_campaign(api, TENANT2, segment="repeat",
                           body=marker + " hello {customer_first_name}")
    preview = api.post("/api/v1/segments/preview", {"segment": "repeat", "limit": 100},
                       who=TENANT2).json()
    assert preview["count"] > 0
    reply = api.post(f"/api/v1/campaigns/{created['id']}/send", who=TENANT2)
    assert reply.status == 200, reply
    queued = reply.json()
    assert set(queued) == CAMPAIGN_KEYS
    assert queued["status"] == "queued"
    assert queued["total"] == queued["pending"] == preview["count"]

    done = wait_finished(api, created["id"], TENANT2)
    assert done["status"] == "completed"
    assert done["sent"] + done["failed"] == done["total"] == preview["count"]
    assert done["pending"] == 0 and done["sent"] > 0

    def mine() -> list[Any]:
        return [m for m in web.shop.fake.received() if m.body.startswith(marker)]

    messages = wait_for(lambda: (m if len(m := mine()) == done["sent"] else None),
                        what="the fake to hold every sent message")
    names = {s["phone"]: s["first_name"] for s in preview["sample"]}
    assert {m.to for m in messages} <= set(names)
    assert len({m.to for m in messages}) == len(messages)  # one message per phone
    for message in messages:
        assert message.body == f"{marker} hello {names[message.to]}"
        assert message.from_ == "+15005550006"


def test_a_segment_without_recipients_fails_with_a_reason(api: SignedClient) -> None:
    created = new_campaign(api, segment="all_with_phone",
                           filters={"statuses": ["no-such-status"]})
    reply = api.post(f"/api/v1/campaigns/{created['id']}/send")
    assert reply.status == 200
    data = reply.json()
    assert data["status"] == "failed" and data["total"] == 0
    assert "No recipients" in data["status_reason"]
    assert data["actions"] == ["edit", "delete", "send", "duplicate"]


def test_lifecycle_refusals_while_sending_and_after_completion(web: Web,
                                                               api: SignedClient) -> None:
    settle()
    web.shop.fake.set_faults(latency=0.05)  # ~50 recipients: a few seconds of sending
    try:
        created = new_campaign(api, name="Big one", segment="all_with_phone",
                               body="Big one {customer_first_name}")
        path = f"/api/v1/campaigns/{created['id']}"
        queued = api.post(path + "/send").json()
        assert queued["status"] == "queued" and queued["total"] > 20

        moving = wait_for(lambda: (p if (p := progress(api, created["id"]))["status"]
                                   == "sending" and p["sent"] > 0 else None),
                          what="the campaign to be sending")
        assert moving["sent"] + moving["failed"] + moving["pending"] == moving["total"]
        assert moving["pending"] > 0

        error = assert_error(api.put(path, VALID), 409, "conflict")
        assert "is sending" in error["message"] and "pause it first" in error["message"]
        error = assert_error(api.delete(path), 409, "conflict")
        assert "pause it first" in error["message"]
        error = assert_error(api.post(path + "/send"), 409, "conflict")
        assert "already sending" in error["message"]
        assert_error(api.post(path + "/resume"), 409, "conflict")
        assert api.get(path).json()["name"] == "Big one"  # the refused edit changed nothing

        paused = api.post(path + "/pause")
        assert paused.status == 200 and paused.json()["status"] == "paused"
        assert_error(api.post(path + "/pause"), 409, "conflict")
        settle()
        stopped = progress(api, created["id"])
        assert stopped["status"] == "paused" and stopped["pending"] > 0

        resumed = api.post(path + "/resume")
        assert resumed.status == 200 and resumed.json()["status"] == "queued"
    finally:
        web.shop.fake.set_faults(latency=0.0)
    done = wait_finished(api, created["id"])
    assert done["status"] == "completed" and done["pending"] == 0
    assert done["sent"] + done["failed"] == done["total"] == queued["total"]

    error = assert_error(api.post(path + "/send"), 409, "conflict")
    assert "cannot be sent again" in error["message"]
    error = assert_error(api.put(path, VALID), 409, "conflict")
    assert "duplicate it" in error["message"]
    copy = api.post(path + "/duplicate")
    assert copy.status == 201 and copy.json()["status"] == "draft"
    assert api.delete(path).status == 204


def test_a_queued_campaign_cannot_be_edited_deleted_or_sent_again(web: Web,
                                                                  api: SignedClient) -> None:
    settle()
    cid = web.campaign(1, status="queued", name="Waiting in the queue")
    path = f"/api/v1/campaigns/{cid}"
    error = assert_error(api.put(path, VALID), 409, "conflict")
    assert "is queued" in error["message"] and "pause it first" in error["message"]
    assert_error(api.delete(path), 409, "conflict")
    error = assert_error(api.post(path + "/send"), 409, "conflict")
    assert "already queued" in error["message"]
    paused = api.post(path + "/pause")
    assert paused.status == 200 and paused.json()["status"] == "paused"
    assert paused.json()["actions"] == ["edit", "delete", "resume", "duplicate"]
    error = assert_error(api.post(path + "/send"), 409, "conflict")
    assert "resume it instead" in error["message"]


def test_editing_a_paused_campaign_makes_it_a_draft_again(web: Web, api: SignedClient) -> None:
    settle()
    cid = web.campaign(1, status="paused", name="Paused")
    assert progress(api, cid)["total"] > 0
    reply = api.put(f"/api/v1/campaigns/{cid}", {**VALID, "name": "Edited"})
    assert reply.status == 200
    edited = reply.json()
    assert edited["status"] == "draft" and edited["total"] == 0 and edited["pending"] == 0
    assert web.shop.rows(cid) == []


@pytest.mark.parametrize(("twilio", "fragment"), [
    ("inactive", "booknetic-workflow-twilio-sms"),
    ("unconfigured", "not configured"),
])
def test_send_is_refused_when_twilio_is_not_ready(mariadb: MariaDBServer, twilio: str,
                                                  fragment: str) -> None:
    web = open_web(mariadb, twilio=twilio, customers=12)
    try:
        api = web.client
        status = api.get("/api/v1/status").json()["twilio"]
        assert status["ready"] is False and fragment in status["problem"]
        created = new_campaign(api)  # preparing campaigns still works
        error = assert_error(api.post(f"/api/v1/campaigns/{created['id']}/send"), 409,
                             "provider_not_ready")
        assert fragment in error["message"]
        assert api.get(f"/api/v1/campaigns/{created['id']}").json()["status"] == "draft"
        assert web.shop.rows(created["id"]) == []
        page = api.get("/ui/campaigns")
        assert page.status == 200 and 'id="twilio-banner"' in page.text
        assert web.shop.fake.received() == []
    finally:
        close_web(web)


def test_resume_is_refused_when_twilio_is_not_ready(mariadb: MariaDBServer) -> None:
    """Product bug (see report): resume does not check the provider the way send does. It
    answers 200 "queued", then the background thread dies on ProviderNotReady."""
    web = open_web(mariadb, twilio="inactive", customers=12)
    try:
        api = web.client
        cid = new_campaign(api)["id"]
        c = web.runtime.tables.campaigns
        with web.engine.begin() as conn:  # paused before the add-on was deactivated
            conn.execute(c.update().where(c.c.id == cid).values(status="paused"))
        reply = api.post(f"/api/v1/campaigns/{cid}/resume")
        settle()
        assert_error(reply, 409, "provider_not_ready")
    finally:
        close_web(web)


# -- bridge endpoints ----------------------------------------------------------------------


def test_tick_answers_202_at_once_and_the_queue_advances(web: Web, api: SignedClient) -> None:
    settle()
    web.shop.fake.set_faults(latency=0.2)
    try:
        cid = web.campaign(1, name="Tick me", segment="booked_last_30", status="queued",
                           body="Tick {customer_first_name}")
        total = progress(api, cid)["total"]
        assert total >= 8  # at 0.2 s a message, a run takes far longer than the answer
        started = time.monotonic()
        reply = api.post("/bridge/tick", who=CRON_CALLER)
        elapsed = time.monotonic() - started
        assert reply.status == 202, reply
        assert reply.json() == {"accepted": True, "started": True}
        assert elapsed < 1.0, elapsed
        assert progress(api, cid)["pending"] > 0  # the run is still going
        again = api.post("/bridge/tick", who=CRON_CALLER)
        assert again.status == 202 and again.json() == {"accepted": True, "started": False}
    finally:
        web.shop.fake.set_faults(latency=0.0)
    done = wait_finished(api, cid)
    assert done["status"] == "completed" and done["sent"] + done["failed"] == total


def test_tick_with_no_work_is_still_accepted(api: SignedClient) -> None:
    settle()
    reply = api.post("/bridge/tick", who=CRON_CALLER)
    assert reply.status == 202 and reply.json()["accepted"] is True
    settle()


def test_check_reports_every_line(api: SignedClient) -> None:
    reply = api.get("/bridge/check", who=SUPER)
    assert reply.status == 200
    data = reply.json()
    assert set(data) == {"ok", "checks", "identity"}
    assert data["ok"] is True and data["identity"]["tenant_id"] is None
    # It names the database host: a tenant's users never see it.
    refused = api.get("/bridge/check")
    assert refused.status == 403 and "site administrator" in refused.json()["error"]["message"]
    names = [c["name"] for c in data["checks"]]
    assert names == ["database", "wordpress", "booknetic", "mode", "sidecar schema", "twilio",
                     "bridge"]
    assert all(set(c) == {"name", "ok", "detail"} and c["ok"] is True for c in data["checks"])


def _connections(mariadb: MariaDBServer) -> int:
    with mariadb.connect() as conn, conn.cursor() as cur:
        cur.execute("SHOW STATUS LIKE 'Threads_connected'")
        row = cur.fetchone()
    assert row is not None
    return int(row[1])


def test_check_does_not_leave_database_connections_open(mariadb: MariaDBServer,
                                                       api: SignedClient) -> None:
    """Product bug (see report): /bridge/check builds a new engine per request and never
    disposes it, so each call leaves pooled connections open until the garbage collector
    happens to run. Garbage collection is paused here to make that visible every time."""
    settle()
    for _ in range(3):  # warm the app's own pool
        assert api.get("/api/v1/status").status == 200
    gc.collect()
    gc.disable()
    try:
        before = _connections(mariadb)
        for _ in range(10):
            assert api.get("/bridge/check", who=SUPER).status == 200
        after = _connections(mariadb)
    finally:
        gc.enable()
        gc.collect()
    assert after - before <= 2, f"{after - before} connections left open by 10 checks"


def test_every_error_keeps_the_one_shape(api: SignedClient) -> None:
    replies: list[tuple[Reply, int]] = [
        (api.get("/api/v1/campaigns/987654"), 404),
        (api.post("/api/v1/campaigns", {"name": ""}), 422),
        (api.post("/api/v1/campaigns", raw_body=b"{"), 400),
        (api.get("/api/v1/status", who=TENANT1.with_caps()), 403),
        (api.post("/api/v1/campaigns", VALID, csrf=None), 403),
        (api.get("/bridge/tick"), 405),
        (api.post("/bridge/tick"), 403),
    ]
    for reply, status in replies:
        assert_error(reply, status)
