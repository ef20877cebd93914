"""Release artefacts and the one version of both parts (`./dev package`, `./dev version`).

The version lives in `sidecar/__init__.py` (`__version__`). pyproject.toml reads it
(setuptools' dynamic version), `/healthz` reports it, and the bridge plugin carries copies
that WordPress needs as literal text: the `Version:` header and `const VERSION` of
bkntc-sms-bridge.php and the `Stable tag:` of readme.txt. `set_version()` writes all of them;
`versions()` reads them back, and tests/test_release.py and `package` refuse any mismatch.

`package` builds, in dist/:
- bkntc-sms-bridge-<version>.zip — the plugin folder `bkntc-sms-bridge/` as WordPress's
  Plugins → Add New → Upload Plugin expects it, with only the files the plugin runs or
  documents (PLUGIN_FILES: no tests, no phpcs ruleset, no bin/ tools);
- bkntc_sms-<version>-py3-none-any.whl and bkntc_sms-<version>.tar.gz — the service
  (`pip install` either), with the migrations inside the package.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_DIR = ROOT / "bridge-plugin"
PLUGIN_SLUG = "bkntc-sms-bridge"
VERSION_FILE = ROOT / "sidecar" / "__init__.py"
# What goes into the plugin zip (globs relative to bridge-plugin/); everything else stays out.
PLUGIN_FILES = ("bkntc-sms-bridge.php", "uninstall.php", "readme.txt", "src/*.php",
                "views/*.php", "assets/*.css", "assets/*.js", "languages/*.pot",
                "languages/*.po", "languages/*.mo")
# A fixed time for every zip entry, so the same sources give the same zip.
ZIP_DATE = (2026, 1, 1, 0, 0, 0)

_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+$")
_PATTERNS = {
    "sidecar/__init__.py": (VERSION_FILE, re.compile(r'^__version__ = "([^"]+)"$', re.M)),
    "plugin header": (PLUGIN_DIR / f"{PLUGIN_SLUG}.php",
                      re.compile(r"^ \* Version:\s+(\S+)$", re.M)),
    "plugin VERSION": (PLUGIN_DIR / f"{PLUGIN_SLUG}.php",
                       re.compile(r"^const VERSION\s+= '([^']+)';$", re.M)),
    "readme.txt Stable tag": (PLUGIN_DIR / "readme.txt",
                              re.compile(r"^Stable tag: (\S+)$", re.M)),
}


class ReleaseError(Exception):
    """Something stops a release; the message says what to fix."""


def _relocated(path: Path, plugin_dir: Path) -> Path:
    return plugin_dir / path.relative_to(PLUGIN_DIR) if path.is_relative_to(PLUGIN_DIR) \
        else path


def versions(plugin_dir: Path = PLUGIN_DIR) -> dict[str, str]:
    """Every place the version is written, and what it says there."""
    found = {}
    for name, (path, pattern) in _PATTERNS.items():
        match = pattern.search(_relocated(path, plugin_dir).read_text(encoding="utf-8"))
        if match is None:
            raise ReleaseError(f"no version found for {name} in {path}")
        found[name] = match.group(1)
    return found


def version() -> str:
    """The one version, after checking that every copy agrees with it."""
    found = versions()
    if len(set(found.values())) != 1:
        raise ReleaseError("the versions disagree: "
                           + ", ".join(f"{k} {v}" for k, v in found.items())
                           + " — run ./dev version X.Y.Z")
    return found["sidecar/__init__.py"]


def set_version(new: str, *, plugin_dir: Path = PLUGIN_DIR, sidecar: bool = True) -> None:
    """Write `new` everywhere (`plugin_dir` and `sidecar=False` stamp a copy of the plugin
    only, as the tests do to stand in for another release)."""
    if not _VERSION_RE.match(new):
        raise ReleaseError(f"a version is MAJOR.MINOR.PATCH, not {new!r}")
    for name, (path, pattern) in _PATTERNS.items():
        if name == "sidecar/__init__.py" and not sidecar:
            continue
        target = _relocated(path, plugin_dir)
        content = target.read_text(encoding="utf-8")
        match = pattern.search(content)
        if match is None:
            raise ReleaseError(f"no version found for {name} in {target}")
        start, end = match.span(1)
        target.write_text(content[:start] + new + content[end:], encoding="utf-8")


def plugin_members(plugin_dir: Path = PLUGIN_DIR) -> list[str]:
    """The plugin's files that ship, relative to its folder, sorted."""
    chosen = {p for pattern in PLUGIN_FILES for p in plugin_dir.glob(pattern) if p.is_file()}
    return sorted(str(p.relative_to(plugin_dir)) for p in chosen)


def build_plugin_zip(out_dir: Path, *, plugin_dir: Path = PLUGIN_DIR,
                     check_versions: bool = True) -> Path:
    """dist/bkntc-sms-bridge-<version>.zip with the folder `bkntc-sms-bridge/` inside.
    `check_versions=False` zips a plugin stamped with another version than the service's
    (the tests' stand-in for an older or newer release)."""
    found = versions(plugin_dir)
    plugin_side = {k: v for k, v in found.items() if k != "sidecar/__init__.py"}
    if len(set(plugin_side.values())) != 1:
        raise ReleaseError(f"{plugin_dir}: the plugin's versions disagree: {plugin_side}")
    plugin_version = found["plugin header"]
    if check_versions and plugin_version != found["sidecar/__init__.py"]:
        raise ReleaseError(f"the plugin is {plugin_version} but the service "
                           f"{found['sidecar/__init__.py']}: run ./dev version X.Y.Z")
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{PLUGIN_SLUG}-{plugin_version}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in plugin_members(plugin_dir):
            info = zipfile.ZipInfo(f"{PLUGIN_SLUG}/{name}", ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (plugin_dir / name).read_bytes())
    return target


def build_python(out_dir: Path) -> list[Path]:
    """The service's wheel and sdist (python -m build, in an isolated environment)."""
    before = set(out_dir.glob("*")) if out_dir.exists() else set()
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir",
                    str(out_dir), str(ROOT)], check=True, cwd=ROOT)
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    return sorted(set(out_dir.glob("*")) - before)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("package", help="build the plugin zip, the wheel and the sdist")
    p.add_argument("--out", type=Path, default=ROOT / "dist")
    p = sub.add_parser("version", help="show the version, or set it everywhere")
    p.add_argument("new", nargs="?")
    args = parser.parse_args(argv)
    try:
        if args.command == "version":
            if args.new:
                set_version(args.new)
            print(version())
            return 0
        zipped = build_plugin_zip(args.out)
        built = build_python(args.out)
    except (ReleaseError, subprocess.CalledProcessError) as exc:
        print(f"./dev: {exc}", file=sys.stderr)
        return 1
    for path in [zipped, *built]:
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
