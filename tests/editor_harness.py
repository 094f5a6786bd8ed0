"""The editors the tests drive, Krita and GIMP, found and started the same way. No pytest here:
the benches use it too (tests/editor_fixtures.py holds the pytest side).

    for editor in editors("krita"):            # str(editor) == "krita-5.1.5"
        status = run(editor.argv("--nosplash"), out / "stderr.txt", timeout=180, env=env)

Where editors come from:

- the Debian chroots .ci/editor-roots/setup-editor-root.sh builds in /var/cache (or in the
  folder RECRAFT_EDITOR_ROOTS names): editors-trixie (GIMP 3.0, Krita 5.2), editors-sid (GIMP
  3.2, Krita 5.3), editors-experimental (Krita 6.0; its GIMP is sid's and is not offered
  twice). A root counts once its `.ready` exists; `.ready` names what it holds (read_ready);
- Krita: the host's `krita`, its version from Debian's package, and any listed in
  RECRAFT_KRITA_EDITORS as "VERSION=COMMAND" words (COMMAND a wrapper that runs another build);
- GIMP: RECRAFT_GIMP_ROOTS, space-separated roots, replaces the chroots above.

One launch (run, started): the editor in a session of its own, stdin closed, stdout and stderr
into a file; after the timeout, or when the caller is done with it, everything that session
started is killed. An editor in a chroot runs through .ci/editor-roots/inroot, in a private
mount namespace: nothing stays mounted and launches may overlap. A chroot sees the host's /tmp
and network, so paths under /tmp and the local server on 127.0.0.1 are the same inside.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from xvfb import SYSTEM_PATH

ROOT = Path(__file__).resolve().parents[1]
INROOT = ROOT / ".ci" / "editor-roots" / "inroot"
INSTALLER = ROOT / "install" / "install.py"
ROOTS = Path(os.environ.get("RECRAFT_EDITOR_ROOTS", "/var/cache"))
# The chroots each editor is taken from, in the order tests run.
SUITES = {"krita": ("trixie", "sid", "experimental"), "gimp": ("trixie", "sid")}
SETUP_HINT = (
    "build the chroots with .ci/editor-roots/setup-editor-root.sh trixie, sid and experimental,"
    " as root, about 1.5 min each"
)
HOST_HINT = {"krita": "apt-get install -y --no-install-recommends krita python3-pyqt5"}
NAMES = {"krita": "Krita", "gimp": "GIMP 3"}


@dataclass(frozen=True)
class Editor:
    """One editor version the tests run: `program` on the host, or inside the chroot `root`."""

    app: str  # "krita" or "gimp": the first word of the test ids
    version: str  # upstream's, as Debian packages it: "5.2.9", "3.0.4"
    program: tuple[str, ...]  # ("/usr/bin/krita",), ("gimp-console-3.0",) inside the root
    root: Path | None = None

    def __str__(self) -> str:
        return f"{self.app}-{self.version}"

    def argv(self, *args: str, program: str | None = None, env: dict | None = None) -> list[str]:
        """The command line that runs this editor with `args`. `program`: another binary of
        the same install instead (GIMP's GUI beside its console). `env`: the whole environment
        the program gets, through env -i, for a command line that must stand on its own (one
        run() without env= would otherwise hand down the caller's environment)."""
        command = [program] if program else list(self.program)
        if env is not None:
            command = ["/usr/bin/env", "-i", *(f"{k}={v}" for k, v in env.items()), *command]
        if self.root is not None:
            command = [str(INROOT), str(self.root), *command]
        return [*command, *args]


# -- which editors ----------------------------------------------------------------------------


def upstream_version(debian: str) -> str | None:
    """Debian's version to upstream's first three numbers: "1:5.3.4.1+dfsg-1+b1" -> "5.3.4",
    "3.0.4-3+deb13u11" -> "3.0.4"."""
    found = re.match(r"(?:\d+:)?(\d+\.\d+(?:\.\d+)?)", debian.strip())
    return found.group(1) if found else None


@dataclass(frozen=True)
class Ready:
    """What a finished chroot holds. setup-editor-root.sh writes its .ready as GIMP's console
    binary, then the versions of the gimp and krita packages as dpkg gives them:

        /usr/bin/gimp-console-3.0
        3.0.4-3+deb13u11
        1:5.2.9+dfsg-1+deb13u1
    """

    root: Path
    gimp_console: str | None  # the binary's name: gimp-console-3.0
    gimp: str | None  # upstream versions: 3.0.4
    krita: str | None  # 5.2.9

    def version(self, app: str) -> str | None:
        return getattr(self, app)


def read_ready(root: Path) -> Ready | None:
    """The root's .ready, read; None while there is none (the root is missing or unfinished)."""
    try:
        lines = (root / ".ready").read_text().split()
    except OSError:
        return None
    console, gimp, krita = [*lines, "", "", ""][:3]
    return Ready(
        root,
        Path(console).name if "gimp-console-" in console else None,
        upstream_version(gimp),
        upstream_version(krita),
    )


def roots(app: str) -> list[Path]:
    """The chroots an app's editors are looked for in."""
    listed = os.environ.get("RECRAFT_GIMP_ROOTS", "").split() if app == "gimp" else []
    return [Path(r) for r in listed] or [ROOTS / f"editors-{suite}" for suite in SUITES[app]]


def _installed_version(package: str) -> str | None:
    """A host package's upstream version (`krita --version` needs a display and aborts
    without one)."""
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True
        ).stdout
    except OSError:
        return None
    return upstream_version(out)


def host_editor(app: str = "krita") -> Editor | None:
    """The editor installed on the host (Krita only: Debian's GIMP there is 2.10)."""
    binary = shutil.which(app, path=SYSTEM_PATH) if app in HOST_HINT else None
    return Editor(app, _installed_version(app) or "host", (binary,)) if binary else None


def editors(app: str) -> list[Editor]:
    """Every version of the app found here: the host's, the chroots', those listed in the
    environment."""
    host = host_editor(app)
    found = [host] if host else []
    for ready in filter(None, map(read_ready, roots(app))):
        version = ready.version(app)
        program = ready.gimp_console if app == "gimp" else app
        if version and program:
            found.append(Editor(app, version, (program,), ready.root))
    if app == "krita":
        for word in os.environ.get("RECRAFT_KRITA_EDITORS", "").split():
            version, _, command = word.partition("=")
            found.append(Editor(app, version, (command,)))
    return found


def unusable(editor: Editor | None, app: str) -> str | None:
    """Why the editor cannot run here (none found, or a chroot without root); None if it can."""
    if editor is None:
        looked = " ".join(map(str, roots(app)))
        host = f"on the host ({HOST_HINT[app]}) or " if app in HOST_HINT else ""
        chroots = f"in the chroots (looked for .ready in {looked}); {SETUP_HINT}"
        return f"no {NAMES[app]} found {host}{chroots}"
    if editor.root is not None and os.geteuid() != 0:
        return f"running {editor} in its chroot needs root (unshare --mount, chroot)"
    return None


# -- the plug-ins, installed ------------------------------------------------------------------


def run_installer(
    *args, python: str | None = None, env: dict | None = None, timeout: float = 300
) -> str:
    """install/install.py with these arguments, as a user runs it: by `python` (this
    interpreter when None), in `env` (the caller's when None); its output. AssertionError with
    the installer's output when it fails."""
    if not INSTALLER.exists():
        raise FileNotFoundError(f"{INSTALLER.relative_to(ROOT)} does not exist")
    done = subprocess.run(
        [python or sys.executable, str(INSTALLER), *map(str, args)],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    words = " ".join(map(str, args))
    assert done.returncode == 0, f"install.py {words} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


# -- one launch -------------------------------------------------------------------------------


@contextmanager
def started(
    argv: list[str], log: Path, env: dict | None = None, cwd: Path | None = None
) -> Iterator[subprocess.Popen]:
    """`argv` running in a session of its own, stdin closed, stdout and stderr into `log`; on
    leaving, if it still runs, it and everything it started are killed. `env`: its environment
    (the caller's when None)."""
    with open(log, "w") as out:
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def run(
    argv: list[str], log: Path, timeout: float, env: dict | None = None, cwd: Path | None = None
) -> int | None:
    """`argv` started as started() does, waited for: its exit status, or None when it was
    still running after `timeout` seconds and was killed with all it started."""
    with started(argv, log, env, cwd) as proc:
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
