"""pytest plugin (loaded with ``-p recraft_server.testing``): a shared local Recraft server.

Fixtures:
    recraft_server_session  session-scoped RecraftServer(token="test-token"), started once.
    recraft_server          the same server, reset (log, faults, files, styles, explore
                            images, credits, url_ttl) before each test.
"""

from __future__ import annotations

import pytest

TEST_TOKEN = "test-token"


@pytest.fixture(scope="session")
def recraft_server_session():
    # Imported here so loading the plugin stays cheap for test runs that never use the server.
    from recraft_server import RecraftServer

    server = RecraftServer(token=TEST_TOKEN)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def recraft_server(recraft_server_session):
    recraft_server_session.reset()
    yield recraft_server_session
