"""The pytest side of editor_harness.py, for the Krita and GIMP conftests: one test per editor
version (ids krita-5.1.5, gimp-3.0.4), a missing editor skipped locally and failed under CI,
and the X server the editors' GUIs draw on.

    from editor_fixtures import parametrize_by_version, usable, xvfb_display

    def pytest_generate_tests(metafunc):
        parametrize_by_version(metafunc, "editor", "krita")
"""

from __future__ import annotations

import os

import pytest
from editor_harness import Editor, editors, unusable
from xvfb import INSTALL_HINT, Xvfb


def unavailable(reason: str):
    """Skip locally; CI has every editor installed, so there a missing one is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so this fails rather than skips)", pytrace=False)
    pytest.skip(reason)


def parametrize_by_version(metafunc, argname: str, app: str) -> None:
    """Tests that take `argname` run once per version of `app` found (the session's fixtures
    once per version too); with none found, once with None, as "<app>-missing"."""
    if argname in metafunc.fixturenames:
        found = editors(app)
        metafunc.parametrize(
            argname,
            found or [None],
            ids=[str(e) for e in found] or [f"{app}-missing"],
            scope="session",
        )


def usable(editor: Editor | None, app: str) -> Editor:
    """The editor, if it can run here; unavailable() with the reason otherwise."""
    reason = unusable(editor, app)
    if reason:
        unavailable(reason)
    return editor


@pytest.fixture(scope="session")
def xvfb_display():
    """One X server for the session: its display, ":N"."""
    if not Xvfb.available():
        unavailable(f"Xvfb is not installed ({INSTALL_HINT})")
    with Xvfb() as display:
        yield display
