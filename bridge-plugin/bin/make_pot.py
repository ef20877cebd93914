#!/usr/bin/env python3
"""Regenerate languages/bkntc-sms-bridge.pot from the plugin's PHP with GNU xgettext.

    python3 bridge-plugin/bin/make_pot.py            # write the file
    python3 bridge-plugin/bin/make_pot.py --check    # exit 1 if the committed file is stale
    ./dev pot                                        # the same as the first

xgettext reads every __()/_e()/esc_html__()/… call with WordPress's argument layout
(context and plural forms included) and the `translators:` comments. The plugin header's
Name and Description are added too: WordPress translates them with the plugin's text
domain on the Plugins screen. The header is fixed (no creation date), so the file only
changes when a string does, and a test can compare it with a fresh one.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

PLUGIN = Path(__file__).resolve().parent.parent
DOMAIN = "bkntc-sms-bridge"
POT = PLUGIN / "languages" / f"{DOMAIN}.pot"
MAIN = PLUGIN / f"{DOMAIN}.php"

# WordPress's gettext functions: name, then xgettext's argument spec.
KEYWORDS = [
    "__", "_e", "esc_html__", "esc_html_e", "esc_attr__", "esc_attr_e",
    "_x:1,2c", "_ex:1,2c", "esc_html_x:1,2c", "esc_attr_x:1,2c",
    "_n:1,2", "_nx:1,2,4c", "_n_noop:1,2", "_nx_noop:1,2,3c",
]
HEADERS = ("Plugin Name", "Description")


def sources() -> list[Path]:
    """The PHP files that ship, in a stable order."""
    return sorted(p for p in PLUGIN.rglob("*.php") if "bin" not in p.relative_to(PLUGIN).parts)


def header_value(text: str, name: str) -> str:
    match = re.search(rf"^[ \t/*#@]*{re.escape(name)}:(.*)$", text, re.MULTILINE)
    if not match:
        raise SystemExit(f"{MAIN.name} has no {name!r} header")
    return match.group(1).strip()


def po_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build() -> str:
    """The .pot text."""
    main = MAIN.read_text(encoding="utf-8")
    version = header_value(main, "Version")
    extracted = subprocess.run(
        # Not --omit-header: without its header (charset=UTF-8) xgettext writes every
        # non-ASCII character of a msgid ("Settings → SMS Campaigns") as nothing, so the
        # msgid would never match at run time. Its own header is dropped below instead.
        ["xgettext", "--language=PHP", "--from-code=UTF-8", "--output=-",
         "--add-comments=translators:", "--sort-by-file", "--no-wrap", "--add-location=file",
         *[f"--keyword={k}" for k in KEYWORDS],
         *[str(p.relative_to(PLUGIN)) for p in sources()]],
        cwd=PLUGIN, capture_output=True, text=True, check=True,
    ).stdout
    extracted = extracted.split("\n\n", 1)[1]  # everything after xgettext's header entry
    header = "\n".join([
        f"# Translation template of Booknetic SMS Campaigns (bridge) {version}.",
        "# This file is distributed under the same license as the plugin (GPL-2.0-or-later).",
        "# Regenerate it with ./dev pot (bridge-plugin/bin/make_pot.py).",
        'msgid ""',
        'msgstr ""',
        f'"Project-Id-Version: Booknetic SMS Campaigns (bridge) {version}\\n"',
        '"PO-Revision-Date: YEAR-MO-DA HO:MI+ZONE\\n"',
        '"Last-Translator: FULL NAME <EMAIL@ADDRESS>\\n"',
        '"Language-Team: LANGUAGE <LL@li.org>\\n"',
        '"Language: \\n"',
        '"MIME-Version: 1.0\\n"',
        '"Content-Type: text/plain; charset=UTF-8\\n"',
        '"Content-Transfer-Encoding: 8bit\\n"',
        f'"X-Domain: {DOMAIN}\\n"',
        "",
    ])
    plugin_headers = "".join(
        f"#. {name} of the plugin\n#: {MAIN.name}\nmsgid {po_string(header_value(main, name))}\n"
        'msgstr ""\n\n'
        for name in HEADERS
    )
    return header + "\n" + plugin_headers + extracted


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the .pot is stale")
    args = parser.parse_args()
    text = build()
    if args.check:
        current = POT.read_text(encoding="utf-8") if POT.exists() else ""
        if current != text:
            print(f"{POT} is stale: run ./dev pot", file=sys.stderr)
            return 1
        return 0
    POT.parent.mkdir(exist_ok=True)
    POT.write_text(text, encoding="utf-8")
    print(f"wrote {POT.relative_to(PLUGIN.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
