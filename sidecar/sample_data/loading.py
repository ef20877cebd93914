"""Writing a data set into a database, and editing WordPress options as update_option()
and delete_option() would."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .dataset import Dataset, Row, make_dataset
from .tables import booknetic_metadata, create_tables, metadata_for

_CHUNK = 2000


def load_dataset(engine: Engine, prefix: str, ds: Dataset) -> None:
    """Insert every row of `ds` (executemany in chunks) into tables made by `create_tables`."""
    md = metadata_for(prefix, ds.kind)
    b = f"{prefix}bkntc_"
    options = [{"option_id": i, "option_name": k, "option_value": v, "autoload": "yes"}
               for i, (k, v) in enumerate(ds.options.items(), start=1)]
    batches: list[tuple[str, list[Row]]] = [
        (f"{prefix}options", options),
        (f"{prefix}users", ds.users),
        (f"{b}services", ds.services),
        (f"{b}locations", ds.locations),
        (f"{b}staff", ds.staff),
        (f"{b}service_staff", ds.service_staff),
        (f"{b}customers", ds.customers),
        (f"{b}appointments", ds.appointments),
        (f"{b}workflow_logs", ds.workflow_logs),
    ]
    if ds.kind == "saas":
        batches += [(f"{b}tenants", ds.tenants), (f"{b}plans", ds.plans)]
    with engine.begin() as conn:
        for name, rows in batches:
            table = md.tables[name]
            for start in range(0, len(rows), _CHUNK):
                conn.execute(table.insert(), rows[start:start + _CHUNK])


def build_booknetic(
    engine: Engine, prefix: str, kind: str, now: int, **kwargs: Any
) -> Dataset:
    """create_tables + make_dataset + load_dataset, returning the data set."""
    ds = make_dataset(kind, now, **kwargs)
    create_tables(engine, prefix, kind)
    load_dataset(engine, prefix, ds)
    return ds


def _options_table(prefix: str) -> sa.Table:
    return booknetic_metadata(prefix, tenant_column=False).tables[f"{prefix}options"]


def set_option(engine: Engine, prefix: str, name: str, value: str) -> None:
    """Insert or update one wp_options row (as update_option() would)."""
    table = _options_table(prefix)
    with engine.begin() as conn:
        updated = conn.execute(
            table.update().where(table.c.option_name == name).values(option_value=value)
        )
        if updated.rowcount == 0:
            conn.execute(table.insert().values(option_name=name, option_value=value,
                                               autoload="yes"))


def delete_option(engine: Engine, prefix: str, name: str) -> None:
    """Delete one wp_options row if it exists."""
    table = _options_table(prefix)
    with engine.begin() as conn:
        conn.execute(table.delete().where(table.c.option_name == name))
