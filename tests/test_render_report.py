"""The render report (DESIGN.md §11) against what the engine renders and sends.

The report groups recipients in SQL and renders each group once; these tests render every
recipient's message one by one, from the campaign's own snapshot rows with the engine's
call (`sms_text.render` over the row's names and phone), and count them literally — the
report must be exactly that sum. Then the engine sends a campaign to the fake Twilio and
every body it received must be the message the report counted. MariaDB and SQLite; the
single-site sample data plus customers whose names test the grouping: a curly apostrophe,
names that differ only by an accent, case or blanks (one collation would merge), NULL and
blank names, 2-septet GSM characters, emoji, and a name longer than the snapshot keeps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sidecar.segments import SegmentQuery
from sidecar.segments.render_report import summarise
from sidecar.sms_text import count_segments, render, shortcodes_in
from tests.conftest import MariaDBServer
from tests.shop import Shop, open_shop

# (first_name, last_name): each gets a number of its own.
AWKWARD_NAMES = [
    ("Zoë", "O\u2019Brien"),  # curly apostrophe: UCS-2
    ("Zoe", "O'Brien"),  # the same under WordPress's accent-insensitive collation
    ("ZOE", "o'brien"),
    ("Zoe ", " O'Brien"),
    ("  Ann ", None),
    (None, None),  # nameless: the full name falls back to the phone
    ("", "   "),
    ("\u20acuro", "[Bracket]"),  # GSM-7 extension characters: 2 septets each
    ("A" * 200, "Long"),  # the snapshot keeps 191 characters
    ("Chen \U0001f338", "\u674e"),
    ("Renée", "Dupont"),
]

BODIES = [
    "Hi {customer_first_name}, we miss you! Book this week and get 10% off.",
    "Hello {customer_full_name} ({customer_phone}) — your visit is due.",  # em dash: UCS-2
    "Dear {customer_name}, " + "thank you for being with us. " * 9,  # several segments
    "{customer_last_name}: [offer] 5€ off ^^ {customer_first_name}",
    "Plain text for everyone, no codes at all.",
    "It\u2019s been a while, {customer_first_name}!",  # the body itself forces UCS-2
]

PRICE = Decimal("0.0079")


@pytest.fixture(scope="module", params=["mariadb", "sqlite"])
def shop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[Shop]:
    server: MariaDBServer | None = None
    if request.param == "mariadb":
        server = request.getfixturevalue("mariadb")
        database = server.create_database("render")
        url = server.url(database)
    else:
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('render')) / 'wp.sqlite3'}"
    from sidecar.db import make_engine

    engine = make_engine(url)
    s = open_shop(url, engine, env={"BKNTC_SMS_BATCH_SIZE": "25"})
    customers = s.runtime.booknetic.customers
    with engine.begin() as conn:  # new customers (the test plays Booknetic)
        for n, (first, last) in enumerate(AWKWARD_NAMES):
            conn.execute(customers.insert().values(
                first_name=first, last_name=last, email=f"awkward{n}@example.test",
                phone_number=f"+1415555{3000 + n:04d}"))
    yield s
    s.runtime.outbox.close()
    s.fake.stop()
    engine.dispose()
    if server is not None:
        server.drop_database(database)


def literal_report(body: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The report computed the obvious way: each snapshot row rendered as the engine does
    (outbox/batches.py) and counted, no grouping."""
    messages = segments = 0
    encoding: Counter[str] = Counter()
    histogram: Counter[int] = Counter()
    chars: Counter[str] = Counter()
    codes = shortcodes_in(body)
    empty = Counter({"{" + code + "}": 0 for code in codes})
    for row in rows:
        text = render(body, first_name=row["first_name"], last_name=row["last_name"],
                      phone=row["phone"])
        info = count_segments(text)
        messages += 1
        segments += info.segments
        encoding["ucs2" if info.encoding == "UCS-2" else "gsm7"] += 1
        histogram[info.segments] += 1
        chars.update(info.ucs2_chars)
        for code in codes:
            value = render("{" + code + "}", first_name=row["first_name"],
                           last_name=row["last_name"], phone=row["phone"])
            empty["{" + code + "}"] += not value.strip()
    return {"messages": messages, "segments_total": segments,
            "encoding": {"gsm7": encoding["gsm7"], "ucs2": encoding["ucs2"]},
            "segments_histogram": {str(k): histogram[k] for k in sorted(histogram)},
            "ucs2_characters": dict(chars), "empty_placeholders": dict(empty),
            "estimated_cost": float(PRICE * segments)}


CONTRACT_KEYS = ("messages", "segments_total", "encoding", "segments_histogram",
                 "ucs2_characters", "empty_placeholders", "estimated_cost")

CASES = [("all_with_phone", {}), ("repeat", {"exclude_upcoming_days": 30}),
         ("booked_last_90", {"exclude_suppressed": False})]


@pytest.mark.parametrize(("segment", "filters"), CASES, ids=[c[0] for c in CASES])
def test_report_is_every_recipient_rendered_one_by_one(shop: Shop, segment: str,
                                                       filters: dict[str, Any]) -> None:
    campaigns = shop.runtime.campaigns
    for body in BODIES:
        query = SegmentQuery.from_filters(segment, filters, None)
        preview = shop.runtime.segments.preview(query, limit=5, body=body,
                                                price_per_segment=PRICE)
        assert preview.render is not None
        report = preview.render
        cid = campaigns.create(None, {"name": "r", "segment": segment, "body": body,
                                      "filters": filters})["id"]
        try:
            campaigns.send(None, cid)  # the snapshot: the rows the engine renders from
            rows = shop.rows(cid)
            expected = literal_report(body, rows)
            assert {k: report[k] for k in CONTRACT_KEYS} == expected, body
            assert report["messages"] == preview.count == len(rows)
        finally:
            shop.runtime.campaigns.pause(None, cid)
            shop.runtime.campaigns.delete(None, cid)


def test_awkward_names_reach_the_report(shop: Shop) -> None:
    """The customers added here are recipients, and what they change shows: the curly
    apostrophe comes from 1 last name, the emoji and the CJK name from one customer, the
    empty first names are counted, and the 200-character name makes a long message."""
    body = "Hi {customer_first_name} {customer_last_name}!"
    report = shop.runtime.segments.preview(SegmentQuery("all_with_phone"), body=body).render
    assert report is not None
    assert report["ucs2_sources"]["\u2019"] == {"in_body": False, "first_names": 0,
                                                "last_names": 1,
                                                "name": "right single quotation mark"}
    assert report["ucs2_characters"]["\U0001f338"] >= 1
    assert report["ucs2_sources"]["\u674e"]["last_names"] >= 1
    assert report["empty_placeholders"]["{customer_first_name}"] >= 2  # NULL and ""
    assert "2" in report["segments_histogram"]  # "A" * 191 + …
    # ë is not in GSM-7 (é is): "Zoë" forces UCS-2, "Zoe" and "Renée" do not.
    assert report["ucs2_sources"]["ë"]["first_names"] >= 1
    assert "é" not in report["ucs2_characters"]
    assert "estimated_cost" not in report  # no price known


def test_the_engine_sends_what_the_report_counted(shop: Shop) -> None:
    body = "Hi {customer_name}, it\u2019s {customer_first_name}'s turn: " + "x" * 90
    query = SegmentQuery("all_with_phone")
    report = shop.runtime.segments.preview(query, body=body, price_per_segment=PRICE).render
    assert report is not None
    campaigns = shop.runtime.campaigns
    cid = campaigns.create(None, {"name": "e2e", "segment": "all_with_phone", "body": body})["id"]
    before = len(shop.fake.received())
    campaigns.send(None, cid)
    shop.runtime.outbox.drain(cid)
    rows = {r["phone"]: r for r in shop.rows(cid)}
    received = shop.fake.received()[before:]
    assert received and len(rows) == report["messages"]
    for message in received:
        row = rows[message.to]
        assert message.body == render(body, first_name=row["first_name"],
                                      last_name=row["last_name"], phone=row["phone"])
    # Every recipient's bill: the sent ones from what Twilio got, the failed ones (magic
    # numbers the fake refuses) rendered like the engine rendered them before sending.
    sent = {m.to: m.num_segments for m in received}
    billed = sum(sent.get(phone) or count_segments(render(
        body, first_name=r["first_name"], last_name=r["last_name"], phone=phone)).segments
        for phone, r in rows.items())
    assert billed == report["segments_total"]
    assert report["estimated_cost"] == float(PRICE * billed)


def test_summary_shapes() -> None:
    """Keys with braces for every code present (zero included), histogram keys in order,
    no cost without a price, UCS-2 characters with where they came from."""
    rows = ([(b"Ann", b"Lee", 12)] * 3 + [(None, b"", 12)] * 2 + [(b" Ann ", b"Lee", 12)]
            + [("Zo\u00eb".encode(), b"Lee", 12)] * 4)
    body = "{customer_first_name} {customer_phone} " + "y" * 140
    report = summarise(body, Counter(rows)).to_dict()
    assert report["messages"] == 10
    assert report["empty_placeholders"] == {"{customer_first_name}": 2,
                                            "{customer_phone}": 0}
    assert report["encoding"] == {"gsm7": 6, "ucs2": 4}
    assert list(report["segments_histogram"]) == sorted(report["segments_histogram"], key=int)
    assert report["segments_histogram"] == {"1": 6, "3": 4}
    assert report["segments_total"] == 6 + 12
    assert report["ucs2_characters"] == {"\u00eb": 4}
    assert report["ucs2_sources"] == {"\u00eb": {
        "in_body": False, "first_names": 4, "last_names": 0,
        "name": "latin small letter e with diaeresis"}}
    assert report["ucs2_extra_segments"] == 4 * (3 - 1)  # 157 characters: 1 SMS in GSM-7
    assert "estimated_cost" not in report
    priced = summarise(body, Counter(rows), price_per_segment=Decimal("0.05")).to_dict()
    assert priced["estimated_cost"] == pytest.approx(0.9)
    assert summarise("No codes", Counter()).to_dict()["messages"] == 0
