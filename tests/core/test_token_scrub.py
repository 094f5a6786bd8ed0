"""The API token never shows: not in the CLI's messages or its --json output, not in an
error's str, repr or attributes, however the server quotes it. End to end through `recraft`
against the local server, which answers with the bodies and reason phrases given here."""

from __future__ import annotations

import base64
import json

import pytest

from images import png
from recraft_core import APIError, Client, ConnectionFailed, ProtocolError, RetryPolicy
from recraft_core.api.transport import Transport
from recraft_server import RecraftServer

TOKEN = "rk_4f9aC2e81B"
SLASHED = "rk_4f9a/C2e81B"  # for the JSON escape \/
QUOTED = 'rk_4f9a"C2e\\81B'  # a token holding " and \, both escaped in JSON text
FAST = RetryPolicy(retries=0)


def leaked(text: str, token: str) -> bool:
    """The token, or any spelling of it these tests make (JSON escapes of r, /, " and \\, an
    HTML entity for r): each holds "4f9a", which no escape here touches."""
    return token in text or "4f9a" in text


@pytest.fixture
def server():
    """serve(token): a local server of its own taking `token`, stopped after the test."""
    started = []

    def serve(token: str) -> RecraftServer:
        started.append(RecraftServer(token=token).start())
        return started[-1]

    yield serve
    for s in started:
        s.stop()


def recraft(run_cli, server: RecraftServer, *args):
    r = run_cli(*args, RECRAFT_API_URL=server.base_url, RECRAFT_API_TOKEN=server.token)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def error(message: str, code: str = "unauthorized") -> str:
    return json.dumps({"code": code, "message": message})


# (token, status line's reason, content type, body, what stderr says instead)
ERRORS = {
    "period": (TOKEN, None, "json", error(f"Invalid token {TOKEN}."), "Invalid token ***."),
    "dashes": (TOKEN, None, "json", error(f"token -{TOKEN}- refused"), "token -***- refused"),
    "slashes": (TOKEN, None, "json", error(f"see /keys/{TOKEN}/"), "see /keys/***/"),
    "equals": (TOKEN, None, "json", error(f"bad key={TOKEN}="), "bad key=***="),
    "plus": (TOKEN, None, "json", error(f"bad +{TOKEN}+"), "bad +***+"),
    "url-quoted": (TOKEN, None, "json", error(f"key=%22{TOKEN}%22"), "key=%22***%22"),
    "in-a-word": (TOKEN, None, "json", error(f"Bearer{TOKEN}_x"), "Bearer***_x"),
    "code": (TOKEN, None, "json", error("refused", f"{TOKEN}.bad"), "HTTP 400 ***.bad: refused"),
    # Escaped in the JSON text: only the decoded text holds the token.
    "json-u-escape": (
        TOKEN,
        None,
        "json",
        '{"code": "unauthorized", "message": "Invalid token \\u0072k_4f9aC2e81B."}',
        "Invalid token ***.",
    ),
    "json-slash-escape": (
        SLASHED,
        None,
        "json",
        '{"code": "unauthorized", "message": "Invalid token rk_4f9a\\/C2e81B."}',
        "Invalid token ***.",
    ),
    # No body: the reason phrase is the message.
    "reason-phrase": (TOKEN, f"Bad token {TOKEN}", "text", "", "HTTP 400: Bad token ***"),
    # A proxy's page: its title is the message, its entities decoded.
    "html-entity": (
        TOKEN,
        None,
        "html",
        "<html><head><title>Bad token &#114;k_4f9aC2e81B</title></head></html>",
        "HTML page (Bad token ***)",
    ),
    # These two neighbours were handled before; kept so that they stay so.
    "quotes": (TOKEN, None, "json", error(f'token "{TOKEN}" refused'), 'token "***" refused'),
    "backslashes": (TOKEN, None, "json", error(f"\\{TOKEN}\\"), "\\***\\"),
}
TYPES = {"json": "application/json", "text": "text/plain", "html": "text/html"}


@pytest.mark.parametrize("case", list(ERRORS))
def test_an_error_that_quotes_the_token_does_not_show_it(run_cli, server, case):
    """`recraft user` against a server that refuses with the token in its answer: the CLI
    says what the server said, the token blanked out."""
    token, reason, kind, body, shown = ERRORS[case]
    srv = server(token)
    fault = {"body": body, "status": 400, "content_type": TYPES[kind]}
    srv.fault("body", path="/users/me", **fault, **({"reason": reason} if reason else {}))
    r = recraft(run_cli, srv, "user")
    assert r.returncode == 4, r.stderr
    assert shown in r.stderr, r.stderr
    assert not leaked(r.stderr + r.stdout, token), r.stderr


@pytest.mark.parametrize("case", ["period", "json-u-escape", "reason-phrase", "html-entity"])
def test_the_errors_texts_and_attributes_do_not_hold_the_token(server, case):
    """What a plug-in shows (user_message) or logs (str, repr, attributes)."""
    token, reason, kind, body, _ = ERRORS[case]
    srv = server(token)
    fault = {"body": body, "status": 400, "content_type": TYPES[kind]}
    srv.fault("body", path="/users/me", **fault, **({"reason": reason} if reason else {}))
    with pytest.raises(APIError) as caught:
        Client(token, base_url=srv.base_url, retry=FAST).user()
    e = caught.value
    texts = [str(e), repr(e), e.user_message, e.message, e.body, e.code or "", repr(vars(e))]
    assert not [t for t in texts if leaked(t, token)], texts
    assert "***" in e.message


@pytest.mark.parametrize(
    "answer",
    [
        {"created": 1, "credits": 40, "data": [{"url": f"ftp://files.example/{TOKEN}.png"}]},
        {"created": 1, "credits": TOKEN, "data": [{"url": "http://127.0.0.1:9/a.png"}]},
    ],
    ids=["unusable-url", "odd-credits"],
)
def test_a_protocol_error_quoting_the_answer_does_not_show_the_token(server, answer):
    srv = server(TOKEN)
    srv.fault(
        "body", path="/images/generations", body=json.dumps(answer), content_type="application/json"
    )
    with pytest.raises(ProtocolError) as caught:
        Client(TOKEN, base_url=srv.base_url, retry=FAST).generate(prompt="fox")
    e = caught.value
    texts = [str(e), repr(e), e.user_message]
    assert not [t for t in texts if leaked(t, TOKEN)], texts
    assert "***" in str(e)


def test_a_result_url_naming_the_token_is_not_shown_with_it(server):
    """A download error names the result host: not the token a result URL holds in it."""
    srv = server(TOKEN)
    answer = {"created": 1, "credits": 40, "data": [{"url": f"http://{TOKEN}@127.0.0.1:9/a"}]}
    srv.fault(
        "body", path="/images/generations", body=json.dumps(answer), content_type="application/json"
    )
    with pytest.raises(ConnectionFailed) as caught:
        Client(TOKEN, base_url=srv.base_url, retry=FAST).generate(prompt="fox")
    e = caught.value
    assert not [t for t in (str(e), repr(e), e.user_message) if leaked(t, TOKEN)], str(e)
    assert "127.0.0.1:9" in str(e)


def test_json_output_holds_no_token_even_one_with_quotes_and_backslashes(run_cli, server):
    """json.dumps writes such a token as rk_4f9a\\"C2e\\\\81B: scrubbing that text would miss
    it; the decoded values are scrubbed before they are dumped."""
    srv = server(QUOTED)
    me = {"id": f"user-{QUOTED}", "name": f"owner of {QUOTED}", "email": "a@b.c", "credits": 7}
    srv.fault("body", path="/users/me", body=json.dumps(me), content_type="application/json")
    r = recraft(run_cli, srv, "user", "--json")
    assert r.returncode == 0, r.stderr
    assert not leaked(r.stdout + r.stderr, QUOTED), r.stdout
    assert json.loads(r.stdout) == {**me, "id": "user-***", "name": "owner of ***"}


def test_plain_output_holds_no_token(run_cli, server):
    srv = server(QUOTED)
    me = {"id": "user-1", "name": f"owner of {QUOTED}", "credits": 7}
    srv.fault("body", path="/users/me", body=json.dumps(me), content_type="application/json")
    r = recraft(run_cli, srv, "user")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "owner of ***: 7 credits", r.stdout


@pytest.mark.parametrize("token", [TOKEN, QUOTED])
def test_an_operations_json_output_holds_no_token(run_cli, server, tmp_path, token):
    """`recraft generate --json`: the answer quotes the token in an image's id and a field of
    its own; the image is still written, the printed answer holds no token."""
    srv = server(token)
    image = base64.b64encode(png(64, 64)).decode()
    answer = {
        "created": 1,
        "credits": 40,
        "data": [{"image_id": f"img-{token}", "b64_json": image}],
        "note": f"made for {token}.",
        token: ["key", token],
    }
    srv.fault(
        "body", path="/images/generations", body=json.dumps(answer), content_type="application/json"
    )
    r = recraft(run_cli, srv, "generate", "--prompt", "fox", "--json", "-o", "fox.png")
    assert r.returncode == 0, r.stderr
    assert not leaked(r.stdout + r.stderr, token), r.stdout
    printed = json.loads(r.stdout)
    assert printed["note"] == "made for ***." and printed["***"] == ["key", "***"]
    assert printed["data"][0]["image_id"] == "img-***"
    assert (tmp_path / "fox.png").read_bytes() == png(64, 64)


@pytest.mark.parametrize(
    "token, text", [("x*", "xx**"), ("a**", "aa***"), ("***", "****"), ("ab", "aab")]
)
def test_a_blanked_token_cannot_be_formed_again_by_the_mark(token, text):
    """The mark never shares a character with the token, so blanking cannot join the text
    around it into the token anew."""
    scrubbed = Transport(token, "http://127.0.0.1:9/v1").scrub(text)
    assert token not in scrubbed and scrubbed != text
