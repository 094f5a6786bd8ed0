"""Transport against the local server over real HTTP: retries, timeouts, cancel, redaction."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from images import mask, png
from recraft_core import (
    APIError,
    AuthenticationError,
    Cancelled,
    CancelToken,
    Client,
    ConnectionBroken,
    ConnectionFailed,
    InsufficientCreditsError,
    ProtocolError,
    RateLimitError,
    RetryPolicy,
    ServerError,
    Timeout,
    ValidationError,
)
from recraft_server import RecraftServer

FAST = RetryPolicy(retries=3, backoff=0.05, max_backoff=0.2, max_retry_after=5)


@pytest.fixture
def client(recraft_server):
    with Client(recraft_server.token, base_url=recraft_server.base_url, retry=FAST) as c:
        yield c


def attempts(server, path):
    return [r for r in server.requests if path in r.path]


def test_keep_alive_reuses_one_connection(client, recraft_server):
    for _ in range(3):
        client.user()
    manager = client._transport.session.get_adapter(client.base_url).poolmanager
    [key] = manager.pools.keys()
    assert manager.pools[key].num_connections == 1


def test_tls_verification_is_on_and_plain_http_stays_local(client):
    assert client._transport.session.verify is True
    with pytest.raises(ValidationError, match="only https"):
        Client("t", base_url="http://example.com/v1")
    Client("t", base_url="http://localhost:1/v1")
    Client("t", base_url="https://external.api.recraft.ai/v1")


def test_429_is_retried_honouring_retry_after(client, recraft_server):
    recraft_server.fault("status", times=2, status=429, retry_after=1, path="/images/generations")
    started = time.monotonic()
    result = client.generate(prompt="fox", model="recraftv3")
    elapsed = time.monotonic() - started
    assert len(result.images) == 1
    assert [r.status for r in attempts(recraft_server, "/images/generations")] == [429, 429, 200]
    assert elapsed >= 2.0, "Retry-After: 1 twice means at least two seconds of waiting"


def test_503_is_retried_with_backoff(client, recraft_server):
    recraft_server.fault("status", times=1, status=503, path="/images/vectorize")
    client.vectorize(png(256, 256))
    assert [r.status for r in attempts(recraft_server, "/images/vectorize")] == [503, 200]


def test_retries_run_out(client, recraft_server):
    recraft_server.fault("status", times=10, status=429, path="/images/generations")
    with pytest.raises(RateLimitError) as info:
        client.generate(prompt="fox")
    assert info.value.status == 429
    assert len(attempts(recraft_server, "/images/generations")) == FAST.retries + 1


def test_a_retry_after_too_long_is_reported_not_waited(client, recraft_server):
    recraft_server.fault(
        "status", times=1, status=429, retry_after=3600, path="/images/generations"
    )
    started = time.monotonic()
    with pytest.raises(RateLimitError) as info:
        client.generate(prompt="fox")
    assert time.monotonic() - started < 2 and info.value.retry_after == pytest.approx(3600, abs=5)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_5xx_on_a_paid_post_is_repeated_once_only(client, recraft_server, status):
    """Each try of a POST that fails this way may have been charged: one retry gets past a
    passing failure, and no more are risked (tests/core/test_fault_messages.py: what the
    message says, and what the server charged)."""
    recraft_server.fault("status", times=5, status=status, path="/images/generations")
    with pytest.raises(ServerError) as info:
        client.generate(prompt="fox")
    assert info.value.status == status and info.value.attempts == 2
    assert len(attempts(recraft_server, "/images/generations")) == 2


@pytest.mark.parametrize("status", [501, 505])
def test_other_5xx_on_a_paid_post_are_not_repeated(client, recraft_server, status):
    recraft_server.fault("status", times=5, status=status, path="/images/generations")
    with pytest.raises(ServerError) as info:
        client.generate(prompt="fox")
    assert info.value.status == status
    assert len(attempts(recraft_server, "/images/generations")) == 1


def test_no_5xx_retries_when_the_policy_says_so(recraft_server):
    never = RetryPolicy(retries=3, backoff=0.05, server_error_retries=0)
    client = Client(recraft_server.token, base_url=recraft_server.base_url, retry=never)
    recraft_server.fault("status", times=5, status=500, path="/images/generations")
    with pytest.raises(ServerError) as info:
        client.generate(prompt="fox")
    assert info.value.attempts == 1
    assert "(HTTP 500). A request that fails this way may still" in info.value.user_message


def test_5xx_on_a_get_is_retried(client, recraft_server):
    recraft_server.fault("status", times=2, status=500, path="/users/me")
    assert client.user().credits == recraft_server.credits
    assert [r.status for r in attempts(recraft_server, "/users/me")] == [500, 500, 200]


def test_html_error_page(client, recraft_server):
    recraft_server.fault("html", times=2, status=502, path="/images/generations")
    with pytest.raises(ServerError, match="HTML page"):
        client.generate(prompt="fox")


def test_no_repost_after_a_read_timeout(recraft_server):
    slow = Client(
        recraft_server.token, base_url=recraft_server.base_url, timeout=(5, 0.5), retry=FAST
    )
    recraft_server.fault("delay", times=1, seconds=2, path="/images/generations")
    with pytest.raises(Timeout, match="charged"):
        slow.generate(prompt="fox")
    time.sleep(1.7)  # let the delayed request finish on the server before counting
    assert len(attempts(recraft_server, "/images/generations")) == 1


def test_a_get_is_retried_after_a_read_timeout(recraft_server):
    slow = Client(
        recraft_server.token, base_url=recraft_server.base_url, timeout=(5, 0.5), retry=FAST
    )
    recraft_server.fault("delay", times=1, seconds=1.5, path="/users/me")
    assert slow.user().id
    assert len(attempts(recraft_server, "/users/me")) >= 2


def test_connection_refused_is_retried_then_reported():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    # A token that is no word of the message: the token is blanked wherever it stands.
    client = Client("rk-refused", base_url=f"http://127.0.0.1:{port}/v1", retry=FAST)
    started = time.monotonic()
    with pytest.raises(ConnectionFailed, match="cannot connect"):
        client.generate(prompt="fox")
    assert time.monotonic() - started >= 0.05 * 0.5 * 3  # it waited between the attempts


def test_reset_during_upload_is_not_repeated(client, recraft_server):
    recraft_server.fault("reset", times=1, path="/images/inpaint")
    with pytest.raises(ConnectionBroken):
        client.inpaint(png(1024, 1024), mask(1024, 1024, (0, 0, 10, 10)), prompt="hat")
    assert len(attempts(recraft_server, "/images/inpaint")) == 1


def test_truncated_body(client, recraft_server):
    """Cut short after Recraft did the work: not repeated, and the message says Recraft
    answered and it may be charged."""
    recraft_server.fault("truncate", times=1, path="/images/generations")
    with pytest.raises(ConnectionBroken, match=r"broke while the answer.*may have been charged"):
        client.generate(prompt="fox")
    assert len(attempts(recraft_server, "/images/generations")) == 1


def test_truncated_result_download_says_it_was_charged(client, recraft_server):
    recraft_server.fault("truncate", times=10, path="/files/")
    with pytest.raises(ConnectionBroken, match="succeeded and was charged"):
        client.generate(prompt="fox")


def test_a_huge_result_is_refused_before_it_fills_the_memory(client, recraft_server):
    """A broken or hostile server answers 65 MB for a result: refused on its Content-Length,
    with the real size in the message."""
    huge = b"\x89PNG\r\n\x1a\n" + bytes(65 * 1024 * 1024)
    recraft_server.fault("body", times=10, path="/files/", body=huge)
    with pytest.raises(ProtocolError, match="68 MB, over the 64 MB") as caught:
        client.generate(prompt="fox")
    assert "charged" in str(caught.value)


def test_invalid_json(client, recraft_server):
    recraft_server.fault("invalid_json", times=1, path="/images/generations")
    with pytest.raises(ProtocolError, match="not valid JSON"):
        client.generate(prompt="fox")


def test_expired_result_url(client, recraft_server):
    recraft_server.fault("expire", times=10, path="/files/")
    with pytest.raises(APIError, match="expired"):
        client.generate(prompt="fox")


def test_results_are_downloaded_at_once_and_side_by_side(client, recraft_server):
    recraft_server.url_ttl = 1.0
    recraft_server.fault("delay", times=4, seconds=0.6, path="/files/")
    started = time.monotonic()
    result = client.generate(prompt="fox", n=4, model="recraftv3")
    elapsed = time.monotonic() - started
    assert len({i.image_id for i in result.images}) == 4
    assert elapsed < 4 * 0.6, f"downloads ran one after another ({elapsed:.2f} s)"


def test_b64_json_results(client, recraft_server):
    result = client.generate(prompt="fox", response_format="b64_json")
    assert result.image.mime == "image/png" and result.image.url is None
    assert not [r for r in recraft_server.requests if "/files/" in r.path]


@pytest.mark.parametrize(
    "fault,calls",
    [
        (dict(kind="delay", times=1, seconds=5, path="/images/generations"), 1),  # slow answer
        (
            dict(kind="status", status=429, retry_after=4, path="/images/generations"),
            1,
        ),  # retry wait
        (dict(kind="delay", times=3, seconds=5, path="/files/"), 3),  # downloads
    ],
    ids=["slow-answer", "retry-wait", "downloads"],
)
def test_cancel_is_prompt(client, recraft_server, fault, calls):
    fault = dict(fault)
    recraft_server.fault(fault.pop("kind"), **fault)
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        client.generate(prompt="fox", n=calls, cancel=token)
    assert time.monotonic() - started < 1.5


def test_a_cancelled_token_sends_nothing(client, recraft_server):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        client.generate(prompt="fox", cancel=token)
    assert not recraft_server.requests


def test_wrong_token(recraft_server):
    bad = Client("wrong-token-123", base_url=recraft_server.base_url, retry=FAST)
    with pytest.raises(AuthenticationError) as info:
        bad.user()
    assert info.value.status == 401


def test_not_enough_credits(client, recraft_server):
    recraft_server.credits = 10
    with pytest.raises(InsufficientCreditsError):
        client.generate(prompt="fox", model="recraftv3")
    assert client.user().credits == 10


def test_the_token_never_shows(recraft_server, caplog):
    token = recraft_server.token
    client = Client(token, base_url=recraft_server.base_url, retry=FAST)
    caplog.set_level(logging.DEBUG)
    texts = [repr(client), str(client), repr(client._transport), repr(vars(client))]
    recraft_server.fault("status", times=5, status=503, path="/images/generations")
    recraft_server.fault("html", times=2, status=502, path="/images/vectorize")
    echo = f"invalid header Authorization: Bearer {token}"
    recraft_server.fault("status", times=1, status=400, message=echo, path="/images/explore")
    for call in (
        lambda: client.generate(prompt="fox"),
        lambda: client.vectorize(png(256, 256)),
        lambda: Client("x" + token, base_url=recraft_server.base_url).user(),
        lambda: client.generate(prompt=""),
        lambda: client.explore(prompt="owl"),
    ):
        with pytest.raises(Exception) as info:
            call()
        texts += [str(info.value), repr(info.value), getattr(info.value, "body", "")]
    texts += [r.getMessage() for r in caplog.records]
    assert not [t for t in texts if token in t]


def test_scrub_blanks_an_echoed_token(client):
    transport = client._transport
    assert transport.scrub(f"bad header: Bearer {transport._token}") == "bad header: Bearer ***"


# -- redirects ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, call, path",
    [
        (307, lambda c: c.generate(prompt="fox"), "/images/generations"),
        (
            308,
            lambda c: c.inpaint(png(256, 256), mask(256, 256, (0, 0, 9, 9)), prompt="hat"),
            "/images/inpaint",
        ),
        (307, lambda c: c.user(), "/users/me"),
    ],
    ids=["307-json", "308-upload", "307-get"],
)
def test_a_redirect_is_refused_at_once(recraft_server, status, call, path):
    """Followed, a 307/308 sent the spent upload again as an empty body with the full
    Content-Length, and the client waited out its read timeout. Refused, it says where it
    was sent, and nothing more is sent anywhere."""
    client = Client(
        recraft_server.token, base_url=recraft_server.base_url, timeout=(5, 3), retry=FAST
    )
    recraft_server.fault("redirect", status=status, path=path)
    started = time.monotonic()
    with pytest.raises(APIError) as caught:
        call(client)
    assert time.monotonic() - started < 2, "it waited instead of refusing"
    e = caught.value
    target = recraft_server.base_url + path
    assert e.status == status
    assert f"redirects {path} to {target} (HTTP {status})" in str(e), str(e)
    assert "check the server address" in e.user_message
    assert [r.status for r in attempts(recraft_server, path)] == [status]


def test_a_redirect_to_another_host_sends_it_nothing(recraft_server):
    """Neither the request nor the token goes where a redirect points."""
    with RecraftServer(token=recraft_server.token) as other:
        client = Client(recraft_server.token, base_url=recraft_server.base_url, retry=FAST)
        for status, path, call in (
            (308, "/users/me", client.user),
            (307, "/images/generations", lambda: client.generate(prompt="fox")),
        ):
            elsewhere = other.base_url + path
            recraft_server.fault("redirect", status=status, path=path, location=elsewhere)
            with pytest.raises(APIError, match=f"to {elsewhere} \\(HTTP {status}\\)"):
                call()
        assert other.requests == []
