"""`bkntc-sms migrate|check|demo`: install and inspect."""

from __future__ import annotations

import argparse
import os
from typing import Any

from . import print_json, settings


def cmd_migrate(args: argparse.Namespace) -> int:
    from ..schema import migrate, schema_ddl

    if args.print_sql:
        print(schema_ddl(os.environ.get("BKNTC_SMS_TABLE_PREFIX", "wp_")), end="")
        return 0
    from ..db import make_engine

    config = settings()
    done = migrate(make_engine(config.database_url), config.table_prefix)
    if args.json:
        print_json({"applied": done})
    elif done:
        for line in done:
            print(line)
    else:
        print("schema is up to date")
    return 0


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
    p = sub.add_parser("migrate", help="create or upgrade the sidecar's own tables")
    p.add_argument("--json", action="store_true")
    p.add_argument("--print-sql", action="store_true",
                   help="print the MySQL DDL instead of applying it")
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
