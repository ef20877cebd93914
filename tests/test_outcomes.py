"""Holdout and the campaign report (DESIGN.md §12), end to end: the holdout assignment's
formula, stability and share; the lift interval against a hand-computed case; a campaign
with a holdout sent through the real twilio library to the fake Twilio (which never sees a
holdout number), bookings made in Booknetic afterwards, and the report from the API, the
CLI and the CSV agreeing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select

from sidecar.outcomes.holdout import Lift, describe_lift, in_holdout, lift
from sidecar.outcomes.report import REPORT_KEYS
from sidecar.sample_data import metadata_for
from tests.api_support import new_campaign
from tests.test_cli import run_cli
from tests.web_support import TENANT1, SignedClient, Web, assert_error, settle

DAY = 86400


# -- assignment ------------------------------------------------------------------------


def _by_the_contract(campaign_id: int, phone: str, percent: int) -> bool:
    digest = hashlib.sha256(f"{campaign_id}:{phone}".encode()).hexdigest()
    return int(digest[:8], 16) % 10_000 < percent * 100


NUMBERS = [f"+1202{n:07d}" for n in range(10_000)]


@pytest.mark.parametrize("percent", [0, 1, 10, 25, 50])
def test_holdout_is_the_contract_hash_and_close_to_the_percentage(percent: int) -> None:
    first = [in_holdout(77, n, percent) for n in NUMBERS]
    assert first == [_by_the_contract(77, n, percent) for n in NUMBERS]
    assert first == [in_holdout(77, n, percent) for n in NUMBERS]  # stable across re-runs
    assert abs(sum(first) / len(NUMBERS) - percent / 100) < 0.01
    # Another campaign draws another group (same share, different numbers).
    if percent:
        other = [in_holdout(78, n, percent) for n in NUMBERS]
        assert other != first and abs(sum(other) / len(NUMBERS) - percent / 100) < 0.01


def test_lift_against_a_hand_computed_case() -> None:
    # ps = 60/400 = 0.15, ph = 8/100 = 0.08; variance 0.15*0.85/400 + 0.08*0.92/100 =
    # 0.00031875 + 0.000736 = 0.00105475, sqrt 0.0324769, x1.96 = 0.0636547.
    assert lift(400, 60, 100, 8) == Lift(0.07, 0.0063, 0.1337)
    assert describe_lift(lift(400, 60, 100, 8)) == (
        "+7.0 points; likely between +0.6 and +13.4 points")
    # Unclamped: a worse sent group gives a negative interval.
    assert lift(30, 0, 30, 3) == Lift(-0.1, -0.2074, 0.0074)
    assert lift(30, 3, 29, 1) is None and lift(29, 3, 300, 1) is None
    assert describe_lift(None) == "not enough recipients to tell"


# -- end to end ---------------------------------------------------------------------------


def _book(web: Web, customer_id: int, created_at: int, paid: str,
          status: str = "approved") -> int:
    """Booknetic takes a booking (the test stands in for Booknetic's booking panel)."""
    t = metadata_for("wp_", "saas").tables["wp_bkntc_appointments"]
    with web.engine.begin() as conn:
        return int(conn.execute(insert(t).values(
            customer_id=customer_id, status=status, starts_at=created_at + 3 * DAY,
            ends_at=created_at + 3 * DAY + 1800, created_at=created_at, paid_amount=paid,
            tenant_id=1)).inserted_primary_key[0])


def _rows(web: Web, cid: int) -> list[dict[str, Any]]:
    r = web.runtime.tables.recipients
    with web.engine.connect() as conn:
        return [dict(x) for x in conn.execute(
            select(r).where(r.c.campaign_id == cid).order_by(r.c.id)).mappings()]


def test_holdout_percent_is_checked_and_defaults_from_the_settings(
        web: Web, api: SignedClient) -> None:
    for bad in (-1, 51, 12.5, "10", True):
        assert_error(api.post("/api/v1/campaigns", {
            "name": "x", "segment": "repeat", "body": "Hi", "holdout_percent": bad}),
            422, fields={"holdout_percent": None})
    assert new_campaign(api)["holdout_percent"] == 0
    assert api.put("/api/v1/settings", {"holdout_percent": 15}).status == 200
    try:
        assert new_campaign(api)["holdout_percent"] == 15
        assert new_campaign(api, holdout_percent=0)["holdout_percent"] == 0
        form = api.get("/ui/campaigns/new")
        assert form.status == 200 and 'id="f-holdout"' in form.text
        assert re.search(r'id="f-holdout"[^>]*value="15"', form.text)
    finally:
        assert api.put("/api/v1/settings", {"holdout_percent": 0}).status == 200


def test_a_holdout_campaign_its_bookings_and_its_report(web: Web, api: SignedClient) -> None:
    settle()
    created = new_campaign(api, segment="all_with_phone", holdout_percent=40)
    cid = int(created["id"])
    before = {m.to for m in web.shop.fake.received()}
    web.runtime.campaigns.send(1, cid)
    web.runtime.outbox.drain(cid)
    rows = _rows(web, cid)
    held = [r for r in rows if r["status"] == "holdout"]
    sent = [r for r in rows if r["status"] == "sent"]
    assert held and sent and len(held) + len(sent) == len(rows)
    assert all(in_holdout(cid, r["phone"], 40) == (r["status"] == "holdout") for r in rows)
    received = {m.to for m in web.shop.fake.received()} - before
    assert received == {r["phone"] for r in sent}  # the fake Twilio never saw a holdout
    shown = api.get(f"/api/v1/campaigns/{cid}").json()
    assert (shown["total"], shown["holdout"], shown["pending"]) == (len(rows), len(held), 0)
    assert shown["attribution_days"] == 7  # copied at send

    # Bookings in Booknetic afterwards: one by a sent recipient, one by a holdout one,
    # one canceled, one too late.
    now = int(web.runtime.clock())
    first = sent[0]
    _book(web, first["customer_id"], int(first["sent_at"]) + 60, "42.50")
    _book(web, first["customer_id"], int(first["sent_at"]) + 120, "10.00", "canceled")
    _book(web, sent[1]["customer_id"], int(sent[1]["sent_at"]) + 7 * DAY + 1, "99.00")
    _book(web, held[0]["customer_id"], now + 30, "20.00")
    web.runtime.outbox.run_queue()  # every queue run refreshes open windows

    reply = api.get(f"/api/v1/campaigns/{cid}/report")
    assert reply.status == 200, reply
    report = reply.json()
    assert set(REPORT_KEYS) <= set(report)
    assert {k: report[k] for k in ("recipients", "sent", "failed", "bookings",
                                   "booked_recipients", "revenue", "attribution_days")} == {
        "recipients": len(rows), "sent": len(sent), "failed": 0, "bookings": 1,
        "booked_recipients": 1, "revenue": 42.5, "attribution_days": 7}
    assert report["holdout"] == {"recipients": len(held), "booked_recipients": 1}
    assert report["delivered"] == shown["delivered"]
    if len(sent) >= 30 and len(held) >= 30:
        assert report["lift"] == lift(len(sent), 1, len(held), 1).to_dict()  # type: ignore
    else:
        assert report["lift"] is None
        assert report["lift_words"] == "not enough recipients to tell"

    # The command line says the same, and the CSV carries the row's booking and group.
    cli = run_cli(web.url, "campaigns", "report", str(cid), "--tenant", "1", "--json")
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout) == report
    text = api.get(f"/api/v1/campaigns/{cid}/logs.csv").body.decode()
    # Numbers start with '+', so the CSV writes them behind an apostrophe (no formulas).
    table = {r["phone"].lstrip("'"): r for r in csv.DictReader(io.StringIO(text))}
    assert table[first["phone"]]["revenue"] == "42.50"
    assert table[first["phone"]]["booked_at"].endswith(" UTC")
    assert table[first["phone"]]["group"] == "sent"
    assert table[held[0]["phone"]]["group"] == "holdout"
    assert table[sent[1]["phone"]]["booked_at"] == "" and table[sent[1]["phone"]]["revenue"] == ""


def test_another_tenant_gets_404_for_the_report(web: Web, api: SignedClient) -> None:
    cid = web.campaign(2, name="Theirs")
    assert_error(api.get(f"/api/v1/campaigns/{cid}/report", who=TENANT1), 404)
    c = web.runtime.tables.campaigns
    with web.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(c)).scalar_one() > 0


def test_the_report_is_one_primary_key_read(web: Web, api: SignedClient) -> None:
    settle()
    cid = web.sent_campaign(1, name="Read once")
    path = f"/api/v1/campaigns/{cid}/report"
    assert api.get(path).status == 200  # warm-up: the bridge secret is read once and cached
    statements: list[str] = []

    def capture(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(" ".join(statement.split()))

    event.listen(web.engine, "before_cursor_execute", capture)
    try:
        for _ in range(3):
            assert api.get(path).status == 200
    finally:
        event.remove(web.engine, "before_cursor_execute", capture)
    reads = [s for s in statements if s.startswith("SELECT")]
    writes = [s for s in statements if not s.startswith("SELECT")]
    assert len(reads) == 3, reads
    assert all("FROM wp_bkntc_sms_campaigns" in s and "wp_bkntc_sms_campaigns.id =" in s
               for s in reads), reads
    assert all(s.startswith("INSERT INTO wp_bkntc_sms_nonces") for s in writes), writes
