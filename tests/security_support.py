"""The shared parts of the security tests (test_security_*.py): the bridge protocol's
guarantees (DESIGN.md §6), cell by cell, on the real app.

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

Here: the endpoints (`ENDPOINTS`), the objects a refused request must leave alone (`Sec`,
built once per test module by `open_sec()`), the checks that a request was refused without
effect or accepted, and the ways to tamper with a signed request (`TAMPER`), used in process
and over real HTTP. The matrix's cells are marked `slow` (README, "Tests").
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from markupsafe import escape

from sidecar.web.auth import CAPABILITIES
from tests.web_support import (
    CREATE,
    CRON,
    DELETE,
    LOGS,
    NO_BODY,
    SEND,
    STATE_CHANGING,
    SUPPRESSIONS,
    TEMPLATES,
    TENANT1,
    VIEW,
    Reply,
    Signed,
    SignedClient,
    Web,
    Who,
    assert_error,
    flipped_signature,
    fresh_phone,
    settle,
    tampered_identity,
)
from tests.webhook_support import FORM, inbound_form, public_url, status_form, twilio_signed

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


WEBHOOK = "twilio_webhook"
# Routes that take form bodies and no page token (server to server).
FORM_ROUTES = ("/bridge/tick", "/twilio/status", "/twilio/inbound")


def failed_campaign(web: Web, name: str) -> int:
    """A tenant-1 campaign whose logs hold a failure another try may fix (resend-failed)."""
    cid = web.campaign(1, name=name)
    web.recipient_rows(cid, 1, [{"phone": fresh_phone(), "status": "failed", "attempts": 3,
                                 "last_error": "gave up after 3 attempts: timeout"}])
    return cid


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
    # message logs), "template" (a tenant's own template), "suppression" (a list row),
    # "failed" (a campaign with a failure worth resending).
    target: str = "campaign"
    any_of: tuple[str, ...] = ()  # besides `caps`, any one of these is enough
    mimetype: str = "application/json"  # of a successful answer (pages: text/html)
    # A Twilio webhook the bridge relays: `body` makes the form, which the request carries
    # form-encoded and signed by "Twilio" (tests/webhook_support.py).
    webhook: bool = False

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
        return self.method in STATE_CHANGING and self.template not in FORM_ROUTES

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
    Endpoint("POST", "/api/v1/campaigns/{id}/schedule", (VIEW, SEND), 200,
             lambda: {"send_at": "2030-01-01T09:00:00+00:00"}),
    Endpoint("POST", "/api/v1/campaigns/{id}/unschedule", (VIEW, SEND), 200,
             state="scheduled"),
    Endpoint("POST", "/api/v1/campaigns/{id}/resend-failed", (VIEW, CREATE), 201,
             target="failed"),
    Endpoint("GET", "/api/v1/campaigns/{id}/progress", (VIEW,), 200),
    Endpoint("GET", "/api/v1/campaigns/{id}/report", (VIEW,), 200),
    Endpoint("GET", "/api/v1/campaigns/{id}/audience", (VIEW, SEND), 200),
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
    Endpoint("GET", "/ui/campaigns/{id}/report", (VIEW,), 200),
    Endpoint("GET", "/api/v1/settings", (VIEW,), 200),
    Endpoint("PUT", "/api/v1/settings", (VIEW, SEND), 200, {"attribution_days": 10}),
    Endpoint("GET", "/ui/settings", (VIEW,), 200),
    # Twilio's status callback for a message nobody sent: accepted (204), changes nothing.
    Endpoint("POST", "/twilio/status", (WEBHOOK,), 204, status_form, operator=True,
             webhook=True),
    # An inbound STOP from a number no customer has: accepted (200, empty TwiML), it adds
    # the number to the no-tenant list — so a refusal that changed anything would show.
    Endpoint("POST", "/twilio/inbound", (WEBHOOK,), 200, lambda: inbound_form(fresh_phone()),
             operator=True, webhook=True, mimetype="text/xml"),
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
        return prepare(self, ep, ep.method, path, who, **kw)

    def target(self, ep: Endpoint) -> int:
        """A fresh tenant-1 object of the kind a successful call to `ep` needs (campaigns in
        the state it needs; the logs endpoints only read, so they share the sent one)."""
        settle()
        if ep.target == "logs":
            return self.victims["logs"]
        if ep.target == "failed":
            return failed_campaign(self.web, f"target of {ep.name}")
        if ep.target == "template":
            return self.web.template(1, name=f"target of {ep.name}")
        if ep.target == "suppression":
            return self.web.suppression(1, reason=f"target of {ep.name}")
        return self.web.campaign(1, name=f"target of {ep.name}", status=ep.state)


def prepare(sec: Sec, ep: Endpoint, method: str, path: str, who: Who, **kw: Any) -> Signed:
    """`ep`'s request signed for (method, path): its JSON body, or for a webhook the form
    Twilio signed for the Web's public URL, with the headers the bridge adds."""
    if not ep.webhook:
        return sec.client.prepare(method, path, ep.payload(), who=who, **kw)
    body, headers = twilio_signed(sec.web.twilio_token, ep.payload(),
                                  url=public_url(ep.template))
    kw.setdefault("content_type", FORM)
    signed = sec.client.prepare(method, path, raw_body=body, who=who, **kw)
    return replace(signed, headers={**signed.headers, **headers})


def open_sec(web: Web) -> Iterator[Sec]:
    """Body of the security modules' module-scoped `sec` fixture: the victims, on `web`.
    Afterwards Booknetic's tables must be as they were before the module's first request
    (each module has its own database now, so each checks its own)."""
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
               "suppression": web.suppression(1, reason=names["suppression"]),
               "failed": failed_campaign(web, f"Failed-victim-{tag}")}
    others = {"campaign": other, "logs": other,
              "template": web.template(1, name="Other tenant-1 template"),
              "suppression": web.suppression(1, reason="Other tenant-1 suppression"),
              "failed": other}
    yield Sec(web, victim, other, name, second, pristine, victims, others, names)
    settle()
    assert web.booknetic_fingerprint() == pristine, "Booknetic's tables changed"


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
    elif ep.webhook and ep.mimetype == "text/xml":  # Twilio's inbound webhook: TwiML
        assert reply.mimetype == ep.mimetype, reply
        assert reply.text.endswith("<Response />"), reply
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
    who = ALL.in_tenant(None) if ep.operator else ALL
    signed = prepare(sec, ep, method or ep.method, path or sec.path(ep), who)
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
        s.request(e, ts=s.client.now() - 400), ts=s.client.now()),
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
    # "now" is the app's clock, which stands still: the edges are exact.
    "expired ts (now-301)": lambda s, e: s.request(e, ts=s.client.now() - 301),
    "future ts (now+301)": lambda s, e: s.request(e, ts=s.client.now() + 301),
    "ts in milliseconds": lambda s, e: s.request(e, ts=s.client.now() * 1000),
    "ts zero": lambda s, e: s.request(e, ts=0),
}


# Why each is refused (the 401 message says it): proves the intended check caught it.
REASON = {
    "no signature headers": MISSING, "identity without signature": MISSING,
    "signature without identity": MISSING, "empty signature": MISSING,
    "expired ts (now-301)": CLOCK, "future ts (now+301)": CLOCK, "ts in milliseconds": CLOCK,
    "ts zero": CLOCK,
}
