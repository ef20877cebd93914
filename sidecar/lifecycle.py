"""Campaign lifecycle (DESIGN.md §4): the statuses, one transition table, conditional UPDATEs.

Every status write, the engine's too, is `transition()`: one
`UPDATE … WHERE <which campaigns> AND status IN (:from…)` over the TRANSITIONS table. For a
user action a rowcount of 0 means the campaign is gone, belongs to another tenant, or
someone else changed it first — CampaignService then reads it once to say which. "Can I
edit/send/…?" for the pages is derived from the same table (`allowed_actions`).

The engine's transitions (queued → sending, → completed/failed when nothing is pending, the
pause on a configuration error or an error rate, the "waiting" note) and the scheduler's
(start a due campaign, pause one that missed its window) are applied from outbox/ and
schedules.py through the same function, so this table is the whole lifecycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy import Connection, Table, update
from sqlalchemy.sql.elements import ColumnElement

from .errors import Conflict, Invalid, NotFound, SidecarError


class Status(StrEnum):
    DRAFT = "draft"
    QUEUED = "queued"
    SENDING = "sending"
    COMPLETED = "completed"
    FAILED = "failed"
    PAUSED = "paused"
    SCHEDULED = "scheduled"  # waiting for its start time (DESIGN.md §11, schedules.py)


ACTIVE = frozenset({Status.QUEUED, Status.SENDING})



class Transition(NamedTuple):
    sources: frozenset[Status]  # the statuses the action is allowed from
    target: Status | None  # the status it leads to; None: unchanged (or, for delete, no row)


# action -> Transition. This table is the whole lifecycle: every status write goes through
# transition() below (a new campaign starts as a draft; "duplicate" makes a new draft).
TRANSITIONS: dict[str, Transition] = {
    "edit": Transition(frozenset({Status.DRAFT, Status.PAUSED, Status.FAILED,
                                  Status.SCHEDULED}), Status.DRAFT),
    "delete": Transition(frozenset({Status.DRAFT, Status.PAUSED, Status.FAILED,
                                    Status.COMPLETED, Status.SCHEDULED}), None),
    "send": Transition(frozenset({Status.DRAFT, Status.FAILED}), Status.QUEUED),
    "pause": Transition(ACTIVE, Status.PAUSED),
    "resume": Transition(frozenset({Status.PAUSED}), Status.QUEUED),
    "duplicate": Transition(frozenset(Status), Status.DRAFT),
    # A schedule (schedules.py): set or moved, and taken back.
    "schedule": Transition(frozenset({Status.DRAFT, Status.SCHEDULED}), Status.SCHEDULED),
    "unschedule": Transition(frozenset({Status.SCHEDULED}), Status.DRAFT),
    # the queue run's, for a scheduled campaign: started when due (snapshot then), or
    # paused when its window was missed while the service was down
    "begin": Transition(frozenset({Status.SCHEDULED}), Status.QUEUED),
    "miss": Transition(frozenset({Status.SCHEDULED}), Status.PAUSED),
    # the engine's
    "start": Transition(frozenset({Status.QUEUED}), Status.SENDING),  # first batch claimed
    # Finishing, once nothing is pending: "complete" when at least one message was sent,
    # else "fail" (also a send whose snapshot found nobody). finish_action() picks.
    "complete": Transition(ACTIVE, Status.COMPLETED),
    "fail": Transition(ACTIVE, Status.FAILED),
    "halt": Transition(ACTIVE, Status.PAUSED),  # a configuration error stopped all sending
    "autopause": Transition(ACTIVE, Status.PAUSED),  # too many failures (outbox/autopause.py)
    "wait": Transition(ACTIVE, None),  # only says why nothing is sent (status_reason)
}

USER_ACTIONS = ("edit", "delete", "send", "pause", "resume", "duplicate", "schedule",
                "unschedule")

_REFUSAL_HINTS = {
    ("edit", Status.QUEUED): "pause it first",
    ("edit", Status.SENDING): "pause it first",
    ("edit", Status.COMPLETED): "duplicate it to send a new version",
    ("delete", Status.QUEUED): "pause it first",
    ("delete", Status.SENDING): "pause it first",
    ("send", Status.COMPLETED): "a completed campaign cannot be sent again; duplicate it",
    ("send", Status.PAUSED): "resume it instead",
    ("send", Status.QUEUED): "it is already queued",
    ("send", Status.SENDING): "it is already sending",
    ("schedule", Status.QUEUED): "it is already queued",
    ("schedule", Status.SENDING): "it is already sending",
    ("schedule", Status.COMPLETED): "duplicate it to send a new version",
    ("schedule", Status.PAUSED): "resume it, or edit it and schedule it again",
}

class CampaignError(SidecarError):
    """Base for the refusals and validation errors of this module."""


class CampaignNotFound(CampaignError, NotFound):
    def __init__(self, campaign_id: int) -> None:
        super().__init__(f"campaign {campaign_id} not found")
        self.campaign_id = campaign_id


class TransitionRefused(CampaignError, Conflict):
    """The action is not allowed in the campaign's current status."""

    def __init__(self, action: str, status: Status, name: str) -> None:
        hint = _REFUSAL_HINTS.get((action, status), "")
        super().__init__(f"campaign {name!r} is {status.value} and cannot be "
                         f"{_past(action)}" + (f": {hint}" if hint else ""))
        self.action, self.status = action, status


class CampaignInvalid(CampaignError, Invalid):
    """Input that cannot make a campaign; `errors` maps fields to messages."""


def _past(action: str) -> str:
    return {"edit": "edited", "delete": "deleted", "send": "sent", "pause": "paused",
            "resume": "resumed", "duplicate": "duplicated", "schedule": "scheduled",
            "unschedule": "unscheduled"}.get(action, action)


def allowed_actions(status: Status | str) -> list[str]:
    """The user actions the lifecycle allows from `status` (the pages show these)."""
    current = Status(status)
    return [a for a in USER_ACTIONS if current in TRANSITIONS[a].sources]


def finish_action(sent: int) -> str:
    """How a campaign with nothing pending ends: completed with ≥ 1 sent, else failed."""
    return "complete" if sent > 0 else "fail"


def transition(conn: Connection, campaigns: Table, action: str, *where: ColumnElement[bool],
               now: int, values: Mapping[str, Any] | None = None) -> int:
    """Apply `action` to the campaigns matching `where` whose status TRANSITIONS allows it
    from: one conditional UPDATE setting the target status (if any), `values` and
    `updated_at`. Returns how many campaigns changed; 0 means none matched or someone
    else changed the status first."""
    sources, target = TRANSITIONS[action]
    changes = {**(values or {}), "updated_at": now}
    if target is not None:
        changes["status"] = target.value
    result = conn.execute(
        update(campaigns).where(*where, campaigns.c.status.in_([s.value for s in sources]))
        .values(changes))
    return int(result.rowcount or 0)
