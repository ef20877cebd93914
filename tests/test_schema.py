"""The sidecar's own schema: sql/schema.sql agrees with schema.py, the migrations end exactly
there (from an empty database and from 0.1.0's), and migrate is safe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, insert, select, text

from sidecar.migrations import head, revisions, version_table_name
from sidecar.migrations import migrate as migrate_to
from sidecar.schema import BUILTIN_TEMPLATES, migrate, schema_ddl, sms_tables
from tests.conftest import MariaDBServer
from tests.upgrade_support import create_0_1_0_schema

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
            "COLUMN_KEY, EXTRA, COLLATION_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME, ORDINAL_POSITION", (database,))
        columns = cur.fetchall()
        cur.execute(
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, COLUMN_NAME "
            "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s "
            "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX", (database,))
        indexes = cur.fetchall()
        cur.execute("SELECT TABLE_NAME, ENGINE, TABLE_COLLATION, TABLE_COMMENT "
                    "FROM information_schema.TABLES "
                    "WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME", (database,))
        tables = cur.fetchall()
    return {"columns": columns, "indexes": indexes, "tables": tables}


def test_hand_applied_sql_matches_what_migrate_creates(mariadb: MariaDBServer,
                                                       engine_for) -> None:
    """Columns (type, default, collation, comment), indexes and table options agree whether
    the schema came from sql/schema.sql, from migrate on an empty database, or from migrate
    on a 0.1.0 one."""
    by_hand = mariadb.create_database("hand")
    from_empty = mariadb.create_database("empty")
    from_0_1_0 = mariadb.create_database("old")
    try:
        with mariadb.connect(by_hand) as conn, conn.cursor() as cur:
            for statement in SQL_FILE.read_text().split(";\n"):
                body = "\n".join(line for line in statement.splitlines()
                                 if not line.startswith("--")).strip()
                if body:
                    cur.execute(body)
            conn.commit()
        hand_engine = engine_for(mariadb.url(by_hand))
        # The sidecar finds nothing to migrate on a hand-applied schema, only seeds.
        assert migrate(hand_engine, "wp_") == ["seeded 4 built-in templates"]
        migrate(engine_for(mariadb.url(from_empty)), "wp_")
        old = engine_for(mariadb.url(from_0_1_0))
        create_0_1_0_schema(old)
        migrate(old, "wp_")
        expected = _structure(mariadb, by_hand)
        assert _structure(mariadb, from_empty) == expected
        assert _structure(mariadb, from_0_1_0) == expected
    finally:
        for name in (by_hand, from_empty, from_0_1_0):
            mariadb.drop_database(name)


@pytest.mark.parametrize("start", ["empty", "0.1.0"])
def test_migrations_end_at_schema_py(any_url: str, engine_for, start: str) -> None:
    """Alembic's own comparison of the migrated database with schema.py (columns, types,
    nullability, indexes, unique keys) finds nothing, on both backends: a revision that
    forgets part of a schema.py change fails here."""
    engine = engine_for(any_url)
    if start == "0.1.0":
        create_0_1_0_schema(engine)
    migrate(engine, "wp_")
    metadata = sms_tables("wp_").metadata
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "version_table": version_table_name("wp_"), "compare_type": True,
            "compare_server_default": False})
        diff = compare_metadata(context, metadata)
    # Alembic leaves its version table out of the comparison; schema.py defines it so that
    # sql/schema.sql creates it with our table options.
    assert [d for d in diff if not (d[0] == "add_table"
                                    and d[1].name == version_table_name("wp_"))] == []


def _count_templates(engine) -> int:
    tables = sms_tables("wp_")
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(tables.templates)).scalar_one()


def test_migrate_is_idempotent_on_both_backends(any_url: str, engine_for) -> None:
    engine = engine_for(any_url)
    first = migrate(engine, "wp_")
    assert first[-1] == "seeded 4 built-in templates"
    assert [line.split(":")[0] for line in first[:-1]] == [
        f"applied {r.id}" for r in revisions()]
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
        assert conn.execute(text("SELECT version_num FROM wp_bkntc_sms_alembic_version")
                            ).scalars().all() == [head()]


def test_builtin_templates_use_shortcodes() -> None:
    for _key, name, body in BUILTIN_TEMPLATES:
        assert "{customer_" in body, name
        assert 40 < len(body) <= 320, name


def test_a_development_build_before_migrations_is_stamped_where_it_stands(
        any_url: str, engine_for) -> None:
    """Builds between 0.1.0 and 0.2.0 had the per-region phones table and recorded
    `schema_version` 2: their tables are revision 0002's, so they are stamped there (and
    upgraded from it)."""
    engine = engine_for(any_url)
    migrate_to(engine, "wp_", to="0002")  # the tables such a build had, without the record
    tables = sms_tables("wp_")
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {version_table_name('wp_')}"))
        conn.execute(insert(tables.meta), [
            {"name": "schema_version", "value": "2", "updated_at": 1}])
    later = [f"applied {r.id}: {r.description}" for r in revisions()[2:]]
    assert migrate(engine, "wp_") == [
        "recognised an install made before migrations were recorded: stamped at revision 0002",
        *later, "seeded 4 built-in templates"]
    assert migrate(engine, "wp_") == []
