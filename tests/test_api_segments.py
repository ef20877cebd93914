"""The JSON API's health, status, segments and preview endpoints (sidecar/web/api.py),
end to end: real app, real MariaDB, fake Twilio. Also: a signed tenant that Booknetic
lacks can neither read nor write anywhere.

Every request is signed as the WordPress bridge signs it (tests/web_support.py). The data is
the SaaS sample set (tenants 1, 2, 3 and NULL-tenant rows). Sending goes through the
unpatched twilio library to the fake Twilio over HTTP; waiting is polling with a deadline,
never a fixed sleep.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

import sidecar
from sidecar.segments import SEGMENTS, SegmentQuery
from sidecar.segments.phone_upkeep import STALE_AFTER_SECONDS, phones_note
from tests.web_support import (
    SUPER,
    TENANT1,
    TENANT2,
    TENANT3,
    SignedClient,
    Web,
    Who,
    assert_error,
    fresh_phone,
)

# -- health, status, segments ------------------------------------------------------------


def test_healthz_is_the_only_unsigned_endpoint(web: Web) -> None:
    client = web.app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "version": sidecar.__version__}
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
    (TENANT1, "all_with_phone", {"exclude_upcoming_days": 7}, 100),
    (TENANT2, "repeat", {"exclude_upcoming_days": "30", "service_ids": ["FIRST_SERVICE"]},
     None),
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
    found = web.runtime.segments.preview(
        SegmentQuery.from_filters(segment, concrete, who.tenant_id),
        limit=10 if limit is None else limit)
    expected = {**found.to_dict(), "phones_checked_at": found.phones_checked_at,
                "phones_note": phones_note(found.phones_checked_at,
                                           int(web.runtime.clock()))}
    assert reply.json() == expected
    data = reply.json()
    assert set(data) == {"segment", "count", "sample", "skipped_invalid_phone",
                         "skipped_duplicate_phone", "skipped_suppressed", "skipped_upcoming",
                         "phones_checked_at", "phones_note"}
    assert isinstance(data["phones_checked_at"], int)
    assert (data["skipped_upcoming"] > 0) == ("exclude_upcoming_days" in filters)
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
    ("exclude_upcoming_days negative",
     {"segment": "repeat", "filters": {"exclude_upcoming_days": -3}}, {"exclude_upcoming_days"}),
    ("exclude_upcoming_days over a year",
     {"segment": "repeat", "filters": {"exclude_upcoming_days": 366}}, {"exclude_upcoming_days"}),
    ("exclude_upcoming_days text",
     {"segment": "repeat", "filters": {"exclude_upcoming_days": "a week"}},
     {"exclude_upcoming_days"}),
    ("exclude_upcoming_days fraction",
     {"segment": "repeat", "filters": {"exclude_upcoming_days": 2.5}}, {"exclude_upcoming_days"}),
    ("exclude_upcoming_days a list",
     {"segment": "repeat", "filters": {"exclude_upcoming_days": [7]}}, {"exclude_upcoming_days"}),
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


def test_a_signed_tenant_that_booknetic_lacks_can_neither_read_nor_write(
        web: Web, api: SignedClient) -> None:
    """The signature vouches for the tenant id; the tenant must also exist in Booknetic.
    Nothing is written for tenant 999, not even rows that never touch Booknetic data."""
    ghost = TENANT1.in_tenant(999)
    tables = web.runtime.tables
    with web.runtime.engine.connect() as conn:
        before = {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                  for t in (tables.templates, tables.suppressions, tables.campaigns,
                            tables.recipients)}
    for reply in (
        api.get("/api/v1/templates", who=ghost),
        api.post("/api/v1/templates", {"name": "Ghost", "body": "Hi"}, who=ghost),
        api.post("/api/v1/suppressions", {"phone": fresh_phone()}, who=ghost),
        api.post("/api/v1/campaigns", {"name": "Ghost", "segment": "repeat", "body": "Hi"},
                 who=ghost),
        api.post("/api/v1/sms/send", {"numbers": fresh_phone(), "body": "Hi"}, who=ghost),
    ):
        assert_error(reply, 404, "not_found")
        assert "tenant 999 does not exist" in reply.json()["error"]["message"]
    with web.runtime.engine.connect() as conn:
        after = {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                 for t in (tables.templates, tables.suppressions, tables.campaigns,
                           tables.recipients)}
    assert after == before


def test_preview_says_how_old_the_phones_are_once_older_than_a_minute(
        web: Web, api: SignedClient) -> None:
    """The preview only reads the phones as last checked; past a minute it says when."""
    payload = {"segment": "all_with_phone", "limit": 0}
    web.runtime.segments.refresh_phones(TENANT2.tenant_id,
                                        web.runtime.segments.region(TENANT2.tenant_id))
    fresh = api.post("/api/v1/segments/preview", payload, who=TENANT2).json()
    assert fresh["phones_checked_at"] == int(web.runtime.clock())
    assert fresh["phones_note"] == ""
    web.shop.clock.advance(STALE_AFTER_SECONDS + 1)
    stale = api.post("/api/v1/segments/preview", payload, who=TENANT2).json()
    assert stale["phones_checked_at"] == fresh["phones_checked_at"]  # not checked again
    # In the business timezone with its name, as every time the pages show.
    zone = web.runtime.booknetic.business_zone(TENANT2.tenant_id)
    assert zone.format(fresh["phones_checked_at"]) in stale["phones_note"]


# -- render report ---------------------------------------------------------------------------

RENDER_KEYS = {"messages", "segments_total", "encoding", "segments_histogram",
               "ucs2_characters", "empty_placeholders", "ucs2_sources", "ucs2_extra_segments"}


def test_preview_with_a_body_adds_the_render_report(web: Web, api: SignedClient) -> None:
    body = "Hi {customer_first_name}, it\u2019s been a while! {customer_phone}"
    payload = {"segment": "all_with_phone", "filters": {"exclude_upcoming_days": 7},
               "body": body}
    reply = api.post("/api/v1/segments/preview", payload)
    assert reply.status == 200, reply
    data = reply.json()
    query = SegmentQuery.from_filters("all_with_phone", {"exclude_upcoming_days": 7}, 1)
    assert {k: v for k, v in data.items() if not k.startswith("phones_")} == (
        web.runtime.segments.preview(query, body=body).to_dict())
    report = data["render"]
    assert set(report) == RENDER_KEYS  # no price is known: no estimated_cost
    assert report["messages"] == data["count"] > 0
    assert report["encoding"] == {"gsm7": 0, "ucs2": data["count"]}  # the body's \u2019
    assert report["ucs2_sources"]["\u2019"]["in_body"] is True
    assert set(report["empty_placeholders"]) == {"{customer_first_name}", "{customer_phone}"}
    assert "render" not in api.post("/api/v1/segments/preview",
                                    {"segment": "all_with_phone"}).json()


def test_the_estimated_cost_uses_the_tenants_price(web: Web, api: SignedClient) -> None:
    asked: list[int | None] = []

    def price(tenant: int | None) -> Decimal | None:
        asked.append(tenant)
        return Decimal("0.0079") if tenant == 2 else None

    original, web.runtime.segment_price = web.runtime.segment_price, price
    try:
        payload = {"segment": "repeat", "body": "Hello {customer_full_name}!"}
        priced = api.post("/api/v1/segments/preview", payload, who=TENANT2).json()["render"]
        assert priced["estimated_cost"] == pytest.approx(0.0079 * priced["segments_total"])
        unpriced = api.post("/api/v1/segments/preview", payload).json()["render"]
        assert "estimated_cost" not in unpriced
        assert asked == [2, 1]
    finally:
        web.runtime.segment_price = original


@pytest.mark.parametrize(("body", "message"), [
    ("", "empty"), ("   ", "empty"), (5, "empty"), (["Hi"], "empty"),
    ("x" * 1601, "1601 characters; the limit is 1600"),
    ("Hi {coupon}", "unknown shortcode {coupon}"),
])
def test_a_bad_body_is_refused_naming_it(api: SignedClient, body: Any, message: str) -> None:
    reply = api.post("/api/v1/segments/preview", {"segment": "repeat", "body": body})
    assert_error(reply, 422, "validation_failed", {"body": message})


def test_the_audience_of_a_campaign_is_its_preview_with_the_report(
        web: Web, api: SignedClient) -> None:
    created = api.post("/api/v1/campaigns", {
        "name": "Audience", "segment": "repeat", "body": "Hi {customer_first_name}!",
        "filters": {"exclude_upcoming_days": 14}}).json()
    reply = api.get(f"/api/v1/campaigns/{created['id']}/audience")
    assert reply.status == 200, reply
    data = reply.json()
    query = SegmentQuery.from_filters("repeat", {"exclude_upcoming_days": 14}, 1)
    expected = web.runtime.segments.preview(query, limit=0, body=created["body"]).to_dict()
    assert data == {"campaign_id": created["id"], "status": "draft",
                    "actions": created["actions"], "body": created["body"], **expected}
    assert data["render"]["messages"] == data["count"] > 0
    assert_error(api.get(f"/api/v1/campaigns/{created['id']}/audience", who=TENANT2), 404,
                 "not_found")
