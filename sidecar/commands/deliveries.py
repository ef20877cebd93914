"""`bkntc-sms deliveries poll`: ask Twilio about messages still without a final status."""

from __future__ import annotations

import argparse
from typing import Any

from ..logs import configure_logging
from . import print_json, runtime


def cmd_poll(args: argparse.Namespace) -> int:
    configure_logging()
    rt = runtime()
    try:
        report = rt.deliveries.poll(args.limit)
        left = rt.deliveries.due()
    finally:
        rt.close()
    data = {**report.to_dict(), "due_now": left}
    if args.json:
        print_json(data)
    else:
        print(f"delivery poll: asked about {report.due} message(s): {report.changed} changed "
              f"({report.delivered} delivered, {report.undelivered} undelivered), "
              f"{report.errors} could not be asked, {report.gave_up} given up after 72 h; "
              f"{left} still due")
    return 0


def register(sub: Any) -> None:
    deliveries = sub.add_parser("deliveries", help="delivery status of sent messages")
    actions = deliveries.add_subparsers(dest="deliveries_command", metavar="ACTION",
                                        required=True)
    p = actions.add_parser("poll", help="run the delivery-status poller once (the queue runs "
                                        "do this too)")
    p.add_argument("--limit", type=int, default=None, metavar="N",
                   help="ask about at most N messages (default: the poller's batch, 50)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_poll)
