"""The API token never shows in Krita, however Recraft's answer quotes it: a run through Tools ›
Recraft and one through the docker, each refused by the local server in words that hold the
token (as it is, and escaped in the JSON text). What the user reads names the failure, with
the token blanked out; neither the job's error (its text, repr and attributes) nor Krita's
output (stdout and stderr, the plug-in's log included) holds it.

The payload runs inside Krita, whose Python has no pytest: `token_faults` below is written to
a file of its own for the launch, and imports only what Krita has.
"""

from __future__ import annotations

import inspect
import json

import pytest
from krita_harness import launch, profile_env

from recraft_server import RecraftServer

pytestmark = pytest.mark.timeout(420)

TOKEN = "rk_4f9aC2e81B"
ACTION_PATH = "/images/removeBackground"  # Tools › Recraft › Remove Background
DOCKER_PATH = "/images/generations"  # Generate, in the docker
PROMPT = "a straw hat"
# How each is refused: a 401 naming the token, and a 400 whose JSON escapes its first letter
# (only the decoded text holds the token).
ACTION_FAULT = {
    "status": 401,
    "code": "unauthorized",
    "message": f"Invalid token {TOKEN}.",
}
DOCKER_FAULT = {
    "status": 400,
    "content_type": "application/json",
    "body": '{"code": "unauthorized", "message": "Invalid token \\u0072k_4f9aC2e81B."}',
}


def leaked(text: str) -> bool:
    """The token or its escaped spelling: both hold "4f9a", which no escape here touches."""
    return TOKEN in text or "4f9a" in text


# -- inside Krita ------------------------------------------------------------------------------


def token_faults(out_dir, prompt):
    """Remove Background by its Tools › Recraft action, then Generate by the docker's Run, on
    a layer of flat colour; every text the docker and the canvas showed meanwhile, what the
    docker says after each, the job's error as a log would show it (str, repr, attributes),
    and the layers left."""
    from krita import Krita
    from recraft_krita import api, extension
    from recraft_krita import docker as plugin_docker
    from recraft_probe.helpers import new_document, set_active_node, settle
    from recraft_probe.qt import QtCore

    shown = []  # each text put up, in the docker or over the canvas, as it was put up

    def seen(show):
        def record(text, *args, **kwargs):
            shown.append(text)
            return show(text, *args, **kwargs)

        return record

    for module in (plugin_docker, extension):
        module.float_message = seen(module.float_message)

    def ended(job):
        assert api.wait_idle(120), "the Recraft job did not end"
        error = job.error
        texts = [] if error is None else [str(error), repr(error), repr(vars(error))]
        outcome = {
            "message": api.docker().message,
            "shown": list(shown),
            "last_error": api.runner().last_error,
            "error": texts,
            "user_message": None if error is None else error.user_message,
        }
        shown.clear()
        return outcome

    doc = new_document(320, 256, "token")
    layer = doc.createNode("photo", "paintlayer")
    doc.rootNode().addChildNode(layer, None)
    blue = QtCore.QByteArray(bytes([200, 120, 40, 255]) * (320 * 256))  # B, G, R, A
    layer.setPixelData(blue, 0, 0, 320, 256)
    settle(doc)
    yield
    assert set_active_node(doc, layer), "could not make the layer active"
    panel = api.docker()
    panel.show()
    panel.show_message = seen(panel.show_message)
    assert api.wait_idle(120), "the balance request did not end"
    out = {}

    Krita.instance().action("recraft_remove_background").trigger()
    job = api.runner().job
    assert job is not None, f"the action started no job: {api.runner().last_error}"
    out["action"] = ended(job)

    panel.choose("generate")
    panel.set_values({"prompt": prompt, "n": 1})
    panel.run()
    job = api.runner().job
    assert job is not None, f"Run started no job: {panel.message}"
    out["docker"] = ended(job)
    settle(doc)
    yield
    out["layers"] = [node.name() for node in doc.rootNode().childNodes()]
    doc.setModified(False)
    return out


# -- the test ----------------------------------------------------------------------------------


@pytest.fixture
def token_server():
    """A local server of its own taking TOKEN (the session's has a plain test token)."""
    with RecraftServer(token=TOKEN) as server:
        yield server


def test_an_answer_quoting_the_token_never_shows_it(krita, token_server, tmp_path):
    """Recraft refuses both runs quoting the token: the docker names the failure with the
    token blanked out, the document is as it was, and nothing Krita printed or the job kept
    holds the token."""
    token_server.fault("status", path=ACTION_PATH, **ACTION_FAULT)
    token_server.fault("body", path=DOCKER_PATH, **DOCKER_FAULT)
    payload = tmp_path / "token_payloads.py"
    payload.write_text(inspect.getsource(token_faults))
    env = profile_env(krita.home, krita.display, token_server.base_url, TOKEN)
    result = launch(
        krita.editor, krita.home, env, tmp_path / "out", "token_faults", {"prompt": PROMPT},
        payloads=payload,
    )  # fmt: skip
    got = result.value

    def sent(path):
        return [r.status for r in token_server.requests if path in r.path]

    assert sent(ACTION_PATH) == [401] and sent(DOCKER_PATH) == [400], token_server.requests

    action, docker = got["action"], got["docker"]
    assert "token was refused" in action["message"], action
    assert "Invalid token ***" in docker["message"], docker
    assert action["shown"] and docker["shown"], got  # what the checks below look at
    assert action["error"] and docker["error"], got
    assert "***" in " ".join(action["error"]) and "***" in " ".join(docker["error"]), got
    assert got["layers"] == ["Background", "photo"], got["layers"]

    shown = json.dumps(got)
    assert not leaked(shown), shown
    assert not leaked(result.stderr), [line for line in result.stderr.splitlines() if leaked(line)]
    assert not [e for e in result.errors if leaked(e)], result.errors
    assert result.errors == [], "exceptions in Krita:\n" + "\n".join(result.errors)
