"""install/install.py, run as a user runs it: a subprocess with HOME, XDG_*, APPDATA and
LOCALAPPDATA pointing into tmp_path (and no GIMP3_DIRECTORY), so nothing of the developer's is
looked at or touched.

The installer runs from a copy of the checkout with small stand-in plug-ins for Krita and GIMP,
so these tests do not change when the real plug-ins do; a test per editor installs the real one,
and one runs GIMP 3.0 on it when the Debian trixie chroot is here. The vendored packages are
built with pip once per session, by the installer itself, and reused after.
"""

from __future__ import annotations

import configparser
import contextlib
import functools
import hashlib
import http.server
import json
import os
import shutil
import ssl
import stat
import subprocess
import sys
import textwrap
import threading
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "install"
PLUGIN = "recraft_krita"
GIMP_PLUGIN = "recraft"  # plug-ins/recraft/recraft.py
THIRD_PARTY = ("requests", "urllib3", "idna", "charset_normalizer", "certifi")
COMPILED = (".so", ".pyd", ".dylib", ".dll")

DESKTOP = """\
[Desktop Entry]
Type=Service
ServiceTypes=Krita/PythonPlugin
X-KDE-Library=recraft_krita
X-Python-2-Compatible=false
Name=Recraft
Comment=Stand-in for the installer's tests
"""
ACTION = """\
<?xml version="1.0" encoding="UTF-8"?>
<ActionCollection version="2" name="Scripts">
  <Actions category="Scripts"><text>Recraft</text>
    <Action name="recraft_stand_in"><text>Stand-in</text></Action>
  </Actions>
</ActionCollection>
"""
INIT = """\
import os
import sys

_VENDOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vendor")
if _VENDOR not in sys.path:
    sys.path.insert(0, _VENDOR)
"""


GIMP_ENTRY = """\
#!/usr/bin/env python3
\"\"\"Stand-in for the installer's tests: GIMP runs plug-ins/recraft/recraft.py.\"\"\"
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "vendor"))
"""


def make_checkout(root: Path, action: bool = True) -> Path:
    """A checkout holding this repo's installer and recraft_core, and stand-in plug-ins."""
    skip = shutil.ignore_patterns("build", "__pycache__")
    shutil.copytree(INSTALL, root / "install", ignore=skip)
    shutil.copytree(
        REPO / "core" / "recraft_core",
        root / "core" / "recraft_core",
        ignore=skip,
    )
    plugin = root / "krita_plugin"
    (plugin / PLUGIN / "tools").mkdir(parents=True)
    (plugin / PLUGIN / "__init__.py").write_text(INIT)
    (plugin / PLUGIN / "docker.py").write_text("DOCKER_ID = 'recraft'\n")
    (plugin / PLUGIN / "tools" / "__init__.py").write_text("")
    # Bytecode in the checkout is the developer's, not the plug-in's.
    (plugin / PLUGIN / "__pycache__").mkdir()
    (plugin / PLUGIN / "__pycache__" / "docker.cpython-311.pyc").write_bytes(b"\0")
    (plugin / "recraft_krita.desktop").write_text(DESKTOP)
    (plugin / "README.md").write_text("not installed\n")
    if action:
        (plugin / "recraft_krita.action").write_text(ACTION)
    gimp = root / "gimp_plugin"
    (gimp / GIMP_PLUGIN / "__pycache__").mkdir(parents=True)
    (gimp / GIMP_PLUGIN / "recraft.py").write_text(GIMP_ENTRY)
    (gimp / GIMP_PLUGIN / "recraft.py").chmod(0o755)  # as git checks it out
    (gimp / GIMP_PLUGIN / "gimp_canvas.py").write_text("CANVAS = 'stand-in'\n")
    (gimp / GIMP_PLUGIN / "__pycache__" / "gimp_canvas.cpython-313.pyc").write_bytes(b"\0")
    (gimp / "README.md").write_text("not installed\n")
    return root


FAKE_KRITA = Path(__file__).parent / "fake_krita"


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """os.environ with every folder the installer reads pointing into `home`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("XDG_")
        and k not in ("APPDATA", "LOCALAPPDATA", "PYTHONPATH", "GIMP3_DIRECTORY")
    }
    env.update(
        HOME=str(home),
        USERPROFILE=str(home),
        APPDATA=str(home / "AppData" / "Roaming"),
        LOCALAPPDATA=str(home / "AppData" / "Local"),
        # A krita program on PATH, whatever this machine has: Krita installed, never started.
        PATH=os.pathsep.join([str(FAKE_KRITA), env.get("PATH", "")]),
    )
    env.update(extra)
    return env


def run_installer(checkout: Path, home: Path, *args, python=sys.executable, env=None, **extra):
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [str(python), str(checkout / "install" / "install.py"), *map(str, args)],
        cwd=home,
        env=env or user_env(home, **extra),
        capture_output=True,
        text=True,
        timeout=600,
    )


def ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def snapshot(root: Path) -> dict[str, bytes | str]:
    """Every path under root with its bytes (files) or link target (symlinks)."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            found[key] = "-> " + os.readlink(path)
        elif path.is_file():
            found[key] = path.read_bytes()
        else:
            found[key] = "dir"
    return found


def pykrita(home: Path) -> Path:
    return home / ".local" / "share" / "krita" / "pykrita"


def as_if_shipped_before(package: Path, *entries: str) -> None:
    """List `entries` in the package's INSTALLED.json, as an install of an earlier version
    that shipped them would have."""
    marker = package / "INSTALLED.json"
    manifest = json.loads(marker.read_text())
    manifest["files"] = sorted({*manifest["files"], *entries})
    marker.write_text(json.dumps(manifest, indent=2))


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """A checkout whose installer has built its vendored packages (pip, once) and a zip."""
    root = tmp_path_factory.mktemp("session")
    checkout = make_checkout(root / "checkout")
    zips = root / "zips"
    done = run_installer(checkout, root / "home", "--zip", zips)
    ok(done)
    return {
        "checkout": checkout,
        "vendor": checkout / "install" / "build" / "vendor",
        "zip": zips / "recraft-krita-0.1.0.zip",
        "gimp_zip": zips / "recraft-gimp-0.1.0.zip",
        "output": done.stdout,
    }


@pytest.fixture
def checkout(built):
    """The session's checkout: installs reuse its built vendor folder."""
    return built["checkout"]


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


def test_the_build_is_pure_python_and_is_reused(built, tmp_path):
    vendor = built["vendor"]
    assert "building" in built["output"]
    for name in THIRD_PARTY:
        assert (vendor / name / "__init__.py").is_file(), name
    assert not [p for p in vendor.rglob("*") if p.suffix in COMPILED]
    assert not (vendor / "bin").exists()  # console scripts are for pip's Python only

    again = ok(run_installer(built["checkout"], tmp_path / "home", "--zip", tmp_path / "z"))
    assert "building" not in again
    assert f"reusing {vendor}" in again


def test_installs_into_the_pykrita_folder_of_a_fresh_home(checkout, home, private_settings):
    out = ok(run_installer(checkout, home))
    package = pykrita(home) / PLUGIN

    assert (pykrita(home) / "recraft_krita.desktop").read_text() == DESKTOP
    assert (package / "__init__.py").read_text() == INIT
    assert (package / "docker.py").is_file()
    assert (package / "tools" / "__init__.py").is_file()
    assert not (package / "README.md").exists()
    # Krita reads .action files from the resource folder's actions/, as its importer puts them.
    assert (home / ".local/share/krita/actions/recraft_krita.action").read_text() == ACTION

    vendor = package / "vendor"
    for name in (*THIRD_PARTY, "recraft_core"):
        assert (vendor / name / "__init__.py").is_file(), name
    files = list(package.rglob("*"))
    assert not [p for p in files if p.suffix in COMPILED]
    assert not [p for p in files if p.name == "__pycache__" or p.suffix == ".pyc"]
    assert not (vendor / "certifi" / "tests").exists()  # pytest would collect it

    versions = (vendor / "VERSIONS.txt").read_text().splitlines()
    assert "recraft_core==0.1.0" in versions
    for dist in ("requests", "urllib3", "idna", "charset-normalizer", "certifi"):
        assert [v for v in versions if v.startswith(f"{dist}==")], dist

    manifest = json.loads((package / "INSTALLED.json").read_text())
    assert manifest["paths"] == [
        "recraft_krita/",
        "recraft_krita.desktop",
        "../actions/recraft_krita.action",
    ]
    assert manifest["mode"] == "copy"

    assert str(pykrita(home)) in out
    assert "No Krita plug-in folder was found" in out
    # Nothing of GIMP's is made up: GIMP makes its profile on first start.
    assert "No GIMP 3 profile was found" in out and "start GIMP once" in out
    assert not (home / ".config" / "GIMP").exists()
    assert "Filters › Recraft" not in out
    for words in ("Restart Krita", "Settings › Dockers › Recraft", "Tools › Recraft", "login"):
        assert words in out
    assert not private_settings.exists()


KRITARC = (
    b"GamutMasks.viewMode=0\n"
    b"defaultPalette=Default\n"
    b"\n"
    b"[General]\n"
    b"ColorSpace=RGBA\n"
    b"# a comment configparser would drop\n"
    b"MRUFiles[$e]=$HOME/a.kra,$HOME/b.kra\n"
    b"Key With Spaces = Value=With=Equals\n"
    b"\n"
    b"[python]\n"
    b"enable_ten_brushes=true\n"
    b"Enable_Recraft_Krita_Other=false\n"
    b"enable_colorspace=false\n"
    b"\n"
    b"[krita][Toolbar mainToolBar]\n"
    b"ToolButtonStyle=IconOnly\n"
    b"[python]\n"
    b"enable_last=true"  # the file ends without a newline
)


def lines_without_ours(data: bytes) -> bytes:
    return b"".join(
        line
        for line in data.splitlines(keepends=True)
        if not line.startswith(b"enable_recraft_krita=")
    )


def test_kritarc_gets_one_enable_line_and_keeps_every_other_byte(checkout, home):
    kritarc = home / ".config" / "kritarc"
    kritarc.parent.mkdir(parents=True)
    kritarc.write_bytes(KRITARC)

    ok(run_installer(checkout, home))
    after = kritarc.read_bytes()
    lines = after.splitlines()
    assert lines.count(b"enable_recraft_krita=true") == 1
    assert not [ln for ln in lines if ln.startswith(b"enable_recraft_krita") and b"true" not in ln]
    # In the first [python] block, among its keys.
    at = lines.index(b"enable_recraft_krita=true")
    assert lines[at - 1] == b"enable_colorspace=false"
    assert lines_without_ours(after) == KRITARC

    ok(run_installer(checkout, home))  # a second run changes nothing
    assert kritarc.read_bytes() == after


def test_kritarc_false_becomes_true_and_crlf_is_kept(checkout, home):
    kritarc = home / ".config" / "kritarc"
    kritarc.parent.mkdir(parents=True)
    before = b"[General]\r\na=1\r\n\r\n[python]\r\nenable_recraft_krita=false\r\nx=y\r\n"
    kritarc.write_bytes(before)

    out = ok(run_installer(checkout, home))
    assert kritarc.read_bytes() == before.replace(b"=false", b"=true")
    assert f"set enable_recraft_krita=true under [python] in {kritarc}" in out


def test_kritarc_is_created_with_the_section_and_xdg_folders_are_honoured(checkout, tmp_path):
    home = tmp_path / "home"
    data, config = tmp_path / "data", tmp_path / "config"
    ok(run_installer(checkout, home, XDG_DATA_HOME=str(data), XDG_CONFIG_HOME=str(config)))

    assert (data / "krita" / "pykrita" / PLUGIN / "__init__.py").is_file()
    assert (config / "kritarc").read_bytes() == b"[python]\nenable_recraft_krita=true\n"
    assert not (home / ".local").exists()
    assert not (home / ".config").exists()


def test_no_editor_at_all_installs_nothing_and_points_to_the_cli(checkout, tmp_path):
    """No plug-in folder and no krita program: nothing is created, and the user learns how
    to try Recraft without an editor."""
    home = tmp_path / "home"
    empty = tmp_path / "bin"
    empty.mkdir()
    out = ok(run_installer(checkout, home, PATH=str(empty)))
    assert "No Krita and no GIMP 3 was found" in out
    assert "Try it without an account" in out and "--krita DIR" in out
    assert not (home / ".local").exists() and not (home / ".config").exists()


def test_no_enable_leaves_kritarc_alone(checkout, home):
    kritarc = home / ".config" / "kritarc"
    kritarc.parent.mkdir(parents=True)
    kritarc.write_bytes(KRITARC)

    out = ok(run_installer(checkout, home, "--no-enable"))
    assert kritarc.read_bytes() == KRITARC
    assert (pykrita(home) / PLUGIN / "__init__.py").is_file()
    assert "Python Plugin Manager" in out


def test_rerun_upgrades_in_place_and_keeps_the_settings_file(checkout, home, private_settings):
    private_settings.parent.mkdir(parents=True)
    private_settings.write_text('{"token": "kept"}')
    os.utime(private_settings, (1_000_000, 1_000_000))
    ok(run_installer(checkout, home))
    package = pykrita(home) / PLUGIN
    (package / "stale.py").write_text("from an older version\n")
    (package / "vendor" / "requests" / "stale.py").write_text("old\n")
    as_if_shipped_before(package, "stale.py", "vendor/requests/stale.py")
    # What Krita's Python writes beside the modules it imports goes with them.
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"\0")

    out = ok(run_installer(checkout, home))
    assert "replaced recraft_krita/ (0.1.0, copy)" in out
    assert not (package / "stale.py").exists()
    assert not (package / "vendor" / "requests" / "stale.py").exists()
    assert (package / "__init__.py").is_file()
    assert private_settings.read_text() == '{"token": "kept"}'
    assert private_settings.stat().st_mtime == 1_000_000
    # No staging folder is left beside the plug-in.
    assert sorted(p.name for p in pykrita(home).iterdir()) == [PLUGIN, "recraft_krita.desktop"]


def test_an_upgrade_removes_an_extra_the_plugin_no_longer_has(built, tmp_path):
    home = tmp_path / "home"
    vendor = ("--vendor", built["vendor"])
    ok(run_installer(built["checkout"], home, *vendor))
    action = home / ".local/share/krita/actions/recraft_krita.action"
    assert action.is_file()

    without = make_checkout(tmp_path / "checkout", action=False)
    out = ok(run_installer(without, home, *vendor))
    assert not action.exists()
    assert "removed" in out and "recraft_krita.action" in out


def test_uninstall_removes_only_what_was_installed(checkout, home, private_settings):
    private_settings.parent.mkdir(parents=True)
    private_settings.write_text('{"token": "kept"}')
    folder = pykrita(home)
    (folder / "other_plugin").mkdir(parents=True)
    (folder / "other_plugin" / "__init__.py").write_text("")
    (folder / "other_plugin.desktop").write_text("[Desktop Entry]\n")
    (folder / "recraft_krita_notes.txt").write_text("a similar name, not ours\n")
    actions = folder.parent / "actions"
    actions.mkdir()
    (actions / "other_plugin.action").write_text("<ActionCollection/>\n")
    ok(run_installer(checkout, home))
    kritarc = (home / ".config" / "kritarc").read_bytes()

    out = ok(run_installer(checkout, home, "--uninstall"))
    assert sorted(p.name for p in folder.iterdir()) == [
        "other_plugin",
        "other_plugin.desktop",
        "recraft_krita_notes.txt",
    ]
    assert (folder / "other_plugin" / "__init__.py").is_file()
    assert sorted(p.name for p in actions.iterdir()) == ["other_plugin.action"]
    assert (home / ".config" / "kritarc").read_bytes() == kritarc
    assert "left" in out and "kritarc as it was" in out
    assert private_settings.read_text() == '{"token": "kept"}'

    again = ok(run_installer(checkout, home, "--uninstall"))
    assert "nothing to do" in again


def test_dry_run_changes_nothing(built, tmp_path):
    # A fresh checkout: a real run would build its vendor folder, a dry run must not.
    fresh = make_checkout(tmp_path / "fresh")
    home = tmp_path / "home"
    home.mkdir()
    (home / ".config").mkdir()
    (home / ".config" / "kritarc").write_bytes(KRITARC)
    before_home, before_checkout = snapshot(home), snapshot(fresh)

    out = ok(run_installer(fresh, home, "--dry-run"))
    assert "would build" in out
    assert "would add recraft_krita/" in out
    assert "would add enable_recraft_krita=true under [python]" in out
    out = ok(run_installer(fresh, home, "--dry-run", "--zip", tmp_path / "zips"))
    assert "would write" in out
    assert snapshot(home) == before_home
    assert snapshot(fresh) == before_checkout
    assert not (tmp_path / "zips").exists()

    # With the vendored packages at hand, a dry run still installs nothing.
    assert "would add recraft_krita/" in ok(run_installer(built["checkout"], home, "--dry-run"))
    assert snapshot(home) == before_home

    # Over an install, an upgrade and an uninstall are dry too.
    ok(run_installer(built["checkout"], home))
    (pykrita(home) / PLUGIN / "stale.py").write_text("a real upgrade would remove this\n")
    as_if_shipped_before(pykrita(home) / PLUGIN, "stale.py")
    installed = snapshot(home)
    assert "would replace recraft_krita/" in ok(run_installer(built["checkout"], home, "--dry-run"))
    out = ok(run_installer(built["checkout"], home, "--uninstall", "--dry-run"))
    assert "would remove recraft_krita/" in out
    assert snapshot(home) == installed


def test_zip_is_what_kritas_importer_expects(built, tmp_path):
    with zipfile.ZipFile(built["zip"]) as zf:
        names = zf.namelist()
        desktops = [n for n in names if n.endswith(".desktop")]
        assert desktops == ["recraft_krita.desktop"]
        # The importer reads the desktop file with configparser and takes X-KDE-Library...
        desktop = configparser.ConfigParser()
        desktop.read_string(zf.read(desktops[0]).decode("utf-8"))
        library = desktop["Desktop Entry"]["X-KDE-Library"]
        assert library == PLUGIN and desktop["Desktop Entry"]["Name"]
        # ...then needs the folder itself listed, with its __init__.py.
        assert f"{library}/" in names
        assert f"{library}/__init__.py" in names
        assert "recraft_krita.action" in names
        assert {n.split("/")[0] for n in names} == {
            PLUGIN,
            "recraft_krita.desktop",
            "recraft_krita.action",
        }
        for package in (*THIRD_PARTY, "recraft_core"):
            assert f"{PLUGIN}/vendor/{package}/__init__.py" in names
        assert f"{PLUGIN}/vendor/VERSIONS.txt" in names
        assert not [n for n in names if n.endswith(COMPILED) or "__pycache__" in n]
        assert f"{PLUGIN}/INSTALLED.json" not in names
        assert zf.testzip() is None
        zf.extractall(tmp_path / "unzipped")
    # The unzipped copy is a complete plug-in too.
    check_vendored_stack(tmp_path / "unzipped" / PLUGIN / "vendor", None, sys.executable)


def test_zip_imports_with_kritas_own_importer_when_krita_is_here(built, tmp_path):
    importer = Path("/usr/share/krita/pykrita/plugin_importer/plugin_importer.py")
    if not importer.is_file():
        pytest.skip("Krita's plugin_importer.py is not on this machine")
    resources = tmp_path / "resources"
    resources.mkdir()
    done = subprocess.run(
        [sys.executable, str(importer), str(built["zip"]), str(resources)],
        cwd=importer.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Imported plugin: Recraft" in done.stdout
    assert (resources / "pykrita" / "recraft_krita.desktop").is_file()
    assert (resources / "pykrita" / PLUGIN / "vendor" / "requests" / "__init__.py").is_file()
    assert (resources / "actions" / "recraft_krita.action").is_file()


VENDORED_CALL = textwrap.dedent(
    """
    import sys
    vendor, base_url = sys.argv[1], sys.argv[2]
    assert sys.flags.no_site and sys.flags.isolated
    sys.path.insert(0, vendor)
    assert not [p for p in sys.path if "site-packages" in p or "dist-packages" in p], sys.path

    import certifi
    import requests
    import recraft_core
    from recraft_core import Client

    for module in (requests, certifi, recraft_core):
        assert module.__file__.startswith(vendor), module.__file__
    assert requests.utils.DEFAULT_CA_BUNDLE_PATH.startswith(vendor)
    if base_url != "-":
        print("credits", Client("test-token", base_url=base_url).user().credits)
    print("ok", sys.version_info[:2])
    """
)


def check_vendored_stack(vendor: Path, base_url: str | None, python: str) -> str:
    """Import requests and recraft_core from `vendor` alone (no site-packages) and call."""
    done = subprocess.run(
        [python, "-I", "-S", "-c", VENDORED_CALL, str(vendor), base_url or "-"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "ok" in done.stdout
    return done.stdout


def _pythons() -> list[str]:
    """This Python, and the editors' oldest and newest when this machine has them."""
    found = [sys.executable]
    for minor in ("3.10", "3.13", "3.14"):
        candidates = [shutil.which(f"python{minor}")]
        candidates += sorted(Path("/root/.pyenv/versions").glob(f"{minor}*/bin/python{minor}"))
        # pyenv's shims exist for every version but run only the selected ones.
        real = [str(c) for c in candidates if c and "shims" not in str(c) and Path(c).is_file()]
        if real and real[0] not in found:
            found.append(real[0])
    return found


@pytest.mark.parametrize("python", _pythons(), ids=lambda p: Path(p).name)
def test_the_installed_copy_works_without_site_packages(checkout, home, recraft_server, python):
    ok(run_installer(checkout, home))
    vendor = pykrita(home) / PLUGIN / "vendor"

    out = check_vendored_stack(vendor, recraft_server.base_url, python)
    assert f"credits {recraft_server.credits}" in out
    sent = recraft_server.last("/users/me")
    assert sent is not None and sent.authorized


def test_link_symlinks_the_checkout_and_uninstall_leaves_it_whole(checkout, home):
    before = snapshot(checkout / "krita_plugin") | {
        "core": str(sorted(p.name for p in (checkout / "core" / "recraft_core").rglob("*")))
    }
    out = ok(run_installer(checkout, home, "--link"))
    package = pykrita(home) / PLUGIN
    plugin = checkout / "krita_plugin"

    assert not package.is_symlink() and package.is_dir()
    assert (package / "__init__.py").resolve() == (plugin / PLUGIN / "__init__.py").resolve()
    assert (package / "__init__.py").is_symlink()
    assert (package / "tools").is_symlink()
    assert not (package / "__pycache__").exists()
    vendor = package / "vendor"
    assert not vendor.is_symlink()
    assert (vendor / "recraft_core").is_symlink()
    assert (vendor / "recraft_core").resolve() == (checkout / "core" / "recraft_core").resolve()
    assert not (vendor / "requests").is_symlink()
    assert (pykrita(home) / "recraft_krita.desktop").is_symlink()
    assert json.loads((package / "INSTALLED.json").read_text())["mode"] == "link"
    assert "linked recraft_krita.desktop" in out

    # Copying over a linked install, and uninstalling it, never reach into the checkout.
    ok(run_installer(checkout, home, "--link"))
    ok(run_installer(checkout, home, "--uninstall"))
    assert not package.exists() and not (pykrita(home) / "recraft_krita.desktop").exists()
    after = snapshot(plugin) | {
        "core": str(sorted(p.name for p in (checkout / "core" / "recraft_core").rglob("*")))
    }
    assert after == before


def test_named_folders_only_and_created(checkout, home, tmp_path):
    one, two = tmp_path / "one" / "pykrita", tmp_path / "two"
    out = ok(run_installer(checkout, home, "--krita", one, "--krita", two))
    for folder in (one, two):
        assert (folder / PLUGIN / "vendor" / "requests" / "__init__.py").is_file()
        assert (folder / "recraft_krita.desktop").is_file()
    assert not pykrita(home).exists()
    # Both are enabled through the one kritarc Krita reads here, written once.
    kritarc = (home / ".config" / "kritarc").read_bytes()
    assert kritarc.count(b"enable_recraft_krita=true") == 1
    assert "No Krita plug-in folder was found" not in out


def test_every_folder_found_gets_it_flatpak_included(checkout, home):
    native = home / ".local" / "share" / "krita"
    flatpak = home / ".var" / "app" / "org.kde.krita"
    native.mkdir(parents=True)  # Krita has run, but made no pykrita/ yet
    (flatpak / "data" / "krita" / "pykrita").mkdir(parents=True)

    out = ok(run_installer(checkout, home))
    for resources in (native, flatpak / "data" / "krita"):
        assert (resources / "pykrita" / PLUGIN / "__init__.py").is_file()
    assert b"enable_recraft_krita=true" in (home / ".config" / "kritarc").read_bytes()
    assert b"enable_recraft_krita=true" in (flatpak / "config" / "kritarc").read_bytes()
    assert "Krita (Flatpak)" in out
    assert "No Krita plug-in folder was found" not in out


def test_a_resource_folder_set_in_kritarc_is_where_krita_looks(checkout, home, tmp_path):
    custom = tmp_path / "My Krita Resources"
    kritarc = home / ".config" / "kritarc"
    kritarc.parent.mkdir(parents=True)
    kritarc.write_text(f"ResourceDirectory={custom}\n[General]\nx=1\n")

    ok(run_installer(checkout, home))
    assert (custom / "pykrita" / PLUGIN / "__init__.py").is_file()
    assert (custom / "actions" / "recraft_krita.action").is_file()
    assert not pykrita(home).exists()

    # A copy from before the folder was set is ignored by Krita, and still uninstalled.
    ok(run_installer(checkout, home, "--krita", pykrita(home)))
    ok(run_installer(checkout, home, "--uninstall"))
    assert not (custom / "pykrita" / PLUGIN).exists()
    assert not (pykrita(home) / PLUGIN).exists()


def folder_tables(body: str) -> dict:
    """Run `body`, which fills the dict `out`, in a fresh isolated Python that imports
    install/ as the installer does; what it filled. The tables of other systems come from a
    Host that says it is one."""
    prelude = (
        "import json, sys\nfrom pathlib import Path\nsys.path.insert(0, sys.argv[1])\n"
        "from editors import GIMP, KRITA, Host\nout = {}\n"
    )
    script = prelude + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    done = subprocess.run(
        [sys.executable, "-I", "-c", script, str(INSTALL)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


PLACES = textwrap.dedent(
    """
    for platform, env in (
        ("win32", {"APPDATA": r"C:\\Users\\a\\AppData\\Roaming",
                   "LOCALAPPDATA": r"C:\\Users\\a\\AppData\\Local"}),
        ("darwin", {}),
        ("linux", {"XDG_DATA_HOME": "relative/ignored"}),
    ):
        places = KRITA.places(Host(platform, env, Path("/h")))
        out[platform] = [[str(p.folder), str(p.config), p.default] for p in places]
    """
)


def test_folder_table_for_windows_macos_and_linux():
    places = folder_tables(PLACES)
    assert places["win32"] == [
        [
            str(Path(r"C:\Users\a\AppData\Roaming") / "krita" / "pykrita"),
            str(Path(r"C:\Users\a\AppData\Local") / "kritarc"),
            True,
        ]
    ]
    assert places["darwin"] == [
        [
            "/h/Library/Application Support/Krita/pykrita",
            "/h/Library/Preferences/kritarc",
            True,
        ]
    ]
    assert places["linux"][:2] == [
        ["/h/.local/share/krita/pykrita", "/h/.config/kritarc", True],
        [
            "/h/.var/app/org.kde.krita/data/krita/pykrita",
            "/h/.var/app/org.kde.krita/config/kritarc",
            False,
        ],
    ]


def no_pip_python(tmp_path: Path) -> tuple[Path, Path]:
    """A Python without pip (a venv made without it), and the folder of its programs."""
    env_dir = tmp_path / "nopip"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    return bindir / ("python.exe" if os.name == "nt" else "python"), bindir


@contextlib.contextmanager
def fake_pypi(vendor: Path, root: Path, tls: tuple[Path, Path] | None = None):
    """PyPI's JSON API on 127.0.0.1, serving wheels made of the session's vendored packages,
    beside newer releases the installer must pass over: compiled only, yanked, a
    pre-release, one for a newer Python, and urllib3 3 (requests wants < 3). `tls`: the
    certificate and key to serve HTTPS with."""
    packages = {"requests": "requests", "urllib3": "urllib3", "idna": "idna",
                "charset-normalizer": "charset_normalizer", "certifi": "certifi"}  # fmt: skip
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*map(str, tls))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        base = f"https://127.0.0.1:{server.server_address[1]}"
    (root / "files").mkdir(parents=True)
    for name, package in packages.items():
        info = next(vendor.glob(f"{package}-*.dist-info"))
        version = info.name[len(package) + 1 : -len(".dist-info")]
        wheel = f"{package}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(root / "files" / wheel, "w") as z:
            for folder in (vendor / package, info):
                for path in folder.rglob("*"):
                    if path.is_file() and "__pycache__" not in path.parts:
                        z.write(path, path.relative_to(vendor).as_posix())
        digest = hashlib.sha256((root / "files" / wheel).read_bytes()).hexdigest()

        def entry(filename, digest=digest, **more):
            # Relative, as some mirrors answer (PyPI itself gives absolute URLs).
            return {"filename": filename, "url": f"../files/{filename}",
                    "digests": {"sha256": digest}, "requires_python": ">=3.8", **more}  # fmt: skip

        releases = {
            version: [entry(wheel)],
            "99.0": [entry(f"{package}-99.0-cp312-cp312-manylinux_2_17_x86_64.whl")],
            "98.0": [entry(f"{package}-98.0-py3-none-any.whl", yanked=True)],
            "97.0rc1": [entry(f"{package}-97.0rc1-py3-none-any.whl")],
            "96.0": [entry(f"{package}-96.0-py3-none-any.whl", requires_python=">=3.99")],
        }
        if name == "urllib3":
            releases["3.0.0"] = [entry("urllib3-3.0.0-py3-none-any.whl")]
        (root / name).mkdir()
        (root / name / "json").write_text(json.dumps({"releases": releases}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


def test_without_pip_it_fetches_the_wheels_from_pypi_itself(built, tmp_path):
    """Debian's and Ubuntu's Python has no pip unless python3-pip is installed: the installer
    takes the newest pure-Python wheels that fit from PyPI's JSON API, checks their SHA-256,
    and installs (found by a new-user test, on GIMP's chroot)."""
    fresh = make_checkout(tmp_path / "fresh")
    python, bindir = no_pip_python(tmp_path)
    home = tmp_path / "home"
    with fake_pypi(built["vendor"], tmp_path / "pypi") as index:
        env = user_env(home, PATH=os.pathsep.join([str(bindir), str(FAKE_KRITA)]),
                       RECRAFT_PYPI=index)  # fmt: skip
        out = ok(run_installer(fresh, home, python=python, env=env))
    assert "with PyPI's wheels (no pip here)" in out
    vendor = fresh / "install" / "build" / "vendor"
    expected = {p.name for p in built["vendor"].iterdir() if not p.name.startswith(".")}
    assert expected <= {p.name for p in vendor.iterdir()}
    for name in THIRD_PARTY:
        assert (vendor / name / "__init__.py").read_bytes() == (
            built["vendor"] / name / "__init__.py"
        ).read_bytes()
    assert (pykrita(home) / PLUGIN / "vendor" / "requests" / "__init__.py").is_file()


def test_without_pip_and_without_pypi_it_says_so_and_installs_nothing(tmp_path):
    fresh = make_checkout(tmp_path / "fresh")
    python, bindir = no_pip_python(tmp_path)
    home = tmp_path / "home"
    # no pip3 or pip on PATH either, and nothing answers where PyPI should be
    env = user_env(home, PATH=os.pathsep.join([str(bindir), str(FAKE_KRITA)]),
                   RECRAFT_PYPI="http://127.0.0.1:9/pypi")  # fmt: skip

    done = run_installer(fresh, home, python=python, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "could not fetch http://127.0.0.1:9/pypi/requests/json" in done.stderr
    assert "python3-pip" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (home / ".local").exists() and not (home / ".config").exists()
    assert not (fresh / "install" / "build" / "vendor").exists()


@pytest.mark.parametrize(
    "requires,fits",
    [(None, True), ("", True), (">=3.8", True), (">=3.11", False), (">=3.8, <4", True),
     ("!=3.10.*", False), ("!=3.9.*, >=3.7", True), ("~=3.9", True), ("~=3.11", False),
     ("==3.10.*", True), (">=3.10.2", False), ("weird", False)],
)  # fmt: skip
def test_requires_python_is_read_as_pip_reads_it(requires, fits):
    sys.path.insert(0, str(INSTALL))
    try:
        import wheels
    finally:
        sys.path.remove(str(INSTALL))
    assert wheels.runs_on(requires, (3, 10)) is fits


def test_when_pip_cannot_download_it_says_so_and_installs_nothing(tmp_path):
    fresh = make_checkout(tmp_path / "fresh")
    home = tmp_path / "home"
    empty = tmp_path / "no-wheels"
    empty.mkdir()
    offline = {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(empty),
    }
    done = run_installer(fresh, home, **offline)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "pip could not fetch" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (home / ".local").exists() and not (home / ".config").exists()
    assert not (fresh / "install" / "build" / "vendor").exists()
    build = fresh / "install" / "build"
    assert not build.exists() or not list(build.iterdir())  # no half-built folder


def test_a_vendor_folder_with_compiled_files_is_refused(built, tmp_path):
    vendor = tmp_path / "vendor"
    shutil.copytree(built["vendor"], vendor)
    (vendor / "charset_normalizer" / "md.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    home = tmp_path / "home"

    done = run_installer(built["checkout"], home, "--vendor", vendor)
    assert done.returncode == 2
    assert "md.cpython-311-x86_64-linux-gnu.so" in done.stderr
    assert not (home / ".local").exists()


def test_a_vendor_folder_missing_a_package_is_refused(built, tmp_path):
    vendor = tmp_path / "vendor"
    shutil.copytree(built["vendor"], vendor)
    shutil.rmtree(vendor / "idna")
    home = tmp_path / "home"

    done = run_installer(built["checkout"], home, "--vendor", vendor)
    assert done.returncode == 2
    assert "lacks idna" in done.stderr
    assert not (home / ".local").exists()


def test_a_checkout_without_the_plugin_is_refused_before_anything_changes(built, tmp_path):
    fresh = make_checkout(tmp_path / "fresh")
    shutil.rmtree(fresh / "krita_plugin" / PLUGIN)
    home = tmp_path / "home"

    done = run_installer(fresh, home, "--vendor", built["vendor"])
    assert done.returncode == 2
    assert "__init__.py is missing" in done.stderr
    assert not (home / ".local").exists() and not (home / ".config").exists()


def test_an_unwritable_folder_is_a_problem_to_fix_not_a_crash(checkout, home, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")

    good = tmp_path / "good"
    done = run_installer(checkout, home, "--krita", blocker / "pykrita", "--krita", good)
    assert done.returncode == 2
    assert f"Could not install into {blocker / 'pykrita'}" in done.stderr
    assert "Traceback" not in done.stderr
    assert "FAILED" in done.stdout
    # The folder that could be written still got a whole plug-in.
    assert (good / PLUGIN / "vendor" / "requests" / "__init__.py").is_file()


def test_the_real_plugin_installs(built, tmp_path):
    real = REPO / "krita_plugin"
    if not (real / PLUGIN / "__init__.py").is_file():
        pytest.skip("krita_plugin/recraft_krita is not written yet")
    folder = tmp_path / "pykrita"
    home = tmp_path / "home"

    out = ok(run_installer(REPO, home, "--krita", folder, "--vendor", built["vendor"]))
    assert str(folder) in out
    for source in (real / PLUGIN).rglob("*"):
        relative = source.relative_to(real / PLUGIN)
        if "__pycache__" in relative.parts or source.suffix == ".pyc":
            continue
        assert (folder / PLUGIN / relative).exists(), relative
    assert (folder / "recraft_krita.desktop").read_bytes() == (
        real / "recraft_krita.desktop"
    ).read_bytes()
    assert (folder / PLUGIN / "vendor" / "recraft_core" / "__init__.py").is_file()


# -- GIMP 3 -----------------------------------------------------------------------------------


def gimp_profile(home: Path, version: str = "3.0") -> Path:
    return home / ".config" / "GIMP" / version


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check_gimp_copy(folder: Path) -> Path:
    """plug-ins/recraft/ as GIMP needs it, with a pure vendor/; the package folder."""
    package = folder / GIMP_PLUGIN
    assert (package / "recraft.py").read_text() == GIMP_ENTRY
    assert mode(package / "recraft.py") == 0o755  # GIMP runs only executable plug-ins
    assert (package / "gimp_canvas.py").is_file()
    vendor = package / "vendor"
    for name in (*THIRD_PARTY, "recraft_core"):
        assert (vendor / name / "__init__.py").is_file(), name
    files = list(package.rglob("*"))
    assert not [p for p in files if p.suffix in COMPILED]
    assert not [p for p in files if p.name == "__pycache__" or p.suffix == ".pyc"]
    assert not (vendor / "certifi" / "tests").exists()
    versions = (vendor / "VERSIONS.txt").read_text().splitlines()
    assert "recraft_core==0.1.0" in versions
    for dist in ("requests", "urllib3", "idna", "charset-normalizer", "certifi"):
        assert [v for v in versions if v.startswith(f"{dist}==")], dist
    # Only the folder: nothing beside it, nothing of Krita's inside it.
    assert not (folder / "recraft.py").exists()
    assert not [p for p in files if p.suffix == ".desktop"]
    return package


def test_gimp_3_0_and_3_2_profiles_both_get_it(checkout, home, private_settings):
    gimp_profile(home, "3.0").mkdir(parents=True)  # GIMP has run, but made no plug-ins/ yet
    (gimp_profile(home, "3.2") / "plug-ins" / "other").mkdir(parents=True)

    out = ok(run_installer(checkout, home))
    for version in ("3.0", "3.2"):
        package = check_gimp_copy(gimp_profile(home, version) / "plug-ins")
        manifest = json.loads((package / "INSTALLED.json").read_text())
        assert manifest["paths"] == ["recraft/"]
        assert manifest["editor"] == "gimp" and manifest["mode"] == "copy"
        assert f"GIMP {version}: {gimp_profile(home, version) / 'plug-ins'}" in out
    assert (gimp_profile(home, "3.2") / "plug-ins" / "other").is_dir()
    assert sorted(p.name for p in (gimp_profile(home, "3.2") / "plug-ins").iterdir()) == [
        "other",
        GIMP_PLUGIN,
    ]
    # A GIMP user without Krita gets nothing of Krita's.
    assert not (home / ".local").exists()
    assert not (home / ".config" / "kritarc").exists()
    assert "nothing was installed for Krita" in out
    assert "No GIMP 3 profile" not in out
    for words in (
        "Restart GIMP",
        "Filters › Recraft",
        "Layer › Transparency › Remove Background (Recraft)",
        "Filters › Recraft › Settings",
        "recraft login",
    ):
        assert words in out, words
    assert "Tools › Recraft" not in out  # Krita's next steps are not GIMP's
    assert not private_settings.exists()


def test_gimp_xdg_config_flatpak_and_snap_profiles(checkout, home, tmp_path):
    config = tmp_path / "config"
    profiles = [
        config / "GIMP" / "3.0",
        home / ".var" / "app" / "org.gimp.GIMP" / "config" / "GIMP" / "3.2",
        home / "snap" / "gimp" / "current" / ".config" / "GIMP" / "3.0",
        config / "GIMP" / "3.4",  # a later 3.x is found on disk too
    ]
    for profile in profiles:
        profile.mkdir(parents=True)
    (config / "GIMP" / "2.10").mkdir()  # GIMP 2 has no Python 3 plug-ins

    out = ok(run_installer(checkout, home, XDG_CONFIG_HOME=str(config)))
    for profile in profiles:
        check_gimp_copy(profile / "plug-ins")
    assert not (config / "GIMP" / "2.10" / "plug-ins").exists()
    assert not (home / ".config").exists()
    assert "GIMP 3.2 (Flatpak)" in out and "GIMP 3.0 (Snap)" in out and "GIMP 3.4" in out


def test_gimp3_directory_replaces_the_standard_profile(checkout, home, tmp_path):
    custom = tmp_path / "my gimp profile"
    custom.mkdir()
    gimp_profile(home).mkdir(parents=True)

    out = ok(run_installer(checkout, home, GIMP3_DIRECTORY=str(custom)))
    check_gimp_copy(custom / "plug-ins")
    assert "GIMP3_DIRECTORY" in out
    # A GIMP started with GIMP3_DIRECTORY never looks at the standard profile.
    assert not (gimp_profile(home) / "plug-ins").exists()

    # A copy from before it was set is still uninstalled.
    ok(run_installer(checkout, home, "--gimp", gimp_profile(home) / "plug-ins"))
    ok(run_installer(checkout, home, "--uninstall", GIMP3_DIRECTORY=str(custom)))
    assert not (custom / "plug-ins" / GIMP_PLUGIN).exists()
    assert not (gimp_profile(home) / "plug-ins" / GIMP_PLUGIN).exists()


def test_krita_and_gimp_found_both_get_theirs(checkout, home):
    (home / ".local" / "share" / "krita").mkdir(parents=True)
    gimp_profile(home).mkdir(parents=True)

    out = ok(run_installer(checkout, home))
    assert (pykrita(home) / PLUGIN / "__init__.py").is_file()
    check_gimp_copy(gimp_profile(home) / "plug-ins")
    assert "Next, for Krita:" in out and "Next, for GIMP:" in out
    assert "No Krita" not in out and "No GIMP" not in out


def test_gimp_named_folders_only(checkout, home, tmp_path):
    (home / ".local" / "share" / "krita").mkdir(parents=True)
    gimp_profile(home).mkdir(parents=True)
    one, two = tmp_path / "one" / "plug-ins", tmp_path / "two"

    out = ok(run_installer(checkout, home, "--gimp", one, "--gimp", two))
    for folder in (one, two):
        check_gimp_copy(folder)
    # Only the folders named: neither the GIMP profile nor the Krita found here.
    assert not (gimp_profile(home) / "plug-ins").exists()
    assert not pykrita(home).exists()
    assert not (home / ".config" / "kritarc").exists()
    assert f"created {one}" in out
    assert "Next, for GIMP:" in out and "Next, for Krita:" not in out

    # And --krita alone leaves the GIMP profile found here alone.
    ok(run_installer(checkout, home, "--krita", tmp_path / "pykrita"))
    assert not (gimp_profile(home) / "plug-ins").exists()


def test_gimp_upgrade_in_place(checkout, home, private_settings):
    private_settings.parent.mkdir(parents=True)
    private_settings.write_text('{"token": "kept"}')
    folder = gimp_profile(home) / "plug-ins"
    folder.mkdir(parents=True)
    ok(run_installer(checkout, home))
    package = folder / GIMP_PLUGIN
    (package / "stale.py").write_text("from an older version\n")
    (package / "vendor" / "recraft_core" / "stale.py").write_text("old\n")
    as_if_shipped_before(package, "stale.py", "vendor/recraft_core/stale.py")
    # GIMP re-registers a plug-in only when the executable's mtime differs from pluginrc's.
    os.utime(package / "recraft.py", (2_000_000_000, 2_000_000_000))

    out = ok(run_installer(checkout, home))
    assert "replaced recraft/ (0.1.0, copy)" in out
    assert not (package / "stale.py").exists()
    assert not (package / "vendor" / "recraft_core" / "stale.py").exists()
    check_gimp_copy(folder)
    assert (package / "recraft.py").stat().st_mtime > 2_000_000_000
    assert private_settings.read_text() == '{"token": "kept"}'
    assert sorted(p.name for p in folder.iterdir()) == [GIMP_PLUGIN]  # no staging left


def test_gimp_run_bit_is_set_even_when_the_checkout_lost_it(built, tmp_path):
    fresh = make_checkout(tmp_path / "fresh")
    (fresh / "gimp_plugin" / GIMP_PLUGIN / "recraft.py").chmod(0o644)  # e.g. a zip download
    folder = tmp_path / "plug-ins"
    ok(run_installer(fresh, tmp_path / "home", "--gimp", folder, "--vendor", built["vendor"]))
    assert mode(folder / GIMP_PLUGIN / "recraft.py") == 0o755


def test_gimp_uninstall_removes_exactly_recraft(checkout, home, tmp_path, private_settings):
    private_settings.parent.mkdir(parents=True)
    private_settings.write_text('{"token": "kept"}')
    folder = gimp_profile(home, "3.2") / "plug-ins"
    (folder / "other").mkdir(parents=True)
    (folder / "other" / "other.py").write_text("#!/usr/bin/env python3\n")
    (folder / "recraft_notes").mkdir()
    (gimp_profile(home, "3.2") / "pluginrc").write_text("(file-version 1)\n")
    named = tmp_path / "named"
    ok(run_installer(checkout, home))
    ok(run_installer(checkout, home, "--gimp", named))

    out = ok(run_installer(checkout, home, "--uninstall"))
    assert sorted(p.name for p in folder.iterdir()) == ["other", "recraft_notes"]
    assert (folder / "other" / "other.py").is_file()
    assert (gimp_profile(home, "3.2") / "pluginrc").is_file()
    assert "removed recraft/" in out and "Restart GIMP" in out
    assert private_settings.read_text() == '{"token": "kept"}'
    # A folder it does not know is left until it is named.
    assert (named / GIMP_PLUGIN).is_dir()
    ok(run_installer(checkout, home, "--uninstall", "--gimp", named))
    assert not named.joinpath(GIMP_PLUGIN).exists() and named.is_dir()
    assert "nothing to do" in ok(run_installer(checkout, home, "--uninstall"))


def test_gimp_dry_run_changes_nothing(checkout, home, tmp_path):
    gimp_profile(home).mkdir(parents=True)
    named = tmp_path / "named"
    before = snapshot(home)

    out = ok(run_installer(checkout, home, "--dry-run"))
    assert "would create" in out and "would add recraft/" in out
    out = ok(run_installer(checkout, home, "--dry-run", "--gimp", named))
    assert f"would create {named}" in out
    assert snapshot(home) == before and not named.exists()

    ok(run_installer(checkout, home))
    installed = snapshot(home)
    assert "would replace recraft/" in ok(run_installer(checkout, home, "--dry-run"))
    out = ok(run_installer(checkout, home, "--uninstall", "--dry-run"))
    assert "would remove recraft/" in out
    assert snapshot(home) == installed


def test_gimp_zip_holds_the_recraft_folder_with_its_run_bit(built, tmp_path):
    assert f"Wrote {built['gimp_zip']}" in built["output"]
    assert "plug-ins folder" in built["output"]
    with zipfile.ZipFile(built["gimp_zip"]) as zf:
        names = zf.namelist()
        assert {n.split("/")[0] for n in names} == {GIMP_PLUGIN}
        assert f"{GIMP_PLUGIN}/" in names
        entry = zf.getinfo(f"{GIMP_PLUGIN}/recraft.py")
        assert entry.create_system == 3  # Unix: unzip applies the mode
        assert stat.S_IMODE(entry.external_attr >> 16) == 0o755
        assert stat.S_ISREG(entry.external_attr >> 16)
        canvas = zf.getinfo(f"{GIMP_PLUGIN}/gimp_canvas.py")
        assert stat.S_IMODE(canvas.external_attr >> 16) == 0o644
        for package in (*THIRD_PARTY, "recraft_core"):
            assert f"{GIMP_PLUGIN}/vendor/{package}/__init__.py" in names
        assert f"{GIMP_PLUGIN}/vendor/VERSIONS.txt" in names
        assert not [n for n in names if n.endswith(COMPILED) or "__pycache__" in n]
        assert f"{GIMP_PLUGIN}/INSTALLED.json" not in names
        assert zf.testzip() is None
    unzip = shutil.which("unzip")
    if unzip:  # what a user runs: it restores the run bit
        plug_ins = tmp_path / "plug-ins"
        done = subprocess.run(
            [unzip, "-q", str(built["gimp_zip"]), "-d", str(plug_ins)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        check_gimp_copy(plug_ins)
    with zipfile.ZipFile(built["gimp_zip"]) as zf:
        zf.extractall(tmp_path / "unzipped")
    check_vendored_stack(tmp_path / "unzipped" / GIMP_PLUGIN / "vendor", None, sys.executable)


@pytest.mark.parametrize("python", _pythons(), ids=lambda p: Path(p).name)
def test_the_installed_gimp_copy_works_without_site_packages(
    checkout, home, tmp_path, recraft_server, python
):
    # recraft.py needs GIMP's gi; what it puts on sys.path, its vendor/, must do the rest.
    folder = tmp_path / "plug-ins"
    ok(run_installer(checkout, home, "--gimp", folder))
    out = check_vendored_stack(folder / GIMP_PLUGIN / "vendor", recraft_server.base_url, python)
    assert f"credits {recraft_server.credits}" in out


def test_gimp_link_symlinks_the_checkout(checkout, tmp_path):
    source = checkout / "gimp_plugin" / GIMP_PLUGIN
    before = snapshot(checkout / "gimp_plugin")
    folder = tmp_path / "plug-ins"
    home = tmp_path / "home"

    out = ok(run_installer(checkout, home, "--gimp", folder, "--link"))
    package = folder / GIMP_PLUGIN
    assert not package.is_symlink() and package.is_dir()
    for name in ("recraft.py", "gimp_canvas.py"):
        assert (package / name).is_symlink()
        assert (package / name).resolve() == (source / name).resolve()
    assert os.access(package / "recraft.py", os.X_OK)
    assert not (package / "__pycache__").exists()
    vendor = package / "vendor"
    assert not vendor.is_symlink()
    assert (vendor / "recraft_core").is_symlink()
    assert (vendor / "recraft_core").resolve() == (checkout / "core" / "recraft_core").resolve()
    assert not (vendor / "requests").is_symlink()
    assert json.loads((package / "INSTALLED.json").read_text())["mode"] == "link"
    assert "added recraft/" in out

    ok(run_installer(checkout, home, "--gimp", folder))  # a copy over the links
    assert not (package / "recraft.py").is_symlink()
    ok(run_installer(checkout, home, "--gimp", folder, "--link"))
    ok(run_installer(checkout, home, "--gimp", folder, "--uninstall"))
    assert not package.exists()
    assert snapshot(checkout / "gimp_plugin") == before
    assert (checkout / "core" / "recraft_core" / "__init__.py").is_file()


GIMP_PLACES = textwrap.dedent(
    """
    for name, platform, env in (
        ("win32", "win32", {"APPDATA": r"C:\\Users\\a\\AppData\\Roaming"}),
        ("darwin", "darwin", {}),
        ("linux", "linux", {"XDG_CONFIG_HOME": "/x/config"}),
        ("linux-relative-xdg", "linux", {"XDG_CONFIG_HOME": "relative/ignored"}),
        ("linux-gimp3-dir", "linux", {"GIMP3_DIRECTORY": "/p/gimp"}),
        ("darwin-gimp3-relative", "darwin", {"GIMP3_DIRECTORY": "rel"}),
    ):
        places = GIMP.places(Host(platform, env, Path("/h")))
        out[name] = [[str(p.folder), p.label, p.shadowed, p.default] for p in places]
    """
)


def test_gimp_folder_table_for_windows_macos_and_linux():
    places = folder_tables(GIMP_PLACES)
    roaming = Path(r"C:\Users\a\AppData\Roaming")
    assert places["win32"] == [
        [str(roaming / "GIMP" / v / "plug-ins"), f"GIMP {v}", False, False] for v in ("3.0", "3.2")
    ]
    assert places["darwin"] == [
        [f"/h/Library/Application Support/GIMP/{v}/plug-ins", f"GIMP {v}", False, False]
        for v in ("3.0", "3.2")
    ]
    assert places["linux"] == [
        ["/x/config/GIMP/3.0/plug-ins", "GIMP 3.0", False, False],
        ["/x/config/GIMP/3.2/plug-ins", "GIMP 3.2", False, False],
        ["/h/.var/app/org.gimp.GIMP/config/GIMP/3.0/plug-ins", "GIMP 3.0 (Flatpak)", False, False],
        ["/h/.var/app/org.gimp.GIMP/config/GIMP/3.2/plug-ins", "GIMP 3.2 (Flatpak)", False, False],
        ["/h/snap/gimp/current/.config/GIMP/3.0/plug-ins", "GIMP 3.0 (Snap)", False, False],
        ["/h/snap/gimp/current/.config/GIMP/3.2/plug-ins", "GIMP 3.2 (Snap)", False, False],
    ]
    assert places["linux-relative-xdg"][0][0] == "/h/.config/GIMP/3.0/plug-ins"
    # GIMP3_DIRECTORY is the whole profile for every 3.x; the standard one is then ignored
    # (but for --uninstall), the sandboxed ones are not.
    custom = places["linux-gimp3-dir"]
    assert custom[0] == ["/p/gimp/plug-ins", "GIMP 3", False, False]
    assert [p[2] for p in custom[1:3]] == [True, True]
    assert not [p for p in custom[3:] if p[2]]
    assert places["darwin-gimp3-relative"][0][0] == "/h/rel/plug-ins"


def test_the_real_gimp_plugin_installs(built, tmp_path):
    real = REPO / "gimp_plugin" / GIMP_PLUGIN
    folder = tmp_path / "plug-ins"
    out = ok(run_installer(REPO, tmp_path / "home", "--gimp", folder, "--vendor", built["vendor"]))
    assert str(folder) in out
    for source in real.rglob("*"):
        relative = source.relative_to(real)
        if "__pycache__" in relative.parts or source.suffix == ".pyc":
            continue
        assert (folder / GIMP_PLUGIN / relative).read_bytes() == source.read_bytes(), relative
    assert mode(folder / GIMP_PLUGIN / "recraft.py") == 0o755
    assert (folder / GIMP_PLUGIN / "vendor" / "recraft_core" / "__init__.py").is_file()


TRIXIE = Path("/var/cache/editors-trixie")
INROOT = REPO / ".ci" / "editor-roots" / "inroot"
GIMP_LOOKUP = textwrap.dedent(
    """
    import json, sys
    from gi.repository import Gimp
    found = Gimp.get_pdb().lookup_procedure("plug-in-recraft-remove-background") is not None
    with open({result!r}, "w") as f:
        json.dump({{"found": found, "python": list(sys.version_info[:2])}}, f)
    """
)


def test_gimp_3_0_registers_the_installed_plugin(built, tmp_path):
    """The real plug-in, installed into GIMP3_DIRECTORY, is registered by GIMP 3.0 itself."""
    reason = None
    if not (TRIXIE / ".ready").exists():
        reason = f"no GIMP 3.0 chroot at {TRIXIE} (.ci/editor-roots/setup-editor-root.sh trixie)"
    elif os.geteuid() != 0:
        reason = "running GIMP in its chroot needs root (unshare --mount, chroot)"
    elif not str(tmp_path).startswith("/tmp/"):
        reason = f"{tmp_path} is not under /tmp, the only host folder the chroot sees"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so this fails rather than skips)")
        pytest.skip(reason)

    home, profile = tmp_path / "home", tmp_path / "gimp-profile"
    profile.mkdir()
    out = ok(run_installer(REPO, home, "--vendor", built["vendor"], GIMP3_DIRECTORY=str(profile)))
    assert f"GIMP 3: {profile / 'plug-ins'}" in out
    assert (profile / "plug-ins" / GIMP_PLUGIN / "recraft.py").is_file()

    result = tmp_path / "result.json"
    env = [
        "PATH=/usr/bin:/bin",
        "LANG=C.UTF-8",
        f"HOME={home}",
        f"GIMP3_DIRECTORY={profile}",
        f"RECRAFT_CONFIG={tmp_path / 'recraft' / 'settings.json'}",
    ]
    code = GIMP_LOOKUP.format(result=str(result))
    done = subprocess.run(
        [str(INROOT), str(TRIXIE), "/usr/bin/env", "-i", *env, "gimp-console-3.0",
         "-i", "-d", "-f", "--batch-interpreter=python-fu-eval", "-b", code, "--quit"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=240,
    )  # fmt: skip
    output = (done.stdout + done.stderr)[-4000:]
    assert done.returncode == 0, output
    assert result.is_file(), output
    assert json.loads(result.read_text())["found"], output


# -- only what the installer put there --------------------------------------------------------

USERS_OWN = "print('my own recraft tool')\n"


def foreign_recraft(folder: Path, package: str = GIMP_PLUGIN) -> Path:
    """A folder of the user's own that happens to bear the plug-in's name (as one user had:
    recraft/src/main.py), with an INSTALLED.json of some other tool's."""
    own = folder / package
    (own / "src").mkdir(parents=True)
    (own / "src" / "main.py").write_text(USERS_OWN)
    (own / "recraft.py").write_text("#!/usr/bin/env python3\nimport src.main\n")
    (own / "__init__.py").write_text("")
    (own / "INSTALLED.json").write_text('{"tool": "mine", "paths": ["src/"]}\n')
    return own


def test_a_foreign_gimp_recraft_folder_is_neither_replaced_nor_removed(checkout, home, tmp_path):
    folder = tmp_path / "plug-ins"
    own = foreign_recraft(folder)
    before = snapshot(folder)

    done = run_installer(checkout, home, "--gimp", folder)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{own} was not put there by this installer" in done.stdout
    assert "replaced" not in done.stdout
    assert f"Could not install into {folder}" in done.stderr
    assert snapshot(folder) == before

    for dry in ((), ("--dry-run",)):
        done = run_installer(checkout, home, "--uninstall", "--gimp", folder, *dry)
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"NOT REMOVED: {own} was not put there by this installer" in done.stdout
        assert "remove it yourself" in done.stdout
        assert f"Nothing was removed from {folder}" in done.stderr
        assert "Traceback" not in done.stderr
        assert snapshot(folder) == before

    # The same in a GIMP profile found by itself, where another install of ours is removed.
    profile = gimp_profile(home, "3.2") / "plug-ins"
    own = foreign_recraft(profile)
    theirs = snapshot(profile)
    ok(run_installer(checkout, home, "--gimp", gimp_profile(home, "3.0") / "plug-ins"))
    done = run_installer(checkout, home, "--uninstall")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{own} was not put there" in done.stdout
    assert "removed recraft/" in done.stdout  # 3.0's, which is ours
    assert not (gimp_profile(home, "3.0") / "plug-ins" / GIMP_PLUGIN).exists()
    assert snapshot(profile) == theirs


def test_a_foreign_krita_folder_or_desktop_file_is_left_alone(checkout, home, tmp_path):
    folder = tmp_path / "res" / "pykrita"
    own = foreign_recraft(folder, PLUGIN)
    (folder / "recraft_krita.desktop").write_text(DESKTOP.replace("Stand-in", "Mine"))
    before = snapshot(tmp_path / "res")

    done = run_installer(checkout, home, "--krita", folder)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{own} was not put there by this installer" in done.stdout
    done = run_installer(checkout, home, "--uninstall", "--krita", folder)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{own} was not put there by this installer" in done.stdout
    assert snapshot(tmp_path / "res") == before

    # A .desktop file of the plug-in's name with no install of ours beside it: the same.
    shutil.rmtree(own)
    before = snapshot(tmp_path / "res")
    for args in ((), ("--uninstall",)):
        done = run_installer(checkout, home, "--krita", folder, *args)
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"{folder / 'recraft_krita.desktop'} was not put there" in done.stdout
        assert snapshot(tmp_path / "res") == before


def test_install_then_uninstall_leaves_exactly_what_was_there(checkout, home):
    """Everything the user has in Krita's resource folder, beside the plug-in and even inside
    its folder, is there after an install and an uninstall; nothing else is."""
    resources = home / ".local" / "share" / "krita"
    (resources / "pykrita" / "other_plugin").mkdir(parents=True)
    (resources / "pykrita" / "other_plugin" / "__init__.py").write_text("")
    (resources / "actions").mkdir()
    (resources / "actions" / "other.action").write_text("<ActionCollection/>\n")
    before = snapshot(resources)

    ok(run_installer(checkout, home))
    package = resources / "pykrita" / PLUGIN
    assert (resources / "actions" / "recraft_krita.action").is_file()
    # Put there by the user after the install: kept by an uninstall, refused by an upgrade.
    (package / "tools" / "my_notes.txt").write_text("mine\n")
    (resources / "pykrita" / "recraft_krita_notes.txt").write_text("mine too\n")
    # Written by Krita's Python as it ran the plug-in: goes with it.
    (package / "tools" / "__pycache__").mkdir()
    (package / "tools" / "__pycache__" / "__init__.cpython-311.pyc").write_bytes(b"\0")
    installed = snapshot(resources)

    done = run_installer(checkout, home)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{package} holds what this installer did not put there: tools/my_notes.txt" in (
        done.stdout
    )
    assert snapshot(resources) == installed

    out = ok(run_installer(checkout, home, "--uninstall"))
    assert "kept recraft_krita/ with what it did not put there: tools/my_notes.txt" in out
    assert snapshot(resources) == before | {
        f"pykrita/{PLUGIN}": "dir",
        f"pykrita/{PLUGIN}/tools": "dir",
        f"pykrita/{PLUGIN}/tools/my_notes.txt": b"mine\n",
        "pykrita/recraft_krita_notes.txt": b"mine too\n",
    }
    # What is left is the user's, no longer an install: a second uninstall says so.
    done = run_installer(checkout, home, "--uninstall")
    assert done.returncode == 2 and f"{package} was not put there" in done.stdout


def test_uninstall_removes_an_action_file_only_as_the_marker_lists_it(built, tmp_path):
    """Krita reads .action files from its resource folder's actions/, beside pykrita/: an
    install puts one there only for a folder named pykrita, and an uninstall removes it only
    when the marker lists it at that place and it is unchanged."""
    home = tmp_path / "home"
    vendor = ("--vendor", built["vendor"])
    action = ACTION.encode()

    # The user's own action file, and an install whose plug-in has none: never touched.
    without = make_checkout(tmp_path / "without", action=False)
    first = tmp_path / "first"
    (first / "actions").mkdir(parents=True)
    (first / "actions" / "recraft_krita.action").write_text("<my shortcuts/>\n")
    ok(run_installer(without, home, "--krita", first / "pykrita", *vendor))
    ok(run_installer(without, home, "--uninstall", "--krita", first / "pykrita"))
    assert not (first / "pykrita" / PLUGIN).exists()
    assert (first / "actions" / "recraft_krita.action").read_text() == "<my shortcuts/>\n"

    # Nor by an install whose plug-in has one: it says so and leaves it.
    out = ok(run_installer(built["checkout"], home, "--krita", first / "pykrita"))
    assert f"left {first / 'actions' / 'recraft_krita.action'} as it is" in out
    ok(run_installer(built["checkout"], home, "--uninstall", "--krita", first / "pykrita"))
    assert (first / "actions" / "recraft_krita.action").read_text() == "<my shortcuts/>\n"

    # Ours, then changed by the user (their own shortcuts): kept.
    second = tmp_path / "second"
    ok(run_installer(built["checkout"], home, "--krita", second / "pykrita"))
    assert (second / "actions" / "recraft_krita.action").read_bytes() == action
    (second / "actions" / "recraft_krita.action").write_text("<changed/>\n")
    out = ok(run_installer(built["checkout"], home, "--uninstall", "--krita", second / "pykrita"))
    assert f"left {second / 'actions' / 'recraft_krita.action'} as it is" in out
    assert (second / "actions" / "recraft_krita.action").read_text() == "<changed/>\n"

    # Ours, in the resource folder it was written to: removed, and nothing else.
    third = tmp_path / "third"
    ok(run_installer(built["checkout"], home, "--krita", third / "pykrita"))
    # A copy of that install elsewhere: its marker names the first place, not this one.
    copy = tmp_path / "copy"
    shutil.copytree(third, copy)
    ok(run_installer(built["checkout"], home, "--uninstall", "--krita", copy / "pykrita"))
    assert (copy / "actions" / "recraft_krita.action").read_bytes() == action
    assert not (copy / "pykrita" / PLUGIN).exists()
    out = ok(run_installer(built["checkout"], home, "--uninstall", "--krita", third / "pykrita"))
    assert f"removed {third / 'actions' / 'recraft_krita.action'}" in out
    assert sorted(p.name for p in (third / "actions").iterdir()) == []

    # A folder of another name has no Krita resource folder around it: nothing goes outside.
    plain = tmp_path / "outer" / "plain"
    (tmp_path / "outer" / "actions").mkdir(parents=True)
    (tmp_path / "outer" / "actions" / "recraft_krita.action").write_text("<theirs/>\n")
    out = ok(run_installer(built["checkout"], home, "--krita", plain))
    assert "left out recraft_krita.action" in out
    ok(run_installer(built["checkout"], home, "--uninstall", "--krita", plain))
    assert (tmp_path / "outer" / "actions" / "recraft_krita.action").read_text() == "<theirs/>\n"
    assert sorted(p.name for p in (tmp_path / "outer").iterdir()) == ["actions", "plain"]
    assert not [p for p in plain.iterdir()]


def test_an_upgrade_over_kritas_import_of_the_zip(built, tmp_path):
    """Krita's Import Python Plugin from File puts the zip's files in place without an
    INSTALLED.json: the installer recognises its own plug-in and upgrades it."""
    home = tmp_path / "home"
    resources = home / ".local" / "share" / "krita"
    (resources / "actions").mkdir(parents=True)
    with zipfile.ZipFile(built["zip"]) as zf:
        zf.extractall(tmp_path / "unzipped")
    shutil.copytree(tmp_path / "unzipped" / PLUGIN, resources / "pykrita" / PLUGIN)
    shutil.copy(tmp_path / "unzipped" / "recraft_krita.desktop", resources / "pykrita")
    shutil.copy(tmp_path / "unzipped" / "recraft_krita.action", resources / "actions")
    (resources / "pykrita" / PLUGIN / "__pycache__").mkdir()
    (resources / "pykrita" / PLUGIN / "__pycache__" / "docker.cpython-311.pyc").write_bytes(b"0")

    out = ok(run_installer(built["checkout"], home))
    assert "replaced recraft_krita/ (an earlier copy, without INSTALLED.json)" in out
    manifest = json.loads((resources / "pykrita" / PLUGIN / "INSTALLED.json").read_text())
    assert "../actions/recraft_krita.action" in manifest["paths"]
    assert "vendor/requests/__init__.py" in manifest["files"]
    ok(run_installer(built["checkout"], home, "--uninstall"))
    assert sorted(p.name for p in (resources / "pykrita").iterdir()) == []
    assert sorted(p.name for p in (resources / "actions").iterdir()) == []


def old_marker(package: Path) -> None:
    """INSTALLED.json as the installer wrote it before it listed every file."""
    marker = package / "INSTALLED.json"
    manifest = json.loads(marker.read_text())
    for key in ("format", "files", "placed"):
        del manifest[key]
    marker.write_text(json.dumps(manifest, indent=2))


def test_an_upgrade_over_an_earlier_gimp_install(checkout, home, tmp_path, built):
    # By the earlier installer, whose marker listed no files; GIMP's Python has run it.
    folder = tmp_path / "plug-ins"
    ok(run_installer(checkout, home, "--gimp", folder))
    package = folder / GIMP_PLUGIN
    old_marker(package)
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "gimp_canvas.cpython-313.pyc").write_bytes(b"\0")
    out = ok(run_installer(checkout, home, "--gimp", folder))
    assert "replaced recraft/ (0.1.0, copy)" in out
    check_gimp_copy(folder)
    assert "files" in json.loads((package / "INSTALLED.json").read_text())
    old_marker(package)
    assert "removed recraft/" in ok(run_installer(checkout, home, "--uninstall", "--gimp", folder))
    assert not package.exists()

    # Unpacked from the release zip, as its README says: no marker at all.
    with zipfile.ZipFile(built["gimp_zip"]) as zf:
        zf.extractall(folder)
    out = ok(run_installer(checkout, home, "--gimp", folder))
    assert "replaced recraft/ (an earlier copy, without INSTALLED.json)" in out
    check_gimp_copy(folder)

    # Unless it holds what the plug-in never shipped: then it is the user's to sort out.
    for marker in (old_marker, lambda package: (package / "INSTALLED.json").unlink()):
        marker(package)
        (package / "src").mkdir()
        (package / "src" / "main.py").write_text(USERS_OWN)
        before = snapshot(folder)
        for args in ((), ("--uninstall",)):
            done = run_installer(checkout, home, "--gimp", folder, *args)
            assert done.returncode == 2, done.stdout + done.stderr
            assert "looks like an earlier install of the Recraft plug-in" in done.stdout
            assert "src/" in done.stdout
            assert snapshot(folder) == before
        shutil.rmtree(package / "src")


def https_pypi_cert(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as a proxy's or a mirror's."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not on this machine")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    done = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return cert, key


def test_a_certificate_python_does_not_trust_is_explained(built, tmp_path):
    """Without pip, an index whose certificate this Python does not trust (a proxy that
    inspects HTTPS, a Python that misses the system's certificates): the installer says how
    to point Python at the right certificates, and doing so works."""
    cert, key = https_pypi_cert(tmp_path)
    fresh = make_checkout(tmp_path / "fresh")
    python, bindir = no_pip_python(tmp_path)
    home = tmp_path / "home"
    with fake_pypi(built["vendor"], tmp_path / "pypi", tls=(cert, key)) as index:
        assert index.startswith("https://")
        env = user_env(home, PATH=os.pathsep.join([str(bindir), str(FAKE_KRITA)]),
                       RECRAFT_PYPI=index)  # fmt: skip
        for name in ("SSL_CERT_FILE", "SSL_CERT_DIR"):
            env.pop(name, None)
        done = run_installer(fresh, home, python=python, env=env)
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"could not fetch {index}/requests/json" in done.stderr
        assert "does not trust the certificate 127.0.0.1 showed" in done.stderr
        # Where the system's certificates are, or (when this Python reads them already) how
        # to bring them up to date, and how to name a proxy's.
        assert "SSL_CERT_FILE" in done.stderr and "ca-certificates" in done.stderr
        assert "pip" not in done.stderr  # pip would not change what Python trusts
        assert "Traceback" not in done.stderr
        assert not (home / ".local").exists()

        out = ok(run_installer(fresh, home, python=python, env={**env, "SSL_CERT_FILE": str(cert)}))
    assert "with PyPI's wheels (no pip here)" in out
    assert (pykrita(home) / PLUGIN / "vendor" / "requests" / "__init__.py").is_file()
