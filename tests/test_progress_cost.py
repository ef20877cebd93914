"""Polling progress costs one read: the campaign row by primary key, and the retries waiting
from the far end of the recipients' queue index — never a count over the recipients. Every
SQL statement a signed progress request runs is captured and checked, and MariaDB's ANALYZE
shows the rows it actually read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, select, update

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
    # The one read: the campaign row by primary key (and tenant)...
    assert all("FROM wp_bkntc_sms_campaigns" in s and "wp_bkntc_sms_campaigns.id =" in s
               for s in reads), reads
    # ... whose retries-waiting subqueries read the queue index from "next attempt after
    # now" on: with every row pending and none waiting, not one recipient row; with three
    # waiting, those three.
    (read,) = set(reads)
    assert "bkntc_sms_recipients" in read
    assert (data["retry_waiting"], data["next_retry_at"]) == (0, None)
    assert rows_read(runtime, campaign["id"]) == [0, 0]
    r = runtime.tables.recipients
    now = int(shop.clock())
    with runtime.engine.begin() as conn:  # three transient failures recorded (as the engine)
        ids = conn.execute(select(r.c.id).where(r.c.campaign_id == campaign["id"])
                           .order_by(r.c.id).limit(3)).scalars().all()
        for n, row_id in enumerate(ids):
            conn.execute(update(r).where(r.c.id == row_id).values(
                attempts=1, next_attempt_at=now + 120 + 60 * n))
    data = poll()
    assert (data["retry_waiting"], data["next_retry_at"]) == (3, now + 120)
    # As the pages show times: the business timezone with its name.
    assert data["next_retry_text"] == runtime.booknetic.business_zone(None).format(now + 120)
    assert rows_read(runtime, campaign["id"]) == [3, 3]
    shop.clock.advance(150)  # the first is due: no longer waiting
    assert (poll()["retry_waiting"], poll()["next_retry_at"]) == (2, now + 180)
    # The one write: remembering the request's nonce (replay protection, DESIGN.md §6).
    assert all(s.startswith("INSERT INTO wp_bkntc_sms_nonces") for s in writes), writes


def rows_read(runtime, campaign_id: int) -> list[int]:
    """How many recipient rows each subquery of `progress`'s read actually took, by MariaDB's
    ANALYZE — checking first that they come from a range of the queue index."""
    seen = []

    def capture(conn, clauseelement, multiparams, params, execution_options) -> None:
        seen.append(clauseelement)

    event.listen(runtime.engine, "before_execute", capture)
    try:
        runtime.campaigns.progress(None, campaign_id)
    finally:
        event.remove(runtime.engine, "before_execute", capture)
    with runtime.engine.connect() as conn:
        compiled = seen[-1].compile(conn, compile_kwargs={"literal_binds": True})
        plan = [dict(p) for p in conn.exec_driver_sql("ANALYZE " + str(compiled)).mappings()]
    recipients = [p for p in plan if p["table"] == "wp_bkntc_sms_recipients"]
    assert recipients and all(p["key"] == "wp_bkntc_sms_recipients_queue"
                              and p["type"] == "range" for p in recipients), plan
    return [round(float(p["r_rows"] or 0)) for p in recipients]
