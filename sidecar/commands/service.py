"""`bkntc-sms worker|tick` (and `serve` once the web app exists): long-running processes."""

from __future__ import annotations

import argparse
import signal
from typing import Any

from ..logs import configure_logging
from . import print_json, runtime


def cmd_tick(args: argparse.Namespace) -> int:
    configure_logging()
    rt = runtime()
    try:
        report = rt.outbox.run_queue()
    finally:
        rt.close()
    data = {"ran": report.ran, "skipped_reason": report.skipped_reason,
            "campaigns": report.campaigns, "sent": report.sent, "failed": report.failed,
            "retried": report.retried, "halted": report.halted}
    if args.json:
        print_json(data)
    elif report.ran:
        print(f"queue run: {len(report.campaigns)} campaign(s), {report.sent} sent, "
              f"{report.failed} failed, {report.retried} to retry"
              + (f"; HALTED: {report.halted}" if report.halted else ""))
    else:
        print(f"queue run skipped: {report.skipped_reason}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from ..worker import build_scheduler

    configure_logging()
    rt = runtime()
    scheduler = build_scheduler(rt, blocking=True)

    def stop(signum: int, frame: object) -> None:
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        rt.close()
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("tick", help="run the send queue once and exit (for a system cron)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_tick)

    p = sub.add_parser("worker", help="run the send queue every BKNTC_SMS_TICK_SECONDS")
    p.set_defaults(handler=cmd_worker)
