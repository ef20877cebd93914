"""Polling progress costs one primary-key read of the campaign row, never a count over the
recipients: every SQL statement a signed progress request runs is captured and checked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event

from sidecar.web import create_app
from sidecar.web.auth import sign
from tests.shop import Shop, open_shop

SECRET = "p" * 40


@pytest.fixture
def shop(mysql_url: str, engine_for) -> Iterator[Shop]:
    s = open_shop(mysql_url, engine_for(mysql_url),
                  env={"BKNTC_SMS_BRIDGE_SECRET": SECRET})
    yield s
    s.runtime.outbox.close()
    s.fake.stop()


def test_progress_poll_is_one_primary_key_read(shop: Shop) -> None:
    runtime = shop.runtime
    campaign = runtime.campaigns.create(None, {"name": "P", "segment": "all_with_phone",
                                               "body": "Hi"})
    runtime.campaigns.send(None, campaign["id"])
    client = create_app(runtime).test_client()
    path = f"/api/v1/campaigns/{campaign['id']}/progress"

    def poll() -> dict:
        headers = sign(SECRET, "GET", path, b"", user_id=1, user_login="a", display_name="A",
                       tenant_id=None, caps=["sms_campaigns"], ts=int(shop.clock()))
        response = client.get(path, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    poll()  # warm-up: the secret is read from WordPress options once and cached
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(runtime.engine, "before_cursor_execute", capture)
    try:
        for _ in range(5):
            data = poll()
    finally:
        event.remove(runtime.engine, "before_cursor_execute", capture)
    assert data["total"] > 0 and data["pending"] == data["total"]
    per_poll = len(statements) / 5
    reads = [s for s in statements if s.startswith("SELECT")]
    writes = [s for s in statements if not s.startswith("SELECT")]
    assert per_poll == 2, statements
    # The one read: the campaign row by primary key (and tenant), nothing else.
    assert all("FROM wp_bkntc_sms_campaigns" in s and "wp_bkntc_sms_campaigns.id =" in s
               for s in reads), reads
    assert not any("bkntc_sms_recipients" in s for s in statements)
    # The one write: remembering the request's nonce (replay protection, DESIGN.md §6).
    assert all(s.startswith("INSERT INTO wp_bkntc_sms_nonces") for s in writes), writes
