import os
import subprocess
import sys
from pathlib import Path

import pytest

# The local server's fixtures (recraft_server, recraft_server_session) for every suite.
from recraft_server.testing import recraft_server, recraft_server_session  # noqa: F401

CORE = Path(__file__).resolve().parent.parent / "core"


def _checkout_env(**extra) -> dict:
    """os.environ for a child Python that imports this checkout's packages."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(CORE), env.get("PYTHONPATH")) if p)
    return env


@pytest.fixture(autouse=True)
def private_settings(tmp_path, monkeypatch):
    """Each test gets its own settings file: a developer's saved token never leaks in."""
    path = tmp_path / "recraft-settings" / "settings.json"
    monkeypatch.setenv("RECRAFT_CONFIG", str(path))
    monkeypatch.delenv("RECRAFT_API_TOKEN", raising=False)
    monkeypatch.delenv("RECRAFT_API_URL", raising=False)
    return path


@pytest.fixture
def checkout_env():
    return _checkout_env


@pytest.fixture
def run_cli(tmp_path):
    """run_cli(*args, input=None, **env): `recraft` run in tmp_path; its CompletedProcess."""

    def run(*args, input=None, **env):
        return subprocess.run(
            [sys.executable, "-m", "recraft_core", *map(str, args)],
            input=input,
            cwd=tmp_path,
            env=_checkout_env(**env),
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run
