"""The security matrix (tests/security_support.py), 401 and the signature: unsigned,
forged or tampered requests and correctly signed but malformed identities are refused on
every endpoint; valid signatures at the edges of the ±300 s window are accepted; a nonce
is used once, across app instances too; the window is measured on the app's own clock.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import insert

from sidecar.runtime import Runtime
from sidecar.web import create_app
from sidecar.web.auth import CLOCK_WINDOW, Identity, b64url
from sidecar.web.relay import create_relay
from sidecar.web.server import BackgroundServer
from tests.clock import FrozenClock
from tests.conftest import MariaDBServer
from tests.security_support import (
    ALL,
    BAD_SIGNATURE,
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
    SECRET,
    TENANT2,
    VIEW,
    FlaskTransport,
    SignedClient,
    Web,
    assert_error,
    decode_identity,
    identity_b64,
    web_fixture,
    with_raw_identity,
)


@pytest.fixture(scope="module")
def web(mariadb: MariaDBServer) -> Iterator[Web]:
    yield from web_fixture(mariadb)


@pytest.fixture(scope="module")
def sec(web: Web) -> Iterator[Sec]:
    yield from open_sec(web)


@pytest.mark.slow
@pytest.mark.parametrize("attack", list(TAMPER))
@pytest.mark.parametrize("ep", ENDPOINTS, ids=EP_IDS)
def test_unsigned_forged_or_tampered_request_is_401(sec: Sec, ep: Endpoint,
                                                    attack: str) -> None:
    refused_without_effect(sec, ep, lambda: TAMPER[attack](sec, ep), 401, "unauthorized",
                           reason=REASON.get(attack, BAD_SIGNATURE))


# -- 401: correctly signed, malformed identity ---------------------------------------------


def _valid_identity(now: int) -> dict[str, Any]:
    return {"user_id": ALL.user_id, "user_login": ALL.user_login,
            "display_name": ALL.display_name, "tenant_id": 1, "caps": list(ALL.caps),
            "ts": now, "nonce": uuid.uuid4().hex}


def _changed(**changes: Any) -> Callable[[int], str]:
    """A valid identity at `now` with `changes` (a value may be a function of `now`)."""
    def make(now: int) -> str:
        data = _valid_identity(now)
        for key, value in changes.items():
            if value is _DROP:
                data.pop(key)
            else:
                data[key] = value(now) if callable(value) else value
        return identity_b64(data)
    return make


_DROP = object()
# Each makes the encoded identity from the app's current epoch second.
MALFORMED: dict[str, Callable[[int], str]] = {
    "not base64url": lambda now: "***not-base64***",
    "standard base64 with + / =": lambda now: base64.b64encode(
        json.dumps(_valid_identity(now)).encode() + b"\xfb\xff").decode() + "==",
    "base64url with = padding": lambda now: identity_b64(_valid_identity(now)) + "==",
    "base64 of non-JSON": lambda now: b64url(b"user_id=11&tenant_id=1&caps=cron"),
    "base64 of invalid UTF-8": lambda now: b64url(b'\xff\xfe{"user_id": 11}'),
    "JSON array": lambda now: identity_b64([_valid_identity(now)]),
    "JSON string": lambda now: identity_b64("tenant 1"),
    "JSON null": lambda now: identity_b64(None),
    "empty JSON object": lambda now: identity_b64({}),
    "user_id as text": _changed(user_id="11"),
    "user_id boolean": _changed(user_id=True),
    "user_id missing": _changed(user_id=_DROP),
    "user_login not text": _changed(user_login=11),
    "display_name missing": _changed(display_name=_DROP),
    "tenant_id as text": _changed(tenant_id="1"),
    "tenant_id boolean": _changed(tenant_id=True),
    "tenant_id zero": _changed(tenant_id=0),
    "tenant_id negative": _changed(tenant_id=-1),
    "tenant_id fraction": _changed(tenant_id=1.0),
    "caps as text": _changed(caps="sms_campaigns"),
    "caps with a number": _changed(caps=["sms_campaigns", 7]),
    "caps missing": _changed(caps=_DROP),
    "ts as text": _changed(ts=str),
    "ts fraction": _changed(ts=lambda now: now + 0.5),
    "ts missing": _changed(ts=_DROP),
    "nonce missing": _changed(nonce=_DROP),
    "nonce too short": _changed(nonce="abc1234"),
    "nonce too long": _changed(nonce="n" * 65),
    "nonce with bad characters": _changed(nonce="abc def+ghi/jkl"),
    "nonce a number": _changed(nonce=12345678901),
    "nonce empty": _changed(nonce=""),
}


# Parsing the identity does not depend on the endpoint: one variant of each check runs on
# every endpoint, the near-duplicates on a read and a write only.
MALFORMED_ON_TWO = ("JSON string", "tenant_id negative", "tenant_id fraction", "caps missing",
                    "ts missing", "nonce a number", "nonce empty", "display_name missing",
                    "JSON null")
MALFORMED_CELLS = [(ep, variant) for variant in MALFORMED for ep in ENDPOINTS
                   if variant not in MALFORMED_ON_TWO
                   or ep.name in ("GET /api/v1/status", "POST /api/v1/campaigns")]


@pytest.mark.slow
@pytest.mark.parametrize(("ep", "variant"), MALFORMED_CELLS,
                         ids=[f"{ep.name}-{variant}" for ep, variant in MALFORMED_CELLS])
def test_correctly_signed_but_malformed_identity_is_401(sec: Sec, ep: Endpoint,
                                                        variant: str) -> None:
    request = with_raw_identity(sec.request(ep), MALFORMED[variant](sec.client.now()))
    refused_without_effect(sec, ep, request, 401, "unauthorized", reason="identity")


def test_a_nonce_with_a_trailing_newline_is_refused(sec: Sec) -> None:
    """Product bug (see report): auth._NONCE_RE uses `$`, which also matches before a
    final newline, so "abcdefgh1234\\n" passes the 8-64 [A-Za-z0-9_-] check."""
    ep = Endpoint("GET", "/api/v1/status", (VIEW,), 200)
    request = sec.request(ep, nonce=uuid.uuid4().hex[:12] + "\n")
    assert sec.client.send(request).status == 401


def test_nonces_that_differ_only_in_case_are_different_nonces(sec: Sec) -> None:
    """Product bug (see report): the nonce column uses a case-insensitive collation, so a
    fresh nonce that differs from a seen one only in letter case is refused as a replay."""
    nonce = "AbCd" + uuid.uuid4().hex[:12]
    first = sec.client.get("/api/v1/status", who=ALL, nonce=nonce)
    assert first.status == 200
    second = sec.client.get("/api/v1/status", who=ALL, nonce=nonce.swapcase())
    assert second.status == 200, second


# -- accepted: valid signatures, the edges of the window ------------------------------------

# Given the endpoint and the app's current epoch second (its clock stands still, so the
# edges of the window are exact).
ACCEPTED: dict[str, Callable[[Endpoint, int], dict[str, Any]]] = {
    "signed correctly": lambda e, now: {"who": ALL},
    "ts now-299": lambda e, now: {"who": ALL, "ts": now - 299},
    "ts now+299": lambda e, now: {"who": ALL, "ts": now + 299},
    "only the required capabilities": lambda e, now: {"who": ALL.with_caps(*e.minimal_caps)},
}


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(ACCEPTED))
@pytest.mark.parametrize("ep", ENDPOINTS, ids=EP_IDS)
def test_correctly_signed_request_is_accepted(sec: Sec, ep: Endpoint, variant: str) -> None:
    campaign = sec.target(ep) if ep.has_id else None  # first: it may wait for other work
    request = sec.request(ep, campaign=campaign, **ACCEPTED[variant](ep, sec.client.now()))
    assert_ok(sec.client.send(request), ep)


# -- 401: replays ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("where", ["same instance", "second instance on the same database"])
@pytest.mark.parametrize("ep", ENDPOINTS, ids=EP_IDS)
def test_replayed_request_is_401(sec: Sec, ep: Endpoint, where: str) -> None:
    request = sec.request(ep, campaign=sec.target(ep) if ep.has_id else None)
    assert_ok(sec.client.send(request), ep)
    again = sec.client if where == "same instance" else sec.second
    refused_without_effect(sec, ep, request, 401, "unauthorized", client=again,
                           reason="replayed")


def test_nonces_are_shared_both_ways_and_whatever_the_request(sec: Sec) -> None:
    nonce = uuid.uuid4().hex
    assert sec.second.get("/api/v1/status", who=ALL, nonce=nonce).status == 200
    assert sec.client.get("/api/v1/status", who=ALL, nonce=nonce).status == 401
    # The same nonce on a different, correctly signed request is a replay too.
    reply = sec.client.get("/api/v1/segments", who=TENANT2, nonce=nonce)
    assert_error(reply, 401, "unauthorized")
    assert "replay" in reply.json()["error"]["message"]


def test_a_nonce_may_be_used_again_only_after_600_seconds(sec: Sec) -> None:
    table = sec.web.runtime.tables.nonces
    now = sec.client.now()
    old, recent = uuid.uuid4().hex, uuid.uuid4().hex
    with sec.web.engine.begin() as conn:
        conn.execute(insert(table), [{"nonce": old, "seen_at": now - 601},
                                     {"nonce": recent, "seen_at": now - 590}])
    assert sec.client.get("/api/v1/status", who=ALL, nonce=old).status == 200
    assert sec.client.get("/api/v1/status", who=ALL, nonce=recent).status == 401


def test_identity_helper_round_trips(sec: Sec) -> None:
    """The test helper itself encodes exactly what auth.sign() encodes."""
    request = sec.request(ENDPOINTS[0], who=TENANT2)
    data = decode_identity(request)
    assert {k: data[k] for k in ("user_id", "user_login", "display_name", "tenant_id")} == {
        "user_id": TENANT2.user_id, "user_login": TENANT2.user_login,
        "display_name": TENANT2.display_name, "tenant_id": 2}
    assert Identity(data["user_id"], data["user_login"], data["display_name"],
                    data["tenant_id"], frozenset(data["caps"]), data["ts"],
                    data["nonce"]).can(VIEW)


# -- the clock: the runtime's, which a test freezes ------------------------------------------


def _app_on(web: Web, clock: FrozenClock) -> Runtime:
    """Another sidecar runtime on the module's database, on its own clock."""
    return web.other_runtime(clock)


def test_the_window_is_measured_on_the_runtimes_clock(web: Web) -> None:
    """The web app reads "now" from its runtime (the wall clock in production), so a test's
    frozen clock is the only clock a signature is checked against. Its "now" here is far
    from the machine's: with the machine's clock, the first request would be 401."""
    clock = FrozenClock()
    app = create_app(_app_on(web, clock))
    client = SignedClient(FlaskTransport(app), clock=clock, who=ALL)
    assert client.get("/api/v1/status").status == 200
    kept = client.prepare("GET", "/api/v1/status")
    edge = client.prepare("GET", "/api/v1/status", ts=client.now() + CLOCK_WINDOW)
    clock.advance(CLOCK_WINDOW)
    assert client.send(edge).status == 200  # now exactly at its ts
    clock.advance(1)
    reply = client.send(kept)  # dated CLOCK_WINDOW + 1 s ago by the app's clock
    assert_error(reply, 401, "unauthorized")
    assert f"+{CLOCK_WINDOW + 1:d} s off" in reply.json()["error"]["message"]


def test_the_relay_dates_its_signatures_by_the_clock_it_is_given(web: Web) -> None:
    """The local relay signs as the bridge does; in one process with the sidecar it takes
    the runtime's clock (the bridge uses PHP's time(), and the service the wall clock)."""
    clock = FrozenClock()
    sidecar = BackgroundServer(create_app(_app_on(web, clock))).start()
    try:
        identity = {"user_id": ALL.user_id, "user_login": ALL.user_login,
                    "display_name": ALL.display_name, "tenant_id": ALL.tenant_id,
                    "caps": list(ALL.caps)}
        relay = create_relay(sidecar.url, lambda: SECRET, lambda request: identity,
                             clock=clock).test_client()
        answer = relay.get("/wp-admin/admin-ajax.php?action=bkntc_sms&p=/api/v1/status")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.get_json()["identity"]["user_login"] == ALL.user_login
    finally:
        sidecar.stop()
