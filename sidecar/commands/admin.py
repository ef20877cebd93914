"""`bkntc-sms migrate|check|demo`: install and inspect."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..config import Settings
from . import print_json, settings


def cmd_migrate(args: argparse.Namespace) -> int:
    from ..schema import schema_ddl

    if args.print_sql:
        print(schema_ddl(os.environ.get("BKNTC_SMS_TABLE_PREFIX", "wp_")), end="")
        return 0
    from ..db import make_engine
    from ..migrations import down_one, migrate, status

    config = settings()
    engine = make_engine(config.database_url, pool_size=1)
    try:
        if args.status:
            found = status(engine, config.table_prefix)
            if args.json:
                print_json(found.to_dict())
            else:
                print("\n".join(found.lines()))
            return 1 if found.state == "newer" else 0
        if args.down:
            done = down_one(engine, config.table_prefix)
        else:
            done = migrate(engine, config.table_prefix, to=args.to or "head")
    finally:
        engine.dispose()
    if args.json:
        print_json({"applied": done, "revision": status_after(config)})
    elif done:
        for line in done:
            print(line)
    else:
        print("schema is up to date")
    return 0


def status_after(config: Settings) -> str | None:
    from ..db import make_engine
    from ..migrations import status

    engine = make_engine(config.database_url, pool_size=1)
    try:
        return status(engine, config.table_prefix).current
    finally:
        engine.dispose()


def cmd_check(args: argparse.Namespace) -> int:
    from ..checks import run_checks

    results = run_checks(settings())
    if args.json:
        print_json({"ok": all(r.ok for r in results), "checks": [r.to_dict() for r in results]})
    else:
        for r in results:
            print(f"{'OK     ' if r.ok else 'PROBLEM'}  {r.name}: {r.detail}")
    return 0 if all(r.ok for r in results) else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    return run_demo(args.data_dir, args.port)


def register(sub: Any) -> None:
    p = sub.add_parser("migrate", help="create or upgrade the sidecar's own tables",
                       description="Bring the sidecar's tables to this version's head revision "
                                   "(serve and worker do it at start). See README: Upgrading.")
    p.add_argument("--json", action="store_true")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--print-sql", action="store_true",
                      help="print the MySQL DDL of the head instead of applying it")
    what.add_argument("--status", action="store_true",
                      help="say where the database stands and what would run; change nothing")
    what.add_argument("--down", action="store_true",
                      help="revert the newest applied revision (rolling back one version)")
    what.add_argument("--to", metavar="REV",
                      help="migrate up or down to revision REV instead of the head")
    p.set_defaults(handler=cmd_migrate)

    p = sub.add_parser("check", help="check the database, Booknetic and the Twilio add-on")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("demo", help="run the product on a seeded demo database")
    p.add_argument("--data-dir", default=None,
                   help="where to keep the demo database (default: a new temp directory)")
    p.add_argument("--port", type=int, default=8780,
                   help="port of the demo on 127.0.0.1 (default 8780; 0 picks a free one)")
    p.set_defaults(handler=cmd_demo)
