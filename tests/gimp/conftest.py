"""Drive the real GIMP 3 headless, with the plug-in installed as a user installs it.

GIMP runs in a Debian chroot built by .ci/editor-roots/setup-editor-root.sh: trixie gives GIMP
3.0, sid gives GIMP 3.2 (RECRAFT_GIMP_ROOTS lists other roots, space-separated). Each root
found parametrizes the tests, with the version in the id: test_x[gimp-3.0.4]. Finding them
(their `.ready`), the ids, skipping (or failing when CI is set) without one, and starting GIMP
in its root through .ci/editor-roots/inroot are tests/editor_harness.py's and
editor_fixtures.py's, shared with Krita's tests; this file is what is GIMP's own.

The plug-in goes into a profile made once per session and version by install/install.py --gimp.
One launch runs `gimp-console -i -d -f --batch-interpreter=python-fu-eval -b ... --quit` inside
the chroot as root with a clean environment (env -i): HOME and GIMP3_DIRECTORY in that profile,
RECRAFT_CONFIG a file in it, RECRAFT_API_URL and RECRAFT_API_TOKEN pointing at the local server.
The batch code runs checks, functions of gimp_checks.py, one after another; each builds an
image, calls the plug-in's procedures through the PDB and reports what GIMP ends up with (layer
trees, pixel dumps, return status and message). The server's records are matched to the check
that made them by time (GIMP and the server share the host's clock). Several checks share a
launch, so a whole module costs a few launches per version.

The chroot shares the host's network namespace and /tmp, so paths under pytest's temporary
folder (which must be under /tmp) are the same inside, and GIMP reaches the server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import editor_harness
import numpy as np
import pytest
from editor_fixtures import parametrize_by_version, usable
from editor_harness import Editor, run, run_installer, started

HERE = Path(__file__).resolve().parent
CHECKS = HERE / "gimp_checks.py"
# A cold first start (plug-in queries, fonts) takes 15 s on an idle machine, far more on a busy
# one; a launch that runs many checks adds about a second per procedure call.
LAUNCH_TIMEOUT = 300


def editors() -> list[Editor]:
    """The GIMPs in the chroots, or in RECRAFT_GIMP_ROOTS (editor_harness)."""
    return editor_harness.editors("gimp")


def pytest_generate_tests(metafunc):
    parametrize_by_version(metafunc, "gimp_editor", "gimp")


# -- the plug-in, installed -------------------------------------------------------------------


def install_plugin(plugins: Path) -> Path:
    """plug-ins/recraft/ as a user gets it: install/install.py --gimp, which puts the plug-in,
    recraft_core and pure-Python requests, urllib3, idna, charset_normalizer and certifi in
    it (building them once in install/build/vendor)."""
    run_installer("--gimp", plugins)
    folder = plugins / "recraft"
    assert os.access(folder / "recraft.py", os.X_OK), "recraft.py is not executable"
    return folder


def release_zip(out_dir: Path) -> Path:
    """The GIMP release archive, as install/install.py --zip builds it."""
    out = run_installer("--zip", out_dir)
    found = sorted(out_dir.glob("recraft-gimp-*.zip"))
    assert len(found) == 1, f"{len(found)} GIMP zips in {out_dir}: {out}"
    return found[0]


def unpack_release(archive: Path, plugins: Path) -> Path:
    """Unpacked into the plug-ins folder as `unzip` does it: the Unix modes kept (the run
    bit of recraft.py comes from the archive, nothing here sets it)."""
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, plugins))
            mode = info.external_attr >> 16
            if mode and not info.is_dir():
                path.chmod(mode & 0o777)
    folder = plugins / "recraft"
    assert os.access(folder / "recraft.py", os.X_OK), "recraft.py in the zip is not executable"
    return folder


# -- launches ---------------------------------------------------------------------------------


class GimpFailed(AssertionError):
    pass


@dataclass
class Check:
    """One check's outcome: its return value, and what the server received meanwhile."""

    name: str
    value: dict
    requests: list  # recraft_server RequestRecords, in order
    launch: Launch

    def sent(self, path: str):
        """The last request whose path contains `path`."""
        found = [r for r in self.requests if path in r.path]
        assert found, f"{self.name}: the server got no {path} request, only {self.paths()}"
        return found[-1]

    def paths(self) -> list[str]:
        return [f"{r.method} {r.path} {r.status}" for r in self.requests]

    def pixels(self, dump: dict) -> np.ndarray:
        """A dump the check wrote ({"file", "width", "height"}) as an array: height x width
        x 4 (RGBA) for layers, x 1 for the selection."""
        data = (self.launch.work / dump["file"]).read_bytes()
        return np.frombuffer(data, np.uint8).reshape(dump["height"], dump["width"], -1)


@dataclass
class Launch:
    editor: Editor
    work: Path  # the dumps, spec.json, report.json and gimp-output.txt
    returncode: int | None  # None: killed after LAUNCH_TIMEOUT
    output: str  # GIMP's stdout and stderr, its plug-ins' included
    seconds: float
    report: dict  # what gimp_checks.main wrote
    requests: list  # everything the server received during the launch

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.output.splitlines()[-lines:])

    def check(self, name: str) -> Check:
        entry = self.report.get("checks", {}).get(name)
        if entry is None:
            raise GimpFailed(
                f"{self.editor}: check {name!r} never reported (GIMP exited {self.returncode} "
                f"after {self.seconds:.0f} s)\n{self.tail()}"
            )
        if not entry["ok"]:
            raise GimpFailed(f"{self.editor}: check {name!r} raised in GIMP:\n{entry['error']}")
        started, finished = entry["started"], entry["finished"]
        requests = [r for r in self.requests if started <= r.started <= finished]
        return Check(name, entry["value"], requests, self)


class Gimp:
    """One GIMP version with its own profile (GIMP3_DIRECTORY) holding the plug-in."""

    def __init__(self, editor: Editor, home: Path, server, from_zip: Path | None = None) -> None:
        if not str(home).startswith("/tmp/"):
            pytest.fail(f"{home} is not under /tmp, the only host folder the chroot sees")
        self.editor = editor
        self.home = home
        self.profile = home / "gimp-profile"
        self.server = server
        self.launches: dict[str, Launch | GimpFailed] = {}
        self.env: dict[str, str] = {}  # more of GIMP's environment (RECRAFT_LIBRARY, say)
        self.dialog_open = False  # screenshots(): the dialog still open after OK was pressed
        if from_zip is None:
            install_plugin(self.profile / "plug-ins")
        else:
            unpack_release(from_zip, self.profile / "plug-ins")
        self.checks = Path(shutil.copy(CHECKS, home / CHECKS.name))  # where GIMP sees it
        for more in HERE.glob("checks_*.py"):  # gimp_checks.main takes their CHECKS too
            shutil.copy(more, home / more.name)

    def command(self, code: str, token: str, display: str | None = None) -> list[str]:
        """gimp-console with `code` as batch code; GIMP's GUI on `display` when given."""
        gui = {"DISPLAY": display, "GDK_BACKEND": "x11", "NO_AT_BRIDGE": "1"} if display else {}
        console = self.editor.program[0]  # gimp-console-3.0; its GUI is gimp-3.0
        binary = console.replace("gimp-console-", "gimp-") if display else None
        env = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "HOME": str(self.home),
            "GIMP3_DIRECTORY": str(self.profile),
            "RECRAFT_CONFIG": str(self.home / "recraft" / "settings.json"),
            "RECRAFT_API_URL": self.server.base_url,
            "RECRAFT_API_TOKEN": token,
            **self.env,
            **gui,
        }
        flags = ["-d", "-f"] if display else ["-i", "-d", "-f"]
        batch = ["--batch-interpreter=python-fu-eval", "-b", code, "--quit"]
        return self.editor.argv(*flags, *batch, program=binary, env=env)

    def screenshots(self, display: str, prompt: str, out: Path) -> list[Path]:
        """GIMP's GUI on `display` running gimp_checks.show_off: a screenshot of the image
        after inpaint, then one of the Inpaint dialog over it, then one after pressing OK in
        the dialog with its prompt left empty (out/gimp-*.png)."""
        from PIL import ImageGrab

        work = self.home / "screenshots"
        work.mkdir(exist_ok=True)
        marker = work / "shown"
        args = {"prompt": prompt, "marker": str(marker)}
        code = self._batch(work, [("show_off", "show_off", args)])
        # No welcome dialog over the picture on a first start.
        (self.profile / "gimprc").write_text("(show-welcome-dialog no)\n")
        self.server.reset()
        shots = [out / "gimp-inpaint-result.png", out / "gimp-inpaint-dialog.png"]
        log = work / "gimp-output.txt"
        # GIMP's GUI stays open: killed with its plug-ins when done (or failed).
        with started(self.command(code, self.server.token, display), log) as proc:
            for number, shot in enumerate(shots, 1):
                flag = Path(f"{marker}.{number}")
                deadline = time.monotonic() + LAUNCH_TIMEOUT
                while not flag.exists():
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise GimpFailed(
                            f"GIMP's GUI never got to screenshot {number}:\n"
                            + log.read_text(errors="replace")[-3000:]
                        )
                    time.sleep(0.2)
                time.sleep(4)  # the window (or the dialog) draws
                screen = ImageGrab.grab(xdisplay=display).convert("RGB")
                screen.crop(screen.getbbox()).save(shot)  # GIMP's window, not the black
            # OK, as a user presses it (Return, in the focused dialog): no window manager
            # runs to give the dialog the focus, so xdotool does.
            env = dict(os.environ, DISPLAY=display)
            search = ["xdotool", "search", "--name", "^Recraft: Inpaint"]
            found = subprocess.run(search, env=env, capture_output=True, text=True, check=True)
            window = found.stdout.split()[0]
            subprocess.run(["xdotool", "windowfocus", "--sync", window], env=env, check=True)
            subprocess.run(["xdotool", "key", "Return"], env=env, check=True)
            time.sleep(3)
            screen = ImageGrab.grab(xdisplay=display).convert("RGB")
            shots.append(out / "gimp-inpaint-refused.png")
            screen.crop(screen.getbbox()).save(shots[-1])
            self.dialog_open = subprocess.run(search, env=env).returncode == 0
        return shots

    def launch(
        self, label: str, checks: list[tuple], token: str | None = None, faults: tuple = ()
    ) -> Launch:
        """Start GIMP and run `checks`, (name, function in gimp_checks.py, kwargs) tuples, in
        order; once per label and session: later calls give the first outcome (or failure).
        The server is reset first, then given `faults` (keyword arguments of
        recraft_server.fault); its records are kept in the Launch. `token` replaces the
        server's token as RECRAFT_API_TOKEN."""
        if label not in self.launches:
            try:
                self.launches[label] = self._launch(label, checks, token, faults)
            except GimpFailed as e:
                self.launches[label] = e
        outcome = self.launches[label]
        if isinstance(outcome, GimpFailed):
            raise GimpFailed(*outcome.args)  # a fresh one: tracebacks would pile up
        return outcome

    def _batch(self, work: Path, checks: list[tuple]) -> str:
        """The batch code that runs `checks` ((name, function, kwargs) tuples) of gimp_checks.py
        in GIMP, writing work/report.json."""
        spec = work / "spec.json"
        spec.write_text(
            json.dumps(
                {
                    "work": str(work),
                    "report": str(work / "report.json"),
                    "checks": [{"name": n, "call": c, "args": a} for n, c, a in checks],
                }
            )
        )
        return f"import runpy; runpy.run_path({str(self.checks)!r})['main']({str(spec)!r})"

    def _launch(self, label, checks, token, faults) -> Launch:
        work = self.home / f"launch-{len(self.launches) + 1}-{label}"
        work.mkdir()
        code = self._batch(work, checks)
        self.server.reset()
        for fault in faults:
            self.server.fault(**fault)
        log = work / "gimp-output.txt"
        begun = time.monotonic()
        # A session of its own (editor_harness.run): a hung GIMP is killed with its plug-ins.
        returncode = run(self.command(code, token or self.server.token), log, LAUNCH_TIMEOUT)
        seconds = time.monotonic() - begun
        output = log.read_text(errors="replace")
        report_file = work / "report.json"
        report = json.loads(report_file.read_text()) if report_file.exists() else {}
        requests = self.server.requests
        launch = Launch(self.editor, work, returncode, output, seconds, report, requests)
        if returncode is None:
            raise GimpFailed(f"{self.editor} did not finish in {LAUNCH_TIMEOUT} s\n{launch.tail()}")
        if report.get("gimp") != self.editor.version:
            raise GimpFailed(
                f"{self.editor}: the batch code did not report (GIMP {report.get('gimp')}, "
                f"exit {returncode})\n{launch.tail()}"
            )
        return launch


@pytest.fixture(scope="session")
def usable_editor(gimp_editor) -> Editor:
    """The version's GIMP, once it is known to be runnable (before anything is built)."""
    return usable(gimp_editor, "gimp")


@pytest.fixture(scope="session")
def gimp_pool() -> dict:
    """Each version's Gimp, made once: pytest may interleave the versions' tests, and then
    makes a session fixture that depends on the version again."""
    return {}


@pytest.fixture(scope="session")
def zipped_gimp(usable_editor, gimp_pool, tmp_path_factory, recraft_server_session) -> Gimp:
    """The version's GIMP with the plug-in from the release zip, unpacked into its profile's
    plug-ins folder as the README says, and nothing else."""
    key = ("zip", usable_editor)
    if key not in gimp_pool:
        if "zip" not in gimp_pool:
            gimp_pool["zip"] = release_zip(tmp_path_factory.mktemp("release"))
        home = tmp_path_factory.mktemp(f"{usable_editor}-zip")
        gimp_pool[key] = Gimp(usable_editor, home, recraft_server_session, gimp_pool["zip"])
    return gimp_pool[key]


@pytest.fixture(scope="session")
def gimp(usable_editor, gimp_pool, tmp_path_factory, recraft_server_session) -> Gimp:
    if usable_editor not in gimp_pool:
        home = tmp_path_factory.mktemp(str(usable_editor))
        gimp_pool[usable_editor] = Gimp(usable_editor, home, recraft_server_session)
    return gimp_pool[usable_editor]
