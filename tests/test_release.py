"""Release artefacts and the one version (tools/release.py, ./dev package)."""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import sidecar
from tools.release import PLUGIN_DIR, PLUGIN_SLUG, ReleaseError, set_version, versions

ROOT = Path(__file__).resolve().parent.parent


def test_one_version_everywhere() -> None:
    found = versions()
    assert set(found.values()) == {sidecar.__version__}, found
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert 'version = { attr = "sidecar.__version__" }' in pyproject
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{sidecar.__version__}]" in changelog
    readme = (PLUGIN_DIR / "readme.txt").read_text()
    assert f"= {sidecar.__version__} =" in readme  # its changelog names the release too


def test_set_version_writes_every_copy(tmp_path: Path) -> None:
    copy = tmp_path / "plugin"
    copy.mkdir()
    for name in (f"{PLUGIN_SLUG}.php", "readme.txt"):
        (copy / name).write_text((PLUGIN_DIR / name).read_text())
    set_version("7.8.9", plugin_dir=copy, sidecar=False)
    found = versions(copy)
    assert {k: v for k, v in found.items() if k != "sidecar/__init__.py"} == {
        "plugin header": "7.8.9", "plugin VERSION": "7.8.9", "readme.txt Stable tag": "7.8.9"}
    with pytest.raises(ReleaseError, match=r"MAJOR\.MINOR\.PATCH"):
        set_version("0.3", plugin_dir=copy, sidecar=False)


@pytest.mark.slow
def test_package_builds_the_zip_the_wheel_and_the_sdist(tmp_path: Path) -> None:
    """What ./dev package makes: the plugin folder as WordPress expects it (nothing of the
    tests or the developer tools), and the service with its migrations and templates."""
    out = tmp_path / "dist"
    done = subprocess.run([sys.executable, "-m", "tools.release", "package", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    version = sidecar.__version__
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"bkntc-sms-bridge-{version}.zip", f"bkntc_sms-{version}-py3-none-any.whl",
                     f"bkntc_sms-{version}.tar.gz"]

    with zipfile.ZipFile(out / names[0]) as archive:
        shipped = sorted(archive.namelist())
    assert all(n.startswith(f"{PLUGIN_SLUG}/") for n in shipped)
    source = sorted(str(p.relative_to(PLUGIN_DIR)) for p in PLUGIN_DIR.rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts)
    left_out = sorted(set(source) - {n.removeprefix(f"{PLUGIN_SLUG}/") for n in shipped})
    assert left_out == ["bin/make_pot.py", "phpcs.xml.dist"]  # developer tools only
    for needed in (f"{PLUGIN_SLUG}.php", "readme.txt", "uninstall.php",
                   f"languages/{PLUGIN_SLUG}.pot", "src/class-versions.php", "views/panel.php"):
        assert f"{PLUGIN_SLUG}/{needed}" in shipped, needed

    with zipfile.ZipFile(out / names[1]) as wheel:
        files = wheel.namelist()
        metadata = wheel.read(f"bkntc_sms-{version}.dist-info/METADATA").decode()
    revisions = sorted(p.name for p in (ROOT / "sidecar/migrations/versions").glob("0*.py"))
    assert revisions and all(f"sidecar/migrations/versions/{r}" in files for r in revisions)
    for needed in ("sidecar/migrations/env.py", "sidecar/migrations/script.py.mako",
                   "sidecar/migrations/schema_0_1_0.py", "sidecar/web/templates/base.html",
                   "sidecar/web/static/app.js"):
        assert needed in files, needed
    assert not any(f.startswith(("tests/", "tools/", "bench/")) for f in files)
    assert re.search(r"^Requires-Dist: alembic", metadata, re.M)
    with tarfile.open(out / names[2]) as sdist:
        members = sdist.getnames()
    assert all(f"bkntc_sms-{version}/sidecar/migrations/versions/{r}" in members
               for r in revisions)
