# The local server's fixtures (recraft_server, recraft_server_session) for every suite.
from recraft_server.testing import recraft_server, recraft_server_session  # noqa: F401
