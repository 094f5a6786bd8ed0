"""install/install.py, run as a user runs it: a subprocess with HOME, XDG_*, APPDATA and
LOCALAPPDATA pointing into tmp_path, so nothing of the developer's is looked at or touched.

The installer runs from a copy of the checkout with a small stand-in plug-in, so these tests
do not change when the real plug-in does; one test installs the real one. The vendored
packages are built with pip once per session, by the installer itself, and reused after.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "install"
PLUGIN = "recraft_krita"
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


def make_checkout(root: Path, action: bool = True) -> Path:
    """A checkout holding this repo's installer and recraft_core, and a stand-in plug-in."""
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
    return root


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """os.environ with every folder the installer reads pointing into `home`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("XDG_") and k not in ("APPDATA", "LOCALAPPDATA", "PYTHONPATH")
    }
    env.update(
        HOME=str(home),
        USERPROFILE=str(home),
        APPDATA=str(home / "AppData" / "Roaming"),
        LOCALAPPDATA=str(home / "AppData" / "Local"),
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


PLACES = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from editors import KRITA, Host
    out = {}
    for platform, env in (
        ("win32", {"APPDATA": r"C:\\Users\\a\\AppData\\Roaming",
                   "LOCALAPPDATA": r"C:\\Users\\a\\AppData\\Local"}),
        ("darwin", {}),
        ("linux", {"XDG_DATA_HOME": "relative/ignored"}),
    ):
        places = KRITA.places(Host(platform, env, Path("/h")))
        out[platform] = [[str(p.folder), str(p.config), p.default] for p in places]
    print(json.dumps(out))
    """
)


def test_folder_table_for_windows_macos_and_linux():
    done = subprocess.run(
        [sys.executable, "-I", "-c", PLACES, str(INSTALL)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    places = json.loads(done.stdout)
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


def test_without_pip_and_without_a_build_it_says_so_and_installs_nothing(tmp_path):
    fresh = make_checkout(tmp_path / "fresh")
    env_dir = tmp_path / "nopip"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    home = tmp_path / "home"
    env = user_env(home, PATH=str(bindir))  # no pip3 or pip on PATH either

    done = run_installer(fresh, home, python=python, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "has none, nor is there a pip on PATH" in done.stderr
    assert "python3-pip" in done.stderr and "--vendor DIR" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (home / ".local").exists() and not (home / ".config").exists()
    assert not (fresh / "install" / "build" / "vendor").exists()


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
