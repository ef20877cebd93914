"""Schema migrations of the sidecar's own tables, with Alembic, run by the sidecar itself.

Where a database stands is the row of `{prefix}bkntc_sms_alembic_version` (one revision id).
`migrate()` runs at start (serve, worker, every CLI command that builds a runtime) and by
`bkntc-sms migrate`, always under `db.migration_lock` (GET_LOCK on MariaDB/MySQL, an flock
beside the SQLite file), so processes starting together migrate once:

- no tables of ours: every revision runs from the baseline (0001 = the 0.1.0 schema);
- our tables but no version table: an install made by 0.1.0 (or a development build that
  recorded `schema_version` 2 in the meta table). It is *stamped* at the revision its tables
  match, then upgraded like any other;
- a revision this code does not know: the database was migrated by a newer version. Nothing
  starts (`SchemaTooNew` names both revisions).

The revisions live in `versions/`, one file per schema change, applied in order:

  0001  baseline: the tables of 0.1.0 (frozen copy in schema_0_1_0.py)
  0002  phones keyed by (tenant, region, customer)
  0003  delivery status per recipient
  0004  suppression sources manual, keyword, provider; opt-outs per day
  0005  tenant settings
  0006  quiet hours, scheduled send, frequency cap
  0007  outcomes: attribution and holdout
  0008  campaign leases, processes and a shared rate limit (DESIGN.md §13)

How a later change adds one (issue 14 onwards):

1. Change `sidecar/schema.py` (the head, still the one source of truth for the code) and
   regenerate `sql/schema.sql` (`bkntc-sms migrate --print-sql > sql/schema.sql`).
2. `./dev revision "delivery status per recipient"` writes `versions/NNNN_<slug>.py` with
   the next number and `down_revision` set to the current head. Fill in `upgrade()` and
   `downgrade()` with `op.*` calls:
   - table names through `prefixed("recipients")` (the prefix is runtime configuration:
     never write `wp_`);
   - new tables with `op.create_table(prefixed(...), ..., **TABLE_ARGS)`, columns and types
     written out in the revision (frozen: never import `sidecar.schema` in a revision);
   - any change to an existing table inside `with op.batch_alter_table(prefixed(...)) as
     batch:` (SQLite cannot ALTER most things; batch mode rebuilds the table there and is a
     plain ALTER on MariaDB);
   - data changes set-based (`op.execute(sa.update(...))`), never a Python loop over rows;
   - `downgrade()` undoes exactly this revision (`bkntc-sms migrate --down` runs it).
3. Extend `tests/test_upgrade.py`: add rows your revision must carry over to
   `tests/upgrade_support.py`'s 0.1.0 data (or to the checks after the upgrade), and run
   `tests/test_upgrade.py tests/test_schema.py`. They prove on MariaDB and SQLite that
   migrating 0.1.0 data keeps every row, that the result equals `sql/schema.sql` (and the
   head in schema.py, column by column), that the newest revision goes down and up again,
   and that there is exactly one head.
4. Two branches that both added "0003": the one merged second renumbers its file and
   `revision`, and sets `down_revision` to the other's (the single-head test fails until
   then).
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command, op
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, Table, inspect, select

from .. import __version__
from ..db import DatabaseUnavailable, insert_ignore, migration_lock
from ..errors import Conflict

HERE = Path(__file__).resolve().parent
BASELINE = "0001"
# What a development build before Alembic recorded as `schema_version` in the meta table,
# and the revision its tables match.
LEGACY_SCHEMA_VERSIONS = {"1": "0001", "2": "0002"}


class MigrationError(Conflict):
    """A migration request that cannot be carried out (message says why and what to do)."""


class SchemaTooNew(DatabaseUnavailable):
    """The database was migrated by a newer version of the sidecar than this code."""


@dataclass(frozen=True)
class Revision:
    id: str
    description: str

    def to_dict(self) -> dict[str, str]:
        return {"revision": self.id, "description": self.description}


@dataclass(frozen=True)
class MigrationStatus:
    """Where a database stands and what `migrate` would do to it.

    state: "empty" (no tables of ours), "0.1.0" (tables of a pre-Alembic install, no version
    table; `current` is the revision they match), "behind", "current" or "newer".
    """

    state: str
    current: str | None
    head: str
    pending: list[Revision] = field(default_factory=list)
    code_version: str = __version__

    @property
    def up_to_date(self) -> bool:
        return self.state == "current"

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "current": self.current, "head": self.head,
                "up_to_date": self.up_to_date, "code_version": self.code_version,
                "pending": [r.to_dict() for r in self.pending]}

    def lines(self) -> list[str]:
        """The status in words, one line each (`bkntc-sms migrate --status`)."""
        described = {r.id: r.description for r in revisions()}
        here = (f"{self.current} ({described[self.current]})"
                if self.current in described else str(self.current))
        lines = {
            "empty": "database: none of the sidecar's tables yet",
            "0.1.0": f"database: made by 0.1.0, before migrations were recorded; its tables "
                     f"match revision {here} (migrate stamps it there first)",
            "behind": f"database: at revision {here}",
            "current": f"database: at revision {here}",
            "newer": f"database: at revision {self.current}, which this code does not know "
                     "(migrated by a newer version)",
        }[self.state]
        out = [lines, f"this code: bkntc-sms {self.code_version}, head revision {self.head}"]
        if self.state == "newer":
            out.append(too_new_message(str(self.current), self.head))
        elif not self.pending:
            out.append("nothing to apply: the schema is up to date")
        else:
            out.append(f"would apply {len(self.pending)}:")
            out += [f"  {r.id}  {r.description}" for r in self.pending]
        return out


def too_new_message(current: str, head: str) -> str:
    return (f"The database's schema is at revision {current}, but this code (bkntc-sms "
            f"{__version__}) knows revisions up to {head} only: the database was migrated by "
            "a newer version. Run that newer version, or roll the database back with the "
            f"newer version's `bkntc-sms migrate --to {head}` before starting this one.")


def table_prefix() -> str:
    """WordPress's table prefix of the database being migrated (for revisions)."""
    config = op.get_context().config
    if config is None or "table_prefix" not in config.attributes:
        raise RuntimeError("table_prefix() is only available while migrations run")
    return str(config.attributes["table_prefix"])


def prefixed(name: str) -> str:
    """The full name of one of our tables, e.g. prefixed("recipients") →
    "wp_bkntc_sms_recipients" — for revisions, which must never hard-code the prefix."""
    return f"{table_prefix()}bkntc_sms_{name}"


def version_table_name(prefix: str) -> str:
    return f"{prefix}bkntc_sms_alembic_version"


def _config(prefix: str, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["table_prefix"] = prefix
    config.attributes["version_table"] = version_table_name(prefix)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def _script() -> ScriptDirectory:
    """The revisions shipped with this code (read once per process: they cannot change)."""
    return ScriptDirectory.from_config(_config("wp_"))


def revisions() -> list[Revision]:
    """Every revision, oldest first."""
    return list(_revisions())


@functools.cache
def _revisions() -> tuple[Revision, ...]:
    found = [Revision(str(s.revision), (s.doc or "").strip().splitlines()[0] if s.doc else "")
             for s in _script().walk_revisions("base", "heads")]
    return tuple(reversed(found))


def head() -> str:
    heads = _script().get_heads()
    if len(heads) != 1:
        raise MigrationError(f"the migrations have {len(heads)} heads ({', '.join(heads)}): "
                             "give one of them the other as down_revision")
    return str(heads[0])


def _between(after: str | None, upto: str) -> list[Revision]:
    """Revisions after `after` up to and including `upto`, oldest first."""
    ids = [r.id for r in revisions()]
    start = ids.index(after) + 1 if after is not None else 0
    stop = ids.index(upto) + 1
    return revisions()[start:stop]


def _status(conn: Connection, prefix: str) -> MigrationStatus:
    top = head()
    known = {r.id for r in revisions()}
    names = set(inspect(conn).get_table_names())
    if version_table_name(prefix) in names:
        current = MigrationContext.configure(
            conn, opts={"version_table": version_table_name(prefix)}).get_current_revision()
    else:
        current = None
    if current is None:
        ours = {n for n in names if n.startswith(f"{prefix}bkntc_sms_")}
        if not ours:
            return MigrationStatus("empty", None, top, _between(None, top))
        legacy = _legacy_revision(conn, prefix, names)
        return MigrationStatus("0.1.0", legacy, top, _between(legacy, top))
    if current not in known:
        return MigrationStatus("newer", current, top)
    pending = _between(current, top)
    return MigrationStatus("behind" if pending else "current", current, top, pending)


def _legacy_revision(conn: Connection, prefix: str, names: set[str]) -> str:
    """The revision the tables of a pre-Alembic install match: 0.1.0 recorded
    `schema_version` 1 in the meta table, a development build after it 2."""
    meta_name = f"{prefix}bkntc_sms_meta"
    if meta_name not in names:
        return BASELINE
    meta = Table(meta_name, MetaData(), autoload_with=conn)
    recorded = conn.execute(select(meta.c.value).where(meta.c.name == "schema_version")).scalar()
    return LEGACY_SCHEMA_VERSIONS.get(str(recorded), BASELINE)


def status(engine: Engine, prefix: str) -> MigrationStatus:
    """Where the database stands (reads only; takes no lock)."""
    with engine.connect() as conn:
        return _status(conn, prefix)


def check_not_newer(engine: Engine, prefix: str) -> None:
    """Raise SchemaTooNew when a newer version migrated this database (for processes that
    start without migrating)."""
    found = status(engine, prefix)
    if found.state == "newer":
        raise SchemaTooNew(too_new_message(str(found.current), found.head))


@contextlib.contextmanager
def _migrating(engine: Engine, prefix: str) -> Iterator[tuple[Connection, MigrationStatus,
                                                              list[str]]]:
    """Lock, open one transaction, stamp a pre-Alembic install, and hand over the status."""
    with migration_lock(engine, f"{prefix}bkntc_sms_migrate"), engine.begin() as conn:
        found = _status(conn, prefix)
        if found.state == "newer":
            raise SchemaTooNew(too_new_message(str(found.current), found.head))
        done: list[str] = []
        _create_version_table(conn, prefix)
        if found.state == "0.1.0":
            assert found.current is not None
            if found.current == BASELINE:
                _complete_baseline(conn, prefix)
            command.stamp(_config(prefix, conn), found.current)
            done.append(f"recognised an install made before migrations were recorded: "
                        f"stamped at revision {found.current}")
        yield conn, found, done


def migrate(engine: Engine, prefix: str, *, to: str = "head") -> list[str]:
    """Bring the database to revision `to` (default the head), up or down, then seed the
    built-in templates when at the head. Returns what was done (empty when nothing was).

    Safe to race: every step runs under the migration lock, and a second process finds the
    work done. Raises SchemaTooNew for a database a newer version migrated, MigrationError
    for an unknown target.
    """
    from ..schema import BUILTIN_TEMPLATES, sms_tables

    ids = [r.id for r in revisions()]
    target = head() if to == "head" else to
    if target not in ids:
        raise MigrationError(f"unknown revision {to!r}; the revisions are {', '.join(ids)}")
    with _migrating(engine, prefix) as (conn, found, done):
        at = found.current
        if at != target:
            config = _config(prefix, conn)
            if at is not None and ids.index(target) < ids.index(at):
                gone = _between(target, at)
                command.downgrade(config, target)
                done += [f"reverted {r.id}: {r.description}" for r in reversed(gone)]
            else:
                coming = _between(at, target)
                command.upgrade(config, target)
                done += [f"applied {r.id}: {r.description}" for r in coming]
        if target == ids[-1]:
            now = int(time.time())
            seeded = insert_ignore(conn, sms_tables(prefix).templates, [
                {"tenant_id": 0, "builtin_key": key, "name": name, "body": body,
                 "created_at": now, "updated_at": now}
                for key, name, body in BUILTIN_TEMPLATES])
            if seeded:
                done.append(f"seeded {seeded} built-in templates")
    return done


def down_one(engine: Engine, prefix: str) -> list[str]:
    """Revert the newest applied revision (`bkntc-sms migrate --down`)."""
    found = status(engine, prefix)
    if found.state == "newer":
        raise SchemaTooNew(too_new_message(str(found.current), found.head))
    if found.current is None:
        raise MigrationError("the database has none of the sidecar's tables: nothing to revert")
    ids = [r.id for r in revisions()]
    position = ids.index(found.current)
    if position == 0:
        raise MigrationError(f"the database is at the baseline {found.current} (the schema of "
                             "0.1.0): there is no older revision to go back to")
    return migrate(engine, prefix, to=ids[position - 1])


def _create_version_table(conn: Connection, prefix: str) -> None:
    """Our own definition of Alembic's version table (InnoDB, utf8mb4 like the others, as in
    sql/schema.sql); Alembic finds it there and uses it."""
    from ..schema import sms_tables

    sms_tables(prefix).metadata.tables[version_table_name(prefix)].create(conn, checkfirst=True)


def _complete_baseline(conn: Connection, prefix: str) -> None:
    """A 0.1.0 install whose `migrate` never ran to the end may lack a table: create the
    missing ones as 0.1.0 would have, so the baseline stamp tells the truth."""
    from .schema_0_1_0 import tables_0_1_0

    tables_0_1_0(prefix).create_all(conn, checkfirst=True)


def new_revision(message: str) -> Path:
    """Write versions/NNNN_<slug>.py after the head (`./dev revision MESSAGE`)."""
    top = head()
    number = f"{int(top) + 1:04d}"
    config = _config("wp_")
    script = command.revision(config, message=message, rev_id=number, head=top)
    assert script is not None and not isinstance(script, list)
    return Path(script.path)
