"""The bridge protocol's guarantees (DESIGN.md §6), cell by cell, on the real app.

THE MATRIX: every endpoint (JSON API, bridge, pages) by every attack, each a pytest case whose
id names both, so the report lists every cell:

* unsigned, forged or tampered requests (headers missing, a flipped signature digit, another
  secret, identity / body / path / query / method changed after signing, timestamps outside
  ±300 s, a replayed nonce — also across two app instances sharing the database) → 401;
* identities that are signed correctly but malformed (not base64url, not JSON, wrong types,
  bad nonces) → 401;
* a missing capability → 403, the required ones → allowed (template reads accept either
  sms_campaign_templates or sms_campaigns_create: both missing → 403, either alone → allowed);
* another tenant's campaign, campaign logs, template or suppression → 404, and none of them
  (nor another tenant's customers or dashboard figures) ever shows up in their lists; the
  built-in templates are everybody's to read and nobody's to change (409);
* a write without the right X-Bkntc-Csrf token → 403, whatever the signature.

The endpoints: campaigns, segments, status, bridge, templates, suppressions, test and one-off
SMS, customer search, logs and their CSV export, dashboard, and every page. A refused request
must change nothing (campaign, recipient, template and suppression rows, messages sent).
Then: stored XSS is escaped in the pages and kept verbatim by the API; SQL metacharacters in
every text input are stored literally or refused with 422, never a 500, and Booknetic's tables
are untouched; security headers are present; a part of the matrix runs again over real HTTP
(waitress + requests), where the signed path must be the raw query string exactly.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import pytest
from markupsafe import escape
from sqlalchemy import insert, select, text

from sidecar.delivery_log import CSV_COLUMNS
from sidecar.phones import normalise_phone
from sidecar.suppressions import split_numbers
from sidecar.web.auth import CAPABILITIES, Identity, b64url, csrf_token
from tests.conftest import MariaDBServer
from tests.web_support import (
    CREATE,
    CRON,
    DELETE,
    LOGS,
    NO_BODY,
    SEND,
    STATE_CHANGING,
    SUPER,
    SUPPRESSIONS,
    TEMPLATES,
    TENANT1,
    TENANT2,
    TENANT3,
    VIEW,
    FlaskTransport,
    Reply,
    Signed,
    SignedClient,
    Web,
    Who,
    assert_error,
    decode_identity,
    early_in_second,
    flipped_signature,
    fresh_phone,
    identity_b64,
    settle,
    tampered_identity,
    wait_for,
    web_fixture,
    with_raw_identity,
)

# The identity the matrix signs with: tenant 1, every capability (cron included).
ALL = replace(TENANT1, caps=tuple(CAPABILITIES))
VALID_CAMPAIGN = {"name": "Matrix campaign", "segment": "canceled_recent",
                  "body": "Hi {customer_first_name}"}


VALID_TEMPLATE = {"name": "Matrix template", "body": "Hello {customer_first_name}"}
TEST_SMS = {"phone": "+12025550188", "body": "Matrix test for {customer_first_name}"}


def _suppress_one() -> dict[str, Any]:
    return {"phone": fresh_phone(), "reason": "matrix"}


def _suppress_many() -> dict[str, Any]:
    return {"numbers": f"{fresh_phone()}\n{fresh_phone()}", "reason": "matrix bulk"}


def _one_off() -> dict[str, Any]:
    return {"numbers": fresh_phone(), "body": "Matrix one-off"}


@dataclass(frozen=True)
class Endpoint:
    method: str
    template: str  # "{id}" stands for the id of a `target` object
    caps: tuple[str, ...]  # every capability it requires
    ok: int  # the status of a successful call
    body: Any = NO_BODY  # or a function making a fresh body for each request
    state: str = "draft"  # the campaign status a successful call needs
    operator: bool = False  # only for identities without a tenant (the site operator)
    # What "{id}" is: "campaign" (in `state`), "logs" (a campaign with recipient rows, i.e.
    # message logs), "template" (a tenant's own template), "suppression" (a list row).
    target: str = "campaign"
    any_of: tuple[str, ...] = ()  # besides `caps`, any one of these is enough
    mimetype: str = "application/json"  # of a successful answer (pages: text/html)

    @property
    def name(self) -> str:
        return f"{self.method} {self.template.replace('{id}', '<id>')}"

    @property
    def has_id(self) -> bool:
        return "{id}" in self.template

    @property
    def is_page(self) -> bool:
        return self.template.startswith("/ui/")

    @property
    def checks_csrf(self) -> bool:
        return self.method in STATE_CHANGING and self.template != "/bridge/tick"

    @property
    def minimal_caps(self) -> tuple[str, ...]:
        """The smallest set of capabilities that is enough."""
        return self.caps + self.any_of[:1]

    def payload(self) -> Any:
        return self.body() if callable(self.body) else self.body

    def path(self, object_id: int) -> str:
        return self.template.format(id=object_id)


ENDPOINTS = [
    Endpoint("GET", "/api/v1/campaigns", (VIEW,), 200),
    Endpoint("POST", "/api/v1/campaigns", (VIEW, CREATE), 201, VALID_CAMPAIGN),
    Endpoint("GET", "/api/v1/campaigns/{id}", (VIEW,), 200),
    Endpoint("PUT", "/api/v1/campaigns/{id}", (VIEW, CREATE), 200, VALID_CAMPAIGN),
    Endpoint("DELETE", "/api/v1/campaigns/{id}", (VIEW, DELETE), 204),
    Endpoint("POST", "/api/v1/campaigns/{id}/send", (VIEW, SEND), 200),
    Endpoint("POST", "/api/v1/campaigns/{id}/pause", (VIEW, SEND), 200, state="queued"),
    Endpoint("POST", "/api/v1/campaigns/{id}/resume", (VIEW, SEND), 200, state="paused"),
    Endpoint("POST", "/api/v1/campaigns/{id}/duplicate", (VIEW, CREATE), 201),
    Endpoint("GET", "/api/v1/campaigns/{id}/progress", (VIEW,), 200),
    Endpoint("GET", "/api/v1/segments", (VIEW,), 200),
    Endpoint("POST", "/api/v1/segments/preview", (VIEW, CREATE), 200, {"segment": "repeat"}),
    Endpoint("GET", "/api/v1/status", (VIEW,), 200),
    Endpoint("POST", "/bridge/tick", (CRON,), 202),
    Endpoint("GET", "/bridge/check", (VIEW,), 200, operator=True),
    Endpoint("GET", "/ui/", (VIEW,), 200),
    Endpoint("GET", "/ui/campaigns", (VIEW,), 200),
    Endpoint("GET", "/ui/campaigns/new", (VIEW, CREATE), 200),
    Endpoint("GET", "/ui/campaigns/{id}/edit", (VIEW, CREATE), 200),
    # Templates: reading needs either capability (a campaign author picks one), writing
    # needs sms_campaign_templates (api_lists._can_read_templates).
    Endpoint("GET", "/api/v1/templates", (VIEW,), 200, any_of=(TEMPLATES, CREATE)),
    Endpoint("POST", "/api/v1/templates", (VIEW, TEMPLATES), 201, VALID_TEMPLATE),
    Endpoint("GET", "/api/v1/templates/{id}", (VIEW,), 200, target="template",
             any_of=(TEMPLATES, CREATE)),
    Endpoint("PUT", "/api/v1/templates/{id}", (VIEW, TEMPLATES), 200, VALID_TEMPLATE,
             target="template"),
    Endpoint("DELETE", "/api/v1/templates/{id}", (VIEW, TEMPLATES), 204, target="template"),
    Endpoint("GET", "/api/v1/suppressions", (VIEW, SUPPRESSIONS), 200),
    Endpoint("POST", "/api/v1/suppressions", (VIEW, SUPPRESSIONS), 201, _suppress_one),
    Endpoint("POST", "/api/v1/suppressions/bulk", (VIEW, SUPPRESSIONS), 200, _suppress_many),
    Endpoint("GET", "/api/v1/suppressions/{id}", (VIEW, SUPPRESSIONS), 200,
             target="suppression"),
    Endpoint("DELETE", "/api/v1/suppressions/{id}", (VIEW, SUPPRESSIONS), 204,
             target="suppression"),
    Endpoint("POST", "/api/v1/sms/test", (VIEW, SEND), 200, TEST_SMS),
    Endpoint("POST", "/api/v1/sms/send", (VIEW, SEND), 201, _one_off),
    Endpoint("GET", "/api/v1/customers", (VIEW, SEND), 200),
    Endpoint("GET", "/api/v1/campaigns/{id}/logs", (VIEW, LOGS), 200, target="logs"),
    Endpoint("GET", "/api/v1/campaigns/{id}/logs.csv", (VIEW, LOGS), 200, target="logs",
             mimetype="text/csv"),
    Endpoint("GET", "/api/v1/dashboard", (VIEW,), 200),
    Endpoint("GET", "/ui/dashboard", (VIEW,), 200),
    Endpoint("GET", "/ui/templates", (VIEW, TEMPLATES), 200),
    Endpoint("GET", "/ui/suppressions", (VIEW, SUPPRESSIONS), 200),
    Endpoint("GET", "/ui/sms", (VIEW, SEND), 200),
    Endpoint("GET", "/ui/campaigns/{id}/logs", (VIEW, LOGS), 200, target="logs"),
]
EP_IDS = [e.name for e in ENDPOINTS]
ID_ENDPOINTS = [e for e in ENDPOINTS if e.has_id]
CSRF_ENDPOINTS = [e for e in ENDPOINTS if e.checks_csrf]


@dataclass
class Sec:
    web: Web
    victim: int  # a tenant-1 draft that refused requests must leave alone
    other: int  # another tenant-1 draft (for "signed for another path")
    victim_name: str
    second: SignedClient  # a second app instance on the same database
    pristine: dict[str, tuple[int, int]]  # Booknetic tables before any test
    # For the other kinds of `Endpoint.target`: tenant-1 objects refused requests must leave
    # alone (a sent campaign with logs, a template, a suppression) and a second of each.
    victims: dict[str, int]
    others: dict[str, int]
    names: dict[str, str]  # what identifies each victim in a list or page

    @property
    def client(self) -> SignedClient:
        return self.web.client

    def victim_of(self, ep: Endpoint) -> int:
        return self.victims[ep.target]

    def other_of(self, ep: Endpoint) -> int:
        return self.others[ep.target]

    def path(self, ep: Endpoint) -> str:
        """The path of `ep` on its victim."""
        return ep.path(self.victim_of(ep))

    def request(self, ep: Endpoint, *, who: Who = ALL, campaign: int | None = None,
                **kw: Any) -> Signed:
        """A correctly signed request for `ep` (on the victim unless told otherwise;
        `campaign` is the id of whatever object `ep` targets)."""
        path = ep.path(self.victim_of(ep) if campaign is None else campaign)
        if ep.operator:
            who = who.in_tenant(None)
        return self.client.prepare(ep.method, path, ep.payload(), who=who, **kw)

    def target(self, ep: Endpoint) -> int:
        """A fresh tenant-1 object of the kind a successful call to `ep` needs (campaigns in
        the state it needs; the logs endpoints only read, so they share the sent one)."""
        settle()
        if ep.target == "logs":
            return self.victims["logs"]
        if ep.target == "template":
            return self.web.template(1, name=f"target of {ep.name}")
        if ep.target == "suppression":
            return self.web.suppression(1, reason=f"target of {ep.name}")
        return self.web.campaign(1, name=f"target of {ep.name}", status=ep.state)


@pytest.fixture(scope="module")
def web(mariadb: MariaDBServer) -> Iterator[Web]:
    yield from web_fixture(mariadb)


@pytest.fixture(scope="module")
def sec(web: Web) -> Sec:
    pristine = web.booknetic_fingerprint()
    tag = uuid.uuid4().hex[:8]
    name = f"Victim-{tag}"
    victim = web.campaign(1, name=name)
    other = web.campaign(1, name="Other tenant-1 draft")
    second = web.client_for(web.second_app())
    names = {"campaign": name, "logs": f"Logs-victim-{tag}", "template": f"Tpl-victim-{tag}",
             "suppression": f"Supp-victim-{tag}"}
    settle()
    victims = {"campaign": victim,
               "logs": web.sent_campaign(1, name=names["logs"]),
               "template": web.template(1, name=names["template"]),
               "suppression": web.suppression(1, reason=names["suppression"])}
    others = {"campaign": other, "logs": other,
              "template": web.template(1, name="Other tenant-1 template"),
              "suppression": web.suppression(1, reason="Other tenant-1 suppression")}
    return Sec(web, victim, other, name, second, pristine, victims, others, names)


def assert_refused(reply: Reply, ep: Endpoint, status: int, code: str,
                   reason: str | None = None) -> None:
    """Refused with `status`: the JSON error shape for the API and bridge, an HTML error page
    (with its CSP) under /ui; `reason` must appear in the message (pages show it too)."""
    assert reply.headers.get("X-Content-Type-Options") == "nosniff", reply.headers
    if ep.is_page:
        assert reply.status == status, reply
        assert reply.mimetype == "text/html", reply
        assert "Content-Security-Policy" in reply.headers
        assert "<!doctype html>" in reply.text.lower()
        message = reply.text
        reason = None if reason is None else str(escape(reason))
    else:
        message = assert_error(reply, status, code)["message"]
    if reason is not None:
        assert reason in message, (reason, message[:2000])


def assert_ok(reply: Reply, ep: Endpoint) -> None:
    assert reply.status == ep.ok, reply
    assert reply.headers.get("X-Content-Type-Options") == "nosniff", reply.headers
    if ep.is_page:
        assert reply.mimetype == "text/html", reply
        assert "Content-Security-Policy" in reply.headers
    elif ep.mimetype != "application/json":
        assert reply.mimetype == ep.mimetype, reply
        assert reply.headers["Content-Disposition"].startswith("attachment;"), reply.headers
    elif ep.ok != 204:
        reply.json()


def refused_without_effect(sec: Sec, ep: Endpoint, request: Signed | Callable[[], Signed],
                           status: int, code: str, client: SignedClient | None = None,
                           reason: str | None = None) -> None:
    """Send `request` (built only now if it is a function: its ts must be fresh) and check
    the refusal and that nothing changed."""
    settle()
    before = sec.web.state()
    if callable(request):
        request = request()
    reply = (client or sec.client).send(request)
    assert_refused(reply, ep, status, code, reason)
    settle()
    assert sec.web.state() == before, "a refused request changed something"


# -- 401: unsigned, forged, tampered ---------------------------------------------------------


def _other_method(ep: Endpoint) -> str:
    return "POST" if ep.method == "GET" else "GET"


def _other_path(sec: Sec, ep: Endpoint) -> str:
    if ep.has_id:
        return ep.path(sec.other_of(ep))
    return "/api/v1/segments" if ep.template == "/api/v1/status" else "/api/v1/status"


def _with_query(path: str, query: str) -> str:
    return path + ("&" if "?" in path else "?") + query


def _signed_for(sec: Sec, ep: Endpoint, *, method: str | None = None, path: str | None = None,
                sent: str | None = None) -> Signed:
    """Signed for (method, path) but sent as `ep` to `sent` (default: the victim)."""
    signed = sec.client.prepare(method or ep.method, path or sec.path(ep), ep.payload(),
                                who=ALL)
    return replace(signed, method=ep.method, path=sent or sec.path(ep))


MISSING, BAD_SIGNATURE, CLOCK = "missing X-Bkntc-Identity", "bad signature", "timestamp"
TAMPER: dict[str, Callable[[Sec, Endpoint], Signed]] = {
    "no signature headers": lambda s, e: s.request(e).with_headers(
        X_Bkntc_Identity=None, X_Bkntc_Signature=None),
    "identity without signature": lambda s, e: s.request(e).with_headers(
        X_Bkntc_Signature=None),
    "signature without identity": lambda s, e: s.request(e).with_headers(
        X_Bkntc_Identity=None),
    "empty signature": lambda s, e: s.request(e).with_headers(X_Bkntc_Signature=""),
    "bad signature (one hex digit flipped)": lambda s, e: flipped_signature(s.request(e)),
    "signed with another secret": lambda s, e: s.request(
        e, secret="another-secret-0123456789abcdef"),
    "tenant_id changed after signing": lambda s, e: tampered_identity(s.request(e), tenant_id=2),
    # (An operator-only endpoint is already signed without a tenant: set one instead.)
    "tenant_id nulled after signing": lambda s, e: tampered_identity(
        s.request(e), tenant_id=3 if e.operator else None),
    "caps added after signing": lambda s, e: tampered_identity(
        s.request(e, who=ALL.with_caps(VIEW)), caps=list(CAPABILITIES)),
    "user_id changed after signing": lambda s, e: tampered_identity(s.request(e), user_id=1),
    "ts refreshed after signing": lambda s, e: tampered_identity(
        s.request(e, ts=int(time.time()) - 400), ts=int(time.time())),
    "body changed after signing": lambda s, e: (
        lambda r: replace(r, body=r.body + b" " if r.body else b"{}"))(s.request(e)),
    "path changed after signing": lambda s, e: _signed_for(s, e, path=_other_path(s, e)),
    "query added after signing": lambda s, e: replace(
        s.request(e), path=_with_query(s.path(e), "page=2")),
    "query changed after signing": lambda s, e: _signed_for(
        s, e, path=_with_query(s.path(e), "x=1"), sent=_with_query(s.path(e), "x=2")),
    "query dropped after signing": lambda s, e: _signed_for(
        s, e, path=_with_query(s.path(e), "page=1")),
    "method changed after signing": lambda s, e: _signed_for(s, e, method=_other_method(e)),
    "expired ts (now-301)": lambda s, e: s.request(e, ts=int(time.time()) - 301),
    "future ts (now+301)": lambda s, e: s.request(e, ts=early_in_second() + 301),
    "ts in milliseconds": lambda s, e: s.request(e, ts=int(time.time() * 1000)),
    "ts zero": lambda s, e: s.request(e, ts=0),
}


# Why each is refused (the 401 message says it): proves the intended check caught it.
REASON = {
    "no signature headers": MISSING, "identity without signature": MISSING,
    "signature without identity": MISSING, "empty signature": MISSING,
    "expired ts (now-301)": CLOCK, "future ts (now+301)": CLOCK, "ts in milliseconds": CLOCK,
    "ts zero": CLOCK,
}


@pytest.mark.parametrize("attack", list(TAMPER))
@pytest.mark.parametrize("ep", ENDPOINTS, ids=EP_IDS)
def test_unsigned_forged_or_tampered_request_is_401(sec: Sec, ep: Endpoint,
                                                    attack: str) -> None:
    refused_without_effect(sec, ep, lambda: TAMPER[attack](sec, ep), 401, "unauthorized",
                           reason=REASON.get(attack, BAD_SIGNATURE))


# -- 401: correctly signed, malformed identity ---------------------------------------------


def _valid_identity() -> dict[str, Any]:
    return {"user_id": ALL.user_id, "user_login": ALL.user_login,
            "display_name": ALL.display_name, "tenant_id": 1, "caps": list(ALL.caps),
            "ts": int(time.time()), "nonce": uuid.uuid4().hex}


def _changed(**changes: Any) -> Callable[[], str]:
    def make() -> str:
        data = _valid_identity()
        for key, value in changes.items():
            if value is _DROP:
                data.pop(key)
            else:
                data[key] = value
        return identity_b64(data)
    return make


_DROP = object()
MALFORMED: dict[str, Callable[[], str]] = {
    "not base64url": lambda: "***not-base64***",
    "standard base64 with + / =": lambda: base64.b64encode(
        json.dumps(_valid_identity()).encode() + b"\xfb\xff").decode() + "==",
    "base64url with = padding": lambda: identity_b64(_valid_identity()) + "==",
    "base64 of non-JSON": lambda: b64url(b"user_id=11&tenant_id=1&caps=cron"),
    "base64 of invalid UTF-8": lambda: b64url(b'\xff\xfe{"user_id": 11}'),
    "JSON array": lambda: identity_b64([_valid_identity()]),
    "JSON string": lambda: identity_b64("tenant 1"),
    "JSON null": lambda: identity_b64(None),
    "empty JSON object": lambda: identity_b64({}),
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
    "ts as text": _changed(ts=str(int(time.time()))),
    "ts fraction": _changed(ts=time.time()),
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


@pytest.mark.parametrize(("ep", "variant"), MALFORMED_CELLS,
                         ids=[f"{ep.name}-{variant}" for ep, variant in MALFORMED_CELLS])
def test_correctly_signed_but_malformed_identity_is_401(sec: Sec, ep: Endpoint,
                                                        variant: str) -> None:
    request = with_raw_identity(sec.request(ep), MALFORMED[variant]())
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

ACCEPTED: dict[str, Callable[[Endpoint], dict[str, Any]]] = {
    "signed correctly": lambda e: {"who": ALL},
    "ts now-299": lambda e: {"who": ALL, "ts": int(time.time()) - 299},
    "ts now+299": lambda e: {"who": ALL, "ts": early_in_second() + 299},
    "only the required capabilities": lambda e: {"who": ALL.with_caps(*e.minimal_caps)},
}


@pytest.mark.parametrize("variant", list(ACCEPTED))
@pytest.mark.parametrize("ep", ENDPOINTS, ids=EP_IDS)
def test_correctly_signed_request_is_accepted(sec: Sec, ep: Endpoint, variant: str) -> None:
    campaign = sec.target(ep) if ep.has_id else None  # first: it may wait for other work
    request = sec.request(ep, campaign=campaign, **ACCEPTED[variant](ep))
    assert_ok(sec.client.send(request), ep)


# -- 401: replays ----------------------------------------------------------------------------


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
    now = int(time.time())
    old, recent = uuid.uuid4().hex, uuid.uuid4().hex
    with sec.web.engine.begin() as conn:
        conn.execute(insert(table), [{"nonce": old, "seen_at": now - 601},
                                     {"nonce": recent, "seen_at": now - 590}])
    assert sec.client.get("/api/v1/status", who=ALL, nonce=old).status == 200
    assert sec.client.get("/api/v1/status", who=ALL, nonce=recent).status == 401


# -- 403: capabilities -----------------------------------------------------------------------

# (endpoint, capabilities taken away, the capability the refusal names): each required one
# alone, and for endpoints that accept any of several, all of those at once.
CAP_CELLS = [(ep, (cap,), cap) for ep in ENDPOINTS for cap in ep.caps] + [
    (ep, ep.any_of, ep.any_of[0]) for ep in ENDPOINTS if ep.any_of]


@pytest.mark.parametrize(("ep", "removed", "named"), CAP_CELLS,
                         ids=[f"{ep.name}-without {' and '.join(removed)}"
                              for ep, removed, _ in CAP_CELLS])
def test_missing_capability_is_403(sec: Sec, ep: Endpoint, removed: tuple[str, ...],
                                   named: str) -> None:
    refused_without_effect(sec, ep, sec.request(ep, who=ALL.without(*removed)), 403,
                           "forbidden", reason=f"(capability {named!r})")


ANY_OF_CELLS = [(ep, cap) for ep in ENDPOINTS for cap in ep.any_of]


@pytest.mark.parametrize(("ep", "cap"), ANY_OF_CELLS,
                         ids=[f"{ep.name}-with only {cap}" for ep, cap in ANY_OF_CELLS])
def test_any_one_of_the_alternative_capabilities_is_enough(sec: Sec, ep: Endpoint,
                                                           cap: str) -> None:
    """Templates are read by their managers and by campaign authors (who pick one)."""
    target = sec.target(ep) if ep.has_id else None
    assert_ok(sec.client.send(sec.request(ep, campaign=target,
                                          who=ALL.with_caps(*ep.caps, cap))), ep)


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


# -- 404: another tenant's objects -----------------------------------------------------------

TENANT_CELLS = [(ep, who) for ep in ID_ENDPOINTS for who in (TENANT2, TENANT3, SUPER)]


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


@pytest.mark.parametrize("attack", HTTP_ATTACKS)
@pytest.mark.parametrize("ep", ENDPOINTS, ids=EP_IDS)
def test_over_http_tampered_requests_are_401(sec: Sec, http: SignedClient, ep: Endpoint,
                                             attack: str) -> None:
    refused_without_effect(sec, ep, lambda: TAMPER[attack](sec, ep), 401, "unauthorized",
                           client=http, reason=REASON.get(attack, BAD_SIGNATURE))


@pytest.mark.parametrize("ep", ENDPOINTS, ids=EP_IDS)
def test_over_http_valid_then_replayed(sec: Sec, http: SignedClient, ep: Endpoint) -> None:
    request = sec.request(ep, campaign=sec.target(ep) if ep.has_id else None)
    assert_ok(http.send(request), ep)
    refused_without_effect(sec, ep, request, 401, "unauthorized", client=http,
                           reason="replayed")


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
