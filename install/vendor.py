"""The third-party packages a plug-in carries in its vendor/ folder, and how they are built.

Editors bundle their own Python (Krita 3.10 to 3.14, GIMP 3.10 to 3.14), none with requests,
and Krita's Windows build has no certificates for urllib. So every plug-in ships requests and
certifi, built from pure-Python wheels: one copy then loads on every Python and every OS.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import wheels
from errors import InstallError

REQUIREMENTS = ("requests", "certifi")
# What REQUIREMENTS bring in, as importable top-level packages: all must be there.
PACKAGES = ("requests", "urllib3", "idna", "charset_normalizer", "certifi")
OLDEST_PYTHON = "3.10"
COMPILED = (".so", ".pyd", ".dylib", ".dll")
STAMP = ".recraft-vendor.json"  # in a folder this installer built: what it was built from

PIP_OPTIONS = (
    "--only-binary=:all:",
    "--platform",
    "any",
    "--python-version",
    OLDEST_PYTHON,
    "--implementation",
    "py",
    "--no-compile",
    "--disable-pip-version-check",
)


@dataclass
class Vendor:
    """A checked folder of vendored packages."""

    folder: Path
    versions: dict[str, str] = field(default_factory=dict)  # distribution name -> version
    how: str = ""  # "built", "reused", "given": for the report


def pip_command(folder: str | Path) -> list[str]:
    """The pip arguments after `pip`."""
    return ["install", "--target", str(folder), *PIP_OPTIONS, *REQUIREMENTS]


def shell_line(args: list[str]) -> str:
    """`args` as a user would type them into this platform's shell."""
    return subprocess.list2cmdline(args) if os.name == "nt" else shlex.join(args)


def by_hand(folder: str | Path) -> str:
    """The command that builds a vendor folder, for a user to run."""
    return shell_line(["python3", "-m", "pip", *pip_command(folder)])


def compiled_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in COMPILED)


def check(folder: Path) -> dict[str, str]:
    """The versions in a vendor folder; InstallError if it cannot serve every Python."""
    if not folder.is_dir():
        raise InstallError(f"There is no vendor folder at {folder}.")
    missing = [name for name in PACKAGES if not (folder / name / "__init__.py").is_file()]
    if missing:
        raise InstallError(
            f"The vendor folder {folder} lacks {', '.join(missing)}. Build it with:\n"
            f"  {by_hand(folder)}"
        )
    compiled = compiled_files(folder)
    if compiled:
        shown = "\n  ".join(str(p.relative_to(folder)) for p in compiled[:10])
        raise InstallError(
            f"The vendor folder {folder} holds compiled files, which load on one Python and "
            f"one OS only:\n  {shown}\nBuild it from pure wheels instead:\n"
            f"  {by_hand(folder)}"
        )
    return versions(folder)


def versions(folder: Path) -> dict[str, str]:
    found = {}
    for info in sorted(folder.glob("*.dist-info")):
        name = version = None
        try:
            text = (info / "METADATA").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if not line.strip():
                break  # headers end at the first blank line
            if line.startswith("Name:"):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("Version:"):
                version = line.split(":", 1)[1].strip()
        if name and version:
            found[name] = version
    return found


def _stamp_matches(folder: Path) -> bool:
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return stamp.get("requirements") == list(REQUIREMENTS) and stamp.get("python") == (
        OLDEST_PYTHON
    )


@cache  # each try runs a pip: the installer asks while planning, then while building
def find_pip() -> list[str] | None:
    """A pip that works: this Python's, else any on PATH (the wheels do not depend on it)."""
    candidates = [[sys.executable, "-m", "pip"]]
    candidates += [[p] for p in (shutil.which("pip3"), shutil.which("pip")) if p]
    for command in candidates:
        try:
            done = subprocess.run(
                [*command, "--version"], capture_output=True, text=True, timeout=60
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return command
    return None


def _pip_env() -> dict[str, str]:
    env = dict(os.environ)
    # A user's pip config may say --user or require a virtualenv; both refuse --target.
    for name in ("PIP_TARGET", "PIP_PREFIX", "PIP_ROOT", "PIP_USER", "PIP_REQUIRE_VIRTUALENV"):
        env.pop(name, None)
    env["PIP_USER"] = "0"
    env["PIP_REQUIRE_VIRTUALENV"] = "0"
    return env


def build(folder: Path) -> None:
    """Build the vendor folder at `folder` with pip, or without pip from PyPI's JSON API
    (wheels.py), replacing any there; all or nothing."""
    pip = find_pip()
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}-build-"))
    try:
        target = work / "vendor"
        if pip is None:
            wheels.fetch(target, tuple(map(int, OLDEST_PYTHON.split("."))))
        else:
            _pip_install(pip, target)
        # Console scripts and bytecode are for the Python that ran pip, not the editors'.
        shutil.rmtree(target / "bin", ignore_errors=True)
        for cache in list(target.rglob("__pycache__")):
            shutil.rmtree(cache, ignore_errors=True)
        check(target)
        stamp = {"requirements": list(REQUIREMENTS), "python": OLDEST_PYTHON}
        (target / STAMP).write_text(json.dumps(stamp, indent=2) + "\n", encoding="utf-8")
        old = work / "old"
        if folder.exists():
            folder.rename(old)
        target.rename(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _pip_install(pip: list[str], target: Path) -> None:
    done = subprocess.run(
        [*pip, *pip_command(target)], capture_output=True, text=True, env=_pip_env(), timeout=900
    )
    if done.returncode != 0:
        tail = "\n  ".join((done.stdout + done.stderr).strip().splitlines()[-8:])
        raise InstallError(
            "pip could not fetch the plug-in's vendored packages (it needs the network "
            f"once):\n  {tail}\n"
            "Check the connection or proxy and run this again, or pass --vendor DIR with a "
            "folder built elsewhere."
        )


def plan(cache: Path, given: Path | None, rebuild: bool) -> tuple[str, Path]:
    """What prepare() would do, without doing it: ("given"|"reused"|"build", folder)."""
    if given is not None:
        return "given", given
    if not rebuild and cache.is_dir() and _stamp_matches(cache):
        return "reused", cache
    return "build", cache


def prepare(cache: Path, given: Path | None, rebuild: bool) -> Vendor:
    """The vendor folder to install from: the one given, the cached build, or a new build."""
    how, folder = plan(cache, given, rebuild)
    if how == "reused":
        try:
            return Vendor(folder, check(folder), how)
        except InstallError:
            how = "build"  # a damaged cache is rebuilt, not reported
    if how == "build":
        build(folder)
        how = "built"
    return Vendor(folder, check(folder), how)


def _ignore_for_copy(top: Path):
    """What is not copied from a vendor folder: bytecode, scripts, a package's own tests."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        here = Path(directory)
        skipped = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))}
        if here == top:
            skipped |= {n for n in names if n == "bin" or n.startswith(".")}
        elif here.parent == top and "tests" in names:
            # certifi ships certifi/tests: dead weight, and pytest would collect it.
            skipped.add("tests")
        return skipped

    return ignore


def copy_third_party(vendor: Vendor, dest: Path) -> None:
    """Copy the vendored packages into `dest` (which must not exist yet)."""
    shutil.copytree(vendor.folder, dest, ignore=_ignore_for_copy(vendor.folder))
