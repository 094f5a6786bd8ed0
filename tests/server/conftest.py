"""Fixtures for the server tests; the server itself comes from the recraft_server.testing
plugin."""

from __future__ import annotations

import pytest

from .helpers import Api


@pytest.fixture
def api(recraft_server) -> Api:
    client = Api(recraft_server)
    yield client
    client.session.close()
