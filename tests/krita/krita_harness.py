"""Launching the real Krita headless with the plug-in installed: what conftest.py's fixtures and
the benches (bench/bench_krita_stall.py, bench_editor_decode.py) share. No pytest here.

    from krita_harness import Xvfb, editors, install_probe, install_plugin, launch, profile_env

    with Xvfb() as display:
        install_probe(home)
        env = profile_env(home, display, server.base_url, server.token)
        install_plugin(home, env)
        result = launch(editors()[0], home, env, out_dir, "warm_up", {})

The probe plug-in (recraft_probe) runs one function of a payload file (payloads.py unless
told otherwise) on Krita's GUI thread and writes what it returned; `launch` gives that back.

Which Kritas (the host's, the chroots', RECRAFT_KRITA_EDITORS) and how one is started are
tests/editor_harness.py's, shared with GIMP's tests; this file is what is Krita's own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import editor_harness
from editor_harness import INSTALLER, ROOT, Editor, run, run_installer  # noqa: F401  (conftest.py)
from xvfb import SYSTEM_PATH, Xvfb  # noqa: F401  (the Krita tests and benches use Xvfb from here)

HERE = Path(__file__).resolve().parent
PAYLOADS = HERE / "payloads.py"
PROBE = "recraft_probe"
# A cold start takes 20 s on an idle machine, far more on a busy one.
LAUNCH_TIMEOUT = 180


def host_editor() -> Editor | None:
    return editor_harness.host_editor("krita")


def editors() -> list[Editor]:
    """The host's Krita, the chroots', those in RECRAFT_KRITA_EDITORS (editor_harness)."""
    return editor_harness.editors("krita")


# -- the display and the profile --------------------------------------------------------------


def profile_env(home: Path, display: str, api_url: str, token: str) -> dict:
    """A clean environment inside `home`: nothing from the developer's shell reaches Krita,
    the installer or the plug-in (no saved Recraft token, no pyenv, no PYTHONPATH)."""
    runtime = home / ".runtime"
    runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
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


def install_plugin(home: Path, env: dict) -> None:
    """The plug-in, as a user installs it: install/install.py, run as this HOME's user by the
    system's Python. AssertionError with the installer's output when it fails."""
    python = shutil.which("python3", path=SYSTEM_PATH)
    run_installer("--krita", pykrita_dir(home), python=python, env=env, timeout=120)


# -- one launch -------------------------------------------------------------------------------


TROUBLE = re.compile(r"(?i:recraft)|Traceback|\w+Error\b")
# Krita's own messages quote layer names (`name = "Recraft inpaint: …"`): not the plug-in's.
_QUOTED_NAME = re.compile(r'name = "[^"]*"')


def trouble(text: str) -> list[str]:
    """Lines of Krita's output that mention the plug-in or report a Python error."""
    return [line for line in text.splitlines() if TROUBLE.search(_QUOTED_NAME.sub("", line))]


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
        return trouble(self.stderr)


def launch(
    editor: Editor,
    home: Path,
    env: dict,
    out_dir: Path,
    call: str,
    args: dict,
    payloads: Path = PAYLOADS,
    timeout: float = LAUNCH_TIMEOUT,
) -> Result:
    """Start Krita, run `call` of the payload file in it, and return its outcome; KritaFailed
    when Krita hangs, dies before reporting, or the payload raised."""
    out_dir.mkdir(parents=True, exist_ok=True)
    result_file = out_dir / f"{call}.result.json"
    stderr_file = out_dir / f"{call}.stderr.txt"
    # A Krita in a chroot sees the host's /tmp only: the payloads go beside the results.
    copy = out_dir / Path(payloads).name
    shutil.copyfile(payloads, copy)
    if copy.name != PAYLOADS.name:  # a payload file of its own borrows payloads.py's helpers
        shutil.copyfile(PAYLOADS, out_dir / PAYLOADS.name)
    env = dict(
        env,
        RECRAFT_PROBE_PAYLOAD=str(copy),
        RECRAFT_PROBE_CALL=call,
        RECRAFT_PROBE_ARGS=json.dumps(args),
        RECRAFT_PROBE_RESULT=str(result_file),
        RECRAFT_PROBE_OUT=str(out_dir),
    )
    # A session of its own (editor_harness.run): a hung Krita is killed with all it started.
    returncode = run(editor.argv("--nosplash"), stderr_file, timeout, env=env, cwd=out_dir)
    stderr = stderr_file.read_text(errors="replace")
    tail = "\n".join(stderr.splitlines()[-60:])
    if returncode is None:
        raise KritaFailed(f"{editor} did not finish {call} in {timeout} s\n{tail}")
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


class Stories:
    """What a payload's stories reported (each one's value, or the error it raised, with when
    it ran) and the server's requests of that launch, to match to the story that made them:
    Krita and the server share the clock."""

    def __init__(self, result: Result, requests: list):
        self.result = result
        self.all_requests = requests

    def story(self, name: str) -> dict:
        got = self.result.value[name]["got"]
        assert "error" not in got, got["error"]
        return got

    def requests(self, name: str, path: str = "") -> list:
        """The requests to `path` that began while the story ran."""
        entry = self.result.value[name]
        return [
            r
            for r in self.all_requests
            if path in r.path and entry["started"] <= r.started <= entry["ended"] + 0.1
        ]
