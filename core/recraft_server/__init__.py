"""A local Recraft-compatible API server for tests and for trying the plug-ins offline.

It speaks the wire format of https://external.api.recraft.ai/v1 (Bearer auth, JSON and
multipart bodies, GenerateImageResponse / ProcessImageResponse answers, result URLs), enforces
the API's documented rules on its own (it never imports ``recraft_core``), charges credits from
Recraft's price list, and answers with deterministic images whose rules are documented in
``recraft_server.render``.  Faults can be injected per test (``RecraftServer.fault``) and every
request is logged for inspection (``RecraftServer.requests`` / ``RecraftServer.last``).

    from recraft_server import RecraftServer

    with RecraftServer(token="test-token") as server:
        api = server.base_url            # "http://127.0.0.1:PORT/v1"
        ...
        server.fault("status", status=429, retry_after=2)
        server.last("/images/inpaint").files["mask"][0].bbox

Standalone: ``python -m recraft_server --port 8000 --token dev``.
"""

from .app import RecraftServer

__all__ = ["RecraftServer"]
__version__ = "0.1.0"
