"""The PHP bridge on its own: syntax, coding standard, and that its signer and path rules
agree with the Python side of the protocol (run with the real PHP interpreter)."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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
                                   "bkntc_sms_last_tick", "bkntc_addon_bkntc-sms-bridge_version",
                                   "bkntc_sms_service_version", "bkntc_sms_public_base_url"]
    assert "Options::delete_all()" in (PLUGIN / "uninstall.php").read_text()


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


@pytest.mark.parametrize(("path", "seconds"), [
    ("/ui/campaigns", 10.0),
    ("/api/v1/campaigns/7/logs", 10.0),
    ("/api/v1/campaigns", 10.0),
    ("/api/v1/campaigns/7/logs.csv", 60.0),
    ("/api/v1/campaigns/7/logs.csv?status=failed", 60.0),
    ("/ui/campaigns/7/logs.csv.html", 10.0),
])
def test_relay_waits_long_only_for_the_csv_export(path: str, seconds: float) -> None:
    out = php(f"echo json_encode(\\BkntcSms\\Bridge\\Relay::timeout_for({json.dumps(path)}));")
    assert json.loads(out) == seconds


# -- packaging and translations -----------------------------------------------------------

I18N_SCAN = Path(__file__).resolve().parent / "wordpress" / "i18n-scan.php"
DOMAIN = "bkntc-sms-bridge"
# WordPress's translation functions: the index of the text-domain argument.
GETTEXT = {"__": 1, "_e": 1, "esc_html__": 1, "esc_html_e": 1, "esc_attr__": 1,
           "esc_attr_e": 1, "_x": 2, "_ex": 2, "esc_html_x": 2, "esc_attr_x": 2, "_n": 3,
           "_nx": 4}
# Two plain words in a row ("Send SMS", "is not"): what a sentence for people looks like.
# Identifiers, CSS classes, paths, URLs, format codes and markup are not plain words.
_WORD = r"(?<![\w\-./:@#%$])[A-Za-z][a-z]+(?![\w\-./:@#%(=])"
PROSE = re.compile(_WORD + r" +" + _WORD)


def _scan(files: list[Path]) -> dict[str, Any]:
    result = subprocess.run(["php", str(I18N_SCAN), *map(str, files)], capture_output=True,
                            text=True, check=True, timeout=60)
    return json.loads(result.stdout)


def _text_of(literal: dict[str, Any]) -> str:
    """The text a literal puts in front of people: for inline HTML, what is outside tags
    (a chunk may start or end inside a tag cut by PHP code)."""
    value = literal["value"]
    if literal["kind"] == "html":
        if ">" in value and ("<" not in value or value.index(">") < value.index("<")):
            value = value[value.index(">") + 1:]
        if "<" in value and ">" not in value[value.rindex("<"):]:
            value = value[:value.rindex("<")]
    return re.sub(r"<[^>]*>", " ", value)


def _untranslated(files: list[Path]) -> list[str]:
    scan = _scan(files)
    found = [f"{s['file']}:{s['line']}: {s['value'][:80]!r}" for s in scan["strings"]
             if s["call"] not in GETTEXT and PROSE.search(_text_of(s))]
    for call in scan["calls"]:
        if call["name"] in GETTEXT:
            index = GETTEXT[call["name"]]
            domain = call["args"][index] if len(call["args"]) > index else []
            if domain != [DOMAIN]:
                found.append(f"{call['file']}:{call['line']}: {call['name']}() with text "
                             f"domain {domain!r}")
    return found


def test_every_user_facing_string_is_translatable(tmp_path: Path) -> None:
    shipped = [p for p in PHP_FILES if "bin" not in p.relative_to(PLUGIN).parts]
    assert not _untranslated(shipped)
    # The check itself finds what it is for.
    sample = tmp_path / "sample.php"
    sample.write_text("<?php\necho '<p>' . esc_html( 'Not translated at all' ) . '</p>';\n"
                      "echo __( 'Wrong domain here', 'booknetic' );\n"
                      "echo esc_html__( 'Fine text here', 'bkntc-sms-bridge' ), 'fa fa-sms';\n"
                      "?>\n<p>Inline words too</p><a href=\"x\" title=\"<?php echo 1; ?>\">\n")
    assert [line.split(": ", 1)[1] for line in _untranslated([sample])] == [
        "'Not translated at all'", "'<p>Inline words too</p><a href=\"x\" title=\"'",
        "__() with text domain ['booknetic']"]


def test_translation_template_is_current() -> None:
    result = subprocess.run([sys.executable, str(PLUGIN / "bin" / "make_pot.py"), "--check"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr + " (run ./dev pot)"
    pot = (PLUGIN / "languages" / f"{DOMAIN}.pot").read_text(encoding="utf-8")
    for text in ("SMS Campaigns", "Send SMS", "You do not have access to SMS Campaigns.",
                 "Booknetic SMS Campaigns (bridge)"):
        assert f'msgid "{text}"' in pot
    # A msgid with a non-ASCII character ("Settings → SMS Campaigns") is kept byte for byte:
    # a msgid that lost its arrow would never match at run time, so it would never translate.
    arrows = [line for line in pot.splitlines() if line.startswith("msgid ") and "→" in line]
    sources_with_arrows = sum(
        len(re.findall(r"__\(\s*'[^']*→", path.read_text(encoding="utf-8")))
        for path in PLUGIN.rglob("*.php"))
    assert sources_with_arrows and len(arrows) == sources_with_arrows


def test_plugin_headers_and_readme_agree() -> None:
    main = (PLUGIN / f"{DOMAIN}.php").read_text()
    readme = (PLUGIN / "readme.txt").read_text()

    def header(text: str, name: str) -> str:
        match = re.search(rf"^[ *]*{re.escape(name)}:\s*(.+)$", text, re.MULTILINE)
        assert match, f"no {name!r}"
        return match.group(1).strip()

    version = header(main, "Version")
    assert re.search(rf"const VERSION\s*=\s*'{re.escape(version)}';", main)
    assert header(readme, "Stable tag") == version
    for name in ("Requires at least", "Tested up to", "Requires PHP"):
        assert re.fullmatch(r"\d+\.\d+(\.\d+)?", header(readme, name)), name
    assert header(readme, "Requires at least") == header(main, "Requires at least")
    assert header(readme, "Requires PHP") == header(main, "Requires PHP")
    assert header(main, "Text Domain") == DOMAIN
    assert (PLUGIN / header(main, "Domain Path").strip("/")).is_dir()
    assert "load_plugin_textdomain" in main


def test_panel_view_has_no_inline_script_or_style() -> None:
    view = (PLUGIN / "views" / "panel.php").read_text()
    assert "<script" not in view and "style=" not in view
    assert re.search(r"<iframe[^>]*\stitle=", view)
