"""`bkntc-sms serve|worker|tick`: the long-running processes and the one-shot queue run."""

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
    if args.metrics_port:
        from prometheus_client import start_http_server

        # Loopback only, like serve's /metrics: Prometheus runs on this machine.
        start_http_server(args.metrics_port, addr="127.0.0.1",
                          registry=rt.outbox.metrics.registry)
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


def cmd_serve(args: argparse.Namespace) -> int:
    from ..web import create_app
    from ..web.server import serve_forever

    configure_logging()
    rt = runtime()
    scheduler = None
    if not args.no_worker:
        from ..worker import build_scheduler

        scheduler = build_scheduler(rt)
        scheduler.start()
    print(f"bkntc-sms serving on http://{args.host}:{args.port}"
          + ("" if scheduler else " (no worker: run `bkntc-sms worker` separately)"),
          flush=True)
    try:
        serve_forever(create_app(rt), args.host, args.port)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        rt.close()
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("serve", help="run the web app (and the worker, unless --no-worker)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: only WordPress on this machine "
                        "should reach it)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--no-worker", action="store_true",
                   help="do not run the send queue in this process")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("tick", help="run the send queue once and exit (for a system cron)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_tick)

    p = sub.add_parser("worker", help="run the send queue every BKNTC_SMS_TICK_SECONDS")
    p.add_argument("--metrics-port", type=int, default=0,
                   help="serve this process's Prometheus metrics on 127.0.0.1:PORT")
    p.set_defaults(handler=cmd_worker)
