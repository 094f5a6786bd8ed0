"""The CLI never loses a paid result, never overwrites an input, and turns bad options into
messages and exit codes, never a traceback. Real HTTP against the local server."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from images import mask, png
from recraft_server import RecraftServer


def charged(server) -> list:
    return [r for r in server.requests if r.path.startswith("/v1/images/")]


def clean(r) -> None:
    assert "Traceback" not in r.stderr, r.stderr


def test_a_missing_output_folder_is_made(cli, tmp_path, recraft_server):
    r = cli("generate", "--prompt", "fox", "-o", "missing/dir/fox.png")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "missing" / "dir" / "fox.png").read_bytes()[:4] == b"\x89PNG"


def test_a_write_that_fails_after_paying_saves_the_result_elsewhere(cli, tmp_path, recraft_server):
    r = cli("generate", "--prompt", "fox", "-o", "/dev/full")
    clean(r)
    assert r.returncode == 7, r.stderr
    assert "could not write /dev/full" in r.stderr
    saved = [p for p in tmp_path.iterdir() if p.name.startswith("recraft-") and p.is_file()]
    assert len(saved) == 1 and saved[0].read_bytes()[:4] == b"\x89PNG"
    assert f"saved the result to {saved[0]}" in r.stderr
    assert r.stdout.strip() == str(saved[0])


def test_an_input_is_never_overwritten(cli, tmp_path, recraft_server):
    """-o naming the input: the result takes a fresh name; with --force it is refused
    before anything is sent."""
    image = tmp_path / "v.png"
    image.write_bytes(png(300, 300))
    before = image.read_bytes()
    r = cli("remove-background", "v.png", "-o", "v.png")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "v-2.png" and (tmp_path / "v-2.png").exists()
    sent = len(charged(recraft_server))
    r = cli("remove-background", "v.png", "-o", "v.png", "--force")
    clean(r)
    assert r.returncode == 3 and "never overwritten" in r.stderr, r.stderr
    assert image.read_bytes() == before
    assert len(charged(recraft_server)) == sent  # refused before sending


def test_a_taken_name_gets_a_fresh_one_unless_force(cli, tmp_path, recraft_server):
    for _ in range(2):
        assert cli("generate", "--prompt", "fox").returncode == 0
    first, second = tmp_path / "generate.png", tmp_path / "generate-2.png"
    assert first.exists() and second.exists()
    first.write_bytes(b"keep me?")
    r = cli("generate", "--prompt", "fox", "-o", "generate.png", "--force")
    assert r.returncode == 0, r.stderr
    assert first.read_bytes()[:4] == b"\x89PNG"
    assert not (tmp_path / "generate-3.png").exists()


def test_an_output_that_cannot_be_written_is_refused_before_paying(cli, tmp_path, recraft_server):
    (tmp_path / "a-file").write_text("not a folder")
    r = cli("generate", "--prompt", "fox", "-o", "a-file/fox.png")
    clean(r)
    assert r.returncode == 3 and "cannot write into" in r.stderr, r.stderr
    assert charged(recraft_server) == []


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["--timeout", "inf", "user"], 2, "at most 3600 seconds"),
        (["--timeout", "nan", "user"], 2, "at most 3600 seconds"),
        (["--timeout", "soon", "user"], 2, "not a number of seconds"),
        (["user", "--base-url", "http://[::1/v1"], 3, "not a valid URL"),
        (["user", "--base-url", "http://127.0.0.1:99999/v1"], 3, "Port out of range"),
        (["user", "--timeout", "0"], 2, "more than 0"),
    ],
)
def test_bad_connection_options_are_messages(cli, args, code, words):
    r = cli(*args)
    clean(r)
    assert r.returncode == code and words in r.stderr, r.stderr


def test_connection_options_work_after_the_operation_too(cli, recraft_server):
    r = cli("user", "--timeout", "5", "--base-url", recraft_server.base_url, RECRAFT_API_URL="")
    assert r.returncode == 0 and "credits" in r.stdout, r.stderr


def test_credentials_in_the_api_url_are_not_shown(cli):
    r = cli("user", "--base-url", "https://me:hunter2@127.0.0.1:9/v1")
    clean(r)
    assert r.returncode == 5 and "hunter2" not in r.stderr and "***@" in r.stderr, r.stderr


def test_the_token_is_blanked_wherever_it_stands(run_cli):
    """Matched exactly, whatever stands next to it: a server can glue letters to the token
    (Bearerrk_..., %22rk_...) as well as dots or slashes. A short token is no exception, so
    the local server's "dev" is blanked inside "developer" too: an odd word beats a leak."""
    with RecraftServer(token="dev") as server:
        r = run_cli(
            "enhance-prompt",
            "--prompt",
            "a developer's desk",
            "--json",
            RECRAFT_API_URL=server.base_url,
            RECRAFT_API_TOKEN="dev",
        )
    assert r.returncode == 0, r.stderr
    assert "dev" not in r.stdout, r.stdout
    assert json.loads(r.stdout)["enhanced_prompt"].startswith("a ***eloper's desk"), r.stdout


def test_fit_brings_a_heavy_file_under_10_mb(cli, tmp_path, recraft_server):
    """Noise does not compress: a 2300 x 2300 PNG of it weighs over 15 MB while it is within
    the pixel limits. Without --fit it is refused with its real size; with it, it goes up
    smaller, under 10 MB."""
    noise = np.random.default_rng(1).integers(0, 256, (2300, 2300, 3), dtype=np.uint8)
    heavy = tmp_path / "noise.png"
    Image.fromarray(noise).save(heavy)
    size = heavy.stat().st_size
    assert size > 15 * 2**20
    r = cli("remove-background", heavy)
    assert r.returncode == 3 and f"{size / 2**20:.1f} MB" in r.stderr, r.stderr
    r = cli("remove-background", heavy, "--fit")
    assert r.returncode == 0, r.stderr
    sent = recraft_server.last("/images/removeBackground").files["image"][0]
    assert sent.size < 10 * 2**20 and sent.width < 2300


def test_an_all_white_mask_is_sent_with_a_warning(cli, tmp_path, recraft_server):
    (tmp_path / "p.png").write_bytes(png(300, 300))
    (tmp_path / "white.png").write_bytes(mask(300, 300, (0, 0, 300, 300)).to_png())
    (tmp_path / "black.png").write_bytes(mask(300, 300).to_png())
    r = cli("erase-region", "p.png", "--mask", "white.png")
    assert r.returncode == 0 and "mask is all white" in r.stderr, r.stderr
    r = cli("erase-region", "p.png", "--mask", "black.png")
    assert r.returncode == 3 and "all black" in r.stderr, r.stderr


HOSTILE_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    b'width="512" height="256" onload="alert(1)"><script>alert(2)</script>'
    b'<image xlink:href="http://evil.example/x.png" width="10" height="10"/>'
    b'<circle cx="5" cy="5" r="4" fill="#123456"/></svg>'
)


def test_an_svg_result_is_saved_sanitised(cli, tmp_path, recraft_server):
    """A browser may open what the CLI saves: no script, handler or outside reference."""
    (tmp_path / "logo.png").write_bytes(png(512, 256))
    recraft_server.fault("body", path="/files/", body=HOSTILE_SVG, content_type="image/svg+xml")
    r = cli("vectorize", "logo.png", "-o", "logo.svg")
    clean(r)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "logo.svg").read_text()
    for bad in ("script", "alert", "onload", "evil.example"):
        assert bad not in text
    assert 'fill="#123456"' in text


def test_an_svg_answer_to_an_svg_is_planned_as_svg(cli, tmp_path, recraft_server):
    """Remove background answers SVG with SVG: into the input's own folder it is named after
    the operation; named as the input itself (with --force) it is refused before sending."""
    source = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="512" height="512">'
        '<rect width="512" height="512" fill="#123456"/></svg>'
    )
    (tmp_path / "logo.svg").write_text(source)
    r = cli("remove-background", "logo.svg", "-o", "logo.svg", "--force")
    clean(r)
    assert r.returncode != 0 and "is an input of this command" in r.stderr, r.stderr
    assert charged(recraft_server) == []
    r = cli("remove-background", "logo.svg", "-o", "./", "--force")
    clean(r)
    assert r.returncode == 0 and r.stdout.strip() == "logo.remove-background.svg", r.stderr
    assert (tmp_path / "logo.svg").read_text() == source
