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

from recraft_server import RecraftServer

from .helpers import assert_error, mask, png, scene

GEN = "/images/generations"
VEC = {"prompt": "x", "model": "recraftv3_vector"}  # SVG answers keep these tests quick


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
    assert requests.get(item["url"], timeout=10).status_code == 200
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


def test_fault_delay(api, recraft_server):
    recraft_server.fault("delay", seconds=1.0)
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.post(GEN, json=VEC, timeout=0.3)
    r = api.post(GEN, json=VEC, timeout=5)
    assert r.status_code == 200


def test_fault_reset(api, recraft_server):
    recraft_server.fault("reset")
    big = png(scene((1024, 1024))) + b"\0" * (2 * 1024 * 1024)
    with pytest.raises(requests.exceptions.ConnectionError):
        api.upload("/images/removeBackground", image=big)
    assert recraft_server.last().fault == "reset"
    assert recraft_server.credits == 100000
    api.ok(api.post(GEN, json=VEC))


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


def test_fault_truncate(api, recraft_server):
    recraft_server.fault("truncate")
    with pytest.raises(
        (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        api.post(GEN, json=VEC)
    item = api.ok(api.post(GEN, json=VEC))["data"][0]
    recraft_server.fault("truncate", path="/files/")
    with pytest.raises(
        (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)
    ):
        requests.get(item["url"], timeout=10)
    assert requests.get(item["url"], timeout=10).status_code == 200


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
    assert mk.mode == "L"
    assert mk.white == 80 * 60 and mk["bbox"] == (40, 30, 120, 90)
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


def test_keep_alive(api, recraft_server):
    r1 = api.get("/users/me")
    r2 = api.get("/users/me")
    assert r1.raw.version == 11 and "close" not in r2.headers.get("Connection", "")
    assert int(r2.headers["Content-Length"]) == len(r2.content)


def test_reset_restores_everything(api, recraft_server):
    recraft_server.credits = 5
    recraft_server.url_ttl = 1
    recraft_server.fault("status", status=500, times=3)
    recraft_server.reset()
    assert recraft_server.credits == 100000 and recraft_server.url_ttl == 3600
    assert recraft_server.requests == [] and recraft_server.pending_faults == []


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
