"""Scheduled send (DESIGN.md §11): `schedule`/`unschedule`, and the queue run's start of
due scheduled campaigns.

- `schedule` (draft → scheduled; a scheduled campaign may be moved) stores `send_at` and
  `latest_start` (default send_at + 2 h). WHEN is epoch seconds, ISO 8601 with an offset,
  or a local `YYYY-MM-DDTHH:MM` read in the business timezone (`parse_when`). A `send_at`
  already past is accepted — the next queue run starts it — but a window that has closed
  entirely (`latest_start` past) is refused: it could only ever be paused.
- `unschedule` (or an edit) makes it a draft again and clears both.
- `start_due()` runs at the start of every queue run: a campaign whose `latest_start` has
  passed (the service was down) is paused with the reason; a due one is started exactly like
  Send (the snapshot is taken then) through the `begin` transition, whose conditional UPDATE
  lets exactly one of two racing processes take it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from .campaigns import CampaignInvalid, CampaignService, Status, transition
from .schema import SmsTables
from .zones import BusinessZone

logger = logging.getLogger(__name__)

DEFAULT_WINDOW = 2 * 3600  # latest_start = send_at + 2 h unless given
EPOCH_MAX = 2**31 - 1  # the columns are INT
LOCAL = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?")
MISSED = "missed its start window"
FORMATS = ("epoch seconds, ISO 8601 with an offset (2026-06-01T09:30:00-05:00), or a local "
           "date and time YYYY-MM-DDTHH:MM in the business timezone")


def parse_when(value: Any, zone: BusinessZone) -> int:
    """Epoch seconds of `value` (see FORMATS); ValueError says what is wrong."""
    if isinstance(value, bool):
        raise ValueError(f"must be {FORMATS}")
    if isinstance(value, int | float):
        if not 0 < value <= EPOCH_MAX or value != value:
            raise ValueError("must be a time after 1970 and before 2038")
        return int(value)
    if not isinstance(value, str) or not value.strip() or len(value) > 40:
        raise ValueError(f"must be {FORMATS}")
    text = value.strip()
    if text.isascii() and text.isdigit():
        return parse_when(int(text), zone)
    local = LOCAL.fullmatch(text)
    try:
        if local:
            parts = [int(p) for p in local.groups(default="0")]
            moment = datetime(*parts, tzinfo=zone.zone)  # type: ignore[misc]
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError("no offset")
    except ValueError:
        raise ValueError(f"must be {FORMATS}") from None
    return parse_when(int(moment.timestamp()), zone)


class CampaignSchedules:
    """Schedules of campaigns, on top of CampaignService (its transitions and snapshot)."""

    def __init__(self, engine: Engine, tables: SmsTables, campaigns: CampaignService, *,
                 zone_of: Callable[[int | None], BusinessZone],
                 clock: Callable[[], float]) -> None:
        self.engine, self.tables, self.campaigns = engine, tables, campaigns
        self.zone_of, self.clock = zone_of, clock

    def schedule(self, tenant_id: int | None, campaign_id: int,
                 data: Mapping[str, Any]) -> dict[str, Any]:
        """draft (or scheduled) → scheduled at `send_at`, not later than `latest_start`."""
        if not isinstance(data, Mapping):
            raise CampaignInvalid({"send_at": "send a JSON object with send_at"})
        zone = self.zone_of(tenant_id)
        errors: dict[str, str] = {}
        send_at = latest = None
        if data.get("send_at") in (None, ""):
            errors["send_at"] = f"is required: {FORMATS}"
        else:
            try:
                send_at = parse_when(data["send_at"], zone)
            except ValueError as exc:
                errors["send_at"] = str(exc)
        if data.get("latest_start") not in (None, ""):
            try:
                latest = parse_when(data["latest_start"], zone)
            except ValueError as exc:
                errors["latest_start"] = str(exc)
        if send_at is not None and not errors:
            latest = latest if latest is not None else send_at + DEFAULT_WINDOW
            now = int(self.clock())
            if latest < send_at:
                errors["latest_start"] = "must not be before send_at"
            elif latest < now:
                errors["send_at" if data.get("latest_start") in (None, "") else
                       "latest_start"] = ("is in the past: the campaign could not start "
                                          "before its window closed; choose a later time")
        if errors:
            raise CampaignInvalid(errors)
        return self.campaigns.simple_action(tenant_id, campaign_id, "schedule", {
            "send_at": send_at, "latest_start": latest, "status_reason": ""})

    def unschedule(self, tenant_id: int | None, campaign_id: int) -> dict[str, Any]:
        """scheduled → draft, without a time."""
        return self.campaigns.simple_action(tenant_id, campaign_id, "unschedule", {
            "send_at": None, "latest_start": None, "status_reason": ""})

    def start_due(self) -> list[int]:
        """Pause the scheduled campaigns whose window was missed, then start the due ones
        (each snapshot taken now). Returns the ids this process started."""
        c = self.tables.campaigns
        now = int(self.clock())
        scheduled = c.c.status == Status.SCHEDULED.value
        with self.engine.begin() as conn:
            missed = transition(conn, c, "miss", c.c.latest_start < now, now=now, values={
                "status_reason": f"Not sent: it {MISSED} (the service was not running "
                                 "then). Resume it to send now."})
            due = conn.execute(select(c.c.id, c.c.tenant_id).where(
                scheduled, c.c.send_at <= now).order_by(c.c.send_at, c.c.id)).all()
        if missed:
            logger.warning("scheduled campaigns missed their start window",
                           extra={"campaigns": missed})
        started = []
        for row in due:
            tenant = int(row.tenant_id) or None
            try:
                campaign = self.campaigns.start_snapshot(tenant, int(row.id), "begin")
            except Exception:  # one campaign's problem must not stop the others
                logger.exception("scheduled campaign could not start",
                                 extra={"campaign_id": row.id})
                continue
            if campaign is not None:
                started.append(int(row.id))
                logger.info("scheduled campaign started", extra={
                    "campaign_id": row.id, "recipients": campaign["total"]})
        return started
