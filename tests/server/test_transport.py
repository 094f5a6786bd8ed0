"""HTTP behaviour: auth, routing, result files and their expiry, fault injection, the request
log, concurrency, the Python API's lifecycle and the standalone command."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from recraft_server import RecraftServer, render
from recraft_server.faults import parse_spec
from recraft_server.log import RequestLog

from .helpers import RawConnection, assert_error, mask, png, raw_request, scene

GEN = "/images/generations"
VEC = {"prompt": "x", "model": "recraftv3_vector"}  # SVG answers keep these tests quick
AUTH = {"Authorization": "Bearer test-token"}


def _post_json(path: str, obj, headers=None) -> bytes:
    body = json.dumps(obj).encode()
    headers = {**AUTH, "Content-Type": "application/json", **(headers or {})}
    return raw_request("POST", "/v1" + path, headers, body)


# --- auth and routing -----------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "Bearer wrong", "test-token", "Basic dGVzdC10b2tlbg=="])
def test_auth_401_plain_text(recraft_server, header):
    headers = {"Authorization": header} if header else {}
    r = requests.post(recraft_server.base_url + GEN, json=VEC, headers=headers, timeout=10)
    assert r.status_code == 401
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "token" in r.text.lower()
    rec = recraft_server.last()
    assert rec.authorized is False and rec.status == 401
    assert recraft_server.credits == 100000
    r = requests.get(recraft_server.base_url + "/users/me", headers=headers, timeout=10)
    assert r.status_code == 401


def test_bearer_scheme_is_case_insensitive(recraft_server):
    r = requests.get(
        recraft_server.base_url + "/users/me", headers={"Authorization": "bearer test-token"}
    )
    assert r.status_code == 200


def test_files_need_no_auth_and_404s(api, recraft_server):
    item = api.ok(api.post(GEN, json=VEC))["data"][0]
    r = requests.get(item["url"], timeout=10)
    assert r.status_code == 200
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Security-Policy"] == "sandbox"
    assert_error(requests.get(recraft_server.url + "/files/nothing.png"), 404, code="not_found")
    missing = recraft_server.url + "/files/2f1c2a52-8d1e-4b9a-9a57-3c0d6e1f0b7a.png"
    assert_error(requests.get(missing), 404, code="not_found")
    assert_error(api.get("/images/nothing"), 404, code="not_found")
    assert_error(api.get(GEN), 405, "POST", code="method_not_allowed")
    assert requests.get(recraft_server.url + "/status").json() == {
        "service": True,
        "generation": True,
    }


def test_url_expiry(api, recraft_server):
    recraft_server.url_ttl = 0.3
    item = api.ok(api.post(GEN, json=VEC))["data"][0]
    assert requests.get(item["url"]).status_code == 200
    time.sleep(0.4)
    assert_error(requests.get(item["url"]), 410, "expired", code="expired")
    recraft_server.reset()
    assert recraft_server.url_ttl == 3600


def test_expired_files_leave_memory(api, recraft_server):
    recraft_server.url_ttl = 0.2
    item = api.ok(api.post(GEN, json=VEC))["data"][0]
    assert len(recraft_server._state.files) == 1
    time.sleep(0.3)
    assert requests.get(recraft_server.url + "/ping", timeout=10).text == "pong"
    assert recraft_server._state.files == {}  # any request drops expired bytes
    assert_error(requests.get(item["url"]), 410, code="expired")  # the name is remembered


def test_result_urls_ignore_the_host_header(api, recraft_server):
    r = api.post(GEN, json=VEC, headers={"Host": "evil.example:6666"})
    assert api.ok(r)["data"][0]["url"].startswith(recraft_server.url + "/files/")


def test_unexpected_errors_are_500_json(api, recraft_server, monkeypatch):
    def explode(img):
        raise RuntimeError("boom")

    monkeypatch.setattr(render, "vectorize", explode)
    r = api.upload("/images/vectorize", image=png())
    body = assert_error(r, 500, "boom", code="internal_server_error")
    assert body["message"].startswith("unexpected error")
    rec = recraft_server.last("/images/vectorize")
    assert rec.status == 500 and rec.error["code"] == "internal_server_error"
    assert recraft_server.credits == 100000  # refunded
    monkeypatch.undo()
    api.ok(api.upload("/images/vectorize", image=png()))


# --- faults ---------------------------------------------------------------------------------------


def test_fault_status_with_retry_after(api, recraft_server):
    recraft_server.fault("status", status=429, retry_after=7)
    r = api.post(GEN, json=VEC)
    assert r.status_code == 429 and r.headers["Retry-After"] == "7"
    assert_error(r, 429, code="rate_limit_exceeded")
    assert recraft_server.last().fault == "status"
    assert recraft_server.credits == 100000
    api.ok(api.post(GEN, json=VEC))  # consumed
    assert recraft_server.last().fault is None


def test_fault_times_and_path_filter(api, recraft_server):
    recraft_server.fault("status", times=2, path="/images/inpaint", status=503)
    api.ok(api.post(GEN, json=VEC))  # other paths untouched
    files = {"image": png(), "mask": png(mask((320, 256)))}
    for _ in range(2):
        assert api.upload("/images/inpaint", {"prompt": "x"}, **files).status_code == 503
    assert api.upload("/images/inpaint", {"prompt": "x"}, **files).status_code == 200
    assert recraft_server.pending_faults == []


@pytest.mark.parametrize("status", [500, 502, 504])
def test_fault_5xx(api, recraft_server, status):
    recraft_server.fault("status", status=status)
    assert api.post(GEN, json=VEC).status_code == status


@pytest.mark.parametrize("kind", ["status", "html"])
def test_fault_handled_charges_then_fails(api, recraft_server, kind):
    """A gateway failing after Recraft did the work: handled for real (charged, the log says
    so), then answered with the error."""
    recraft_server.fault(kind, status=504, handled=1, path=GEN)
    r = api.post(GEN, json=VEC)
    assert r.status_code == 504
    rec = recraft_server.last(GEN)
    assert (rec.status, rec.fault, rec.credits) == (504, kind, 80)
    assert rec.fields == VEC  # parsed once, by the real handling
    assert recraft_server.credits == 100000 - 80
    recraft_server.fault(kind, status=504, path=GEN)  # without it: nothing is done
    assert api.post(GEN, json=VEC).status_code == 504
    assert recraft_server.last(GEN).credits == 0 and recraft_server.credits == 100000 - 80


def test_fault_handled_reset(api, recraft_server):
    """The whole upload is read and handled (charged), then the connection is reset with no
    answer at all."""
    recraft_server.fault("reset", handled=1, path=GEN)
    with RawConnection(recraft_server) as conn:
        conn.send(_post_json(GEN, VEC))
        with pytest.raises(ConnectionResetError):
            while conn.sock.recv(4096):
                pass
    rec = recraft_server.last(GEN)
    assert (rec.fault, rec.status, rec.credits) == ("reset", None, 80)
    assert recraft_server.credits == 100000 - 80


def test_fault_handled_from_a_spec():
    assert parse_spec("status=504,handled=1,path=/images") == (
        "status",
        {"status": 504, "handled": 1, "path": "/images"},
    )
    with pytest.raises(TypeError):
        RecraftServer().fault("delay", seconds=1, handled=1)


def test_fault_delay(api, recraft_server):
    recraft_server.fault("delay", seconds=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.post(GEN, json=VEC, timeout=0.3)
    r = api.post(GEN, json=VEC, timeout=5)
    assert r.status_code == 200


def test_fault_reset(api, recraft_server):
    recraft_server.fault("reset")
    with RawConnection(recraft_server) as conn:
        conn.send(_post_json(GEN, VEC))
        with pytest.raises(ConnectionResetError):  # an RST, not an orderly close (b"")
            while conn.sock.recv(4096):
                pass
    assert recraft_server.last().fault == "reset"
    assert recraft_server.credits == 100000
    api.ok(api.post(GEN, json=VEC))


def test_fault_reset_during_a_big_upload(api, recraft_server):
    recraft_server.fault("reset")
    big = png(scene((1024, 1024))) + b"\0" * (2 * 1024 * 1024)
    with pytest.raises(requests.exceptions.ConnectionError):
        api.upload("/images/removeBackground", image=big)
    assert recraft_server.last().fault == "reset"
    assert recraft_server.credits == 100000


def test_fault_reset_small_request(api, recraft_server):
    recraft_server.fault("reset")
    with pytest.raises(requests.exceptions.ConnectionError) as info:
        api.post(GEN, json=VEC)
    assert "reset" in str(info.value).lower()  # ECONNRESET, not an orderly close


def test_faulted_requests_are_logged_with_their_body(api, recraft_server):
    recraft_server.fault("status", status=500, path="/images/vectorize")
    api.upload("/images/vectorize", {"response_format": "b64_json"}, image=png())
    rec = recraft_server.last()
    assert (rec.status, rec.fault, rec.content_type) == (500, "status", "multipart")
    assert rec.fields == {"response_format": "b64_json"} and rec.files["image"][0].format == "png"


def _truncated(server, request: bytes) -> tuple[int, dict, bytes]:
    """Send one request and read its (cut) answer up to the server's close."""
    with RawConnection(server) as conn:
        conn.send(request)
        status, headers = conn.read_head()
        rest = conn.read_to_close()
    assert 0 < len(rest) < int(headers["content-length"])  # a prefix, under the full length
    assert headers["connection"] == "close"
    return status, headers, rest


def test_fault_truncate(api, recraft_server):
    recraft_server.fault("truncate")
    status, headers, rest = _truncated(recraft_server, _post_json(GEN, VEC))
    assert status == 200 and headers["content-type"] == "application/json"
    assert rest.startswith(b'{"created": ') and b'"credits": 80, "data": [{"image_id": ' in rest
    with pytest.raises(ValueError):
        json.loads(rest)
    assert recraft_server.credits == 100000 - 80  # the work was done; only the answer broke

    item = api.ok(api.post(GEN, json=VEC))["data"][0]
    whole = requests.get(item["url"], timeout=10).content
    recraft_server.fault("truncate", path="/files/")
    path = item["url"][len(recraft_server.url) :]
    status, headers, rest = _truncated(recraft_server, raw_request("GET", path))
    assert status == 200 and headers["content-type"] == "image/svg+xml"
    assert int(headers["content-length"]) == len(whole) and whole.startswith(rest)
    assert requests.get(item["url"], timeout=10).content == whole


@pytest.mark.parametrize(
    ("request_bytes", "prefix"),
    [
        (raw_request("GET", "/v1/users/me", AUTH), b'{"id": "'),
        (raw_request("GET", "/v1/styles", AUTH), b'{"styles": ['),
        (raw_request("GET", "/v1/nothing", AUTH), b'{"code": "not_found", "message": "no such'),
        (_post_json("/prompts/enhance", {"prompt": "a cat with a hat"}), b'{"enhanced_prompt": '),
    ],
)
def test_fault_truncate_cuts_each_real_answer(recraft_server, request_bytes, prefix):
    recraft_server.fault("truncate")
    _, _, rest = _truncated(recraft_server, request_bytes)
    assert rest.startswith(prefix) or prefix.startswith(rest), rest


def test_fault_truncate_of_an_image_answer(recraft_server):
    recraft_server.fault("truncate")
    body = (
        b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + png() + b"\r\n--b--\r\n"
    )
    headers = {**AUTH, "Content-Type": "multipart/form-data; boundary=b"}
    request = raw_request("POST", "/v1/images/removeBackground", headers, body)
    status, _, rest = _truncated(recraft_server, request)
    assert status == 200 and b'"credits": 10, "image": {"image_id": ' in rest


def test_unauthenticated_requests_take_no_fault(recraft_server):
    recraft_server.fault("status", status=503)
    r = requests.post(
        recraft_server.base_url + GEN, json=VEC, headers={"Authorization": "Bearer nope"}
    )
    assert r.status_code == 401
    rec = recraft_server.last()
    assert rec.fault is None and rec.fields == {} and rec.content_type is None  # not parsed
    assert len(recraft_server.pending_faults) == 1
    r = requests.post(recraft_server.base_url + GEN, json=VEC, headers=AUTH)
    assert r.status_code == 503 and recraft_server.pending_faults == []


def test_fault_invalid_json(api, recraft_server):
    recraft_server.fault("invalid_json")
    r = api.post(GEN, json=VEC)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    with pytest.raises(ValueError):
        json.loads(r.text)


def test_fault_html(api, recraft_server):
    recraft_server.fault("html")
    r = api.post(GEN, json=VEC)
    assert r.status_code == 502 and r.headers["Content-Type"].startswith("text/html")
    assert "<html>" in r.text
    recraft_server.fault("html", status=503, retry_after=1)
    r = api.get("/users/me")
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"


def test_fault_expire(api, recraft_server):
    items = api.ok(api.post(GEN, json={**VEC, "n": 2}))["data"]
    recraft_server.fault("expire")
    api.ok(api.get("/users/me"))  # API calls are not hit by expire
    assert_error(requests.get(items[0]["url"]), 410, code="expired")
    assert requests.get(items[1]["url"]).status_code == 200
    assert recraft_server.last("/files/").fault is None


def test_files_only_hit_by_faults_that_target_them(api, recraft_server):
    item = api.ok(api.post(GEN, json=VEC))["data"][0]
    recraft_server.fault("status", status=500)
    assert requests.get(item["url"]).status_code == 200
    assert api.get("/users/me").status_code == 500


def test_fault_body_with_a_reason_phrase(api, recraft_server):
    recraft_server.fault("body", body=b"", status=400, content_type="text/plain", reason="Bad x")
    r = api.get("/users/me")
    assert (r.status_code, r.reason, r.content) == (400, "Bad x", b"")
    with RawConnection(recraft_server) as conn:  # one line of Latin-1, whatever was given
        recraft_server.fault("body", body="", status=400, reason="two\r\nlines \u2603")
        conn.send(raw_request("GET", "/v1/users/me", AUTH))
        status_line = conn.reader.readline()
    assert status_line == b"HTTP/1.1 400 two lines ?\r\n"


@pytest.mark.parametrize("status", [307, 308])
def test_fault_redirect(api, recraft_server, status):
    """A redirect to the request's own URL (or to `location`), with an empty body."""
    recraft_server.fault("redirect", status=status, path=GEN)
    r = api.post(GEN, json=VEC, allow_redirects=False)
    assert (r.status_code, r.content) == (status, b"")
    assert r.headers["Location"] == recraft_server.base_url + GEN
    recraft_server.fault("redirect", location="https://elsewhere.example/v1")
    r = api.get("/users/me", allow_redirects=False)
    assert (r.status_code, r.headers["Location"]) == (307, "https://elsewhere.example/v1")
    assert recraft_server.credits == 100000
    with pytest.raises(ValueError, match="3xx"):
        recraft_server.fault("redirect", status=200)


def test_fault_api_errors():
    server = RecraftServer()
    with pytest.raises(ValueError):
        server.fault("explode")
    with pytest.raises(TypeError):
        server.fault("delay")
    with pytest.raises(TypeError):
        server.fault("status", seconds=3)


# --- request log ----------------------------------------------------------------------------------


def test_request_log_records_multipart_and_mask_stats(api, recraft_server):
    m = mask((320, 256), (40, 30, 120, 90))
    image, mask_file = ("pic.png", png(), "image/png"), ("m.png", png(m), "image/png")
    api.ok(api.upload("/images/inpaint", {"prompt": "sky", "n": "2"}, image=image, mask=mask_file))
    rec = recraft_server.last("/images/inpaint")
    assert (rec.method, rec.path, rec.content_type, rec.status) == (
        "POST",
        "/v1/images/inpaint",
        "multipart",
        200,
    )
    assert rec.fields == {"prompt": "sky", "n": "2"}
    assert rec.authorized is True and rec.fault is None and rec.credits == 80
    image = rec.files["image"][0]
    assert (image.filename, image.content_type, image.format) == ("pic.png", "image/png", "png")
    assert (image.width, image.height, image.mode) == (320, 256, "RGB")
    assert image.size == len(image.data) == len(png())
    mk = rec["files"]["mask"][0]
    assert mk["values"] == [0, 255] and mk["white"] == 80 * 60 and mk["bbox"] == (40, 30, 120, 90)
    assert mk.mode == "L" and mk.get("white") == mk.white and rec.get("path") == rec.path
    assert image.values is None


def test_request_log_keeps_rejected_uploads_and_json(api, recraft_server):
    bad_mask = png(mask((320, 256)).convert("RGB"))
    api.upload("/images/inpaint", {"prompt": "x"}, image=png(), mask=bad_mask)
    rec = recraft_server.last()
    assert rec.status == 400 and rec.error["code"] == "invalid_image"
    assert rec.files["mask"][0].mode == "RGB" and rec.files["mask"][0].values == [0, 255]
    api.post(GEN, json={**VEC, "n": 2})
    rec = recraft_server.last(GEN)
    assert rec.content_type == "json" and rec.fields == {**VEC, "n": 2}
    assert len(rec.response["data"]) == 2


def test_request_log_never_holds_the_token(api, recraft_server):
    api.post(GEN, json=VEC)
    requests.get(
        recraft_server.base_url + "/users/me", headers={"Authorization": "Bearer secret-guess"}
    )
    dump = repr(recraft_server.requests)
    assert "test-token" not in dump and "secret-guess" not in dump
    assert all("Authorization" not in r.headers for r in recraft_server.requests)
    assert [r.authorized for r in recraft_server.requests] == [True, False]


def test_old_records_drop_upload_bytes(api, recraft_server):
    image = png()
    api.ok(api.upload("/images/removeBackground", image=image))
    up = recraft_server.last("/images/removeBackground").files["image"][0]
    for _ in range(49):
        assert api.session.get(recraft_server.url + "/ping").status_code == 200
    assert up.data == image  # still among the newest 50
    assert api.session.get(recraft_server.url + "/ping").status_code == 200
    # The server finishes a record just after its answer went out: give it a moment.
    deadline = time.monotonic() + 5
    while up.data and time.monotonic() < deadline:
        time.sleep(0.01)
    assert up.data == b"" and up.size == len(image) and up.format == "png"


def test_request_log_keeps_at_most_1000_records_by_default():
    log = RequestLog()
    for i in range(1001):
        log.finish(log.begin("GET", f"/ping/{i}", "", {}), 0.0)
    records = log.records()
    assert len(records) == 1000 and records[0].path == "/ping/1"


def test_requests_is_a_copy(api, recraft_server):
    api.get("/users/me")
    log = recraft_server.requests
    log.clear()
    assert len(recraft_server.requests) == 1
    assert recraft_server.last("nothing-like-this") is None


# --- concurrency, lifecycle -----------------------------------------------------------------------


def test_concurrent_requests(recraft_server):
    headers = {"Authorization": "Bearer test-token"}

    def one(i):
        r = requests.post(
            recraft_server.base_url + GEN,
            json={**VEC, "random_seed": i},
            headers=headers,
            timeout=30,
        )
        return r.status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(one, range(16))) == [200] * 16
    assert recraft_server.credits == 100000 - 16 * 80


def test_keep_alive(recraft_server):
    request = raw_request("GET", "/v1/users/me", AUTH)
    with RawConnection(recraft_server) as conn:
        conn.send(request)
        first = conn.read_response()
        conn.send(request)  # the same socket again: the server kept it open
        second = conn.read_response()
        conn.send(request + request)  # and pipelined
        third, fourth = conn.read_response(), conn.read_response()
    for status, headers, body in (first, second, third, fourth):
        assert status == 200 and "connection" not in headers
        assert json.loads(body)["credits"] == 100000
    assert len(recraft_server.requests) == 4


def test_reset_restores_everything(api, recraft_server):
    recraft_server.credits = 5
    recraft_server.url_ttl = 1
    recraft_server.fault("status", status=500, times=3)
    recraft_server.reset()
    assert recraft_server.credits == 100000 and recraft_server.url_ttl == 3600
    assert recraft_server.requests == [] and recraft_server.pending_faults == []


def test_verbose_log_escapes_control_characters(capsys):
    with RecraftServer(verbose=True) as server, RawConnection(server) as conn:
        conn.send(b"GET /v1/\x1b[2J\x07bell HTTP/1.1\r\nHost: x\r\n\r\n")
        assert conn.read_response()[0] == 401
        deadline = time.monotonic() + 5
        err = ""
        while "bell" not in err and time.monotonic() < deadline:
            time.sleep(0.02)
            err += capsys.readouterr().err
    assert '"GET /v1/\\x1b[2J\\x07bell" 401' in err
    assert "\x1b" not in err and "\x07" not in err


def test_own_server_lifecycle():
    with RecraftServer(token="abc", credits=50) as server:
        assert server.base_url == server.url + "/v1"
        assert server.url.startswith("http://127.0.0.1:")
        r = requests.get(
            server.base_url + "/users/me", headers={"Authorization": "Bearer abc"}, timeout=10
        )
        assert r.json()["credits"] == 50
        r = requests.post(server.base_url + GEN, json=VEC, headers={"Authorization": "Bearer abc"})
        assert_error(r, 402, code="not_enough_credits")
        port = server.port
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/status", timeout=2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_standalone_command(checkout_env):
    port = _free_port()
    env = checkout_env(PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "recraft_server",
            "--port",
            str(port),
            "--token",
            "dev",
            "--credits",
            "77",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        first = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}" in first
        assert f"RECRAFT_API_URL=http://127.0.0.1:{port}/v1" in proc.stdout.readline()
        r = requests.get(
            f"http://127.0.0.1:{port}/v1/users/me",
            headers={"Authorization": "Bearer dev"},
            timeout=10,
        )
        assert r.json()["credits"] == 77
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
    assert '"GET /v1/users/me" 200' in proc.stderr.read()


def test_standalone_faults_from_the_command_line_and_the_admin_endpoint(checkout_env):
    """--fault SPEC at start; --admin lets another process (an editor's test) queue faults
    while it runs; without --admin there is no such endpoint."""
    port = _free_port()
    command = [sys.executable, "-m", "recraft_server", "--port", str(port), "--token", "dev"]
    command += ["--quiet", "--admin", "--fault", "status=503,path=/users/me,times=1"]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=checkout_env(PYTHONUNBUFFERED="1"),
    )
    base = f"http://127.0.0.1:{port}"
    me = {"headers": {"Authorization": "Bearer dev"}, "timeout": 10}
    try:
        proc.stdout.readline()
        assert requests.get(f"{base}/v1/users/me", **me).status_code == 503
        assert requests.get(f"{base}/v1/users/me", **me).status_code == 200
        added = requests.post(f"{base}/admin/faults", data="html=502,path=/users/me", timeout=10)
        assert added.status_code == 200 and added.json()[0]["kind"] == "html"
        page = requests.get(f"{base}/v1/users/me", **me)
        assert page.status_code == 502 and "html" in page.headers["Content-Type"]
        requests.post(f"{base}/admin/faults", data="delay=0.5,times=3", timeout=10)
        assert requests.delete(f"{base}/admin/faults", timeout=10).json() == []
        wrong = requests.post(f"{base}/admin/faults", data="nonsense", timeout=10)
        assert wrong.status_code == 400 and "unknown fault kind" in wrong.text
        page = {"Origin": "https://evil.example"}  # what a web page's fetch() sends
        r = requests.post(f"{base}/admin/faults", data="status=500", headers=page, timeout=10)
        assert r.status_code == 403 and "web page" in r.text
        assert requests.get(f"{base}/admin/faults", timeout=10).json() == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    bad = subprocess.run(
        [sys.executable, "-m", "recraft_server", "--fault", "status=oops=1,times"],
        capture_output=True,
        text=True,
        env=checkout_env(),
        timeout=30,
    )
    assert bad.returncode == 2 and "--fault" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},  # a sandboxed page or a file:// one
        {"Origin": "http://127.0.0.1"},  # any Origin: a page served from this machine too
        {"Host": "evil.example"},  # a rebound DNS name pointing at 127.0.0.1
        {"Host": "127.0.0.1.evil.example"},
        {"Host": "localhost.evil.example:80"},
        {"Host": "127.0.0.1:80@evil.example"},
        {"Host": ""},
    ],
    ids=["origin", "null-origin", "local-origin", "host", "host-suffix", "localhost-suffix",
         "host-junk", "empty-host"],
)  # fmt: skip
def test_admin_refuses_what_a_web_page_could_send(headers):
    """A page in this machine's browser can POST to 127.0.0.1 (it sends an Origin), or reach
    it through a DNS name rebound to 127.0.0.1 (its Host names it): refused, nothing queued."""
    with RecraftServer() as server:
        server.admin = True
        url = f"{server.url}/admin/faults"
        for method in ("POST", "DELETE", "GET"):
            r = requests.request(method, url, data="status=500", headers=headers, timeout=10)
            assert r.status_code == 403, (method, r.text)
        assert server.pending_faults == []
        assert "admin requests" in r.text


def test_admin_takes_requests_naming_this_machine():
    with RecraftServer() as server:
        server.admin = True
        for host in (f"127.0.0.1:{server.port}", "localhost", f"LOCALHOST:{server.port}",
                     "[::1]:8000", "127.0.0.2"):  # fmt: skip
            r = requests.post(
                f"{server.url}/admin/faults", data="delay=1", headers={"Host": host}, timeout=10
            )
            assert r.status_code == 200, (host, r.text)
        assert len(server.pending_faults) == 5
        with RawConnection(server) as conn:  # no Host header at all
            conn.send(b"DELETE /admin/faults HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            status, _, body = conn.read_response()
        assert status == 403 and b"Host" in body
        assert len(server.pending_faults) == 5


def test_without_admin_there_is_no_admin_endpoint(recraft_server):
    r = requests.post(f"{recraft_server.url}/admin/faults", data="status=500", timeout=10)
    assert r.status_code == 404
    assert recraft_server.pending_faults == []


# --- body encodings -------------------------------------------------------------------------------


def test_handmade_multipart_with_preamble_and_rfc5987_filename(api, recraft_server):
    image = png()
    body = (
        b"preamble to ignore\r\n--XyZ\r\n"
        b'Content-Disposition: form-data; name="response_format"\r\n\r\nb64_json\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="image"; '
        b"filename*=UTF-8''%C3%A9t%C3%A9.png\r\n"
        b"Content-Type: image/png\r\n\r\n" + image + b"\r\n--XyZ--\r\nepilogue"
    )
    r = api.post(
        "/images/removeBackground",
        data=body,
        headers={"Content-Type": 'multipart/form-data; boundary="XyZ"'},
    )
    assert r.status_code == 200, r.text
    assert "b64_json" in r.json()["image"]
    up = recraft_server.last().files["image"][0]
    assert up.filename == "été.png" and up.data == image


def test_multipart_without_closing_boundary(api):
    body = b'--b\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nx\r\n'
    r = api.post(GEN, data=body, headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert_error(r, 400, "closing boundary", code="invalid_request_body")
    r = api.post(GEN, data=body, headers={"Content-Type": "multipart/form-data"})
    assert_error(r, 400, "boundary", code="invalid_request_body")


@pytest.mark.parametrize("size_line", [b"-5", b"0x5", b"+5", b"5_0", b"zz", b"1" * 17])
def test_bad_chunk_sizes_are_400(recraft_server, size_line):
    headers = {**AUTH, "Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    request = raw_request("POST", "/v1" + GEN, headers) + size_line + b"\r\nhello\r\n0\r\n\r\n"
    with RawConnection(recraft_server, timeout=5) as conn:
        conn.send(request)
        status, headers, body = conn.read_response()
    assert status == 400 and headers["connection"] == "close"
    assert json.loads(body)["code"] == "invalid_request_body" and b"chunk size" in body


def test_chunked_request_body(api, recraft_server):
    payload = json.dumps(VEC).encode()
    r = api.post(
        GEN, data=iter([payload[:5], payload[5:]]), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text
    assert recraft_server.last(GEN).headers.get("Transfer-Encoding") == "chunked"


def test_body_over_the_upload_limit_is_413(api, recraft_server):
    r = api.post(
        GEN, data=b"\0" * (64 * 1024 * 1024 + 1), headers={"Content-Type": "application/json"}
    )
    assert_error(r, 413, code="payload_too_large")


def test_head_on_a_result_file(api):
    item = api.ok(api.post(GEN, json=VEC))["data"][0]
    r = requests.head(item["url"], timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/svg+xml"
    assert int(r.headers["Content-Length"]) > 0 and r.content == b""


def test_a_request_begun_before_a_reset_changes_nothing_after_it(api, recraft_server):
    """A test's slow or abandoned call must not charge the next test's fresh balance."""
    recraft_server.fault("delay", seconds=0.5, path="/images/generations")
    with ThreadPoolExecutor(1) as pool:
        late = pool.submit(api.post, "/images/generations", json={"prompt": "x"})
        time.sleep(0.2)
        recraft_server.reset()
        answer = late.result(timeout=10)
    assert answer.status_code == 503 and answer.json()["code"] == "service_unavailable"
    assert recraft_server.credits == 100000 and not recraft_server.style_ids
