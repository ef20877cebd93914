"""The bridge endpoints (sidecar/web/bridge.py): the cron tick and the site check; and the
one error shape every endpoint answers with (sidecar/web/errors.py). End to end: real
app, real MariaDB, fake Twilio.

Every request is signed as the WordPress bridge signs it (tests/web_support.py). The data is
the SaaS sample set (tenants 1, 2, 3 and NULL-tenant rows). Sending goes through the
unpatched twilio library to the fake Twilio over HTTP; waiting is polling with a deadline,
never a fixed sleep.
"""

from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor

from tests.api_support import VALID, progress, wait_finished
from tests.conftest import MariaDBServer
from tests.web_support import (
    CRON_CALLER,
    SUPER,
    TENANT1,
    Reply,
    SignedClient,
    Web,
    assert_error,
    settle,
    wait_for,
)

# -- bridge endpoints ----------------------------------------------------------------------


def test_tick_answers_202_at_once_and_the_queue_advances(web: Web, api: SignedClient) -> None:
    settle()
    # The fake holds every message until released: if the tick waited for its run, it could
    # not answer before the release — and the run is surely still going meanwhile.
    web.shop.fake.hold()
    try:
        cid = web.campaign(1, name="Tick me", segment="booked_last_30", status="queued",
                           body="Tick {customer_first_name}")
        total = progress(api, cid)["total"]
        assert total >= 8
        pool = ThreadPoolExecutor(1)  # a wait that fails clearly instead of hanging
        try:
            reply = pool.submit(api.post, "/bridge/tick", who=CRON_CALLER).result(timeout=120)
        finally:
            pool.shutdown(wait=False)
        assert reply.status == 202, reply
        assert reply.json() == {"accepted": True, "started": True}
        wait_for(lambda: web.shop.fake.stats.held, what="the run to reach the fake Twilio")
        assert progress(api, cid)["pending"] == total  # the run is still going
        again = api.post("/bridge/tick", who=CRON_CALLER)
        assert again.status == 202 and again.json() == {"accepted": True, "started": False}
    finally:
        web.shop.fake.release()
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
    assert names == ["database", "wordpress", "booknetic", "mode", "phone region",
                     "timezone", "sidecar schema", "processes", "twilio", "bridge"]
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
    builtin = api.get("/api/v1/templates").json()["templates"][0]["id"]
    replies: list[tuple[Reply, int]] = [
        (api.get("/api/v1/campaigns/987654"), 404),
        (api.post("/api/v1/campaigns", {"name": ""}), 422),
        (api.post("/api/v1/campaigns", raw_body=b"{"), 400),
        (api.get("/api/v1/status", who=TENANT1.with_caps()), 403),
        (api.post("/api/v1/campaigns", VALID, csrf=None), 403),
        (api.get("/bridge/tick"), 405),
        (api.post("/bridge/tick"), 403),
        (api.put(f"/api/v1/templates/{builtin}", {"name": "x", "body": "y"}), 409),
        (api.post("/api/v1/sms/test", {"phone": "+15005550009", "body": "Hi"}), 502),
        (api.post("/api/v1/suppressions/bulk", {"numbers": "nope"}), 422),
        (api.post("/api/v1/sms/send", {"numbers": "nope", "body": "Hi"}), 422),
        (api.get("/api/v1/campaigns/987654/logs.csv"), 404),
        (api.get("/api/v1/suppressions/987654"), 404),
    ]
    for reply, status in replies:
        assert_error(reply, status)
