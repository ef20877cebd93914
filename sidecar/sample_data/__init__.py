"""A Booknetic-shaped WordPress database, written by us (Booknetic's schema is not public).

The demo seeds SQLite with it, the tests load it into MariaDB and SQLite, and benchmarks
use the same tables at a larger size. `tables` holds the DDL, `dataset` builds the
deterministic rows (every segment boundary of `scenarios`, bad and duplicate phones from
`phone_pool`, several tenants, `wp_options`), `loading` writes them. `throwaway_mariadb`
starts a private MariaDB server for the tests and the benchmarks.
"""

from .dataset import SAAS_TENANT_IDS, Dataset, make_dataset
from .loading import build_booknetic, delete_option, load_dataset, set_option
from .tables import KINDS, booknetic_metadata, create_tables, metadata_for
from .wp_options import (
    CORE_PLUGIN,
    SAAS_PLUGIN,
    TWILIO_MODES,
    TWILIO_PLUGIN,
    TWILIO_SENDER,
    phone_country_options,
    php_serialize_list,
)

__all__ = [
    "CORE_PLUGIN", "KINDS", "SAAS_PLUGIN", "SAAS_TENANT_IDS", "TWILIO_MODES", "TWILIO_PLUGIN",
    "TWILIO_SENDER", "Dataset", "booknetic_metadata", "build_booknetic", "create_tables",
    "delete_option", "load_dataset", "make_dataset", "metadata_for", "phone_country_options",
    "php_serialize_list", "set_option",
]
