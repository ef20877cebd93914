"""The fixtures the JSON API modules share (test_api_*.py, test_bridge_endpoints.py,
test_outcomes.py, test_pages_filters.py), as a pytest plugin registered in tests/conftest.py:
one web app per module (tests/api_support.py's api_web) and its signed client. A module that
needs another app defines its own `web` (the security modules do), and it wins over this."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api_support import api_web
from tests.conftest import MariaDBServer
from tests.web_support import SignedClient, Web


@pytest.fixture(scope="module")
def web(mariadb: MariaDBServer) -> Iterator[Web]:
    yield from api_web(mariadb)


@pytest.fixture
def api(web: Web) -> SignedClient:
    return web.client
