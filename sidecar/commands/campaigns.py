"""`bkntc-sms campaigns …`: the campaign lifecycle from a shell."""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING, Any

from ..quiet_hours import held_summary
from . import add_filter_flags, filters_from_args, outcomes, print_json, runtime

if TYPE_CHECKING:
    from ..runtime import Runtime

SHOW_FIELDS = ("id", "name", "status", "segment", "total", "sent", "failed", "pending",
               "skipped", "status_reason", "body", "filters", "created_at", "queued_at",
               "started_at", "finished_at", "send_at", "latest_start", "actions", "delivered",
               "undelivered", "holdout_percent", "holdout")


def _show(campaign: dict[str, Any], as_json: bool,
          progress: dict[str, Any] | None = None) -> None:
    retries = {k: (progress or {}).get(k) for k in ("retry_waiting", "next_retry_at")}
    if as_json:
        print_json({**{k: campaign[k] for k in (*SHOW_FIELDS, "held", "send_at_text")
                       if k in campaign},
                    **({} if progress is None else retries)})
        return
    print(f"#{campaign['id']} {campaign['name']} — {campaign['status']}")
    print(f"  segment: {campaign['segment_label']}  filters: {campaign['filters']}")
    print(f"  total {campaign['total']}  sent {campaign['sent']}  failed {campaign['failed']}"
          f"  pending {campaign['pending']}")
    print(f"  delivered {campaign['delivered']}  undelivered {campaign['undelivered']}"
          f"  (of {campaign['sent']} sent; the rest not reported yet)")
    if campaign["holdout_percent"]:
        print(f"  holdout {campaign['holdout_percent']}%: {campaign['holdout']} held back "
              f"(never sent)")
    if campaign["status_reason"]:
        print(f"  {campaign['status_reason']}")
    if campaign.get("send_at_text") and campaign["status"] == "scheduled":
        print(f"  scheduled for {campaign['send_at_text']}")
    if retries["retry_waiting"]:
        print(f"  {_retries(progress or {})}")


def _retries(p: dict[str, Any]) -> str:
    """ "4 waiting to retry at …" (the time as the pages show it), or ""."""
    if not p.get("retry_waiting"):
        return ""
    return f"{p['retry_waiting']} waiting to retry at {p['next_retry_text']}"


def _progress(rt: Runtime, tenant: int | None, campaign_id: int) -> dict[str, Any]:
    """The campaign's progress, its next retry time written in the business timezone."""
    p = rt.campaigns.progress(tenant, campaign_id)
    p["next_retry_text"] = rt.booknetic.business_zone(tenant).format(p["next_retry_at"])
    return p


def cmd_create(args: argparse.Namespace) -> int:
    rt = runtime()
    campaign = rt.campaigns.create(args.tenant, {
        "name": args.name, "segment": args.segment, "body": args.body,
        "filters": filters_from_args(args), "holdout_percent": args.holdout_percent})
    _show(campaign, args.json)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    rows, total = runtime().campaigns.list(args.tenant, status=args.status, limit=args.limit)
    if args.json:
        print_json({"total": total, "campaigns": [{k: r[k] for k in SHOW_FIELDS}
                                                  for r in rows]})
        return 0
    for r in rows:
        print(f"#{r['id']:<5} {r['status']:<9} {r['sent']:>6}/{r['total']:<6} "
              f"failed {r['failed']:<5} {r['name']}")
    print(f"{total} campaign(s)")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    rt = runtime()
    campaign = rt.campaigns.get(args.tenant, args.id)
    with rt.engine.connect() as conn:  # quiet hours: the held rows by zone
        campaign["held"] = held_summary(conn, rt.tables.recipients, args.id,
                                        rt.booknetic.business_zone(args.tenant))
    _show(_with_times(rt, args.tenant, campaign), args.json,
          _progress(rt, args.tenant, args.id))
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    rt = runtime()
    campaign = rt.campaigns.send(args.tenant, args.id)
    if campaign["status"] == "queued" and args.follow:
        campaign = follow(rt, args.tenant, args.id)
    elif campaign["status"] == "queued":
        # The first batch goes out straight away, here; the worker sends the rest.
        rt.outbox.drain(args.id, max_batches=1)
        campaign = rt.campaigns.get(args.tenant, args.id)
    _show(campaign, args.json)
    return 0 if campaign["status"] != "failed" else 1


def follow(rt: Runtime, tenant: int | None, campaign_id: int) -> dict[str, Any]:
    """Send in this process too (kicks merge with a run going, and a run returns at once
    while another process holds the queue) and draw progress until the campaign ends."""
    tty = sys.stderr.isatty()
    last = None
    rt.outbox.kick(campaign_id)  # its first batch straight away
    try:
        while True:
            p = _progress(rt, tenant, campaign_id)
            line = _bar(p)
            if tty:
                print("\r" + line, end="", file=sys.stderr, flush=True)
            elif line != last:
                print(line, file=sys.stderr, flush=True)
            last = line
            if p["status"] not in ("queued", "sending"):
                break
            time.sleep(0.5)
            rt.outbox.kick()  # retries fall due as time passes
    finally:
        rt.outbox.close()  # the batches in flight are recorded before the command exits
        if tty:
            print(file=sys.stderr)
    return rt.campaigns.get(tenant, campaign_id)


def cmd_schedule(args: argparse.Namespace) -> int:
    rt = runtime()
    data = {"send_at": args.at}
    if args.latest_start is not None:
        data["latest_start"] = args.latest_start
    _show(_with_times(rt, args.tenant, rt.schedules.schedule(args.tenant, args.id, data)),
          args.json)
    return 0


def cmd_unschedule(args: argparse.Namespace) -> int:
    _show(runtime().schedules.unschedule(args.tenant, args.id), args.json)
    return 0


def _with_times(rt: Runtime, tenant: int | None, campaign: dict[str, Any]) -> dict[str, Any]:
    """The scheduled start as people read it, in the business timezone with its name."""
    if campaign.get("send_at"):
        campaign["send_at_text"] = rt.booknetic.business_zone(tenant).format(
            campaign["send_at"])
    return campaign


def _bar(p: dict[str, Any], width: int = 30) -> str:
    # Holdout and skipped rows are never sent.
    total = max(int(p["total"]) - int(p.get("holdout") or 0) - int(p.get("skipped") or 0), 1)
    done = int(p["sent"]) + int(p["failed"])
    filled = int(width * done / total)
    retries = _retries(p)
    return (f"[{'#' * filled}{'.' * (width - filled)}] {100 * done // total:>3}%  "
            f"sent {p['sent']}  failed {p['failed']}  pending {p['pending']}  "
            f"delivered {p['delivered']}  ({p['status']})"
            + (f"  {p['status_reason']}" if p["status_reason"] else "")
            + (f"  {retries}" if retries else ""))


def cmd_resend_failed(args: argparse.Namespace) -> int:
    from ..resend import resend_failed

    draft = resend_failed(runtime().campaigns, args.tenant, args.id)
    if args.json:
        print_json({**{k: draft[k] for k in SHOW_FIELDS},
                    "resend_recipients": draft["resend_recipients"]})
        return 0
    _show(draft, False)
    print(f"  a draft for the {draft['resend_recipients']} failed recipient(s) of campaign "
          f"{args.id} that may succeed on another try; send it with "
          f"`bkntc-sms campaigns send {draft['id']}`")
    return 0


def _simple(action: str) -> Any:
    def handler(args: argparse.Namespace) -> int:
        service = runtime().campaigns
        if action == "delete":
            service.delete(args.tenant, args.id)
            if args.json:
                print_json({"id": args.id, "deleted": True})
            else:
                print(f"campaign {args.id} deleted")
            return 0
        _show(getattr(service, action)(args.tenant, args.id), args.json)
        return 0
    return handler


def register(sub: Any) -> None:
    camp = sub.add_parser("campaigns", help="create, send and inspect campaigns")
    actions = camp.add_subparsers(dest="campaigns_command", metavar="ACTION", required=True)

    p = actions.add_parser("create", help="create a draft campaign")
    p.add_argument("--name", required=True)
    p.add_argument("--segment", required=True, metavar="KEY")
    p.add_argument("--body", required=True, help="message text; shortcodes allowed")
    add_filter_flags(p)
    p.add_argument("--holdout-percent", type=int, default=None, metavar="N",
                   help="hold back N%% of the recipients as a control group (0-50; "
                        "default: the settings' holdout_percent)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_create)
    outcomes.register_report(actions)

    p = actions.add_parser("list", help="list campaigns, newest first")
    p.add_argument("--tenant", type=int, default=None, metavar="ID")
    p.add_argument("--status", default=None,
                   choices=["draft", "scheduled", "queued", "sending", "completed", "failed",
                            "paused"])
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_list)

    for name, handler, text in (
        ("show", cmd_show, "show one campaign with its counters"),
        ("send", cmd_send, "snapshot the recipients and start sending"),
        ("pause", _simple("pause"), "pause sending (in-flight messages finish)"),
        ("resume", _simple("resume"), "resume a paused campaign"),
        ("duplicate", _simple("duplicate"), "copy a campaign into a new draft"),
        ("delete", _simple("delete"), "delete a campaign and its logs"),
        ("schedule", cmd_schedule, "send a draft later, at --at"),
        ("unschedule", cmd_unschedule, "make a scheduled campaign a draft again"),
        ("resend-failed", cmd_resend_failed,
         "a new draft for the failed recipients that may succeed on another try"),
    ):
        p = actions.add_parser(name, help=text)
        p.add_argument("id", type=int, metavar="ID")
        p.add_argument("--tenant", type=int, default=None, metavar="ID")
        p.add_argument("--json", action="store_true")
        if name == "send":
            p.add_argument("--follow", action="store_true",
                           help="show a live progress bar until the campaign ends")
        if name == "schedule":
            when = ("epoch seconds, ISO 8601 with an offset, or YYYY-MM-DDTHH:MM in the "
                    "business timezone")
            p.add_argument("--at", required=True, metavar="WHEN", help=f"start time: {when}")
            p.add_argument("--latest-start", default=None, metavar="WHEN",
                           help="not started by then (service down) → paused; default "
                                "--at + 2 h")
        p.set_defaults(handler=handler)
