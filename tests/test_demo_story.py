"""The demo's past (sidecar/demo_story.py): three campaigns sent over the last three weeks,
their deliveries, opt-outs, a held-back group and the bookings that followed — told through
the product's own code paths on SQLite with a fault-free fake Twilio, at a fixed instant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from sidecar.config import Settings
from sidecar.demo import seed_demo_database
from sidecar.demo_story import PAST_CAMPAIGNS, tell_story
from sidecar.runtime import Runtime

NOW = 1796212800  # a fixed instant: the story is dated from it


def _told(directory: Path) -> tuple[Runtime, dict[str, int]]:
    db = seed_demo_database(directory, now=NOW)
    ids = tell_story(db.url, db.options, NOW)
    runtime = Runtime.build(Settings.from_env({
        "BKNTC_SMS_DATABASE_URL": db.url,
        "BKNTC_SMS_BRIDGE_SECRET": "a-test-secret-of-length"}), clock=lambda: NOW)
    return runtime, ids


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, dict[str, int]]]:
    runtime, ids = _told(tmp_path_factory.mktemp("story"))
    yield runtime, ids
    runtime.close()


def _reports(runtime: Runtime, ids: dict[str, int]) -> dict[str, dict[str, Any]]:
    return {name: runtime.reports.report(None, cid) for name, cid in ids.items()}


def test_the_past_campaigns_add_up(story: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = story
    assert list(ids) == [name for _, name, *_ in PAST_CAMPAIGNS]
    reports = _reports(runtime, ids)
    for name, report in reports.items():
        assert report["status"] == "completed", name
        # Every recipient is sent, failed, held back or skipped: held-back and skipped rows
        # are neither sent nor failed, and none is left pending.
        assert report["recipients"] == (report["sent"] + report["failed"]
                                        + report["holdout"]["recipients"]
                                        + report["skipped"]), (name, report)
        assert report["sent"] > 0 and report["bookings"] > 0 and report["revenue"] > 0
        assert 0 < report["delivered"] <= report["sent"]
        assert report["delivered"] + report["undelivered"] <= report["sent"]
    held = [r for r in reports.values() if r["holdout"]["recipients"]]
    assert len(held) == 1 and held[0]["holdout"]["recipients"] >= 30
    assert held[0]["holdout"]["booked_recipients"] > 0
    assert held[0]["lift"] is not None  # both groups are big enough to compare


def test_the_dashboard_shows_the_story(story: tuple[Runtime, dict[str, int]]) -> None:
    runtime, ids = story
    reports = _reports(runtime, ids)
    summary = runtime.dashboard.summary(None)
    assert (summary["campaigns"], summary["completed"]) == (len(ids), len(ids))
    assert summary["sent"] == sum(r["sent"] for r in reports.values())
    # Every campaign went out within the last 30 days, so each of its bookings too.
    assert summary["outcomes"] == {
        "days": 30, "bookings": sum(r["bookings"] for r in reports.values()),
        "revenue": round(sum(r["revenue"] for r in reports.values()), 2)}
    assert summary["deliveries"]["rate"] is not None and summary["deliveries"]["rate"] > 0.8
    sent_days = [d for d in summary["chart"] if d["sent"]]
    assert len(sent_days) == len(ids)  # one bar per campaign's day, not one bar in all
    # A customer replied STOP to the first campaign.
    s = runtime.tables.suppressions
    with runtime.engine.connect() as conn:
        sources = set(conn.execute(select(s.c.source)).scalars())
    assert "keyword" in sources and summary["opt_outs"] > 0


def test_the_story_is_the_same_every_time(story: tuple[Runtime, dict[str, int]],
                                          tmp_path: Path) -> None:
    runtime, ids = story
    again, again_ids = _told(tmp_path / "again")
    try:
        assert again_ids == ids
        assert _reports(again, again_ids) == _reports(runtime, ids)
        assert again.dashboard.summary(None) == runtime.dashboard.summary(None)
    finally:
        again.close()
