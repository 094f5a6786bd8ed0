"""Drive the real Krita with the plug-in installed as a user installs it.

Each test gets a fresh HOME, copied from a profile warmed once per Krita version, installs the
plug-in into it with install/install.py, and starts Krita under a shared Xvfb with the
recraft_probe plug-in beside it. The probe runs one function of payloads.py on Krita's GUI
thread and writes what it returned; `krita.run("name", **args)` gives that back.

Krita versions: the host's `krita`, the chroots .ci/editor-roots builds, plus any listed in
RECRAFT_KRITA_EDITORS as "VERSION=COMMAND" words (tests/editor_harness.py finds them, shared
with GIMP's tests). Test ids name the version: test_x[krita-5.1.5]. A missing Krita or Xvfb
skips, or fails under CI (tests/editor_fixtures.py).

The launch itself (profiles, the installer, Krita under Xvfb) is in krita_harness.py, which
the benches use too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from editor_fixtures import parametrize_by_version, usable, xvfb_display
from krita_harness import (
    INSTALLER,
    ROOT,
    Editor,
    Result,
    install_plugin,
    install_probe,
    launch,
    profile_env,
    pykrita_dir,
)

FIXTURES = (xvfb_display,)  # imported for pytest, which finds fixtures by name


def pytest_generate_tests(metafunc):
    parametrize_by_version(metafunc, "editor", "krita")


@pytest.fixture(scope="session")
def krita_profile(editor, xvfb_display, tmp_path_factory, recraft_server_session) -> Path:
    """A HOME where this Krita has started once (its first start builds caches for ~20 s),
    with the probe installed; tests copy it."""
    usable(editor, "krita")
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
        install_plugin(self.home, self.env())

    def launch(self, call: str, args: dict, payloads: Path, timeout: float = 400) -> Result:
        """Start Krita and run `call` of another payload file (payloads.py goes beside it,
        for its helpers), returning the outcome as it is: the tests look at its errors."""
        return launch(
            self.editor, self.home, self.env(), self.out_dir, call, args, payloads, timeout
        )

    def run(self, call: str, token: str | None = None, clean: bool = True, **args) -> Result:
        """Start Krita, run payloads.<call>(out_dir, **args) in it and return the outcome.
        `token` replaces the server's token as RECRAFT_API_TOKEN. `clean`: fail when any
        exception was caught in Krita or stderr reports trouble with the plug-in."""
        result = launch(self.editor, self.home, self.env(token), self.out_dir, call, args)
        if clean:
            assert result.errors == [], "exceptions in Krita:\n" + "\n".join(result.errors)
            assert result.plugin_stderr() == [], "Krita's stderr reports trouble"
        return result


_SHARED: dict = {}


@pytest.fixture
def once(editor):
    """`once(name, make)`: make() run once per Krita version for every test that shares
    `name`, whatever order pytest runs them in (a module-scoped fixture would run again each
    time the version changes back); what make raised fails each of those tests."""

    def shared(name: str, make):
        key = (name, str(editor))
        if key not in _SHARED:
            try:
                _SHARED[key] = make()
            except Exception as e:
                _SHARED[key] = e
        found = _SHARED[key]
        if isinstance(found, Exception):
            raise found
        return found

    return shared


@pytest.fixture
def krita(editor, krita_profile, xvfb_display, recraft_server, tmp_path) -> Krita:
    return Krita(editor, krita_profile, xvfb_display, recraft_server, tmp_path)


@pytest.fixture(scope="session")
def new_krita(editor, krita_profile, xvfb_display, recraft_server_session, tmp_path_factory):
    """Make a Krita (its own HOME, the plug-in installed) outside any one test's tmp_path:
    for a launch several tests share, from a module-scoped fixture."""

    def make(name: str) -> Krita:
        folder = tmp_path_factory.mktemp(f"{editor}-{name}")
        return Krita(editor, krita_profile, xvfb_display, recraft_server_session, folder)

    return make
