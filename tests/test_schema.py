"""The sidecar's own schema: sql/schema.sql agrees with schema.py, and migrate is safe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, func, inspect, select, text

from sidecar.schema import BUILTIN_TEMPLATES, SCHEMA_VERSION, migrate, schema_ddl, sms_tables
from tests.conftest import MariaDBServer

ROOT = Path(__file__).resolve().parent.parent
SQL_FILE = ROOT / "sql" / "schema.sql"


def test_sql_file_is_generated_from_schema_py() -> None:
    assert SQL_FILE.read_text() == schema_ddl("wp_"), (
        "sql/schema.sql is stale: regenerate it with `bkntc-sms migrate --print-sql > "
        "sql/schema.sql`")


def _structure(server: MariaDBServer, database: str) -> dict[str, object]:
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, "
            "COLUMN_KEY, EXTRA, COLLATION_NAME FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME, ORDINAL_POSITION", (database,))
        columns = cur.fetchall()
        cur.execute(
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME "
            "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s "
            "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX", (database,))
        indexes = cur.fetchall()
        cur.execute("SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME", (database,))
        tables = cur.fetchall()
    return {"columns": columns, "indexes": indexes, "tables": tables}


def test_hand_applied_sql_matches_what_migrate_creates(mariadb: MariaDBServer,
                                                       engine_for) -> None:
    by_hand = mariadb.create_database("hand")
    by_migrate = mariadb.create_database("auto")
    try:
        with mariadb.connect(by_hand) as conn, conn.cursor() as cur:
            for statement in SQL_FILE.read_text().split(";\n"):
                body = "\n".join(line for line in statement.splitlines()
                                 if not line.startswith("--")).strip()
                if body:
                    cur.execute(body)
        hand_engine = engine_for(mariadb.url(by_hand))
        # The sidecar finds nothing to create on a hand-applied schema, only seeds.
        assert migrate(hand_engine, "wp_") == ["seeded 4 built-in templates"]
        migrate(engine_for(mariadb.url(by_migrate)), "wp_")
        assert _structure(mariadb, by_hand) == _structure(mariadb, by_migrate)
    finally:
        mariadb.drop_database(by_hand)
        mariadb.drop_database(by_migrate)


def _count_templates(engine) -> int:
    tables = sms_tables("wp_")
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(tables.templates)).scalar_one()


def test_migrate_is_idempotent_on_both_backends(any_url: str, engine_for) -> None:
    engine = engine_for(any_url)
    first = migrate(engine, "wp_")
    assert f"schema version {SCHEMA_VERSION}" in first
    assert "seeded 4 built-in templates" in first
    assert migrate(engine, "wp_") == []
    assert _count_templates(engine) == len(BUILTIN_TEMPLATES)


def test_two_processes_migrating_at_once(any_url: str, engine_for) -> None:
    """Two sidecars starting together must not trip over each other's CREATE TABLEs."""
    code = ("import sys; from sidecar.db import make_engine; from sidecar.schema import migrate;"
            "migrate(make_engine(sys.argv[1]), 'wp_')")
    procs = [subprocess.Popen([sys.executable, "-c", code, any_url], cwd=ROOT,
                              stderr=subprocess.PIPE) for _ in range(3)]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    engine = engine_for(any_url)
    assert _count_templates(engine) == len(BUILTIN_TEMPLATES)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM wp_bkntc_sms_meta "
                                 "WHERE name = 'schema_version'")).scalar() == str(SCHEMA_VERSION)


def test_builtin_templates_use_shortcodes() -> None:
    for _key, name, body in BUILTIN_TEMPLATES:
        assert "{customer_" in body, name
        assert 40 < len(body) <= 320, name


def test_migrate_rebuilds_a_schema_1_phones_table(any_url: str, engine_for) -> None:
    """Schema 1 kept one parse per customer (one region for everyone); its rows are derived
    data, so the upgrade drops the table and the next phone check fills the new one."""
    engine = engine_for(any_url)
    old = Table("wp_bkntc_sms_phones", MetaData(),
                Column("customer_id", Integer, primary_key=True, autoincrement=False),
                Column("tenant_id", Integer, nullable=False, server_default="0"),
                Column("raw_phone", String(255)), Column("e164", String(20)),
                Column("checked_at", Integer, nullable=False))
    tables = sms_tables("wp_")
    with engine.begin() as conn:
        tables.meta.create(conn)
        old.create(conn)
        conn.execute(old.insert().values(customer_id=7, raw_phone="x", checked_at=1))
        conn.execute(tables.meta.insert(), [
            {"name": "schema_version", "value": "1", "updated_at": 1},
            {"name": "phones_region", "value": "US", "updated_at": 1}])
    done = migrate(engine, "wp_")
    assert "dropped table wp_bkntc_sms_phones (schema 1: one region for all numbers)" in done
    assert "created table wp_bkntc_sms_phones" in done
    assert f"schema version {SCHEMA_VERSION}" in done
    with engine.connect() as conn:
        columns = [c["name"] for c in inspect(conn).get_columns("wp_bkntc_sms_phones")]
        assert columns[:3] == ["tenant_id", "region", "customer_id"]
        assert conn.execute(select(func.count()).select_from(tables.phones)).scalar() == 0
        assert dict(conn.execute(select(tables.meta.c.name, tables.meta.c.value)).all()) == {
            "schema_version": str(SCHEMA_VERSION)}
    assert migrate(engine, "wp_") == []
