"""Campaigns (DESIGN.md §4): validation, the service behind the API, the CLI and the pages,
and the snapshot of recipients at send time.

Every status change goes through the lifecycle table in lifecycle.py (`transition()`); its
names are re-exported here, where the rest of the code has always imported them from. For a
user action whose conditional UPDATE changed nothing, `_refuse()` reads the campaign once to
say why.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, delete, func, insert, select, update

from .frequency_cap import skip_capped_at_snapshot

# The lifecycle's names, re-exported: the rest of the code imports them from here.
from .lifecycle import ACTIVE as ACTIVE
from .lifecycle import (
    TRANSITIONS,
    CampaignInvalid,
    CampaignNotFound,
    Status,
    TransitionRefused,
    allowed_actions,
    transition,
)
from .lifecycle import finish_action as finish_action
from .outcomes.holdout import assign_holdout, holdout_error
from .quiet_hours import stamp_zones
from .schema import ID_MAX, SmsTables, is_row_id
from .segments import SEGMENTS, SegmentError, SegmentQuery, SegmentService, tenant_key
from .sms_text import MAX_BODY_CHARS, SHORTCODES, unknown_shortcodes
from .tenant_settings import DEFAULTS, TenantSettings

NAME_MAX = 191


@dataclass(frozen=True)
class CampaignInput:
    """Validated fields of a campaign."""

    name: str
    body: str
    query: SegmentQuery
    template_id: int | None = None
    holdout_percent: int | None = None  # None: not given (create takes the tenant default)


def body_error(body: Any) -> str | None:
    """Why `body` cannot be sent as an SMS text, or None."""
    if not isinstance(body, str) or not body.strip():
        return "the message is empty"
    if len(body) > MAX_BODY_CHARS:
        return f"the message is {len(body)} characters; the limit is {MAX_BODY_CHARS}"
    unknown = unknown_shortcodes(body)
    if unknown:
        return (f"unknown shortcode {', '.join(unknown)}; available: "
                + ", ".join("{" + s + "}" for s in SHORTCODES))
    return None


def validate_input(data: Mapping[str, Any], tenant_id: int | None) -> CampaignInput:
    """Check untrusted campaign fields; raise CampaignInvalid naming every bad field."""
    errors: dict[str, str] = {}
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        errors["name"] = "give the campaign a name"
    elif len(name.strip()) > NAME_MAX:
        errors["name"] = f"the name is longer than {NAME_MAX} characters"
    body = data.get("body")
    if problem := body_error(body):
        errors["body"] = problem
    filters = data.get("filters") or {}
    query: SegmentQuery | None = None
    if not isinstance(filters, Mapping):
        errors["filters"] = "filters must be an object"
    else:
        try:
            query = SegmentQuery.from_filters(data.get("segment"), filters, tenant_id)
        except SegmentError as exc:
            errors.update(exc.errors)
    template_id = data.get("template_id")
    if template_id in ("", None):
        template_id = None
    elif not is_row_id(template_id):
        errors["template_id"] = f"must be a template id (a whole number from 1 to {ID_MAX})"
    holdout = data.get("holdout_percent")
    if holdout is not None and (problem := holdout_error(holdout)):
        errors["holdout_percent"] = problem
    if errors or query is None:
        raise CampaignInvalid(errors)
    assert isinstance(name, str) and isinstance(body, str)
    return CampaignInput(name.strip(), body, query, template_id, holdout)


class CampaignService:
    """Create, change and inspect campaigns of one tenant at a time."""

    def __init__(self, engine: Engine, tables: SmsTables, segments: SegmentService, *,
                 clock: Callable[[], float] = time.time,
                 check_provider: Callable[[], object] | None = None,
                 on_pause: Callable[[int], object] | None = None,
                 settings_for: Callable[[int | None], TenantSettings] | None = None) -> None:
        self.engine = engine
        self.tables = tables
        self.segments = segments
        self.clock = clock
        # Raises ProviderNotReady (with the fix) when nothing could be sent anyway.
        self.check_provider = check_provider
        # Called with the campaign id once a pause is committed: the send engine returns
        # only when no process may start another message of it (Outbox.paused).
        self.on_pause = on_pause
        # The tenant's §11 settings: the frequency cap, the holdout default and the
        # attribution window.
        self.settings_for = settings_for or (lambda _tenant: DEFAULTS)

    # -- reading ------------------------------------------------------------------------

    def get(self, tenant_id: int | None, campaign_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = self._row(conn, tenant_id, campaign_id)
        if row is None:
            raise CampaignNotFound(campaign_id)
        return self._public(row)

    def list(self, tenant_id: int | None, *, status: str | None = None, kind: str = "campaign",
             limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        """A page of campaigns, newest first, and the total matching."""
        c = self.tables.campaigns
        where = [c.c.tenant_id == tenant_key(tenant_id), c.c.kind == kind]
        if status:
            where.append(c.c.status == Status(status).value)
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(c).where(*where)).scalar_one()
            rows = conn.execute(
                select(c).where(*where).order_by(c.c.id.desc()).limit(limit).offset(offset)
            ).mappings().all()
        return [self._public(r) for r in rows], int(total)

    def progress(self, tenant_id: int | None, campaign_id: int) -> dict[str, Any]:
        """Counters and status from the campaign row (a primary-key read), and the retries
        waiting: `retry_waiting` rows and the first `next_retry_at`, or None. While quiet
        hours hold rows, `status_reason` says "3 held until 09:00 (America/Chicago)".

        A retry waiting is a pending row already tried whose next attempt is still ahead:
        the end of the campaign's pending range of the (campaign_id, status,
        next_attempt_at) index, so only those rows are read, not every pending one."""
        c, r = self.tables.campaigns, self.tables.recipients
        now = int(self.clock())
        waiting = ((r.c.campaign_id == c.c.id) & (r.c.status == "pending")
                   & (r.c.next_attempt_at > now) & (r.c.attempts > 0))
        with self.engine.connect() as conn:
            row = conn.execute(
                select(c.c.id, c.c.status, c.c.status_reason, c.c.total, c.c.sent, c.c.failed,
                       c.c.pending, c.c.skipped, c.c.delivered, c.c.undelivered, c.c.holdout,
                       c.c.started_at,
                       c.c.finished_at, c.c.updated_at,
                       select(func.count()).where(waiting).scalar_subquery()
                       .label("retry_waiting"),
                       select(func.min(r.c.next_attempt_at)).where(waiting).scalar_subquery()
                       .label("next_retry_at"))
                .where(c.c.id == campaign_id, c.c.tenant_id == tenant_key(tenant_id))
            ).mappings().first()
        if row is None:
            raise CampaignNotFound(campaign_id)
        return {**row, "retry_waiting": int(row["retry_waiting"] or 0)}

    # -- changing -----------------------------------------------------------------------

    def create(self, tenant_id: int | None, data: Mapping[str, Any], *,
               user_id: int | None = None, kind: str = "campaign") -> dict[str, Any]:
        fields = validate_input(data, tenant_id)
        now = int(self.clock())
        c = self.tables.campaigns
        with self.engine.begin() as conn:
            result = conn.execute(insert(c).values(
                tenant_id=tenant_key(tenant_id), kind=kind, name=fields.name,
                segment=fields.query.segment, filters=json.dumps(fields.query.filters()),
                body=fields.body, template_id=fields.template_id, status=Status.DRAFT.value,
                holdout_percent=(fields.holdout_percent if fields.holdout_percent is not None
                                 else self.settings_for(tenant_id).holdout_percent),
                created_by=user_id, created_at=now, updated_at=now,
            ))
            campaign_id = int(result.inserted_primary_key[0])
            row = self._row(conn, tenant_id, campaign_id)
        assert row is not None
        return self._public(row)

    def update(self, tenant_id: int | None, campaign_id: int,
               data: Mapping[str, Any]) -> dict[str, Any]:
        """Edit a draft, paused or failed campaign: it becomes a draft and loses its logs."""
        fields = validate_input(data, tenant_id)
        with self.engine.begin() as conn:
            from .resend import resend_marker  # resend.py imports this module
            resend = resend_marker(self._row(conn, tenant_id, campaign_id))
            self._transition(conn, tenant_id, campaign_id, "edit", {
                "name": fields.name, "segment": fields.query.segment,
                "filters": json.dumps({**fields.query.filters(), **resend}),
                "body": fields.body,
                "template_id": fields.template_id, **self._reset_values(),
                "send_at": None, "latest_start": None,
                **({} if fields.holdout_percent is None
                   else {"holdout_percent": fields.holdout_percent}),
            })
            self._clear_logs(conn, campaign_id)
            row = self._row(conn, tenant_id, campaign_id)
        assert row is not None
        return self._public(row)

    def delete(self, tenant_id: int | None, campaign_id: int) -> None:
        c = self.tables.campaigns
        allowed = TRANSITIONS["delete"].sources
        with self.engine.begin() as conn:
            result = conn.execute(delete(c).where(
                c.c.id == campaign_id, c.c.tenant_id == tenant_key(tenant_id),
                c.c.status.in_([s.value for s in allowed])))
            if result.rowcount != 1:
                self._refuse(conn, tenant_id, campaign_id, "delete")
            self._clear_logs(conn, campaign_id)

    def duplicate(self, tenant_id: int | None, campaign_id: int, *,
                  user_id: int | None = None) -> dict[str, Any]:
        source = self.get(tenant_id, campaign_id)
        name = ("Copy of " + source["name"])[:NAME_MAX]
        return self.create(tenant_id, {
            "name": name, "segment": source["segment"], "filters": source["filters"],
            "body": source["body"], "template_id": source["template_id"],
            "holdout_percent": source["holdout_percent"],
        }, user_id=user_id, kind=source["kind"])

    def send(self, tenant_id: int | None, campaign_id: int) -> dict[str, Any]:
        """Snapshot the recipients and queue the campaign (DESIGN.md §4)."""
        campaign = self.start_snapshot(tenant_id, campaign_id, "send")
        assert campaign is not None
        return campaign

    def start_snapshot(self, tenant_id: int | None, campaign_id: int,
                       action: str) -> dict[str, Any] | None:
        """Queue the campaign through `action` ("send"; "resume" of a campaign that never
        had a snapshot; the engine's "begin" of a due scheduled one) with its recipients.

        The snapshot is one INSERT … SELECT in a short READ COMMITTED transaction together
        with the status change, so either the campaign is queued with all its recipients or
        nothing happened. No recipients → `failed` with the reason. For "begin" a campaign
        someone else started (or changed) first gives None instead of a refusal.
        """
        campaign = self.get(tenant_id, campaign_id)
        if Status(campaign["status"]) not in TRANSITIONS[action].sources:
            if action == "begin":
                return None
            raise TransitionRefused(action, Status(campaign["status"]), campaign["name"])
        if self.check_provider is not None and action != "begin":
            self.check_provider()
        query = SegmentQuery.from_filters(campaign["segment"], campaign["filters"], tenant_id)
        # Parse new/changed phones first, outside the transaction (Python work); the
        # snapshot reads the phones parsed with the same region.
        region = self.segments.region(tenant_id)
        self.segments.refresh_phones(tenant_id, region)
        now = int(self.clock())
        days = self.settings_for(tenant_id).attribution_days
        with self.engine.begin() as conn:
            values = {**self._reset_values(), "queued_at": now, "attribution_days": days}
            if action == "begin":  # exactly one of two racing processes wins
                c = self.tables.campaigns
                if not transition(conn, c, action, c.c.id == campaign_id, now=now,
                                  values=values):
                    return None
            else:
                self._transition(conn, tenant_id, campaign_id, action, values)
            self._clear_logs(conn, campaign_id)
            from .resend import snapshot_insert  # the segment's, or a resend's (resend.py)
            inserted = conn.execute(snapshot_insert(self.segments, self.tables, campaign,
                                                    query, region, now)).rowcount
            # Each recipient's zone, once (DESIGN.md §11): quiet hours apply in it.
            stamp_zones(conn, self.tables.recipients, campaign_id,
                        lambda ids: self.segments.bk.recipient_zones(tenant_id, ids))
            cap = self.settings_for(tenant_id).frequency_cap
            skipped = skip_capped_at_snapshot(conn, self.tables, campaign_id,
                                              tenant_key(tenant_id), cap, now)
            c = self.tables.campaigns
            # The control group (DESIGN.md §12), after the cap's skips: never sent, counted
            # apart from pending.
            held = assign_holdout(conn, self.tables.recipients, campaign_id,
                                  int(campaign["holdout_percent"]))
            conn.execute(update(c).where(c.c.id == campaign_id).values(
                total=inserted, pending=inserted - skipped - held, skipped=skipped,
                holdout=held))
            if inserted and inserted == skipped:
                transition(conn, c, "fail", c.c.id == campaign_id, now=now, values={
                    "finished_at": now,
                    "status_reason": f"No recipients: all {skipped} reached the frequency "
                                     "cap."})
            if inserted == 0:
                transition(conn, c, "fail", c.c.id == campaign_id, now=now, values={
                    "finished_at": now,
                    "status_reason": "No recipients: nobody in the segment has a valid phone "
                                     "number that is not suppressed."})
            row = self._row(conn, tenant_id, campaign_id)
        assert row is not None
        return self._public(row)

    def pause(self, tenant_id: int | None, campaign_id: int) -> dict[str, Any]:
        """Pause a queued or sending campaign. On return nothing more of it is sent but the
        messages already inside a call to the provider (DESIGN.md §4, §13)."""
        campaign = self._simple(tenant_id, campaign_id, "pause",
                                {"status_reason": "Paused by a user."})
        if self.on_pause is not None:
            self.on_pause(campaign_id)
        return campaign

    def resume(self, tenant_id: int | None, campaign_id: int) -> dict[str, Any]:
        """paused → queued; a campaign paused before its snapshot (a missed schedule)
        takes it now."""
        if self.get(tenant_id, campaign_id)["queued_at"] is None:
            campaign = self.start_snapshot(tenant_id, campaign_id, "resume")
            assert campaign is not None
            return campaign
        return self._simple(tenant_id, campaign_id, "resume", {"status_reason": ""})

    def simple_action(self, tenant_id: int | None, campaign_id: int, action: str,
                      values: dict[str, Any]) -> dict[str, Any]:
        """Apply a user action that only changes the campaign row (schedules.py)."""
        return self._simple(tenant_id, campaign_id, action, values)

    # -- helpers ------------------------------------------------------------------------

    def _simple(self, tenant_id: int | None, campaign_id: int, action: str,
                values: dict[str, Any]) -> dict[str, Any]:
        with self.engine.begin() as conn:
            self._transition(conn, tenant_id, campaign_id, action, values)
            row = self._row(conn, tenant_id, campaign_id)
        assert row is not None
        return self._public(row)

    def _transition(self, conn: Connection, tenant_id: int | None, campaign_id: int,
                    action: str, values: dict[str, Any]) -> None:
        c = self.tables.campaigns
        changed = transition(conn, c, action, c.c.id == campaign_id,
                             c.c.tenant_id == tenant_key(tenant_id), now=int(self.clock()),
                             values=values)
        if changed != 1:
            self._refuse(conn, tenant_id, campaign_id, action)

    def _refuse(self, conn: Connection, tenant_id: int | None, campaign_id: int,
                action: str) -> None:
        row = self._row(conn, tenant_id, campaign_id)
        if row is None:
            raise CampaignNotFound(campaign_id)
        raise TransitionRefused(action, Status(row["status"]), str(row["name"]))

    def _reset_values(self) -> dict[str, Any]:
        return {"total": 0, "sent": 0, "failed": 0, "pending": 0, "skipped": 0,
                "delivered": 0, "undelivered": 0, "status_reason": "", "holdout": 0,
                "bookings": 0, "booked_recipients": 0, "revenue_cents": 0, "holdout_booked": 0,
                "opted_out": 0, "attributed_at": None, "attribution_days": None,
                "queued_at": None, "started_at": None, "finished_at": None}

    def _clear_logs(self, conn: Connection, campaign_id: int) -> None:
        r, x = self.tables.recipients, self.tables.attributions
        conn.execute(delete(x).where(x.c.campaign_id == campaign_id))
        conn.execute(delete(r).where(r.c.campaign_id == campaign_id))

    def _row(self, conn: Connection, tenant_id: int | None,
             campaign_id: int) -> RowMapping | None:
        c = self.tables.campaigns
        return conn.execute(
            select(c).where(c.c.id == campaign_id, c.c.tenant_id == tenant_key(tenant_id))
        ).mappings().first()

    def _public(self, row: RowMapping) -> dict[str, Any]:
        data = dict(row)
        data["filters"] = json.loads(data["filters"] or "{}")
        data["tenant_id"] = data["tenant_id"] or None
        definition = SEGMENTS.get(data["segment"] or "")
        data["segment_label"] = definition.label if definition else data["segment"]
        data["actions"] = allowed_actions(data["status"])
        return data
