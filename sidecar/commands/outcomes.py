"""`bkntc-sms campaigns report ID` and `bkntc-sms attribution refresh` (DESIGN.md §12)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from . import print_json, runtime


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def print_report(report: dict[str, Any]) -> None:
    """The report as a person reads it: the funnel with rates, bookings, revenue, lift."""
    rates = report["rates"]
    held = report["holdout"]
    print(f"#{report['campaign_id']} {report['name']} — {report['status']}")
    print(f"  recipients {report['recipients']} (holdout {held['recipients']})  "
          f"sent {report['sent']} ({_percent(rates['sent'])})  "
          f"delivered {report['delivered']} ({_percent(rates['delivered'])})  "
          f"booked {report['booked_recipients']} ({_percent(rates['booked'])})")
    print(f"  failed {report['failed']}  skipped {report['skipped']}  "
          f"opted out {report['opted_out']}")
    print(f"  bookings {report['bookings']} within {report['attribution_days']} days, "
          f"revenue {report['revenue']:.2f}")
    print(f"  holdout booked {held['booked_recipients']} of {held['recipients']} "
          f"({_percent(rates['holdout_booked'])}); lift: {report['lift_words']}")


def cmd_report(args: argparse.Namespace) -> int:
    report = runtime().reports.report(args.tenant, args.id)
    if args.json:
        print_json(report)
    else:
        print_report(report)
    return 0


def cmd_refresh(args: argparse.Namespace) -> int:
    """Refresh one campaign (--campaign) or every campaign whose window is open."""
    rt = runtime()
    if args.campaign is not None:
        found = rt.attribution.refresh(args.tenant, args.campaign)
        refreshed = [args.campaign] if found else []
        errors = 0
    else:
        report = rt.attribution.refresh_open()
        refreshed, errors = report.campaigns, report.errors
    if args.json:
        print_json({"refreshed": refreshed, "errors": errors,
                    "load_average": list(os.getloadavg())})
    else:
        print(f"refreshed {len(refreshed)} campaign(s)"
              + (f", {errors} failed (see the log)" if errors else ""))
    return 0 if errors == 0 else 1


def register_report(actions: Any) -> None:
    """Adds `report` to the `campaigns` actions."""
    p = actions.add_parser("report", help="bookings, revenue and lift of a campaign")
    p.add_argument("id", type=int, metavar="ID")
    p.add_argument("--tenant", type=int, default=None, metavar="ID")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_report)


def register(sub: Any) -> None:
    p = sub.add_parser("attribution", help="attributed bookings of campaigns")
    actions = p.add_subparsers(dest="attribution_command", metavar="ACTION", required=True)
    r = actions.add_parser("refresh", help="recompute the bookings of campaigns whose "
                           "attribution window is open (every queue run does this too)")
    r.add_argument("--campaign", type=int, default=None, metavar="ID",
                   help="only this campaign, whatever its window")
    r.add_argument("--tenant", type=int, default=None, metavar="ID")
    r.add_argument("--json", action="store_true")
    r.set_defaults(handler=cmd_refresh)
