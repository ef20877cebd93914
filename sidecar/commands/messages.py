"""`bkntc-sms logs|suppressions|sms …`: logs export, the suppression list, test/one-off SMS."""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from typing import Any

from ..delivery_log import EXPORT_CAP
from ..suppressions import SOURCES, SuppressionNotFound
from . import print_json, runtime


def cmd_logs_export(args: argparse.Namespace) -> int:
    rt = runtime()
    chunks, total = rt.logs.export_csv(args.tenant, args.id, status=args.status,
                                       delivery=args.delivery)
    with contextlib.ExitStack() as stack:
        out = (stack.enter_context(open(args.output, "w", encoding="utf-8", newline=""))
               if args.output else sys.stdout)
        for chunk in chunks:
            out.write(chunk)

    if total > EXPORT_CAP:
        print(f"note: exported the first {EXPORT_CAP} of {total} rows (the limit per file)",
              file=sys.stderr)
    elif args.output:
        print(f"wrote {total} rows to {args.output}", file=sys.stderr)
    return 0


def cmd_suppressions_add(args: argparse.Namespace) -> int:
    from ..phones import normalise_phone
    from ..suppressions import SuppressionError

    rt = runtime()
    region = rt.regions.region(args.tenant)
    invalid = [p for p in args.phone if normalise_phone(p, region) is None]
    if invalid:  # all or nothing, like the page's bulk add
        raise SuppressionError({"phone": f"not a valid phone number: {', '.join(invalid)}; "
                                         "nothing was added"}, invalid)
    rows = [rt.suppressions.add(args.tenant, phone, args.reason or "") for phone in args.phone]
    if args.json:
        print_json(rows)
    else:
        for row in rows:
            print(f"{row['phone']}: {'added' if row['added'] else 'already on the list'}")
    return 0


def cmd_suppressions_list(args: argparse.Namespace) -> int:
    from ..delivery_log import iso

    rows, total = runtime().suppressions.list(args.tenant, query=args.search or "",
                                              limit=args.limit, source=args.source)
    if args.json:
        print_json({"total": total, "suppressions": rows})
    else:
        for row in rows:
            print(f"#{row['id']:<6} {row['phone']:<16} {row['source']:<8} "
                  f"{iso(row['created_at'])}  {row['reason']}")
        print(f"{total} number(s)")
    return 0


def cmd_suppressions_remove(args: argparse.Namespace) -> int:
    from ..phones import normalise_phone

    rt = runtime()
    target = args.target
    if not target.isdigit():  # a phone number rather than an id
        phone = normalise_phone(target, rt.regions.region(args.tenant))
        rows, _ = rt.suppressions.list(args.tenant, query=phone or target, limit=5)
        match = [r for r in rows if r["phone"] == phone]
        if not match:
            raise SuppressionNotFound(f"{target} is not on the suppression list")
        target = str(match[0]["id"])
    rt.suppressions.remove(args.tenant, int(target))
    print(f"removed #{target}")
    return 0


def cmd_sms_test(args: argparse.Namespace) -> int:
    result = runtime().oneoff.send_test(args.tenant, args.phone, args.body)
    if args.json:
        print_json(result)
    elif result["ok"]:
        print(f"sent to {result['to']} (Twilio id {result['message_id']})")
    else:
        print(f"NOT sent to {result['to']}: {result['error']}", file=sys.stderr)
    return 0 if result["ok"] else 1


def cmd_sms_send(args: argparse.Namespace) -> int:
    rt = runtime()
    result = rt.oneoff.send_manual(args.tenant, args.body, numbers="\n".join(args.to))
    deadline = time.monotonic() + 600
    try:
        rt.outbox.kick(result.campaign_id)
        rt.outbox.wait_idle()
        progress = rt.campaigns.progress(args.tenant, result.campaign_id)
        while progress["status"] in ("queued", "sending") and time.monotonic() < deadline:
            time.sleep(1)  # retries fall due; keep serving them until the campaign ends
            rt.outbox.kick()
            rt.outbox.wait_idle()
            progress = rt.campaigns.progress(args.tenant, result.campaign_id)
    finally:
        rt.outbox.close()
    summary = {**result.to_dict(), "status": progress["status"], "sent": progress["sent"],
               "failed": progress["failed"], "pending": progress["pending"]}
    if args.json:
        print_json(summary)
    else:
        print(f"{summary['sent']} sent, {summary['failed']} failed, "
              f"{len(result.skipped_suppressed)} skipped (suppressed), "
              f"{len(result.invalid)} invalid" + (f": {', '.join(result.invalid)}"
                                                   if result.invalid else ""))
        print(f"details: bkntc-sms logs export {result.campaign_id}")
    return 0 if summary["failed"] == 0 else 1


def _tenant(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tenant", type=int, default=None, metavar="ID")


def register(sub: Any) -> None:
    logs = sub.add_parser("logs", help="per-recipient logs")
    actions = logs.add_subparsers(dest="logs_command", metavar="ACTION", required=True)
    p = actions.add_parser("export", help="write a campaign's logs as CSV (max 5,000 rows)")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--output", "-o", metavar="FILE", help="file to write (default: stdout)")
    p.add_argument("--status", choices=["pending", "sent", "failed"])
    p.add_argument("--delivery", choices=["delivered", "undelivered", "failed",
                                          "not_delivered", "pending"],
                   help="only messages with this delivery status (pending: none final yet)")
    _tenant(p)
    p.set_defaults(handler=cmd_logs_export)

    supp = sub.add_parser("suppressions", help="the never-SMS list")
    actions = supp.add_subparsers(dest="suppressions_command", metavar="ACTION", required=True)
    p = actions.add_parser("add", help="add numbers")
    p.add_argument("phone", nargs="+", metavar="PHONE")
    p.add_argument("--reason", default="")
    _tenant(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_suppressions_add)
    p = actions.add_parser("list", help="list numbers")
    p.add_argument("--search", metavar="TEXT")
    p.add_argument("--source", choices=SOURCES,
                   help="only rows added by an admin, by a STOP reply, or after a Twilio error")
    p.add_argument("--limit", type=int, default=100)
    _tenant(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_suppressions_list)
    p = actions.add_parser("remove", help="remove a number (by id or phone)")
    p.add_argument("target", metavar="ID_OR_PHONE")
    _tenant(p)
    p.set_defaults(handler=cmd_suppressions_remove)

    sms = sub.add_parser("sms", help="test and one-off SMS")
    actions = sms.add_subparsers(dest="sms_command", metavar="ACTION", required=True)
    p = actions.add_parser("test", help="send a test SMS (rendered for 'Test Customer')")
    p.add_argument("phone", metavar="PHONE")
    p.add_argument("--body", required=True)
    _tenant(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_sms_test)
    p = actions.add_parser("send", help="send a one-off SMS through the queue")
    p.add_argument("--to", action="append", required=True, metavar="PHONE",
                   help="recipient (repeatable)")
    p.add_argument("--body", required=True)
    _tenant(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_sms_send)
