"""Every operation end to end over real HTTP, from Python and from the CLI.

Assertions are on what the server received (fields, files, mask statistics) and on the results'
pixels and geometry, following the local server's documented deterministic rules.
"""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time

import pytest
from PIL import Image

from images import encoded, mask, png, svg
from recraft_core import Client, Raster, RetryPolicy
from recraft_core.api.operations import OPERATIONS


@pytest.fixture
def client(recraft_server):
    with Client(recraft_server.token, base_url=recraft_server.base_url, retry=RetryPolicy(0)) as c:
        yield c


def pixels(image) -> Image.Image:
    return Image.open(io.BytesIO(image.data))


def striped(w, h):
    """An RGB image whose every pixel differs from its neighbours, as PNG bytes."""
    px = bytes(
        (x * 7 + y * 13 + c * 50) % 256 for y in range(h) for x in range(w) for c in range(3)
    )
    return Raster(w, h, "RGB", px)


def test_generate(client, recraft_server):
    result = client.generate(prompt="a fox", model="recraftv3", size="16:9", random_seed=7)
    assert pixels(result.image).size == (1820, 1024)
    sent = recraft_server.last("/images/generations")
    assert sent.content_type == "json"
    assert sent.fields == {
        "prompt": "a fox",
        "model": "recraftv3",
        "size": "16:9",
        "random_seed": 7,
    }
    again = client.generate(prompt="a fox", model="recraftv3", size="16:9", random_seed=7)
    assert again.image.data == result.image.data  # same inputs, same bytes
    assert result.credits == 40


def test_generate_raster_and_vector(client):
    raster_result = client.generate_raster(prompt="a fox", model="recraftv4", size="1536x768")
    assert pixels(raster_result.image).size == (1536, 768)
    vector = client.generate_vector(prompt="a fox")
    assert vector.image.mime == "image/svg+xml" and vector.image.info.width == 1024


def test_create_style_then_use_it(client, recraft_server):
    style = client.create_style(
        [png(300, 300), encoded(256, 256, "JPEG")], style="digital_illustration"
    )
    assert style.id and style.credits == 40
    sent = recraft_server.last("/styles")
    assert sent.fields["style"] == "digital_illustration"
    assert sorted(f.format for files in sent.files.values() for f in files) == ["jpeg", "png"]
    client.generate(prompt="a fox", model="recraftv3", style_id=style.id)
    assert recraft_server.last("/images/generations").fields["style_id"] == style.id


def test_image_to_image_strength_zero_keeps_the_image(client, recraft_server):
    source = striped(256, 256)
    result = client.image_to_image(source, prompt="winter", strength=0, model="recraftv3")
    assert pixels(result.image).convert("RGB").tobytes() == source.pixels
    sent = recraft_server.last("/images/imageToImage")
    assert sent.content_type == "multipart" and sent.fields["strength"] in ("0", 0, 0.0)


def test_inpaint_changes_only_the_white_area(client, recraft_server):
    source = striped(512, 384)
    box = (100, 50, 300, 150)
    result = client.inpaint(
        source, mask(512, 384, box), prompt="a hat", controls={"colors": [{"rgb": [255, 0, 0]}]}
    )
    sent = recraft_server.last("/images/inpaint")
    [m] = sent.files["mask"]
    assert (m.width, m.height, m.values, m.white, tuple(m.bbox)) == (
        512,
        384,
        [0, 255],
        200 * 100,
        box,
    )
    assert json.loads(sent.fields["controls"]) == {"colors": [{"rgb": [255, 0, 0]}]}
    out = pixels(result.image).convert("RGB")
    src = Image.frombytes("RGB", (512, 384), source.pixels)
    assert out.getpixel((10, 10)) == src.getpixel((10, 10))
    assert out.crop((0, 0, 512, 50)).tobytes() == src.crop((0, 0, 512, 50)).tobytes()
    assert out.crop(box).tobytes() != src.crop(box).tobytes()


def test_outpaint_places_the_original(client):
    source = striped(300, 256)
    result = client.outpaint(source, prompt="sea", expand_left=100, expand_bottom=44)
    out = pixels(result.image).convert("RGB")
    assert out.size == (400, 300)
    src = Image.frombytes("RGB", (300, 256), source.pixels)
    assert out.crop((100, 0, 400, 256)).tobytes() == src.tobytes()


def test_replace_and_generate_background(client, recraft_server):
    result = client.replace_background(png(256, 256), prompt="a beach")
    assert pixels(result.image).size == (256, 256)
    result = client.generate_background(
        png(256, 256), mask(256, 256, (0, 0, 256, 100)), prompt="sky"
    )
    assert pixels(result.image).size == (256, 256)
    assert recraft_server.last("/images/generateBackground").files["mask"][0].white == 256 * 100


def test_vectorize(client):
    result = client.vectorize(png(300, 260))
    assert result.image.mime == "image/svg+xml"
    assert (result.image.info.width, result.image.info.height) == (300, 260)


def test_remove_background(client):
    source = Image.new("RGB", (256, 256), (255, 255, 255))
    source.paste((200, 0, 0), (64, 64, 192, 192))
    buf = io.BytesIO()
    source.save(buf, "PNG")
    out = pixels(client.remove_background(buf.getvalue()).image)
    assert out.mode == "RGBA"
    assert out.getpixel((5, 5))[3] == 0 and out.getpixel((128, 128)) == (200, 0, 0, 255)


def test_remove_background_of_a_small_svg(client):
    result = client.remove_background(svg(64, 64))
    assert result.image.mime == "image/svg+xml"


def test_upscales(client):
    assert pixels(client.crisp_upscale(png(256, 300)).image).size == (512, 600)
    assert pixels(client.creative_upscale(png(256, 300)).image).size == (1024, 1200)


def test_erase_region(client, recraft_server):
    source = striped(256, 256)
    result = client.erase_region(source, mask(256, 256, (0, 0, 10, 10)))
    out = pixels(result.image).convert("RGB")
    src = Image.frombytes("RGB", (256, 256), source.pixels)
    assert out.crop((10, 0, 256, 256)).tobytes() == src.crop((10, 0, 256, 256)).tobytes()
    assert tuple(recraft_server.last("/images/eraseRegion").files["mask"][0].bbox) == (0, 0, 10, 10)


def test_remix(client):
    result = client.remix(png(256, 256), size="1:1", n=2, model="recraftv3")
    assert [pixels(i).size for i in result.images] == [(1024, 1024)] * 2


def test_explore_then_similar(client):
    found = client.explore(prompt="owls", size="1:1")
    assert len(found.images) >= 1 and all(i.image_id for i in found.images)
    similar = client.explore_similar(source_image_id=found.images[0].image_id, similarity=3)
    assert similar.images


def test_enhance_prompt_and_user(client, recraft_server):
    enhanced = client.enhance_prompt(prompt="a cat")
    assert len(enhanced.prompt) > len("a cat") and "cat" in enhanced.prompt
    before = client.user().credits
    client.vectorize(png(256, 256))
    assert client.user().credits == before - 10


def test_every_operation_has_a_test_here():
    with open(__file__, encoding="utf-8") as f:
        text = f.read()
    missing = [op for op in OPERATIONS if f"client.{op}(" not in text]
    assert not missing


# -- the CLI ------------------------------------------------------------------------------


def test_cli_every_operation(cli, tmp_path, recraft_server):
    img = tmp_path / "photo.png"
    img.write_bytes(png(300, 300))
    msk = tmp_path / "mask.png"
    msk.write_bytes(mask(300, 300, (10, 10, 50, 50)).to_png())
    small = tmp_path / "small.png"
    small.write_bytes(png(64, 64))
    runs = {
        "generate": ["--prompt", "fox", "--model", "recraftv3", "-o", "fox.png"],
        "generate-raster": ["--prompt", "fox", "--size", "1:1"],
        "generate-vector": ["--prompt", "fox", "--n", "2"],
        "image-to-image": [img, "--prompt", "snow", "--strength", "0.4"],
        "inpaint": [img, "--mask", msk, "--prompt", "hat"],
        "outpaint": [img, "--prompt", "sea", "--expand-left", "20"],
        "replace-background": [img, "--prompt", "beach"],
        "generate-background": [img, "--mask", msk, "--prompt", "sky"],
        "vectorize": [img],
        "remove-background": [img],
        "crisp-upscale": [small],
        "creative-upscale": [img],
        "erase-region": [img, "--mask", msk],
        "remix": [img, "--size", "1:1", "--model", "recraftv3"],
        "explore": ["--prompt", "owls"],
        "enhance-prompt": ["--prompt", "a cat"],
        "user": [],
    }
    for name, args in runs.items():
        r = cli(name, *args)
        assert r.returncode == 0, (name, r.stderr)
    assert (tmp_path / "fox.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "photo.inpaint.png").exists()
    assert (tmp_path / "photo.vectorize.svg").read_bytes().lstrip().startswith((b"<svg", b"<?xml"))
    assert (tmp_path / "small.crisp-upscale.png").exists()
    assert (tmp_path / "generate-vector-1.svg").exists() and (
        tmp_path / "generate-vector-2.svg"
    ).exists()
    style = cli("create-style", img, "--style", "any")
    assert style.returncode == 0
    r = cli(
        "generate", "--prompt", "fox", "--model", "recraftv3", "--style-id", style.stdout.strip()
    )
    assert r.returncode == 0, r.stderr
    found = cli("explore", "--prompt", "owls", "--json")
    first = json.loads(found.stdout)["data"][0]["image_id"]
    r = cli("explore-similar", "--source-image-id", first, "--similarity", "2")
    assert r.returncode == 0, r.stderr
    assert "credits" in cli("user").stdout


def test_cli_json_and_progress(cli):
    r = cli("generate", "--prompt", "fox", "--json", "--response-format", "b64_json")
    assert r.returncode == 0
    assert json.loads(r.stdout[: r.stdout.rindex("}") + 1])["credits"] == 40
    assert "uploading" in r.stderr and "waiting for Recraft" in r.stderr and "wrote" in r.stderr


def test_cli_dry_run_sends_nothing(cli, tmp_path, recraft_server):
    img = tmp_path / "photo.png"
    img.write_bytes(png(300, 300))
    r = cli("inpaint", img, "--mask", img, "--prompt", "hat", "--dry-run")
    assert r.returncode == 3 and "mask" in r.stderr  # an RGB mask is refused before sending
    msk = tmp_path / "m.png"
    msk.write_bytes(mask(300, 300, (0, 0, 5, 5)).to_png())
    r = cli("inpaint", img, "--mask", msk, "--prompt", "hat", "--n", "2", "--dry-run")
    assert r.returncode == 0, r.stderr
    shown = json.loads(r.stdout)
    assert shown["url"].endswith("/v1/images/inpaint") and shown["fields"] == {
        "prompt": "hat",
        "n": "2",
    }
    assert [f["field"] for f in shown["files"]] == ["image", "mask"]
    assert not recraft_server.requests


def test_cli_exit_codes(cli, recraft_server):
    assert cli("generate", "--prompt", "fox", "--n", "9").returncode == 3
    assert cli("generate").returncode == 3  # prompt is required: said by validation, not argparse
    recraft_server.fault("status", times=2, status=500, path="/images/generations")  # retried once
    failed = cli("generate", "--prompt", "fox")
    assert failed.returncode == 4 and "HTTP 500" in failed.stderr
    assert recraft_server.token not in failed.stderr
    assert cli("nope").returncode == 2


def test_cli_network_failure(run_cli):
    r = run_cli("--base-url", "http://127.0.0.1:9/v1", "user", RECRAFT_API_TOKEN="t")
    assert r.returncode == 5 and "cannot connect" in r.stderr


def test_cli_fit_scales_oversized_images(cli, tmp_path, recraft_server):
    big = tmp_path / "scan.png"
    Image.new("RGB", (5000, 1000), (10, 20, 30)).save(big)
    assert cli("vectorize", big).returncode == 3  # too large without --fit
    r = cli("vectorize", big, "--fit")
    assert r.returncode == 0, r.stderr
    sent = recraft_server.last("/images/vectorize").files["image"][0]
    assert (sent.width, sent.height) == (4096, 819)
    tiny = tmp_path / "sprite.png"
    Image.new("RGB", (100, 40), (10, 20, 30)).save(tiny)
    msk = tmp_path / "sprite-mask.png"
    mask_image = Image.new("L", (100, 40), 0)
    mask_image.paste(255, (10, 10, 30, 30))  # an all-black mask would be refused
    mask_image.save(msk)
    r = cli("erase-region", tiny, "--mask", msk, "--fit")
    assert r.returncode == 0, r.stderr
    sent = recraft_server.last("/images/eraseRegion").files
    assert (sent["image"][0].width, sent["image"][0].height) == (640, 256)
    assert (sent["mask"][0].width, sent["mask"][0].height, sent["mask"][0].values) == (
        640,
        256,
        [0, 255],
    )


def test_cli_ctrl_c_cancels_promptly(recraft_server, checkout_env, tmp_path):
    recraft_server.fault("delay", times=1, seconds=10, path="/images/generations")
    env = checkout_env(
        RECRAFT_API_URL=recraft_server.base_url, RECRAFT_API_TOKEN=recraft_server.token
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "recraft_core", "generate", "--prompt", "fox"],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert "uploading" in proc.stderr.readline()
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    assert proc.wait(timeout=5) == 130
    assert time.monotonic() - started < 2
    assert "may still be charged" in proc.stderr.read()


def test_the_one_click_layer_operations_run_on_each_selected_layer():
    """Issue 22's list: remove background, the upscales, vectorize and remix; nothing that
    needs a selection or reads no layer."""
    on_each = sorted(op.name for op in OPERATIONS.values() if op.on_each_layer)
    assert on_each == [
        "creative_upscale",
        "crisp_upscale",
        "remix",
        "remove_background",
        "vectorize",
    ]
