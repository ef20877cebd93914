"""The embedded default (DESIGN.md §8): the whole product on one machine, nothing installed.

A SQLite file is seeded with a realistic Booknetic-shaped data set (a single-site salon
with a year of appointments, several services and locations, and some bad phones). The
same code paths as production run against it; only the database URL differs.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .runtime import Runtime
from .sample_data import build_booknetic, set_option
from .segments import SEGMENTS, SegmentQuery

DEMO_CUSTOMERS = 300
DEMO_SECRET_OPTION = "bkntc_sms_bridge_secret"


@dataclass
class DemoDatabase:
    path: Path
    url: str
    customers: int
    appointments: int


def seed_demo_database(directory: Path, *, now: int | None = None) -> DemoDatabase:
    """Create (or re-create) the demo's SQLite WordPress database in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "wordpress.sqlite3"
    for leftover in directory.glob("wordpress.sqlite3*"):
        leftover.unlink()
    url = f"sqlite:///{path}"
    from .db import make_engine

    engine = make_engine(url)
    try:
        ds = build_booknetic(engine, "wp_", "single", int(now or time.time()),
                             customers_per_tenant=DEMO_CUSTOMERS)
        set_option(engine, "wp_", DEMO_SECRET_OPTION, os.urandom(24).hex())
    finally:
        engine.dispose()
    return DemoDatabase(path, url, len(ds.customers), len(ds.appointments))


def print_segment_previews(runtime: Runtime) -> None:
    for definition in SEGMENTS.values():
        preview = runtime.segments.preview(SegmentQuery(definition.key), limit=3)
        print(f"{definition.label:<32} {preview.count:>4} recipients  "
              f"(skipped: {preview.skipped_invalid_phone} invalid, "
              f"{preview.skipped_duplicate_phone} duplicate, "
              f"{preview.skipped_suppressed} suppressed)")
        for row in preview.sample:
            name = f"{row['first_name']} {row['last_name']}".strip() or "(no name)"
            print(f"    {row['phone']:<16} {name}")


def run_demo(data_dir: str | None) -> int:
    directory = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="bkntc-sms-demo-"))
    db = seed_demo_database(directory)
    print(f"Demo WordPress database: {db.path} ({db.customers} customers, "
          f"{db.appointments} appointments)\n")
    settings = Settings.from_env({"BKNTC_SMS_DATABASE_URL": db.url})
    runtime = Runtime.build(settings)
    print_segment_previews(runtime)
    return 0
