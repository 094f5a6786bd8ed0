"""The core's tests: each gets a results library of its own (the CLI records what it is paid
for), never the developer's."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def private_library(tmp_path, monkeypatch):
    path = tmp_path / "recraft-library"
    monkeypatch.setenv("RECRAFT_LIBRARY", str(path))
    return path
