"""Helpers for the web tests: a signed client that does what the WordPress bridge does.

Every request is signed with `sidecar.web.auth.sign()` exactly as DESIGN.md §6 says (the
bridge's reference implementation), over the raw path-with-query and the exact body bytes,
dated by the app's own clock (the shop's FrozenClock): the signer's "now" is the app's.
`SignedClient.prepare()` returns the request *before* it is sent, so a test can tamper with
any part of it afterwards (`tampered_*` helpers) and prove the sidecar notices.

Two transports speak the same `Signed` request: Flask's test client (fast, in process) and
real HTTP to the app served by waitress (`BackgroundServer`) through `requests`, so the same
checks can show that nothing differs on the wire.

`open_web()` builds the real thing once per test module: a fresh MariaDB database with the
SaaS sample data (tenants 1, 2, 3 and NULL-tenant rows), our schema, the fake Twilio over
HTTP, and `create_app(runtime)`.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar

import requests
from flask import Flask
from flask.testing import FlaskClient
from requests.structures import CaseInsensitiveDict
from sqlalchemy import Engine, insert, select, text

from sidecar.db import make_engine
from sidecar.runtime import Runtime
from sidecar.web import create_app
from sidecar.web.auth import (
    CAPABILITIES,
    SERVER_CAPABILITIES,
    Identity,
    b64url,
    csrf_token,
    sign,
    signature,
)
from sidecar.web.server import BackgroundServer
from tests.conftest import MariaDBServer
from tests.shop import Shop, open_shop
from tests.webhook_support import PUBLIC_BASE

SECRET = "web-tests-bridge-secret-0123456789abcdef"
PREFIX = "wp_"

VIEW = "sms_campaigns"
CREATE = "sms_campaigns_create"
SEND = "sms_campaigns_send"
DELETE = "sms_campaigns_delete"
TEMPLATES = "sms_campaign_templates"
LOGS = "sms_campaign_logs"
SUPPRESSIONS = "sms_campaign_suppressions"
CRON = "cron"
USER_CAPS: tuple[str, ...] = tuple(c for c in CAPABILITIES if c not in SERVER_CAPABILITIES)

STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")

T = TypeVar("T")

# Valid US numbers no sample customer has (those use 555-01xx and other exchanges).
_FRESH = itertools.count()


def fresh_phone() -> str:
    """A valid E.164 number, different on every call (for suppressions and one-off SMS)."""
    n = next(_FRESH)
    assert n < 3 * 8000, "out of fresh phone numbers"
    return f"+1{('202', '415', '617')[n // 8000]}555{2000 + n % 8000:04d}"


class _Auto:
    """Marker: let the client pick the usual value (fresh nonce, current ts, right token)."""

    def __repr__(self) -> str:
        return "AUTO"


AUTO: Any = _Auto()
NO_BODY: Any = object()


# -- who is asking -------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    """The WordPress user the bridge asserts."""

    user_id: int = 11
    user_login: str = "owner1"
    display_name: str = "Tenant One Owner"
    tenant_id: int | None = 1
    caps: tuple[str, ...] = USER_CAPS

    def with_caps(self, *caps: str) -> Who:
        return replace(self, caps=tuple(caps))

    def without(self, *caps: str) -> Who:
        return replace(self, caps=tuple(c for c in self.caps if c not in caps))

    def in_tenant(self, tenant_id: int | None) -> Who:
        return replace(self, tenant_id=tenant_id)

    def identity(self) -> Identity:
        return Identity(self.user_id, self.user_login, self.display_name, self.tenant_id,
                        frozenset(self.caps), 0, "unused-nonce")

    def csrf(self, secret: str = SECRET) -> str:
        return csrf_token(secret, self.identity())


TENANT1 = Who()
TENANT2 = Who(user_id=12, user_login="owner2", display_name="Tenant Two Owner", tenant_id=2)
TENANT3 = Who(user_id=13, user_login="owner3", display_name="Tenant Three Owner", tenant_id=3)
SUPER = Who(user_id=1, user_login="admin", display_name="Super Admin", tenant_id=None)
CRON_CALLER = Who(user_id=0, user_login="", display_name="cron", tenant_id=None, caps=(CRON,))


# -- requests and replies ------------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    """One request exactly as it goes on the wire (path includes the raw query)."""

    method: str
    path: str
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def with_headers(self, **changes: str | None) -> Signed:
        """Set (value) or drop (None) headers; `X_Bkntc_Csrf` spells X-Bkntc-Csrf."""
        headers = dict(self.headers)
        for key, value in changes.items():
            name = key.replace("_", "-")
            if value is None:
                headers.pop(name, None)
            else:
                headers[name] = value
        return replace(self, headers=headers)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def mimetype(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip()

    def json(self) -> Any:
        assert self.mimetype == "application/json", (self.status, self.mimetype, self.text[:300])
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<Reply {self.status} {self.mimetype} {self.text[:300]!r}>"


class Transport(Protocol):
    def send(self, request: Signed) -> Reply: ...


class FlaskTransport:
    """In process, through Flask's test client."""

    def __init__(self, app: Flask) -> None:
        self.client: FlaskClient = app.test_client()

    def send(self, request: Signed) -> Reply:
        response = self.client.open(request.path, method=request.method, data=request.body,
                                    headers=dict(request.headers))
        return Reply(response.status_code, CaseInsensitiveDict(dict(response.headers.items())),
                     response.get_data())


class HttpTransport:
    """Over real HTTP to a server (waitress), through `requests`.

    The URL is prepared first and then set verbatim, so the query string goes on the wire
    exactly as it was signed (requests would otherwise re-quote it).
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def send(self, request: Signed) -> Reply:
        prepared = self.session.prepare_request(requests.Request(
            request.method, self.base_url + "/", data=request.body or None,
            headers=dict(request.headers)))
        prepared.url = self.base_url + request.path
        response = self.session.send(prepared, timeout=120, allow_redirects=False)
        return Reply(response.status_code, CaseInsensitiveDict(dict(response.headers.items())),
                     response.content)

    def close(self) -> None:
        self.session.close()


class SignedClient:
    """Build, sign and send requests as the bridge would, for one user by default; `clock`
    dates the signatures (the clock of the app they go to)."""

    def __init__(self, transport: Transport, *, clock: Callable[[], float],
                 secret: str = SECRET, who: Who = TENANT1) -> None:
        self.transport = transport
        self.clock = clock
        self.secret = secret
        self.who = who

    def as_(self, who: Who) -> SignedClient:
        return SignedClient(self.transport, clock=self.clock, secret=self.secret, who=who)

    def now(self) -> int:
        """The signer's current epoch second (what a fresh signature's ts is)."""
        return int(self.clock())

    def prepare(self, method: str, path: str, json_body: Any = NO_BODY, *,
                raw_body: bytes | None = None, who: Who | None = None, ts: Any = AUTO,
                nonce: Any = AUTO, csrf: Any = AUTO, content_type: Any = AUTO,
                secret: str | None = None) -> Signed:
        """A signed request. `csrf`: AUTO (the right token on writes), None (no header) or a
        string; `content_type`: AUTO (JSON when there is a JSON body), None or a string."""
        who = who or self.who
        method = method.upper()
        if raw_body is not None:
            body = raw_body
        elif json_body is NO_BODY:
            body = b""
        else:
            body = json.dumps(json_body).encode()
        headers: dict[str, str] = dict(sign(
            secret or self.secret, method, path, body, user_id=who.user_id,
            user_login=who.user_login, display_name=who.display_name, tenant_id=who.tenant_id,
            caps=list(who.caps), ts=self.now() if ts is AUTO else ts,
            nonce=None if nonce is AUTO else nonce))
        if content_type is AUTO:
            if json_body is not NO_BODY or raw_body:
                headers["Content-Type"] = "application/json"
        elif content_type is not None:
            headers["Content-Type"] = content_type
        if csrf is AUTO:
            if method in STATE_CHANGING:
                headers["X-Bkntc-Csrf"] = csrf_token(self.secret, who.identity())
        elif csrf is not None:
            headers["X-Bkntc-Csrf"] = csrf
        return Signed(method, path, body, headers)

    def send(self, request: Signed) -> Reply:
        return self.transport.send(request)

    def request(self, method: str, path: str, json_body: Any = NO_BODY, **kw: Any) -> Reply:
        return self.send(self.prepare(method, path, json_body, **kw))

    def get(self, path: str, **kw: Any) -> Reply:
        return self.request("GET", path, **kw)

    def post(self, path: str, json_body: Any = NO_BODY, **kw: Any) -> Reply:
        return self.request("POST", path, json_body, **kw)

    def put(self, path: str, json_body: Any = NO_BODY, **kw: Any) -> Reply:
        return self.request("PUT", path, json_body, **kw)

    def delete(self, path: str, **kw: Any) -> Reply:
        return self.request("DELETE", path, **kw)


# -- tampering after signing ---------------------------------------------------------------


def decode_identity(request: Signed) -> dict[str, Any]:
    encoded = request.headers["X-Bkntc-Identity"]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    return data


def tampered_identity(request: Signed, **changes: Any) -> Signed:
    """Change identity fields after signing, keeping the old signature."""
    data = {**decode_identity(request), **changes}
    encoded = b64url(json.dumps(data, separators=(",", ":")).encode())
    return request.with_headers(X_Bkntc_Identity=encoded)


def flipped_signature(request: Signed) -> Signed:
    """The same signature with one hex digit changed."""
    sig = request.headers["X-Bkntc-Signature"]
    flipped = ("1" if sig[-1] != "1" else "2")
    return request.with_headers(X_Bkntc_Signature=sig[:-1] + flipped)


def with_raw_identity(request: Signed, encoded: str, secret: str = SECRET) -> Signed:
    """Replace the identity header with `encoded` and sign it *correctly*: the signature is
    valid, so only the identity's own checks can refuse it."""
    return request.with_headers(
        X_Bkntc_Identity=encoded,
        X_Bkntc_Signature=signature(secret, request.method, request.path, encoded, request.body))


def identity_b64(data: Any) -> str:
    return b64url(json.dumps(data, separators=(",", ":")).encode())


# -- error shape ---------------------------------------------------------------------------


def assert_error(reply: Reply, status: int, code: str | None = None,
                 fields: Mapping[str, str | None] | None = None,
                 invalid: list[str] | None = None) -> dict[str, Any]:
    """The one JSON error shape: {"error": {"code", "message", "fields"?, "invalid"?}}.

    `fields` maps field names to a substring of the message (None: any message); `invalid`
    is the exact list of rejected inputs the list endpoints add (suppressions, one-off SMS).
    """
    assert reply.status == status, reply
    data = reply.json()
    assert set(data) == {"error"}, data
    error = data["error"]
    assert isinstance(error, dict) and set(error) <= {"code", "message", "fields",
                                                      "invalid"}, error
    assert isinstance(error.get("code"), str) and error["code"], error
    assert isinstance(error.get("message"), str) and error["message"], error
    if code is not None:
        assert error["code"] == code, error
    if "fields" in error:
        assert isinstance(error["fields"], dict) and error["fields"], error
        assert all(isinstance(k, str) and isinstance(v, str) and v
                   for k, v in error["fields"].items()), error
    if "invalid" in error:
        assert isinstance(error["invalid"], list) and error["invalid"], error
        assert all(isinstance(v, str) for v in error["invalid"]), error
    if invalid is not None:
        assert error.get("invalid") == invalid, error
    if fields is not None:
        got = error.get("fields", {})
        assert set(got) == set(fields), error
        for name, fragment in fields.items():
            if fragment is not None:
                assert fragment in got[name], (name, got[name])
    return dict(error)


# -- waiting -------------------------------------------------------------------------------


def wait_for(check: Callable[[], T | None], *, timeout: float = 120.0, interval: float = 0.02,
             what: str = "condition") -> T:
    """Poll `check` until it returns something truthy, or fail after `timeout` seconds (a
    safety net for a busy machine: the wait ends as soon as the condition holds)."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


# The runtimes of the Web setups open now (open_web/close_web), for settle().
_OPEN_RUNTIMES: list[Runtime] = []


def settle(timeout: float = 30.0) -> None:
    """Wait for the background sending of every open Web setup (kicked by the API's send,
    resume and one-off SMS, or by ticks) to end."""
    for runtime in list(_OPEN_RUNTIMES):
        assert runtime.outbox.wait_idle(timeout), "background sending still running"


# -- the whole setup -----------------------------------------------------------------------


@dataclass
class Web:
    """A SaaS Booknetic database, the sidecar runtime and its web app, the fake Twilio."""

    mariadb: MariaDBServer
    database: str
    url: str
    shop: Shop
    app: Flask
    client: SignedClient
    servers: list[BackgroundServer] = field(default_factory=list)
    others: list[Runtime] = field(default_factory=list)
    probe: Any = None  # state()'s own connection

    @property
    def runtime(self) -> Runtime:
        return self.shop.runtime

    @property
    def engine(self) -> Engine:
        return self.shop.engine

    @property
    def twilio_token(self) -> str:
        """The Twilio add-on's Auth Token (what Twilio signs its webhooks with)."""
        return str(self.shop.ds.options["bkntc_sms_auth_token"])

    def client_for(self, app: Flask, who: Who = TENANT1) -> SignedClient:
        return SignedClient(FlaskTransport(app), clock=self.runtime.clock, who=who)

    def other_runtime(self, clock: Callable[[], float] | None = None) -> Runtime:
        """Another sidecar runtime (own engine) on the same database, closed with this
        setup; on this setup's clock unless another is given."""
        runtime = Runtime.build(self.runtime.settings, engine=make_engine(self.url),
                                clock=clock or self.runtime.clock)
        self.others.append(runtime)
        _OPEN_RUNTIMES.append(runtime)
        return runtime

    def second_app(self) -> Flask:
        """Another sidecar instance (own runtime, engine and app) on the same database."""
        return create_app(self.other_runtime())

    def http(self, who: Who = TENANT1) -> SignedClient:
        """A client talking real HTTP to this app served by waitress."""
        if not self.servers:
            self.servers.append(BackgroundServer(self.app, threads=4).start())
        return SignedClient(HttpTransport(self.servers[0].url), clock=self.runtime.clock,
                            who=who)

    def campaign(self, tenant_id: int | None = 1, *, name: str = "Victim",
                 segment: str = "canceled_recent", body: str = "Hi {customer_first_name}",
                 status: str = "draft", **filters: Any) -> int:
        """A campaign made through the service (not the API), in the given status.

        `queued`/`paused` campaigns are snapshotted for real; call settle() first so no
        background run picks a queued one up before the test uses it.
        """
        svc = self.runtime.campaigns
        cid = int(svc.create(tenant_id, {"name": name, "segment": segment, "body": body,
                                         "filters": filters})["id"])
        if status in ("queued", "paused"):
            assert svc.send(tenant_id, cid)["status"] == "queued"
        if status == "paused":
            svc.pause(tenant_id, cid)
        if status == "scheduled":  # far ahead: no queue run starts it
            self.runtime.schedules.schedule(tenant_id, cid, {"send_at": 2**31 - 8000})
        assert svc.get(tenant_id, cid)["status"] == status
        return cid

    def template(self, tenant_id: int | None = 1, *, name: str = "Victim template",
                 body: str = "Hi {customer_first_name}") -> int:
        """A tenant's own template, made through the service."""
        return int(self.runtime.templates.create(tenant_id, {"name": name, "body": body})["id"])

    def suppression(self, tenant_id: int | None = 1, *, phone: str | None = None,
                    reason: str = "victim") -> int:
        """A suppression-list row, made through the service."""
        row = self.runtime.suppressions.add(tenant_id, phone or fresh_phone(), reason)
        assert row["added"], row
        return int(row["id"])

    def sent_campaign(self, tenant_id: int | None = 1, *, name: str = "Sent",
                      segment: str = "all_with_phone", body: str = "Hi {customer_first_name}",
                      **filters: Any) -> int:
        """A campaign sent through the engine (no background thread) to the fake Twilio, so
        its recipient rows are real logs; call settle() first."""
        cid = self.campaign(tenant_id, name=name, segment=segment, body=body, status="queued",
                            **filters)
        self.runtime.outbox.drain(cid)
        assert self.runtime.campaigns.get(tenant_id, cid)["sent"] > 0
        return cid

    def recipient_rows(self, campaign_id: int, tenant_id: int | None,
                       rows: list[dict[str, Any]]) -> None:
        """Write recipient rows straight into a campaign (exact logs for filter tests)."""
        defaults = {"campaign_id": campaign_id, "tenant_id": tenant_id or 0, "customer_id": None,
                    "first_name": "", "last_name": "", "status": "pending", "attempts": 0,
                    "last_error": "", "error_code": None, "provider_message_id": None,
                    "sent_at": None, "updated_at": 0}
        with self.engine.begin() as conn:
            conn.execute(insert(self.runtime.tables.recipients),
                         [{**defaults, **row} for row in rows])

    def campaign_rows(self) -> list[dict[str, Any]]:
        c = self.runtime.tables.campaigns
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(c).order_by(c.c.id)).mappings()]

    def state(self) -> tuple[Any, ...]:
        """Everything a refused request must leave untouched: our campaign, recipient,
        template, suppression and settings rows (CHECKSUM TABLE covers every column of every
        row) and the requests the fake Twilio received (so not even a refused send was
        attempted).

        The matrix asks this twice per cell, so it uses one autocommit connection of its own
        (each statement sees everything committed; no pool checkout, ping or rollback)."""
        tables = self.runtime.tables
        names = ", ".join(f"`{t.name}`" for t in (tables.campaigns, tables.recipients,
                                                  tables.templates, tables.suppressions,
                                                  tables.settings))
        if self.probe is None:
            self.probe = self.mariadb.connect(self.database)
        with self.probe.cursor() as cur:
            cur.execute(f"CHECKSUM TABLE {names}")
            sums = cur.fetchall()
        return (tuple((str(r[0]), r[1]) for r in sums), self.shop.fake.stats.requests_total)

    def booknetic_fingerprint(self) -> dict[str, tuple[int, int]]:
        """Row count and CHECKSUM TABLE of every WordPress/Booknetic table (not ours)."""
        result: dict[str, tuple[int, int]] = {}
        with self.engine.connect() as conn:
            names = [r[0] for r in conn.execute(text("SHOW TABLES"))]
            for name in names:
                if name.startswith(f"{PREFIX}bkntc_sms_"):
                    continue
                count = conn.execute(text(f"SELECT COUNT(*) FROM `{name}`")).scalar_one()
                checksum = conn.execute(text(f"CHECKSUM TABLE `{name}`")).one()[1]
                result[name] = (int(count), int(checksum or 0))
        return result


def open_web(mariadb: MariaDBServer, *, twilio: str = "configured", customers: int = 40,
             env: Mapping[str, str] | None = None, quiet_hours: bool = False) -> Web:
    database = mariadb.create_database("web")
    url = mariadb.url(database)
    engine = make_engine(url)
    shop = open_shop(url, engine, kind="saas", customers=customers, twilio=twilio,
                     env={"BKNTC_SMS_BRIDGE_SECRET": SECRET,
                          "BKNTC_SMS_PUBLIC_URL": PUBLIC_BASE, **(env or {})},
                     quiet_hours=quiet_hours)
    app = create_app(shop.runtime)
    _OPEN_RUNTIMES.append(shop.runtime)
    return Web(mariadb, database, url, shop, app,
               SignedClient(FlaskTransport(app), clock=shop.clock))


def close_web(web: Web) -> None:
    settle()
    for runtime in (web.runtime, *web.others):
        _OPEN_RUNTIMES.remove(runtime)
    for server in web.servers:
        server.stop()
    for runtime in web.others:
        runtime.close()
    if web.probe is not None:
        web.probe.close()
    web.shop.fake.stop()
    web.runtime.close()
    web.mariadb.drop_database(web.database)


def web_fixture(mariadb: MariaDBServer, **kw: Any) -> Iterator[Web]:
    """Body of a module-scoped fixture: build once, tear down after the module."""
    web = open_web(mariadb, **kw)
    try:
        yield web
    finally:
        close_web(web)
