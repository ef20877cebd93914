"""Scheduled send (DESIGN.md §11): the formats a start time takes, schedule/unschedule over
the API and the CLI, the queue run starting a due campaign (snapshot then), a window missed
while the service was down, an edit while scheduled, and two processes racing to start it.

Tenant 1's business zone is Europe/London in the SaaS sample data; times are relative to
the frozen clock, so nothing depends on the wall clock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest

from sidecar.schedules import MISSED, parse_when
from sidecar.zones import UTC_ZONE, BusinessZone
from tests.conftest import MariaDBServer
from tests.test_cli import run_cli
from tests.web_support import Web, settle, web_fixture

CHICAGO = BusinessZone(ZoneInfo("America/Chicago"), "America/Chicago", "wordpress")


def test_the_formats_a_start_time_takes() -> None:
    assert parse_when(1_780_000_000, UTC_ZONE) == 1_780_000_000
    assert parse_when("1780000000", UTC_ZONE) == 1_780_000_000
    assert parse_when("2026-06-01T09:30:00-05:00", UTC_ZONE) == 1_780_324_200
    assert parse_when("2026-06-01T14:30:00Z", UTC_ZONE) == 1_780_324_200
    # Local, in the business zone: 09:30 in Chicago is 14:30 UTC in June (CDT)...
    assert parse_when("2026-06-01T09:30", CHICAGO) == 1_780_324_200
    # ...and 15:30 UTC in December (CST).
    assert parse_when("2026-12-01T09:30", CHICAGO) == 1_796_139_000
    for bad in ("", "soon", "2026-13-01T09:00", "2026-06-01", True, None, -5, 2**31,
                "9" * 50, float("nan"), [1]):
        with pytest.raises(ValueError, match="must be"):
            parse_when(bad, CHICAGO)


@pytest.fixture(scope="module")
def web(mariadb: MariaDBServer) -> Iterator[Web]:
    yield from web_fixture(mariadb, customers=20)


def _now(web: Web) -> int:
    return int(web.shop.clock())


def test_schedule_validation_names_the_field(web: Web) -> None:
    cid = web.campaign(1, name="Validated")
    path = f"/api/v1/campaigns/{cid}/schedule"
    now = _now(web)
    for body, field in (({}, "send_at"), ({"send_at": "tomorrow"}, "send_at"),
                        ({"send_at": now + 600, "latest_start": now + 60}, "latest_start"),
                        ({"send_at": now - 9000}, "send_at"),
                        ({"send_at": now - 9000, "latest_start": now - 10}, "latest_start"),
                        ({"send_at": now + 600, "latest_start": "x"}, "latest_start")):
        reply = web.client.post(path, body)
        assert reply.status == 422, (body, reply)
        assert field in reply.json()["error"]["fields"], (body, reply.json())
    assert web.runtime.campaigns.get(1, cid)["status"] == "draft"  # nothing changed


def test_schedule_unschedule_and_edit_while_scheduled(web: Web) -> None:
    cid = web.campaign(1, name="Later")
    now = _now(web)
    reply = web.client.post(f"/api/v1/campaigns/{cid}/schedule",
                            {"send_at": "2030-06-01T09:00"})
    assert reply.status == 200, reply
    shown = reply.json()
    london_9am = parse_when("2030-06-01T08:00:00+00:00", UTC_ZONE)  # BST
    assert (shown["status"], shown["send_at"], shown["latest_start"]) == (
        "scheduled", london_9am, london_9am + 7200)
    assert shown["actions"] == ["edit", "delete", "duplicate", "schedule", "unschedule"]
    listed = web.client.get("/api/v1/campaigns?status=scheduled").json()["campaigns"]
    assert [c["send_at"] for c in listed if c["id"] == cid] == [london_9am]
    # Moved, with a latest start of its own; a past send_at is accepted while the window
    # is still open (the next queue run starts it).
    moved = web.client.post(f"/api/v1/campaigns/{cid}/schedule",
                            {"send_at": now - 60, "latest_start": now + 600}).json()
    assert (moved["send_at"], moved["latest_start"]) == (now - 60, now + 600)
    back = web.client.post(f"/api/v1/campaigns/{cid}/unschedule").json()
    assert (back["status"], back["send_at"], back["latest_start"]) == ("draft", None, None)
    web.client.post(f"/api/v1/campaigns/{cid}/schedule", {"send_at": now + 3600})
    edited = web.client.put(f"/api/v1/campaigns/{cid}", {
        "name": "Later, edited", "segment": "canceled_recent", "body": "Hello"}).json()
    assert (edited["status"], edited["send_at"], edited["name"]) == (
        "draft", None, "Later, edited")
    refused = web.client.post(f"/api/v1/campaigns/{cid}/unschedule")
    assert refused.status == 409 and "draft" in refused.json()["error"]["message"]


def test_a_due_campaign_starts_with_its_snapshot_then(web: Web) -> None:
    settle()
    cid = web.campaign(1, name="Due in an hour", segment="all_with_phone")
    now = _now(web)
    web.runtime.schedules.schedule(1, cid, {"send_at": now + 3600})
    web.runtime.outbox.run_queue()
    assert web.runtime.campaigns.get(1, cid)["status"] == "scheduled"
    assert web.runtime.campaigns.get(1, cid)["total"] == 0  # no snapshot yet
    web.shop.clock.advance(3600)
    web.runtime.outbox.run_queue()
    started = web.runtime.campaigns.get(1, cid)
    assert started["queued_at"] == now + 3600 and started["total"] > 0
    assert started["status"] == "completed" and started["sent"] + started["failed"] == \
        started["total"]
    assert started["send_at"] == now + 3600  # shown as when it was scheduled for


def test_a_missed_window_pauses_with_the_reason_then_resume_sends(web: Web) -> None:
    settle()
    cid = web.campaign(1, name="Missed", segment="all_with_phone")
    now = _now(web)
    web.runtime.schedules.schedule(1, cid, {"send_at": now + 60})
    web.shop.clock.advance(60 + 7200 + 1)  # the service was down past latest_start
    web.runtime.outbox.run_queue()
    paused = web.runtime.campaigns.get(1, cid)
    assert paused["status"] == "paused" and paused["total"] == 0
    assert MISSED in paused["status_reason"]
    shown = json.loads(run_cli(web.url, "campaigns", "show", str(cid), "--tenant", "1",
                               "--json").stdout)
    assert (shown["status"], shown["send_at"]) == ("paused", now + 60)
    assert MISSED in shown["status_reason"]
    resumed = web.client.post(f"/api/v1/campaigns/{cid}/resume")
    assert resumed.status == 200, resumed
    assert resumed.json()["total"] > 0  # the snapshot is taken on resume
    settle()
    web.runtime.outbox.run_queue()
    assert web.runtime.campaigns.get(1, cid)["status"] == "completed"


def test_two_processes_racing_to_start_it_one_wins(web: Web) -> None:
    settle()
    cid = web.campaign(1, name="Raced", segment="all_with_phone")
    now = _now(web)
    web.runtime.schedules.schedule(1, cid, {"send_at": now})
    runtimes = [web.other_runtime(), web.other_runtime()]
    gate = threading.Barrier(2)
    started: list[list[int]] = [[], []]

    def start(i: int) -> None:
        gate.wait()
        started[i] = runtimes[i].schedules.start_due()

    threads = [threading.Thread(target=start, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(s) for s in started) == [0, 1], started
    campaign = web.runtime.campaigns.get(1, cid)
    assert campaign["status"] == "queued"
    rows = web.shop.rows(cid)
    assert len(rows) == campaign["total"] == campaign["pending"] > 0  # one snapshot


def test_schedule_from_the_command_line(web: Web) -> None:
    cid = web.campaign(1, name="By shell")
    shown = run_cli(web.url, "campaigns", "schedule", str(cid), "--tenant", "1",
                    "--at", "2030-01-15T10:00")
    assert shown.returncode == 0, shown.stderr
    assert "scheduled for 15 Jan 2030, 10:00 (Europe/London)" in shown.stdout
    bad = run_cli(web.url, "campaigns", "schedule", str(cid), "--tenant", "1", "--at", "x")
    assert bad.returncode == 2 and "send_at" in bad.stderr
    back = json.loads(run_cli(web.url, "campaigns", "unschedule", str(cid), "--tenant", "1",
                              "--json").stdout)
    assert (back["status"], back["send_at"]) == ("draft", None)
