"""While MariaDB is down, every request answers 503 with Retry-After — JSON for the API, the
HTML error page for pages, through the relay too — not 500 internal_error; and the service
recovers by itself: the first request after the database is back succeeds.

The database server here is a dedicated throwaway MariaDB that the test stops and starts
(on the same data directory and port), so no other test module loses its database. The
sidecar is served over real HTTP by waitress, as in production, and the pages through the
local relay that does what the WordPress bridge does.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from sidecar.web.relay import create_relay
from sidecar.web.server import BackgroundServer
from tests.conftest import MariaDBServer, start_mariadb
from tests.security_support import ALL, ENDPOINTS, EP_IDS, Endpoint, failed_campaign
from tests.web_support import (
    SECRET,
    Reply,
    SignedClient,
    Web,
    assert_error,
    close_web,
    flipped_signature,
    open_web,
)


@dataclass
class Outage:
    server: MariaDBServer
    web: Web
    http: SignedClient  # signed requests to the sidecar over HTTP
    relay: BackgroundServer  # the bridge's stand-in, in front of the sidecar
    ids: dict[str, int]  # an object of each kind an endpoint can target

    def stop_database(self) -> None:
        self.server.shut_down()

    def start_database(self) -> None:
        self.server.restart()

    def page(self, path: str) -> requests.Response:
        """A page as the browser gets it: through the relay, which signs for the user."""
        return requests.get(f"{self.relay.url}/wp-admin/admin-ajax.php",
                            params={"action": "bkntc_sms", "p": path}, timeout=30)


pytestmark = pytest.mark.slow  # its own MariaDB, stopped and started three times


@pytest.fixture(scope="module")
def outage() -> Iterator[Outage]:
    server = start_mariadb()  # dedicated: it goes down in the middle of this module
    try:
        web = open_web(server, customers=10)
        try:
            http = web.http(ALL)
            identity = {"user_id": ALL.user_id, "user_login": ALL.user_login,
                        "display_name": ALL.display_name, "tenant_id": ALL.tenant_id,
                        "caps": list(ALL.caps)}
            relay = BackgroundServer(create_relay(web.servers[0].url, lambda: SECRET,
                                                  lambda request: dict(identity),
                                                  clock=web.runtime.clock)).start()
            ids = {"campaign": web.campaign(1, name="Outage draft"),
                   "logs": web.sent_campaign(1, name="Outage sent"),
                   "template": web.template(1), "suppression": web.suppression(1),
                   "failed": failed_campaign(web, "Outage failed")}
            try:
                yield Outage(server, web, http, relay, ids)
            finally:
                relay.stop()
        finally:
            server.restart()  # if a test failed while it was down
            close_web(web)
    finally:
        server.stop()


def assert_unavailable(reply: Reply | requests.Response, *, page: bool) -> None:
    status = reply.status if isinstance(reply, Reply) else reply.status_code
    headers = reply.headers
    assert status == 503, (status, reply)
    assert headers.get("Retry-After", "").isdigit(), headers
    content_type = headers.get("Content-Type", "")
    if page:
        assert content_type.startswith("text/html"), headers
        text = reply.text
        assert "cannot be reached right now" in text, text[:2000]
    else:
        assert isinstance(reply, Reply)
        error = assert_error(reply, 503, "database_unavailable")
        assert "try again" in error["message"]


def request_for(outage: Outage, ep: Endpoint) -> Any:
    who = ALL.in_tenant(None) if ep.operator else ALL
    return outage.http.prepare(ep.method, ep.path(outage.ids[ep.target]), ep.payload(), who=who)


def test_503_while_the_database_is_down_then_recovers_by_itself(
        outage: Outage, caplog: pytest.LogCaptureFixture) -> None:
    assert outage.http.get("/api/v1/campaigns").status == 200
    assert outage.page("/ui/campaigns").status_code == 200
    outage.stop_database()
    try:
        with caplog.at_level(logging.WARNING):
            for ep, name in zip(ENDPOINTS, EP_IDS, strict=True):
                reply = outage.http.send(request_for(outage, ep))
                assert_unavailable(reply, page=ep.is_page), name
            logs = outage.ids["logs"]
            for path in ("/ui/campaigns", "/ui/dashboard", f"/ui/campaigns/{logs}/logs"):
                assert_unavailable(outage.page(path), page=True)
            # Authentication that needs no database still says what is wrong.
            bad = flipped_signature(outage.http.prepare("GET", "/api/v1/campaigns"))
            assert_error(outage.http.send(bad), 401, "unauthorized")
        unhandled = [r for r in caplog.records if r.getMessage() == "unhandled error"]
        assert not unhandled, "an outage was treated as a bug (500)"
    finally:
        outage.start_database()
    # No retries, no restart: the very first requests after the database is back succeed.
    assert outage.http.get("/api/v1/campaigns").status == 200
    page = outage.page("/ui/campaigns")
    assert page.status_code == 200 and "Outage draft" in page.text
    created = outage.http.post("/api/v1/templates", {"name": "After the outage", "body": "Hi"})
    assert created.status == 201, created


def test_a_write_refused_during_the_outage_can_be_sent_again(outage: Outage) -> None:
    """The 503 came before the request's nonce was stored: the bridge may send it again."""
    request = outage.http.prepare("POST", "/api/v1/templates",
                                  {"name": "Sent twice", "body": "Hi"})
    outage.stop_database()
    try:
        assert_unavailable(outage.http.send(request), page=False)
    finally:
        outage.start_database()
    assert outage.http.send(request).status == 201
    assert outage.http.send(request).status == 401  # and then it is a replay
