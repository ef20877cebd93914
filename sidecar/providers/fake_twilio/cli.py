"""`python -m sidecar.providers.fake_twilio`: run a fake Twilio until Ctrl-C or SIGTERM;
`python -m sidecar.providers.fake_twilio inbound …`: send one inbound SMS (inbound.py)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time

from .lifecycle import DeliveryRules
from .server import FakeTwilio


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run a fake Twilio until Ctrl-C; print its base URL."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["inbound"]:
        from .inbound import main as send_inbound

        return send_inbound(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m sidecar.providers.fake_twilio", description=main.__doc__
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument(
        "--account-sid", default=os.environ.get("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    )
    parser.add_argument("--auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN", "fake-token"))
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--failure-rate-429", type=float, default=0.0)
    parser.add_argument("--failure-rate-500", type=float, default=0.0)
    parser.add_argument("--timeout-rate", type=float, default=0.0)
    parser.add_argument("--timeout-sleep", type=float, default=30.0)
    parser.add_argument("--lost-answer", action="store_true")
    parser.add_argument(
        "--auto-status",
        help="move messages to this status (e.g. delivered) "
        "and send their callbacks after --auto-status-delay seconds",
    )
    parser.add_argument("--auto-status-delay", type=float, default=0.5)
    # What becomes of each message (lifecycle.py); status callbacks go out by themselves.
    parser.add_argument("--queued-for", type=float, default=0.0,
                        help="seconds a message stays queued without date_sent")
    parser.add_argument("--final-after", type=float, default=0.0,
                        help="seconds from sent to delivered/undelivered/failed")
    parser.add_argument("--undelivered-rate", type=float, default=0.0)
    parser.add_argument("--failed-rate", type=float, default=0.0)
    parser.add_argument("--callback-lost-rate", type=float, default=0.0)
    parser.add_argument("--callback-duplicate-rate", type=float, default=0.0)
    parser.add_argument("--callback-out-of-order-rate", type=float, default=0.0)
    parser.add_argument("--no-callbacks", action="store_true")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    fake = FakeTwilio(
        args.account_sid,
        args.auth_token,
        host=args.host,
        port=args.port,
        latency=args.latency,
        failure_rate_429=args.failure_rate_429,
        failure_rate_500=args.failure_rate_500,
        timeout_rate=args.timeout_rate,
        timeout_sleep=args.timeout_sleep,
        lost_answer=args.lost_answer,
        seed=args.seed,
        auto_status=args.auto_status,
        auto_status_delay=args.auto_status_delay,
        delivery=None if args.auto_status else DeliveryRules(
            queued_for=args.queued_for, final_after=args.final_after,
            undelivered_rate=args.undelivered_rate, failed_rate=args.failed_rate,
            lost_rate=args.callback_lost_rate, duplicate_rate=args.callback_duplicate_rate,
            out_of_order_rate=args.callback_out_of_order_rate,
            callbacks=not args.no_callbacks, seed=args.seed or 0),
        auto_callbacks=True,
    )
    signal.signal(signal.SIGTERM, _interrupt)  # stop cleanly under a process manager too
    with fake:
        print(fake.base_url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0
