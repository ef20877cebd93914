"""Security headers, and part of the security matrix (tests/security_support.py) again
over real HTTP (waitress + requests), where the signed path must be the raw query
string exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.conftest import MariaDBServer
from tests.security_support import (
    ALL,
    BAD_SIGNATURE,
    CSRF_ENDPOINTS,
    ENDPOINTS,
    EP_IDS,
    REASON,
    TAMPER,
    Endpoint,
    Sec,
    assert_ok,
    open_sec,
    refused_without_effect,
)
from tests.web_support import (
    FlaskTransport,
    Reply,
    Signed,
    SignedClient,
    Web,
    assert_error,
    web_fixture,
)


@pytest.fixture(scope="module")
def web(mariadb: MariaDBServer) -> Iterator[Web]:
    yield from web_fixture(mariadb)


@pytest.fixture(scope="module")
def sec(web: Web) -> Iterator[Sec]:
    yield from open_sec(web)


# -- headers ---------------------------------------------------------------------------------


def test_security_headers_on_html_json_and_errors(sec: Sec) -> None:
    page = sec.client.get("/ui/campaigns", who=ALL)
    csp = page.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "frame-ancestors 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    replies = [page, sec.client.get("/api/v1/status", who=ALL),
               sec.client.get("/api/v1/campaigns/987654", who=ALL),
               sec.client.send(sec.request(ENDPOINTS[0]).with_headers(X_Bkntc_Signature=None)),
               sec.web.client_for(sec.web.app).get("/ui/campaigns/987654/edit", who=ALL)]
    for reply in replies:
        assert reply.headers["X-Content-Type-Options"] == "nosniff", reply
        assert reply.headers["Referrer-Policy"] == "same-origin"
        if reply.mimetype == "text/html":
            assert reply.headers["Content-Security-Policy"] == csp
        else:
            assert reply.mimetype == "application/json"


# -- the same over real HTTP -----------------------------------------------------------------

HTTP_ATTACKS = ["no signature headers", "bad signature (one hex digit flipped)",
                "body changed after signing", "query added after signing",
                "tenant_id changed after signing", "expired ts (now-301)"]


@pytest.fixture(scope="module")
def http(sec: Sec) -> SignedClient:
    return sec.web.http(ALL)


@pytest.mark.slow
@pytest.mark.parametrize("attack", HTTP_ATTACKS)
@pytest.mark.parametrize("ep", ENDPOINTS, ids=EP_IDS)
def test_over_http_tampered_requests_are_401(sec: Sec, http: SignedClient, ep: Endpoint,
                                             attack: str) -> None:
    refused_without_effect(sec, ep, lambda: TAMPER[attack](sec, ep), 401, "unauthorized",
                           client=http, reason=REASON.get(attack, BAD_SIGNATURE))


@pytest.mark.slow
@pytest.mark.parametrize("ep", ENDPOINTS, ids=EP_IDS)
def test_over_http_valid_then_replayed(sec: Sec, http: SignedClient, ep: Endpoint) -> None:
    request = sec.request(ep, campaign=sec.target(ep) if ep.has_id else None)
    assert_ok(http.send(request), ep)
    refused_without_effect(sec, ep, request, 401, "unauthorized", client=http,
                           reason="replayed")


@pytest.mark.slow
@pytest.mark.parametrize("ep", CSRF_ENDPOINTS, ids=[e.name for e in CSRF_ENDPOINTS])
def test_over_http_missing_csrf_is_403(sec: Sec, http: SignedClient, ep: Endpoint) -> None:
    refused_without_effect(sec, ep, sec.request(ep, csrf=None), 403, "csrf_failed", client=http)


@pytest.mark.parametrize("transport", ["flask test client", "real HTTP"])
def test_the_signed_path_is_the_raw_query_string_exactly(sec: Sec, http: SignedClient,
                                                        transport: str) -> None:
    client = sec.client if transport == "flask test client" else http

    def signed_as(signed_path: str, sent_path: str) -> Reply:
        request = client.prepare("GET", signed_path, who=ALL)
        return client.send(replace(request, path=sent_path))

    base = "/api/v1/campaigns"
    exact = signed_as(f"{base}?status=draft&per_page=5", f"{base}?status=draft&per_page=5")
    assert exact.status == 200 and exact.json()["per_page"] == 5
    # The same parameters in another order, or spelled differently, are another request.
    assert signed_as(f"{base}?per_page=5&status=draft",
                     f"{base}?status=draft&per_page=5").status == 401
    assert signed_as(f"{base}?status=a%20b", f"{base}?status=a+b").status == 401
    assert signed_as(f"{base}?status=draft", f"{base}?status=dr%61ft").status == 401
    assert signed_as(f"{base}?status=draft&", f"{base}?status=draft").status == 401
    # Signed as sent, an encoded query is accepted and decoded only afterwards.
    encoded = signed_as(f"{base}?status=dr%61ft&per_page=100", f"{base}?status=dr%61ft"
                        "&per_page=100")
    assert encoded.status == 200
    assert {c["status"] for c in encoded.json()["campaigns"]} == {"draft"}
    spaced = signed_as(f"{base}?status=a%20b", f"{base}?status=a%20b")
    assert_error(spaced, 422, "validation_failed", {"status": "'a b'"})


def test_http_pages_carry_the_same_headers(sec: Sec, http: SignedClient) -> None:
    page = http.get("/ui/campaigns")
    assert page.status == 200 and page.mimetype == "text/html"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    unsigned = FlaskTransport(sec.web.app)  # same app, in process, for comparison
    assert unsigned.send(Signed("GET", "/ui/campaigns")).status == 401
    assert http.send(Signed("GET", "/ui/campaigns")).status == 401
