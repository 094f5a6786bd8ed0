"""The core's tests: each gets a results library of its own (the CLI records what it is paid
for), never the developer's; `cli` runs `recraft` against the local server."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_library(tmp_path, monkeypatch):
    path = tmp_path / "recraft-library"
    monkeypatch.setenv("RECRAFT_LIBRARY", str(path))
    return path


@pytest.fixture
def cli(recraft_server, run_cli):
    """cli(*args, **env): `recraft` pointed at the local server with its token; `env` wins."""

    def run(*args, **env):
        env = {
            "RECRAFT_API_URL": recraft_server.base_url,
            "RECRAFT_API_TOKEN": recraft_server.token,
            **env,
        }
        return run_cli(*args, **env)

    return run
