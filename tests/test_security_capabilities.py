"""The security matrix (tests/security_support.py), 403: a missing capability, on every
endpoint (template reads accept either of two), and a write without the right
X-Bkntc-Csrf token, whatever the signature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from sidecar.web.auth import csrf_token
from tests.conftest import MariaDBServer
from tests.security_support import (
    ALL,
    CSRF_ENDPOINTS,
    ENDPOINTS,
    EP_IDS,
    VALID_CAMPAIGN,
    Endpoint,
    Sec,
    assert_ok,
    open_sec,
    refused_without_effect,
)
from tests.web_support import CREATE, CRON, TENANT2, VIEW, Web, settle, web_fixture


@pytest.fixture(scope="module")
def web(mariadb: MariaDBServer) -> Iterator[Web]:
    yield from web_fixture(mariadb)


@pytest.fixture(scope="module")
def sec(web: Web) -> Iterator[Sec]:
    yield from open_sec(web)


# -- 403: capabilities -----------------------------------------------------------------------

# (endpoint, capabilities taken away, the capability the refusal names): each required one
# alone, and for endpoints that accept any of several, all of those at once.
CAP_CELLS = [(ep, (cap,), cap) for ep in ENDPOINTS for cap in ep.caps] + [
    (ep, ep.any_of, ep.any_of[0]) for ep in ENDPOINTS if ep.any_of]


@pytest.mark.slow
@pytest.mark.parametrize(("ep", "removed", "named"), CAP_CELLS,
                         ids=[f"{ep.name}-without {' and '.join(removed)}"
                              for ep, removed, _ in CAP_CELLS])
def test_missing_capability_is_403(sec: Sec, ep: Endpoint, removed: tuple[str, ...],
                                   named: str) -> None:
    refused_without_effect(sec, ep, sec.request(ep, who=ALL.without(*removed)), 403,
                           "forbidden", reason=f"(capability {named!r})")


ANY_OF_CELLS = [(ep, cap) for ep in ENDPOINTS for cap in ep.any_of]


@pytest.mark.slow
@pytest.mark.parametrize(("ep", "cap"), ANY_OF_CELLS,
                         ids=[f"{ep.name}-with only {cap}" for ep, cap in ANY_OF_CELLS])
def test_any_one_of_the_alternative_capabilities_is_enough(sec: Sec, ep: Endpoint,
                                                           cap: str) -> None:
    """Templates are read by their managers and by campaign authors (who pick one)."""
    target = sec.target(ep) if ep.has_id else None
    assert_ok(sec.client.send(sec.request(ep, campaign=target,
                                          who=ALL.with_caps(*ep.caps, cap))), ep)


@pytest.mark.slow
@pytest.mark.parametrize("caps", [(), ("administrator", "manage_options", "SMS_CAMPAIGNS",
                                       "sms_campaigns_all", "Cron")],
                         ids=["no capabilities", "only unknown capabilities"])
@pytest.mark.parametrize("ep", ENDPOINTS, ids=EP_IDS)
def test_without_any_known_capability_is_403(sec: Sec, ep: Endpoint,
                                             caps: tuple[str, ...]) -> None:
    refused_without_effect(sec, ep, sec.request(ep, who=ALL.with_caps(*caps)), 403,
                           "forbidden")


def test_a_user_without_cron_cannot_tick_and_cron_alone_reaches_nothing_else(sec: Sec) -> None:
    tick = Endpoint("POST", "/bridge/tick", (CRON,), 202)
    refused_without_effect(sec, tick, sec.request(tick, who=ALL.without(CRON)), 403,
                           "forbidden")
    cron_only = ALL.with_caps(CRON)
    for ep in ENDPOINTS:
        if ep.template != "/bridge/tick":
            refused_without_effect(sec, ep, sec.request(ep, who=cron_only), 403, "forbidden")


# -- 403: CSRF on writes ---------------------------------------------------------------------

CSRF_VARIANTS: dict[str, Callable[[], dict[str, Any]]] = {
    "no X-Bkntc-Csrf": lambda: {"csrf": None},
    "empty X-Bkntc-Csrf": lambda: {"csrf": ""},
    "wrong token": lambda: {"csrf": "0" * 32},
    "another user's token": lambda: {"csrf": replace(ALL, user_id=99).csrf()},
    "another tenant's token": lambda: {"csrf": ALL.in_tenant(2).csrf()},
    "token made with another secret": lambda: {
        "csrf": csrf_token("another-secret-0123456789abcdef", ALL.identity())},
    "token as a cross-site form would send it": lambda: {
        "csrf": None, "content_type": "application/x-www-form-urlencoded"},
}


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(CSRF_VARIANTS))
@pytest.mark.parametrize("ep", CSRF_ENDPOINTS, ids=[e.name for e in CSRF_ENDPOINTS])
def test_write_without_the_right_csrf_token_is_403(sec: Sec, ep: Endpoint, variant: str) -> None:
    request = sec.request(ep, **CSRF_VARIANTS[variant]())
    refused_without_effect(sec, ep, request, 403, "csrf_failed", reason="security token")


def test_the_csrf_token_is_checked_as_a_header_not_a_query_parameter(sec: Sec) -> None:
    ep = Endpoint("POST", "/api/v1/campaigns", (VIEW, CREATE), 201, VALID_CAMPAIGN)
    request = sec.client.prepare("POST", f"/api/v1/campaigns?csrf={ALL.csrf()}",
                                 VALID_CAMPAIGN, who=ALL, csrf=None)
    refused_without_effect(sec, ep, request, 403, "csrf_failed")


def test_tick_needs_no_csrf_token_but_the_cron_capability(sec: Sec) -> None:
    reply = sec.client.post("/bridge/tick", who=ALL.with_caps(CRON), csrf=None)
    assert reply.status == 202 and reply.json()["accepted"] is True
    settle()


def test_pages_carry_the_csrf_token_for_their_user(sec: Sec) -> None:
    for who in (ALL, TENANT2):
        page = sec.client.get("/ui/campaigns", who=who)
        assert f'<meta name="bkntc-csrf" content="{who.csrf()}">' in page.text
