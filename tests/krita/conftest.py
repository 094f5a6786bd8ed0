"""Drive the real Krita with the plug-in installed as a user installs it.

Each test gets a fresh HOME, copied from a profile warmed once per Krita version, installs the
plug-in into it with install/install.py, and starts Krita under a shared Xvfb with the
recraft_probe plug-in beside it. The probe runs one function of payloads.py on Krita's GUI
thread and writes what it returned; `krita.run("name", **args)` gives that back.

Krita versions: the host's `krita`, plus any listed in RECRAFT_KRITA_EDITORS as
"VERSION=COMMAND" words (COMMAND a wrapper that runs another build, e.g. in a chroot). Test ids
name the version: test_x[krita-5.1.5]. A missing Krita or Xvfb skips, or fails under CI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
INSTALLER = ROOT / "install" / "install.py"
PAYLOADS = HERE / "payloads.py"
PROBE = "recraft_probe"
# A cold start takes 20 s on an idle machine, far more on a busy one.
LAUNCH_TIMEOUT = 180
# Krita runs the system Python: no pyenv or virtualenv interpreter may come first.
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
INSTALL_HINT = "apt-get install -y --no-install-recommends krita python3-pyqt5 xvfb xauth"


def unavailable(reason: str):
    """Skip locally; CI has everything installed, so there a missing editor is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails rather than skips)", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class Editor:
    version: str
    command: tuple[str, ...]

    def __str__(self) -> str:
        return f"krita-{self.version}"


def _host_version() -> str:
    """Debian's package version ("1:5.1.5+dfsg-2+deb12u1" -> "5.1.5"): `krita --version`
    needs a display and aborts without one."""
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "krita"], capture_output=True, text=True
        ).stdout
    except OSError:
        out = ""
    found = re.search(r"(?:\d+:)?(\d+(?:\.\d+)+)", out)
    return found.group(1) if found else "host"


INROOT = HERE.parent.parent / ".ci" / "editor-roots" / "inroot"
ROOTS = Path(os.environ.get("RECRAFT_EDITOR_ROOTS", "/var/cache"))


def _chroot_editors() -> list[Editor]:
    """Krita in the Debian chroots .ci/editor-roots/setup-editor-root.sh builds (trixie 5.2,
    sid 5.3, experimental 6.0): their .ready file names the packaged versions."""
    found = []
    for suite in ("trixie", "sid", "experimental"):
        root = ROOTS / f"editors-{suite}"
        ready = root / ".ready"
        if not ready.is_file():
            continue
        krita = re.search(r"\b(?:\d+:)?([5-9]\.\d+\.\d+)", ready.read_text().split("\n", 2)[-1])
        version = krita.group(1) if krita else suite
        found.append(Editor(version, (str(INROOT), str(root), "krita")))
    return found


def editors() -> list[Editor]:
    found = []
    host = shutil.which("krita", path=SYSTEM_PATH)
    if host:
        found.append(Editor(_host_version(), (host,)))
    found += _chroot_editors()
    for word in os.environ.get("RECRAFT_KRITA_EDITORS", "").split():
        version, _, command = word.partition("=")
        found.append(Editor(version, (command,)))
    return found


def pytest_generate_tests(metafunc):
    if "editor" in metafunc.fixturenames:
        found = editors()
        metafunc.parametrize(
            "editor",
            found or [None],
            ids=[str(e) for e in found] or ["krita-missing"],
            scope="session",
        )


# -- the display and the profile --------------------------------------------------------------


@pytest.fixture(scope="session")
def xvfb_display():
    """One X server for the session; -displayfd picks a free display without races, and
    -noreset keeps it accepting connections while it would reset after each Krita quits."""
    xvfb = shutil.which("Xvfb", path=SYSTEM_PATH)
    if not xvfb:
        unavailable(f"Xvfb is not installed ({INSTALL_HINT})")
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_end), "-screen", "0", "1600x1000x24", "-noreset"],
        pass_fds=(write_end,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    with os.fdopen(read_end) as f:
        number = f.readline().strip()
    if not number:
        proc.kill()
        raise RuntimeError("Xvfb did not report a display")
    yield f":{number}"
    proc.terminate()
    proc.wait(timeout=10)


def profile_env(home: Path, display: str, api_url: str, token: str) -> dict:
    """A clean environment inside `home`: nothing from the developer's shell reaches Krita,
    the installer or the plug-in (no saved Recraft token, no pyenv, no PYTHONPATH)."""
    runtime = home / ".runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {k: os.environ[k] for k in ("USER", "LOGNAME", "TZ") if k in os.environ}
    env.update(
        HOME=str(home),
        PATH=SYSTEM_PATH,
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        DISPLAY=display,
        QT_QPA_PLATFORM="xcb",
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_RUNTIME_DIR=str(runtime),
        RECRAFT_CONFIG=str(home / ".config" / "recraft" / "settings.json"),
        RECRAFT_API_URL=api_url,
        RECRAFT_API_TOKEN=token,
    )
    return env


def pykrita_dir(home: Path) -> Path:
    return home / ".local" / "share" / "krita" / "pykrita"


def enable_plugin(kritarc: Path, name: str) -> None:
    """[python] enable_<name>=true, edited line by line: Krita writes kritarc in a dialect
    configparser mangles."""
    lines = kritarc.read_text().splitlines() if kritarc.exists() else []
    key = f"enable_{name}="
    if "[python]" not in lines:
        lines += ["", "[python]"]
    start = lines.index("[python]") + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith("[")), len(lines))
    lines[start:end] = [key + "true", *(x for x in lines[start:end] if not x.startswith(key))]
    kritarc.write_text("\n".join(lines) + "\n")


def install_probe(home: Path) -> None:
    pykrita = pykrita_dir(home)
    pykrita.mkdir(parents=True, exist_ok=True)
    shutil.copytree(HERE / PROBE, pykrita / PROBE, dirs_exist_ok=True)
    shutil.copy(HERE / f"{PROBE}.desktop", pykrita)
    config = home / ".config"
    config.mkdir(parents=True, exist_ok=True)
    enable_plugin(config / "kritarc", PROBE)
    # The raster canvas: Xvfb has no usable OpenGL, and screenshots grab widgets.
    (config / "kritadisplayrc").write_text("[General]\nOpenGLRenderer=none\n")


# -- one launch -------------------------------------------------------------------------------


_TROUBLE = re.compile(r"(?i:recraft)|Traceback|\w+Error\b")


class KritaFailed(AssertionError):
    pass


@dataclass
class Result:
    """What one Krita launch produced: the payload's return value, the exceptions the probe
    caught anywhere in Krita's Python (the plug-in's included), Krita's stderr."""

    value: object
    errors: list[str]
    stderr: str
    krita: str | None  # the version Krita reports
    out_dir: Path

    def plugin_stderr(self) -> list[str]:
        """stderr lines that mention the plug-in or report a Python error: a plug-in that
        fails to load says so only there."""
        return [line for line in self.stderr.splitlines() if _TROUBLE.search(line)]


def launch(editor: Editor, home: Path, env: dict, out_dir: Path, call: str, args: dict) -> Result:
    out_dir.mkdir(parents=True, exist_ok=True)
    result_file = out_dir / f"{call}.result.json"
    stderr_file = out_dir / f"{call}.stderr.txt"
    # A Krita in a chroot sees the host's /tmp only: the payloads go beside the results.
    payloads = out_dir / PAYLOADS.name
    shutil.copyfile(PAYLOADS, payloads)
    env = dict(
        env,
        RECRAFT_PROBE_PAYLOAD=str(payloads),
        RECRAFT_PROBE_CALL=call,
        RECRAFT_PROBE_ARGS=json.dumps(args),
        RECRAFT_PROBE_RESULT=str(result_file),
        RECRAFT_PROBE_OUT=str(out_dir),
    )
    with open(stderr_file, "w") as err:
        # A session of its own, so a hung Krita and anything it started can be killed whole.
        proc = subprocess.Popen(
            [*editor.command, "--nosplash"],
            env=env,
            cwd=out_dir,
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            returncode = proc.wait(timeout=LAUNCH_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            returncode = None
    stderr = stderr_file.read_text(errors="replace")
    tail = "\n".join(stderr.splitlines()[-60:])
    if returncode is None:
        raise KritaFailed(f"{editor} did not finish {call} in {LAUNCH_TIMEOUT} s\n{tail}")
    if not result_file.exists():
        raise KritaFailed(f"{editor} exited {returncode} before {call} reported\n{tail}")
    outcome = json.loads(result_file.read_text())
    if not outcome["ok"]:
        caught = "\n".join(outcome["errors"])
        raise KritaFailed(
            f"{call} failed in {editor}:\n{outcome['error']}\n"
            f"exceptions caught in Krita:\n{caught or 'none'}\nstderr tail:\n{tail}"
        )
    return Result(
        value=outcome["value"],
        errors=outcome["errors"],
        stderr=stderr,
        krita=outcome["krita"],
        out_dir=out_dir,
    )


@pytest.fixture(scope="session")
def krita_profile(editor, xvfb_display, tmp_path_factory, recraft_server_session) -> Path:
    """A HOME where this Krita has started once (its first start builds caches for ~20 s),
    with the probe installed; tests copy it."""
    if editor is None:
        unavailable(f"Krita is not installed ({INSTALL_HINT})")
    home = tmp_path_factory.mktemp(f"{editor}-profile")
    install_probe(home)
    server = recraft_server_session
    env = profile_env(home, xvfb_display, server.base_url, server.token)
    warm = launch(editor, home, env, tmp_path_factory.mktemp(f"{editor}-warm-up"), "warm_up", {})
    if editor.version != "host":
        assert (warm.krita or "").startswith(editor.version), f"{editor} says {warm.krita}"
    return home


class Krita:
    """One test's Krita: its own HOME with the plug-in installed, run as often as needed."""

    def __init__(self, editor: Editor, profile: Path, display: str, server, tmp_path: Path):
        self.editor = editor
        self.home = tmp_path / "home"
        self.pykrita = pykrita_dir(self.home)
        self.out_dir = tmp_path / "out"
        self.server = server
        self.display = display
        shutil.copytree(profile, self.home, symlinks=True)  # links stay links, not copies
        self.install()

    def env(self, token: str | None = None) -> dict:
        return profile_env(
            self.home, self.display, self.server.base_url, token or self.server.token
        )

    def install(self) -> None:
        """The plug-in, as a user installs it: the installer, run as this HOME's user."""
        if not INSTALLER.exists():
            pytest.fail(f"{INSTALLER.relative_to(ROOT)} does not exist", pytrace=False)
        python = shutil.which("python3", path=SYSTEM_PATH)
        done = subprocess.run(
            [python, str(INSTALLER), "--krita", str(self.pykrita)],
            env=self.env(),
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"the installer failed:\n{done.stdout}\n{done.stderr}"

    def run(self, call: str, token: str | None = None, clean: bool = True, **args) -> Result:
        """Start Krita, run payloads.<call>(out_dir, **args) in it and return the outcome.
        `token` replaces the server's token as RECRAFT_API_TOKEN. `clean`: fail when any
        exception was caught in Krita or stderr reports trouble with the plug-in."""
        result = launch(self.editor, self.home, self.env(token), self.out_dir, call, args)
        if clean:
            assert result.errors == [], "exceptions in Krita:\n" + "\n".join(result.errors)
            assert result.plugin_stderr() == [], "Krita's stderr reports trouble"
        return result


@pytest.fixture
def krita(editor, krita_profile, xvfb_display, recraft_server, tmp_path) -> Krita:
    return Krita(editor, krita_profile, xvfb_display, recraft_server, tmp_path)
