"""A Booknetic-shaped WordPress database, written by us (Booknetic's schema is not public).

The demo seeds SQLite with it, the tests load it into MariaDB and SQLite, and benchmarks
use the same tables at a larger size. `tables` holds the DDL, `dataset` the deterministic
rows (every segment boundary, bad and duplicate phones, several tenants…).
"""

from .dataset import (
    CORE_PLUGIN,
    SAAS_PLUGIN,
    SAAS_TENANT_IDS,
    TWILIO_MODES,
    TWILIO_PLUGIN,
    TWILIO_SENDER,
    Dataset,
    build_booknetic,
    delete_option,
    load_dataset,
    make_dataset,
    php_serialize_list,
    set_option,
)
from .tables import KINDS, booknetic_metadata, create_tables, metadata_for

__all__ = [
    "CORE_PLUGIN", "KINDS", "SAAS_PLUGIN", "SAAS_TENANT_IDS", "TWILIO_MODES", "TWILIO_PLUGIN",
    "TWILIO_SENDER", "Dataset", "booknetic_metadata", "build_booknetic", "create_tables",
    "delete_option", "load_dataset", "make_dataset", "metadata_for", "php_serialize_list",
    "set_option",
]
