"""The security matrix (tests/security_support.py), 404 and the tenant: another tenant's
campaign, campaign logs, template or suppression is not found, and none of them (nor
another tenant's customers or dashboard figures) ever shows up in their lists; the
built-in templates are everybody's to read and nobody's to change (409); the tenant
comes only from the signed identity.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from sidecar.phones import normalise_phone
from sidecar.web.auth import CAPABILITIES
from tests.conftest import MariaDBServer
from tests.security_support import (
    ALL,
    ENDPOINTS,
    ID_ENDPOINTS,
    VALID_CAMPAIGN,
    Endpoint,
    Sec,
    open_sec,
    refused_without_effect,
)
from tests.web_support import (
    SUPER,
    TENANT1,
    TENANT2,
    TENANT3,
    VIEW,
    Web,
    Who,
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


# -- 404: another tenant's objects -----------------------------------------------------------

TENANT_CELLS = [(ep, who) for ep in ID_ENDPOINTS for who in (TENANT2, TENANT3, SUPER)]


@pytest.mark.slow
@pytest.mark.parametrize(("ep", "who"), TENANT_CELLS,
                         ids=[f"{ep.name}-as tenant {who.tenant_id}" for ep, who in TENANT_CELLS])
def test_another_tenants_campaign_is_404(sec: Sec, ep: Endpoint, who: Who) -> None:
    """Whatever the id names: a campaign, its logs, a template, a suppression."""
    intruder = replace(who, caps=tuple(CAPABILITIES))
    refused_without_effect(sec, ep, sec.request(ep, who=intruder), 404, "not_found")


def test_another_tenants_campaign_never_shows_in_their_lists(sec: Sec) -> None:
    owner = sec.client.get(f"/api/v1/campaigns/{sec.victim}", who=ALL)
    assert owner.status == 200 and owner.json()["name"] == sec.victim_name
    for who in (TENANT2, TENANT3, SUPER):
        for query in ("?per_page=100", "?status=draft&per_page=100"):
            data = sec.client.get("/api/v1/campaigns" + query, who=who).json()
            assert all(c["tenant_id"] == who.tenant_id for c in data["campaigns"])
            assert sec.victim not in {c["id"] for c in data["campaigns"]}
        page = sec.client.get("/ui/campaigns?per_page=100", who=who)
        assert page.status == 200 and sec.victim_name not in page.text
    mine = sec.client.get("/ui/campaigns?per_page=100&status=draft", who=ALL)
    assert sec.victim_name in mine.text


def _endpoint(method: str, template: str) -> Endpoint:
    return next(e for e in ENDPOINTS if (e.method, e.template) == (method, template))


def _builtin_templates(sec: Sec) -> list[dict[str, Any]]:
    builtins = [t for t in sec.web.runtime.templates.list(1) if t["builtin"]]
    assert len(builtins) == 4, builtins
    return builtins


@pytest.mark.parametrize("who", [TENANT1, TENANT2, TENANT3, SUPER],
                         ids=["tenant 1", "tenant 2", "tenant 3", "no tenant"])
def test_builtin_templates_are_shared_but_read_only(sec: Sec, who: Who) -> None:
    """The built-ins are tenant-0 rows with a builtin_key: every tenant sees them, nobody
    changes them (409, and the row stays as it was)."""
    caller = replace(who, caps=tuple(CAPABILITIES))
    listed = sec.client.get("/api/v1/templates", who=caller).json()["templates"]
    builtins = _builtin_templates(sec)
    assert listed[:4] == builtins  # built-ins first
    put, delete = _endpoint("PUT", "/api/v1/templates/{id}"), _endpoint(
        "DELETE", "/api/v1/templates/{id}")
    for template in builtins:
        shown = sec.client.get(f"/api/v1/templates/{template['id']}", who=caller)
        assert shown.status == 200 and shown.json() == template
        for ep in (put, delete):
            refused_without_effect(sec, ep, sec.request(ep, who=caller,
                                                        campaign=template["id"]),
                                   409, "read_only", reason="built-in templates")


def test_another_tenants_templates_never_show_in_their_lists(sec: Sec) -> None:
    victim, name = sec.victims["template"], sec.names["template"]
    t = sec.web.runtime.tables.templates
    for who in (TENANT2, TENANT3, SUPER):
        listed = sec.client.get("/api/v1/templates", who=who).json()["templates"]
        assert listed == sec.web.runtime.templates.list(who.tenant_id)
        ids = [x["id"] for x in listed]
        assert victim not in ids and name not in {x["name"] for x in listed}
        with sec.web.engine.connect() as conn:
            owners = {(r.tenant_id, r.builtin_key is not None) for r in conn.execute(
                select(t.c.tenant_id, t.c.builtin_key).where(t.c.id.in_(ids)))}
        assert owners <= {(0, True), (who.tenant_id or 0, False)}, owners
        for page in ("/ui/templates", "/ui/campaigns/new"):
            html = sec.client.get(page, who=who)
            assert html.status == 200 and name not in html.text
    mine = sec.client.get("/api/v1/templates", who=ALL).json()["templates"]
    assert victim in {x["id"] for x in mine}
    for page in ("/ui/templates", "/ui/campaigns/new"):
        assert name in sec.client.get(page, who=ALL).text


def test_another_tenants_suppressions_never_show_in_their_lists(sec: Sec) -> None:
    victim, reason = sec.victims["suppression"], sec.names["suppression"]
    (row,), _ = sec.web.runtime.suppressions.list(1, only_id=victim)
    phone = row["phone"]
    for who in (TENANT2, TENANT3, SUPER):
        data = sec.client.get("/api/v1/suppressions?per_page=200", who=who).json()
        assert victim not in {x["id"] for x in data["suppressions"]}
        assert data["total"] == sec.web.runtime.suppressions.list(who.tenant_id)[1]
        for q in (quote(phone), reason, phone[2:]):
            found = sec.client.get(f"/api/v1/suppressions?q={q}", who=who).json()
            assert (found["total"], found["suppressions"]) == (0, []), (q, found)
            page = sec.client.get(f"/ui/suppressions?q={q}", who=who)
            assert page.status == 200 and 'id="suppress-empty"' in page.text
            assert 'id="suppress-table"' not in page.text
        assert phone not in sec.client.get("/ui/suppressions?per_page=100", who=who).text
        # Another tenant's list does not stop this tenant's messages.
        sent = sec.client.post("/api/v1/sms/test", {"phone": phone, "body": "Hi"}, who=who)
        assert sent.status == 200 and sent.json()["ok"] is True, sent
    mine = sec.client.get(f"/api/v1/suppressions?q={reason}", who=ALL).json()
    assert [x["id"] for x in mine["suppressions"]] == [victim]
    assert phone in sec.client.get(f"/ui/suppressions?q={reason}", who=ALL).text
    assert_error(sec.client.post("/api/v1/sms/test", {"phone": phone, "body": "Hi"}, who=ALL),
                 422, "validation_failed", {"phone": reason})


def _all_customers(sec: Sec, who: Who, query: str = "") -> tuple[set[int], int]:
    ids: set[int] = set()
    for page in range(1, 20):
        data = sec.client.get(f"/api/v1/customers?per_page=100&page={page}&q={query}",
                              who=who).json()
        if not data["customers"]:
            return ids, data["total"]
        ids |= {c["id"] for c in data["customers"]}
    raise AssertionError("too many pages")


def test_customer_search_shows_only_the_tenants_own_customers(sec: Sec) -> None:
    ds = sec.web.shop.ds
    theirs = next(c for c in ds.customers_of(1) if c["phone_number"] and c.get("email"))
    for who in (TENANT1, TENANT2, TENANT3, SUPER):
        own = {c["id"] for c in ds.customers_of(who.tenant_id)}
        ids, total = _all_customers(sec, who)
        assert (ids, total) == (own, len(own)), who
        for needle in (theirs["phone_number"], theirs["email"]):
            found, _ = _all_customers(sec, who, quote(needle))
            assert found <= own
            assert (theirs["id"] in found) == (who.tenant_id == 1), (who, needle)


def test_a_one_off_sms_never_reaches_another_tenants_customers(sec: Sec) -> None:
    ds = sec.web.shop.ds
    foreign = [c["id"] for c in ds.customers_of(1) if normalise_phone(c["phone_number"])][:3]
    ep = _endpoint("POST", "/api/v1/sms/send")
    intruder = replace(TENANT2, caps=tuple(CAPABILITIES))
    request = sec.client.prepare("POST", "/api/v1/sms/send",
                                 {"customer_ids": foreign, "body": "Hi {customer_first_name}"},
                                 who=intruder)
    refused_without_effect(sec, ep, request, 422, "validation_failed")
    # Mixed with the tenant's own: only its own are queued; the others are "not found".
    own = next(c["id"] for c in ds.customers_of(2) if normalise_phone(c["phone_number"]))
    reply = sec.client.post("/api/v1/sms/send", {"customer_ids": [*foreign, own],
                                                 "body": "Hi {customer_first_name}"},
                            who=intruder)
    assert reply.status == 201, reply
    result = reply.json()
    assert result["total"] == 1
    assert result["invalid"] == [f"customer #{i} (not found)" for i in foreign]
    settle()
    assert [r["customer_id"] for r in sec.web.shop.rows(result["campaign_id"])] == [own]


def test_dashboard_numbers_are_the_tenants_own(sec: Sec) -> None:
    settle()
    c = sec.web.runtime.tables.campaigns
    before = {}
    for who in (TENANT1, TENANT2, TENANT3, SUPER):
        data = sec.client.get("/api/v1/dashboard", who=who).json()
        assert data == sec.web.runtime.dashboard.summary(who.tenant_id)
        ids = [r["id"] for r in data["recent"]]
        with sec.web.engine.connect() as conn:
            tenants = set(conn.execute(select(c.c.tenant_id).where(c.c.id.in_(ids))).scalars())
        assert tenants <= {who.tenant_id or 0}
        before[who.tenant_id] = data
        if who.tenant_id != 1:
            page = sec.client.get("/ui/dashboard", who=who)
            assert page.status == 200
            assert sec.names["logs"] not in page.text and sec.victim_name not in page.text
    # Tenant 1 sends one message: only tenant 1's figures move.
    sent = sec.client.post("/api/v1/sms/send", {"numbers": fresh_phone(), "body": "One"},
                           who=ALL)
    assert sent.status == 201
    settle()
    wait_for(lambda: sec.web.runtime.campaigns.get(1, sent.json()["campaign_id"])["status"]
             == "completed", what="the one-off SMS")
    for who in (TENANT1, TENANT2, TENANT3, SUPER):
        data = sec.client.get("/api/v1/dashboard", who=who).json()
        if who.tenant_id == 1:
            assert data["sent"] == before[1]["sent"] + 1
        else:
            assert data == before[who.tenant_id]


def test_the_tenant_comes_only_from_the_signed_identity(sec: Sec) -> None:
    path = "/api/v1/campaigns?tenant_id=2"
    reply = sec.client.post(path, {**VALID_CAMPAIGN, "tenant_id": 2}, who=ALL)
    assert reply.status == 201 and reply.json()["tenant_id"] == 1
    request = sec.request(Endpoint("GET", "/api/v1/status", (VIEW,), 200), who=TENANT2)
    data = sec.client.send(request.with_headers(X_Bkntc_Tenant="1", X_Tenant_Id="1")).json()
    assert data["identity"]["tenant_id"] == 2 and data["identity"]["caps"] == sorted(
        TENANT2.caps)
