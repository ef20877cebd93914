"""The PHP bridge on its own: syntax, coding standard, and that its signer and path rules
agree with the Python side of the protocol (run with the real PHP interpreter)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from sidecar.db import make_engine
from sidecar.schema import migrate, sms_tables
from sidecar.web.auth import AuthError, NonceStore, verify
from sidecar.web.relay import sidecar_path

PLUGIN = Path(__file__).resolve().parent.parent / "bridge-plugin"
PHP_FILES = sorted(PLUGIN.rglob("*.php"))

# Just enough of WordPress for the plugin's pure classes to run under the PHP CLI.
WP_STUBS = r"""<?php
define('ABSPATH', '/');
function wp_json_encode($data) { return json_encode($data); }
function untrailingslashit($s) { return rtrim($s, '/\\'); }
require 'src/class-signer.php';
require 'src/class-relay.php';
"""


def php(code: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".php", delete=False) as script:
        script.write(WP_STUBS + code + "\n")
    try:
        result = subprocess.run(["php", script.name], cwd=PLUGIN, capture_output=True,
                                text=True, timeout=30)
    finally:
        os.unlink(script.name)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


@pytest.mark.parametrize("path", PHP_FILES, ids=lambda p: str(p.relative_to(PLUGIN)))
def test_php_syntax(path: Path) -> None:
    result = subprocess.run(["php", "-l", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_php_coding_standard() -> None:
    result = subprocess.run(["phpcs", "--standard=" + str(PLUGIN / "phpcs.xml.dist"),
                             "--no-colors", "--report=full", str(PLUGIN)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_uninstall_deletes_exactly_the_listed_options() -> None:
    options = php("require 'src/class-options.php'; "
                  "echo json_encode(\\BkntcSms\\Bridge\\Options::ALL);")
    assert json.loads(options) == ["bkntc_sms_bridge_secret", "bkntc_sms_sidecar_url",
                                   "bkntc_sms_last_tick"]
    assert "Options::ALL" in (PLUGIN / "uninstall.php").read_text()


def test_php_signature_verifies_in_python(tmp_path: Path) -> None:
    """The PHP signer and the Python verifier implement the same protocol."""
    secret = "s" * 64
    body = '{"name":"Spring ☀","segment":"repeat"}'
    path = "/api/v1/campaigns?status=draft&q=a%20b"
    out = php(
        "$h = \\BkntcSms\\Bridge\\Signer::headers('" + secret + "', 'post', '" + path + "', "
        + "base64_decode('" + base64.b64encode(body.encode()).decode() + "'), "
        "array('user_id' => 7, 'user_login' => 'owner', "
        "'display_name' => 'Zoë Owner', 'tenant_id' => 3, "
        "'caps' => array('sms_campaigns', 'sms_campaigns_create'))); echo json_encode($h);")
    headers = json.loads(out)
    # PHP dated it with its time(); verify "then", not after however long this run took.
    encoded = headers["X-Bkntc-Identity"]
    now = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))["ts"]
    assert abs(now - time.time()) < 3600, now  # PHP's clock, in seconds
    engine = make_engine(f"sqlite:///{tmp_path / 'n.sqlite3'}")
    migrate(engine, "wp_")
    nonces = NonceStore(engine, sms_tables("wp_"))
    identity = verify(headers, "POST", path, body.encode(), secret=secret, nonces=nonces,
                      now=now)
    assert (identity.user_id, identity.display_name, identity.tenant_id) == (7, "Zoë Owner", 3)
    assert identity.caps == {"sms_campaigns", "sms_campaigns_create"}
    with pytest.raises(AuthError, match="replayed"):
        verify(headers, "POST", path, body.encode(), secret=secret, nonces=nonces, now=now)
    with pytest.raises(AuthError, match="bad signature"):
        verify(headers, "POST", path, b"{}", secret=secret, nonces=nonces, now=now)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"action": "bkntc_sms", "p": "/ui/campaigns"}, "/ui/campaigns"),
        ({"action": "bkntc_sms", "p": "/ui/campaigns?status=draft"}, "/ui/campaigns?status=draft"),
        ({"action": "bkntc_sms", "p": "/ui/suppressions", "q": "a b&c"},
         "/ui/suppressions?q=a%20b%26c"),
        ({"action": "bkntc_sms", "p": "/api/v1/customers?q=J%C3%B6rg&page=2"},
         "/api/v1/customers?q=J%C3%B6rg&page=2"),
        ({"action": "bkntc_sms", "p": "https://evil.example/x"}, None),
        ({"action": "bkntc_sms", "p": "//evil.example/x"}, None),
        ({"action": "bkntc_sms", "p": "/ui/../etc/passwd"}, None),
        ({"action": "bkntc_sms"}, None),
    ],
)
def test_php_and_python_relays_build_the_same_path(args: dict[str, str],
                                                   expected: str | None) -> None:
    out = php("var_export(\\BkntcSms\\Bridge\\Relay::service_path("
              + "json_decode(" + json.dumps(json.dumps(args)) + ", true)));")
    got = None if out == "NULL" else out.strip("'")
    assert got == expected
    from werkzeug.datastructures import MultiDict

    python = sidecar_path(MultiDict(args))
    if expected is None:
        assert python is None
    else:  # Python's relay encodes spaces as '+', which the service decodes the same way
        assert python is not None and python.replace("+", "%20") == expected
