"""What a person is told after Recraft misbehaves (issue 18, "messages after a fault"): what
happened, whether it was charged, and what to do, each checked against what the local
server's request log says it charged. Real HTTP against the local server, through the Client;
`user_message` is what the editors show.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time

import pytest

from images import mask, png
from recraft_core import (
    Cancelled,
    CancelToken,
    Client,
    ConnectionFailed,
    InsufficientCreditsError,
    ProtocolError,
    RetryPolicy,
    ServerError,
    Timeout,
)
from recraft_core.exceptions import (
    CHARGED,
    MAYBE_CHARGED,
    NOT_CHARGED,
    ConnectionBroken,
    ResultExpired,
    UnreadableAnswer,
)
from recraft_core.imaging.png import Raster

FAST = RetryPolicy(retries=3, backoff=0.05, max_backoff=0.2, max_retry_after=5)
GEN = "/images/generations"
MODEL = {"model": "recraftv3"}  # a raster model: its results are PNG files


@pytest.fixture
def client(recraft_server):
    with Client(recraft_server.token, base_url=recraft_server.base_url, retry=FAST) as c:
        yield c


@pytest.fixture
def price(client, recraft_server):
    """What one generation costs on the server, found by making one (then forgotten)."""
    cost = client.generate(prompt="fox", **MODEL).credits
    recraft_server.reset()
    return cost


def tries(server, path):
    return [r for r in server.requests if path in r.path]


def plain(message: str) -> None:
    """Sentences for a person: none of the old misleading words, no technical leftovers."""
    assert message.strip()[-1] in ".!", message
    for words in ("Could not reach", "Traceback", "HTTP 200 ", "check the inputs", "{", "<"):
        assert words not in message, message


# -- 1. 5xx answers are retried, and the message says when they may have been charged ---------


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_5xx_on_a_post_is_retried_once_and_the_artist_pays_once(
    client, recraft_server, price, status
):
    """One hiccup on Recraft's side no longer costs a second click: the POST is repeated,
    and the server's log shows the failed try charged nothing, the repeat once."""
    recraft_server.fault("status", status=status, path=GEN)
    result = client.generate(prompt="fox", **MODEL)
    assert len(result.images) == 1
    sent = tries(recraft_server, GEN)
    assert [(r.status, r.credits) for r in sent] == [(status, 0), (200, price)]
    assert recraft_server.credits == 100000 - price


def test_a_proxy_error_page_on_a_post_is_retried(client, recraft_server):
    recraft_server.fault("html", status=502, path="/images/vectorize")
    client.vectorize(png(256, 256))
    assert [r.status for r in tries(recraft_server, "/images/vectorize")] == [502, 200]


def test_a_5xx_retry_honours_retry_after(client, recraft_server):
    recraft_server.fault("status", status=502, retry_after=1, path=GEN)
    started = time.monotonic()
    client.generate(prompt="fox", **MODEL)
    assert time.monotonic() - started >= 1.0
    assert [r.status for r in tries(recraft_server, GEN)] == [502, 200]


def test_a_post_failing_twice_says_it_may_have_been_charged(client, recraft_server):
    """Retried once only (each try of a POST that fails this way may be charged), then said
    as it is: failed twice, may have been charged, check the balance."""
    recraft_server.fault("status", status=500, times=5, path=GEN)
    with pytest.raises(ServerError) as caught:
        client.generate(prompt="fox", **MODEL)
    e = caught.value
    assert len(tries(recraft_server, GEN)) == 2 == e.attempts
    assert e.charged == MAYBE_CHARGED and e.may_have_cost
    assert e.user_message == (
        "Recraft had a problem on its side (HTTP 500) and failed twice. A request that fails "
        "this way may still have been charged, once for each try: check your balance before "
        "running it again. Nothing in your image was changed."
    )
    assert "may have been charged" in str(e)


def test_a_gateway_failing_after_the_work_was_done_charged_each_try(client, recraft_server, price):
    """Why the message says "may": a gateway that gives up (504) after Recraft did the work.
    The server's log shows each try charged, as the message warned."""
    recraft_server.fault("status", status=504, handled=1, times=5, path=GEN)
    with pytest.raises(ServerError) as caught:
        client.generate(prompt="fox", **MODEL)
    sent = tries(recraft_server, GEN)
    assert [(r.status, r.credits) for r in sent] == [(504, price), (504, price)]
    assert recraft_server.credits == 100000 - 2 * price
    message = caught.value.user_message
    assert "(HTTP 504) and failed twice" in message
    assert "may still have been charged, once for each try: check your balance" in message


def test_503_only_says_nothing_was_charged(client, recraft_server):
    """503 is Recraft refusing for now: retried as often as the policy allows, and nothing
    was done."""
    recraft_server.fault("status", status=503, times=10, path=GEN)
    with pytest.raises(ServerError) as caught:
        client.generate(prompt="fox", **MODEL)
    e = caught.value
    assert e.attempts == FAST.retries + 1 == len(tries(recraft_server, GEN))
    assert e.charged == NOT_CHARGED and not e.may_have_cost
    assert "(HTTP 503, 4 tries). Nothing was charged." in e.user_message
    assert recraft_server.credits == 100000


def test_a_failing_get_says_nothing_was_charged(client, recraft_server):
    recraft_server.fault("status", status=500, times=10, path="/users/me")
    with pytest.raises(ServerError) as caught:
        client.user()
    assert caught.value.attempts == FAST.retries + 1
    assert "Nothing was charged" in caught.value.user_message


def test_a_refusal_after_a_charged_failure_names_the_earlier_try(client, recraft_server, price):
    """The first try was done and charged (its answer lost in a 500); the balance it left is
    too small for the retry, refused with 402. The message says both."""
    recraft_server.credits = price
    recraft_server.fault("status", status=500, handled=1, path=GEN)
    with pytest.raises(InsufficientCreditsError) as caught:
        client.generate(prompt="fox", **MODEL)
    e = caught.value
    assert [(r.status, r.credits) for r in tries(recraft_server, GEN)] == [(500, price), (402, 0)]
    assert recraft_server.credits == 0
    assert e.earlier == 500 and e.may_have_cost
    assert e.user_message.endswith(
        "An earlier try failed on Recraft's side (HTTP 500) and may have been charged: check "
        "your balance."
    )


# -- 2. a result that cannot be read, after a charged call ------------------------------------


def test_a_result_file_that_is_not_an_image_says_it_was_charged(client, recraft_server, price):
    recraft_server.fault("body", path="/files/", times=10, body=b"this is not an image")
    with pytest.raises(ProtocolError) as caught:
        client.generate(prompt="fox", **MODEL)
    e = caught.value
    assert recraft_server.last(GEN).credits == price  # the server did charge it
    assert (e.charged, e.cost) == (CHARGED, price)
    assert e.user_message == (
        f"Recraft answered and charged {price} credits, but the result could not be read: a "
        "result is not an image (image/png). Try again; if it keeps happening, report it."
    )
    plain(e.user_message)


@pytest.mark.parametrize(
    "item, said",
    [
        ({"b64_json": "!!"}, "an image in the answer is not valid base64"),
        ({"url": "ftp://files.example/a.png"}, "an image URL in the answer is not usable"),
        ({"image_id": "x"}, "an image in the answer has neither url nor b64_json"),
    ],
    ids=["base64", "url", "nothing"],
)
def test_an_unusable_image_in_the_answer_says_what_the_answer_charged(
    client, recraft_server, item, said
):
    answer = {"created": 1, "credits": 40, "data": [item]}
    recraft_server.fault("body", path=GEN, body=json.dumps(answer), content_type="application/json")
    with pytest.raises(ProtocolError) as caught:
        client.generate(prompt="fox", **MODEL)
    message = caught.value.user_message
    assert message.startswith(
        f"Recraft answered and charged 40 credits, but the result could not be read: {said}"
    )
    assert message.endswith("Try again; if it keeps happening, report it.")


def test_a_result_cut_short_says_it_was_charged(client, recraft_server, price):
    whole = png(64, 64)
    recraft_server.fault("body", path="/files/", times=10, body=whole[: len(whole) - 20])
    with pytest.raises(ProtocolError) as caught:
        client.generate(prompt="fox", **MODEL)
    assert caught.value.user_message.startswith(f"Recraft answered and charged {price} credits")


def test_a_free_answer_that_cannot_be_read_says_nothing_was_charged(client, recraft_server):
    answer = {"created": 1, "credits": 0, "data": [{"b64_json": "!!"}]}
    recraft_server.fault("body", path=GEN, body=json.dumps(answer), content_type="application/json")
    with pytest.raises(ProtocolError) as caught:
        client.generate(prompt="fox", **MODEL)
    assert caught.value.charged == NOT_CHARGED
    assert "Nothing was charged" in caught.value.user_message


# -- 3. answers lost on the way: connecting, sending, reading ---------------------------------


def test_cannot_connect_says_nothing_was_sent():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    client = Client("t", base_url=f"http://127.0.0.1:{port}/v1", retry=FAST)
    with pytest.raises(ConnectionFailed) as caught:
        client.generate(prompt="fox")
    e = caught.value
    assert not isinstance(e, ConnectionBroken) and e.charged == NOT_CHARGED
    assert e.user_message.startswith("Could not reach Recraft (cannot connect to ")
    assert "Nothing was sent, so nothing was charged. Check the internet connection" in (
        e.user_message
    )


def test_a_truncated_answer_says_recraft_answered(client, recraft_server, price):
    """The server did the work and charged it; its answer broke off. Not "could not reach"."""
    recraft_server.fault("truncate", path=GEN)
    with pytest.raises(ConnectionBroken) as caught:
        client.generate(prompt="fox", **MODEL)
    e = caught.value
    assert [(r.status, r.credits) for r in tries(recraft_server, GEN)] == [(200, price)]
    assert (e.status, e.charged) == (200, MAYBE_CHARGED)
    assert e.user_message == (
        "Recraft answered (HTTP 200), but the connection broke before the whole answer "
        "arrived. The call went through, so it was most likely charged, but its answer was "
        "lost: check your balance before running it again."
    )
    plain(e.user_message)


def test_a_reset_after_the_work_was_done_says_it_may_have_been_charged(
    client, recraft_server, price
):
    recraft_server.fault("reset", handled=1, path=GEN)
    with pytest.raises(ConnectionBroken) as caught:
        client.generate(prompt="fox", **MODEL)
    e = caught.value
    assert [r.credits for r in tries(recraft_server, GEN)] == [price]  # not repeated
    assert e.sent and e.status is None and e.charged == MAYBE_CHARGED
    assert e.user_message.startswith(
        "The request was sent, but the connection broke before Recraft's answer arrived "
        "(Connection reset by peer). Recraft may have done the work and charged it: check your "
        "balance before running it again."
    ), e.user_message
    plain(e.user_message)


def noise(width: int, height: int) -> bytes:
    """A PNG that does not compress: its upload outlasts the sockets' buffers."""
    return Raster(width, height, "RGB", os.urandom(width * height * 3)).to_png()


def test_a_reset_during_the_upload_says_nothing_was_charged(client, recraft_server):
    """Reset after 1 kB of a 9 MB upload: the request never arrived whole, so it cannot have
    been done, and the message says so."""
    recraft_server.fault("reset", path="/images/inpaint")
    with pytest.raises(ConnectionBroken) as caught:
        client.inpaint(noise(1750, 1750), mask(1750, 1750, (0, 0, 10, 10)), prompt="hat")
    e = caught.value
    assert [r.credits for r in tries(recraft_server, "/images/inpaint")] == [0]
    assert recraft_server.credits == 100000
    assert not e.sent and e.charged == NOT_CHARGED and not e.may_have_cost
    assert e.user_message.startswith("The connection broke while the request was being sent (")
    assert "It did not arrive whole, so nothing was charged. Try again" in e.user_message


def test_a_truncated_result_file_says_it_was_charged(client, recraft_server, price):
    recraft_server.fault("truncate", path="/files/", times=10)
    with pytest.raises(ConnectionBroken) as caught:
        client.generate(prompt="fox", **MODEL)
    e = caught.value
    assert recraft_server.last(GEN).credits == price
    assert (e.charged, e.cost) == (CHARGED, price)
    assert e.user_message == (
        f"Recraft answered and charged {price} credits, but its result file could not be "
        "downloaded (the connection broke while the file was being read). Check the internet "
        "connection, then run it again."
    )


def test_an_expired_result_link_says_so_plainly(client, recraft_server, price):
    recraft_server.fault("expire", times=10)
    with pytest.raises(ResultExpired) as caught:
        client.generate(prompt="fox", **MODEL)
    e = caught.value
    assert recraft_server.last(GEN).credits == price
    assert e.user_message == (
        "The result's download link expired before it was fetched. The call succeeded and was "
        f"charged ({price} credits); run it again to get a new one."
    )
    assert "refused" not in e.user_message and "inputs" not in e.user_message


def test_invalid_json_is_said_without_a_piece_of_it(client, recraft_server):
    recraft_server.fault("invalid_json", path=GEN)
    with pytest.raises(UnreadableAnswer) as caught:
        client.generate(prompt="fox", **MODEL)
    e = caught.value
    assert e.user_message == (
        "Recraft's answer could not be read (not valid JSON). Recraft took the request "
        "(HTTP 200), so it may have been charged: check your balance before running it again; "
        "if it keeps happening, report it."
    )
    for text in (e.user_message, str(e)):
        assert "upstream error" not in text and "image_id" not in text, text
    assert "upstream error" in e.body  # kept for the logs


def test_invalid_json_from_a_get_says_nothing_was_charged(client, recraft_server):
    recraft_server.fault("body", path="/users/me", body="[1, 2", content_type="application/json")
    with pytest.raises(UnreadableAnswer) as caught:
        client.user()
    assert caught.value.user_message == (
        "Recraft's answer could not be read (not valid JSON). Nothing was charged; try again, "
        "and if it keeps happening, report it."
    )


def test_an_unreadable_answer_keeps_no_token_in_its_body(recraft_server):
    token = recraft_server.token
    body = f'<p>Bearer {token}</p> {{"k": "\\u0074est-token"}} &#116;est-token'
    recraft_server.fault("body", path="/users/me", body=body, content_type="application/json")
    client = Client(token, base_url=recraft_server.base_url, retry=FAST)
    with pytest.raises(UnreadableAnswer) as caught:
        client.user()
    e = caught.value
    assert token not in e.body and "***" in e.body
    assert [t for t in (str(e), repr(e), e.user_message, repr(vars(e))) if token in t] == []


def test_a_get_timing_out_says_nothing_was_charged(recraft_server):
    slow = Client(
        recraft_server.token, base_url=recraft_server.base_url, timeout=(5, 0.3), retry=FAST
    )
    recraft_server.fault("delay", seconds=1, times=10, path="/users/me")
    with pytest.raises(Timeout) as caught:
        slow.user()
    assert caught.value.user_message == (
        "Recraft did not answer in time (4 tries). Nothing was charged; check the internet "
        "connection and try again later."
    )


def test_a_cancel_while_downloading_says_what_was_charged(client, recraft_server, price):
    recraft_server.fault("delay", seconds=3, path="/files/")
    token = CancelToken()
    threading.Timer(0.5, token.cancel).start()
    with pytest.raises(Cancelled) as caught:
        client.generate(prompt="fox", cancel=token, **MODEL)
    e = caught.value
    assert (e.charged, e.cost) == (CHARGED, price)
    assert e.user_message == f"Cancelled. Recraft had already answered and charged {price} credits."
