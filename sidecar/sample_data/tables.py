"""The WordPress/Booknetic tables of a sample install (Booknetic's own DDL is not public).

See the package docstring for what is deliberate about them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Engine

KINDS = ("single", "saas", "no_tenant_column")

# --------------------------------------------------------------------------- schema

# Both spellings: SQLAlchemy's "mariadb" dialect (mariadb+pymysql:// URLs) ignores mysql_*.
_TABLE_KW = {
    f"{dialect}_{key}": value
    for dialect in ("mysql", "mariadb")
    for key, value in (("engine", "InnoDB"), ("charset", "utf8mb4"),
                       ("collate", "utf8mb4_unicode_520_ci"))
}
_MYSQL = ("mysql", "mariadb")


def _longtext() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(mysql.LONGTEXT(), *_MYSQL)


def _tinyint() -> sa.types.TypeEngine[int]:
    return sa.SmallInteger().with_variant(mysql.TINYINT(), *_MYSQL)


def _bigint_id() -> sa.types.TypeEngine[int]:
    # WordPress ids are BIGINT UNSIGNED; SQLite only auto-increments a plain INTEGER key.
    return sa.BigInteger().with_variant(mysql.BIGINT(unsigned=True), *_MYSQL).with_variant(
        sa.Integer(), "sqlite"
    )


def _money() -> sa.Numeric[Decimal]:
    return sa.Numeric(10, 2)


def _str(length: int = 255) -> sa.String:
    return sa.String(length)


def _index_name(table: str, column: str) -> str:
    name = f"{table}_{column}"  # index names are database-wide in SQLite, so carry the table
    if len(name) > 64:  # MySQL's identifier limit
        name = name[:55] + "_" + hashlib.md5(name.encode()).hexdigest()[:8]
    return name


def _table(
    md: sa.MetaData,
    name: str,
    *columns: sa.Column[Any],
    tenant: bool = False,
    indexed: Sequence[str] = (),
) -> sa.Table:
    cols = list(columns)
    if tenant:
        cols.append(sa.Column("tenant_id", sa.Integer, nullable=True))
    table = sa.Table(name, md, *cols, **_TABLE_KW)
    for column in [*indexed, *(["tenant_id"] if tenant else [])]:
        sa.Index(_index_name(name, column), table.c[column])
    return table


def booknetic_metadata(
    prefix: str = "wp_", *, tenant_column: bool = True, saas: bool = False
) -> sa.MetaData:
    """The WordPress + Booknetic tables the sidecar reads, as SQLAlchemy Core tables."""
    md = sa.MetaData()
    b = f"{prefix}bkntc_"
    mt = tenant_column  # "multi-tenant table": gets tenant_id when the install has the column

    def pk() -> sa.Column[int]:
        return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)

    _table(
        md, f"{prefix}options",
        sa.Column("option_id", _bigint_id(), primary_key=True, autoincrement=True),
        sa.Column("option_name", _str(191), nullable=False, unique=True),
        sa.Column("option_value", _longtext(), nullable=False),
        sa.Column("autoload", _str(20), nullable=False, server_default="yes"),
    )
    _table(
        md, f"{prefix}users",
        sa.Column("ID", _bigint_id(), primary_key=True, autoincrement=True),
        sa.Column("user_login", _str(60), nullable=False, server_default=""),
        sa.Column("user_pass", _str(255), nullable=False, server_default=""),
        sa.Column("user_nicename", _str(50), nullable=False, server_default=""),
        sa.Column("user_email", _str(100), nullable=False, server_default=""),
        sa.Column("user_url", _str(100), nullable=False, server_default=""),
        sa.Column("user_registered", sa.DateTime, nullable=True),
        sa.Column("user_activation_key", _str(255), nullable=False, server_default=""),
        sa.Column("user_status", sa.Integer, nullable=False, server_default="0"),
        sa.Column("display_name", _str(250), nullable=False, server_default=""),
    )
    customer_cols: list[sa.Column[Any]] = [
        pk(),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("first_name", _str()),
        sa.Column("last_name", _str()),
        sa.Column("phone_number", _str(), nullable=True),
        sa.Column("email", _str(), nullable=True),
        sa.Column("birthdate", sa.Date, nullable=True),
        sa.Column("gender", _str(), nullable=True),
        sa.Column("notes", sa.Text, nullable=True),
        sa.Column("created_by", sa.Integer, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=True),
    ]
    if saas:
        customer_cols.append(sa.Column("category_id", sa.Integer, nullable=True))
    _table(md, f"{b}customers", *customer_cols, tenant=mt)
    _table(
        md, f"{b}appointments",
        pk(),
        sa.Column("location_id", sa.Integer),
        sa.Column("service_id", sa.Integer),
        sa.Column("staff_id", sa.Integer),
        sa.Column("customer_id", sa.Integer),
        sa.Column("status", _str(50)),
        sa.Column("starts_at", sa.Integer),
        sa.Column("ends_at", sa.Integer),
        sa.Column("busy_from", sa.Integer),
        sa.Column("busy_to", sa.Integer),
        sa.Column("weight", sa.Integer, nullable=False, server_default="1"),
        sa.Column("payment_id", _str()),
        sa.Column("recurring_id", _str(), nullable=True),
        sa.Column("payment_method", _str()),
        sa.Column("payment_status", _str()),
        sa.Column("paid_amount", _money()),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("locale", _str()),
        sa.Column("client_timezone", _str()),
        sa.Column("created_at", sa.Integer),
        tenant=mt,
        indexed=("customer_id", "service_id", "location_id", "staff_id"),
    )
    # No tenant_id: scoped through the appointment (booknetic.md). Revenue = sum of price *
    # negative_or_positive (DESIGN.md §12).
    _table(
        md, f"{b}appointment_prices",
        pk(),
        sa.Column("appointment_id", sa.Integer),
        sa.Column("unique_key", _str(100)),
        sa.Column("price", _money()),
        sa.Column("negative_or_positive", sa.Integer, nullable=False, server_default="1"),
        indexed=("appointment_id",),
    )
    _table(
        md, f"{b}services",
        pk(),
        sa.Column("name", _str()),
        sa.Column("category_id", sa.Integer),
        sa.Column("price", _money()),
        sa.Column("duration", sa.Integer),
        sa.Column("color", _str(20)),
        sa.Column("is_active", _tinyint()),
        sa.Column("is_visible", _tinyint()),
        tenant=mt,
    )
    _table(
        md, f"{b}locations",
        pk(),
        sa.Column("name", _str()),
        sa.Column("address", sa.Text),
        sa.Column("phone_number", _str()),
        sa.Column("is_active", _tinyint()),
        tenant=mt,
    )
    _table(
        md, f"{b}staff",
        pk(),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("name", _str()),
        sa.Column("email", _str()),
        sa.Column("phone_number", _str()),
        sa.Column("locations", _str()),
        sa.Column("is_active", _tinyint()),
        sa.Column("profession", _str(), nullable=True),
        tenant=mt,
    )
    _table(
        md, f"{b}service_staff",
        pk(),
        sa.Column("service_id", sa.Integer),
        sa.Column("staff_id", sa.Integer),
        sa.Column("price", _money()),
        sa.Column("deposit", _money()),
        sa.Column("deposit_type", _str(20)),
    )
    log_cols: list[sa.Column[Any]] = [
        pk(),
        sa.Column("workflow_id", sa.Integer),
        sa.Column("when", _str()),  # a reserved word: SQLAlchemy quotes it
        sa.Column("driver", _str()),
        sa.Column("date_time", sa.DateTime),
        sa.Column("data", sa.Text),
    ]
    if saas:
        log_cols += [
            sa.Column("event_data", sa.Text, nullable=True),
            sa.Column("status", _str(20), nullable=True),
            sa.Column("error_message", sa.Text, nullable=True),
        ]
    _table(md, f"{b}workflow_logs", *log_cols, tenant=mt)
    if saas:
        _table(
            md, f"{b}tenants",
            pk(),
            sa.Column("user_id", sa.Integer),
            sa.Column("email", _str()),
            sa.Column("full_name", _str()),
            sa.Column("domain", _str()),
            sa.Column("plan_id", sa.Integer),
            sa.Column("expires_in", sa.DateTime),
            sa.Column("inserted_at", sa.DateTime),
            sa.Column("verified_at", sa.DateTime, nullable=True),
            sa.Column("active_subscription", _str(), nullable=True),
            sa.Column("money_balance", _money()),
        )
        _table(
            md, f"{b}plans",
            pk(),
            sa.Column("name", _str()),
            sa.Column("is_active", _tinyint()),
            sa.Column("is_default", _tinyint()),
            sa.Column("expire_plan", _tinyint()),
            sa.Column("permissions", sa.Text),
        )
    return md


def metadata_for(prefix: str, kind: str) -> sa.MetaData:
    if kind not in KINDS:
        raise ValueError(f"unknown dataset kind {kind!r}; expected one of {KINDS}")
    return booknetic_metadata(
        prefix, tenant_column=kind != "no_tenant_column", saas=kind == "saas"
    )


def create_tables(engine: Engine, prefix: str, dataset_kind: str) -> None:
    """Create the WordPress/Booknetic tables of one install variant (existing ones are kept)."""
    metadata_for(prefix, dataset_kind).create_all(engine)
