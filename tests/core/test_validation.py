"""Every documented rule: one valid and one invalid example each, checked before sending."""

from __future__ import annotations

import io
import uuid

import pytest
from PIL import Image

from images import encoded, mask, png, raster, svg
from recraft_core import Client, ValidationError
from recraft_core.api.operations import OPERATIONS
from recraft_core.imaging.png import Raster

SID = str(uuid.uuid4())
IMG = png(512, 512)
MASK = mask(512, 512, (100, 100, 200, 200))
SVG_SCRIPT = svg(512, 512).replace(b"</svg>", b"<script>alert(1)</script></svg>")
SVG_LINK = svg(512, 512).replace(b"</svg>", b'<image href="https://example.com/x.png"/></svg>')


def _mask16() -> bytes:
    buf = io.BytesIO()
    Image.new("I;16", (512, 512), 65535).save(buf, "PNG")
    return buf.getvalue()


MASK16 = _mask16()


@pytest.fixture(scope="module")
def client():
    # Validation never touches the network; the URL is never contacted.
    return Client("test-token", base_url="http://127.0.0.1:9/v1")


def ok(client, op, **params):
    return client.prepare(op, **params)


def bad(client, op, field, rule, **params):
    with pytest.raises(ValidationError) as info:
        client.prepare(op, **params)
    assert info.value.field == field, str(info.value)
    assert rule in info.value.rule, str(info.value)
    return info.value


# (operation, valid params, invalid params, field named, words of the rule)
CASES = [
    # model vs endpoint
    (
        "generate_raster",
        dict(prompt="x", model="recraftv3"),
        dict(prompt="x", model="recraftv3_vector"),
        "model",
        "vector model",
    ),
    (
        "generate_vector",
        dict(prompt="x", model="recraftv3_vector"),
        dict(prompt="x", model="recraftv4"),
        "model",
        "raster model",
    ),
    (
        "generate",
        dict(prompt="x", model="recraftv2_vector"),
        dict(prompt="x", model="dall-e"),
        "model",
        "not accepted",
    ),
    (
        "inpaint",
        dict(image=IMG, mask=MASK, prompt="x", model="recraftv3_vector"),
        dict(image=IMG, mask=MASK, prompt="x", model="recraftv4"),
        "model",
        "recraftv3, recraftv3_vector",
    ),
    (
        "outpaint",
        dict(image=IMG, prompt="x", expand_left=10, model="recraftv3"),
        dict(image=IMG, prompt="x", expand_left=10, model="recraftv4_1"),
        "model",
        "not accepted",
    ),
    (
        "replace_background",
        dict(image=IMG, prompt="x"),
        dict(image=IMG, prompt="x", model="recraftv2"),
        "model",
        "not accepted",
    ),
    (
        "generate_background",
        dict(image=IMG, mask=MASK, prompt="x"),
        dict(image=IMG, mask=MASK, prompt="x", model="recraftv4"),
        "model",
        "not accepted",
    ),
    (
        "image_to_image",
        dict(image=IMG, prompt="x", strength=0.5, model="recraftv4_pro_vector"),
        dict(image=IMG, prompt="x", strength=0.5, model="recraftv2"),
        "model",
        "not accepted",
    ),
    (
        "explore",
        dict(prompt="x", model="recraftv4_pro"),
        dict(prompt="x", model="recraftv3"),
        "model",
        "not accepted",
    ),
    # styles
    (
        "generate",
        dict(prompt="x", model="recraftv3", style="realistic_image"),
        dict(prompt="x", model="recraftv4", style="realistic_image"),
        "style",
        "V2/V3",
    ),
    (
        "generate",
        dict(prompt="x", model="recraftv2", style_id=SID),
        dict(prompt="x", model="recraftv4_1", style_id=SID),
        "style_id",
        "V2/V3",
    ),
    (
        "generate",
        dict(prompt="x", model="recraftv3_vector", style="vector_illustration"),
        dict(prompt="x", model="recraftv3_vector", style="realistic_image"),
        "style",
        "raster style",
    ),
    (
        "generate",
        dict(prompt="x", model="recraftv3", style="any"),
        dict(prompt="x", model="recraftv3", style="watercolour"),
        "style",
        "not one of",
    ),
    (
        "generate",
        dict(prompt="x", model="recraftv3", style_id=SID),
        dict(prompt="x", model="recraftv3", style="any", style_id=SID),
        "style_id",
        "together",
    ),
    (
        "generate",
        dict(prompt="x", model="recraftv3", style_id=SID),
        dict(prompt="x", model="recraftv3", style_id="not-a-uuid"),
        "style_id",
        "not a UUID",
    ),
    (
        "image_to_image",
        dict(image=IMG, prompt="x", strength=0.2, model="recraftv4", style="any"),
        dict(image=IMG, prompt="x", strength=0.2, model="recraftv4", style="icon"),
        "style",
        "vector style",
    ),
    (
        "inpaint",
        dict(image=IMG, mask=MASK, prompt="x", style="digital_illustration"),
        dict(image=IMG, mask=MASK, prompt="x", style="icon"),
        "style",
        "vector style",
    ),
    # sizes
    (
        "generate",
        dict(prompt="x", model="recraftv4", size="1536x768"),
        dict(prompt="x", model="recraftv4", size="1365x1024"),
        "size",
        "not supported by recraftv4",
    ),
    (
        "generate",
        dict(prompt="x", model="recraftv3", size="1365x1024"),
        dict(prompt="x", model="recraftv3", size="1216x896"),
        "size",
        "not supported by recraftv3",
    ),
    (
        "generate",
        dict(prompt="x", model="recraftv4_pro", size="2048x2048"),
        dict(prompt="x", model="recraftv4_pro", size="1024x1024"),
        "size",
        "not supported",
    ),
    (
        "generate",
        dict(prompt="x", model="recraftv4_vector", size="16:9"),
        dict(prompt="x", model="recraftv4_vector", size="7:3"),
        "size",
        "not supported",
    ),
    (
        "remix",
        dict(image=IMG, size="1:1"),
        dict(image=IMG, size="999x999"),
        "size",
        "not supported",
    ),
    ("remix", dict(image=IMG, size="1024x1024"), dict(image=IMG), "size", "required"),
    (
        "explore",
        dict(prompt="x", size="9:16"),
        dict(prompt="x", size="1365x1024"),
        "size",
        "not supported",
    ),
    # prompts
    (
        "generate",
        dict(prompt="é" * 500, model="recraftv3"),
        dict(prompt="é" * 501, model="recraftv3"),
        "prompt",
        "1002 bytes",
    ),
    (
        "generate",
        dict(prompt="a" * 10000, model="recraftv4"),
        dict(prompt="a" * 10001, model="recraftv4"),
        "prompt",
        "at most 10000",
    ),
    ("generate", dict(prompt="a"), dict(prompt="   "), "prompt", "empty"),
    ("generate", dict(prompt="a"), dict(), "prompt", "required"),
    (
        "enhance_prompt",
        dict(prompt="ж" * 2000),
        dict(prompt="ж" * 2001),
        "prompt",
        "2001 characters",
    ),
    ("enhance_prompt", dict(prompt="cat"), dict(prompt=""), "prompt", "empty"),
    # numbers
    ("generate", dict(prompt="x", n=6), dict(prompt="x", n=7), "n", "out of range [1, 6]"),
    ("generate", dict(prompt="x", n=1), dict(prompt="x", n=0), "n", "out of range"),
    ("generate", dict(prompt="x", n=2), dict(prompt="x", n=True), "n", "integer"),
    (
        "image_to_image",
        dict(image=IMG, prompt="x", strength=0),
        dict(image=IMG, prompt="x", strength=1.5),
        "strength",
        "[0, 1]",
    ),
    (
        "image_to_image",
        dict(image=IMG, prompt="x", strength=1),
        dict(image=IMG, prompt="x"),
        "strength",
        "required",
    ),
    (
        "generate",
        dict(prompt="x", random_seed=2**32 - 1),
        dict(prompt="x", random_seed=2**32),
        "random_seed",
        "out of range",
    ),
    (
        "generate",
        dict(prompt="x", random_seed=0),
        dict(prompt="x", random_seed=-1),
        "random_seed",
        "out of range",
    ),
    (
        "outpaint",
        dict(image=IMG, prompt="x", expand_top=4096 - 512),
        dict(image=IMG, prompt="x", expand_top=4097),
        "expand_top",
        "[0, 4096]",
    ),
    (
        "outpaint",
        dict(image=IMG, prompt="x", expand_right=0, expand_left=1),
        dict(image=IMG, prompt="x", expand_right=-1),
        "expand_right",
        "out of range",
    ),
    (
        "outpaint",
        dict(image=IMG, prompt="x", size="1024x1024"),
        dict(image=IMG, prompt="x", size="1024x1024", expand_left=5),
        "size",
        "cannot be combined",
    ),
    (
        "outpaint",
        dict(image=IMG, prompt="x", zoom_out_percentage=50),
        dict(image=IMG, prompt="x"),
        "expand_*",
        "at least one",
    ),
    (
        "outpaint",
        dict(image=IMG, prompt="x", zoom_out_percentage=99.9),
        dict(image=IMG, prompt="x", zoom_out_percentage=100),
        "zoom_out_percentage",
        "[0, 100)",
    ),
    (
        "outpaint",
        dict(image=IMG, prompt="x", expand_left=1792, expand_right=1792),
        dict(image=IMG, prompt="x", expand_left=1792, expand_right=1793),
        "expand_*",
        "4097x512",
    ),
    (
        "outpaint",
        dict(image=IMG, prompt="x", size="16:9", zoom_out_percentage=20),
        dict(image=IMG, prompt="x", size="1216x896"),
        "size",
        "not supported by recraftv3",
    ),
    (
        "explore_similar",
        dict(source_image_id=SID, similarity=5),
        dict(source_image_id=SID, similarity=6),
        "similarity",
        "[1, 5]",
    ),
    (
        "explore_similar",
        dict(source_image_id=SID, similarity=1),
        dict(source_image_id="x", similarity=1),
        "source_image_id",
        "UUID",
    ),
    (
        "generate",
        dict(prompt="x", response_format="b64_json"),
        dict(prompt="x", response_format="base64"),
        "response_format",
        "url, b64_json",
    ),
    (
        "vectorize",
        dict(image=IMG, response_format="url"),
        dict(image=IMG, response_format="png"),
        "response_format",
        "not one of",
    ),
    # fields by model
    (
        "generate",
        dict(prompt="x", model="recraftv3", negative_prompt="blur"),
        dict(prompt="x", model="recraftv4", negative_prompt="blur"),
        "negative_prompt",
        "V2/V3",
    ),
    (
        "generate",
        dict(
            prompt="x",
            model="recraftv3",
            text_layout=[{"text": "Hi", "bbox": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
        ),
        dict(
            prompt="x",
            model="recraftv2",
            text_layout=[{"text": "Hi", "bbox": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
        ),
        "text_layout",
        "V3 models only",
    ),
    (
        "image_to_image",
        dict(image=IMG, prompt="x", strength=0.3, model="recraftv3", text_layout=[]),
        dict(image=IMG, prompt="x", strength=0.3, model="recraftv4", text_layout=[]),
        "text_layout",
        "V3",
    ),
    (
        "vectorize",
        dict(image=IMG),
        dict(image=IMG, prompt="x"),
        "prompt",
        "not a parameter of vectorize",
    ),
    # controls
    (
        "generate",
        dict(prompt="x", controls={"colors": [{"rgb": [0, 128, 255]}]}),
        dict(prompt="x", controls={"colors": [{"rgb": [0, 128, 256]}]}),
        "controls.colors[0].rgb",
        "3 integers 0-255",
    ),
    (
        "generate",
        dict(prompt="x", controls={"background_color": {"rgb": [1, 2, 3]}}),
        dict(prompt="x", controls={"background_color": {"rgb": [1, 2]}}),
        "controls.background_color.rgb",
        "3 integers",
    ),
    (
        "generate",
        dict(
            prompt="x",
            controls={
                "colors": [{"rgb": [1, 2, 3], "weight": 0.6}, {"rgb": [3, 2, 1], "weight": 0.4}]
            },
        ),
        dict(
            prompt="x",
            controls={
                "colors": [{"rgb": [1, 2, 3], "weight": 0.6}, {"rgb": [3, 2, 1], "weight": 0.5}]
            },
        ),
        "controls.colors",
        "sum to 1.1",
    ),
    (
        "generate",
        dict(prompt="x", controls={"colors": [{"rgb": [1, 2, 3], "weight": 1}]}),
        dict(prompt="x", controls={"colors": [{"rgb": [1, 2, 3], "weight": 1.2}]}),
        "controls.colors[0].weight",
        "[0, 1]",
    ),
    (
        "generate",
        dict(prompt="x", model="recraftv3", controls={"artistic_level": 5}),
        dict(prompt="x", model="recraftv3", controls={"artistic_level": 6}),
        "controls.artistic_level",
        "out of range [0, 5]",
    ),
    (
        "generate",
        dict(prompt="x", model="recraftv3", controls={"artistic_level": 0}),
        dict(prompt="x", model="recraftv4", controls={"artistic_level": 0}),
        "controls.artistic_level",
        "V3 models only",
    ),
    (
        "generate",
        dict(prompt="x", model="recraftv3_vector", controls={"no_text": True}),
        dict(prompt="x", model="recraftv4_1", controls={"no_text": True}),
        "controls.no_text",
        "V3 models only",
    ),
    (
        "generate",
        dict(prompt="x", controls={}),
        dict(prompt="x", controls={"colours": []}),
        "controls.colours",
        "unknown in controls",
    ),
    # text_layout
    (
        "generate",
        dict(
            prompt="x",
            model="recraftv3",
            text_layout=[{"text": "Ёлка!", "bbox": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
        ),
        dict(
            prompt="x",
            model="recraftv3",
            text_layout=[{"text": "two words", "bbox": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
        ),
        "text_layout[0].text",
        "one word",
    ),
    (
        "generate",
        dict(
            prompt="x",
            model="recraftv3",
            text_layout=[{"text": "Café", "bbox": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
        ),
        dict(
            prompt="x",
            model="recraftv3",
            text_layout=[{"text": "日本", "bbox": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
        ),
        "text_layout[0].text",
        "not allowed",
    ),
    (
        "generate",
        dict(
            prompt="x",
            model="recraftv3",
            text_layout=[{"text": "Hi", "bbox": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
        ),
        dict(
            prompt="x",
            model="recraftv3",
            text_layout=[{"text": "Hi", "bbox": [[0, 0], [1, 0], [1, 1]]}],
        ),
        "text_layout[0].bbox",
        "exactly 4 points",
    ),
    # create style
    (
        "create_style",
        dict(images=[IMG], style="digital_illustration"),
        dict(images=[IMG], style="photo"),
        "style",
        "not one of",
    ),
    ("create_style", dict(images=[IMG], style="any"), dict(images=[IMG]), "style", "required"),
    (
        "create_style",
        dict(images=[IMG] * 5, style="any"),
        dict(images=[IMG] * 6, style="any"),
        "images",
        "at most 5",
    ),
    (
        "create_style",
        dict(source_styles=[SID], style="any"),
        dict(style="any"),
        "images",
        "at least one",
    ),
    (
        "create_style",
        dict(images=[IMG, IMG], image_weights=[0.5, 0.5], style="any"),
        dict(images=[IMG, IMG], image_weights=[1], style="any"),
        "image_weights",
        "1 weights for 2 images",
    ),
    (
        "create_style",
        dict(source_styles=[SID], source_style_weights=[1], style="any"),
        dict(source_styles=[SID], source_style_weights=[1, 2], style="any"),
        "source_style_weights",
        "2 weights for 1",
    ),
    (
        "create_style",
        dict(images=[IMG], style="any", mix_policy="MaxWeight"),
        dict(images=[IMG], style="any", mix_policy="Average"),
        "mix_policy",
        "PaletteMatch, MaxWeight",
    ),
    (
        "create_style",
        dict(images=[IMG], style="any"),
        dict(images=[svg(512, 512)], style="any"),
        "images[0]",
        "SVG is not accepted",
    ),
    # image formats and limits
    (
        "remove_background",
        dict(image=encoded(300, 300, "JPEG")),
        dict(image=b"GIF89a..."),
        "image",
        "not a PNG, JPEG, WEBP or SVG",
    ),
    (
        "remove_background",
        dict(image=svg(100, 100)),
        dict(image=png(100, 100)),
        "image",
        "at least 256",
    ),
    (
        "vectorize",
        dict(image=encoded(300, 300, "WEBP")),
        dict(image=svg(300, 300)),
        "image",
        "SVG is not accepted",
    ),
    ("crisp_upscale", dict(image=png(32, 40)), dict(image=png(31, 40)), "image", "at least 32"),
    (
        "creative_upscale",
        dict(image=png(256, 300)),
        dict(image=png(255, 300)),
        "image",
        "at least 256",
    ),
    (
        "creative_upscale",
        dict(image=png(4096, 300)),
        dict(image=png(4097, 300)),
        "image",
        "at most 4096",
    ),
    (
        "inpaint",
        dict(image=svg(512, 512), mask=MASK, prompt="x"),
        dict(image=svg(200, 512), mask=mask(200, 512), prompt="x"),
        "image",
        "at least 256",
    ),
    # masks
    (
        "erase_region",
        dict(image=IMG, mask=MASK),
        dict(image=IMG, mask=mask(512, 256)),
        "mask",
        "same size",
    ),
    (
        "erase_region",
        dict(image=IMG, mask=MASK),
        dict(image=IMG, mask=mask(512, 512, (0, 0, 10, 10), values=(0, 254))),
        "mask",
        "only 0 (keep) and 255",
    ),
    (
        "erase_region",
        dict(image=IMG, mask=MASK.to_png()),
        dict(image=IMG, mask=png(512, 512, "RGB", 255)),
        "mask",
        "grayscale",
    ),
    (
        "inpaint",
        dict(image=IMG, mask=MASK, prompt="x"),
        dict(image=IMG, mask=raster(512, 512, "LA", 255), prompt="x"),
        "mask",
        "without alpha",
    ),
    (
        "inpaint",
        dict(image=IMG, mask=MASK, prompt="x"),
        dict(image=IMG, mask=encoded(512, 512, "JPEG", "RGB"), prompt="x"),
        "mask",
        "grayscale",
    ),
    # JPEG's compression blurs a mask's edges into grey: refused whatever it holds.
    (
        "inpaint",
        dict(image=IMG, mask=MASK, prompt="x"),
        dict(image=IMG, mask=encoded(512, 512, "JPEG", "L"), prompt="x"),
        "mask",
        "save the mask as PNG",
    ),
    (
        "erase_region",
        dict(image=IMG, mask=MASK),
        dict(image=IMG, mask=MASK16),
        "mask",
        "16-bit",
    ),
    (
        "erase_region",
        dict(image=IMG, mask=MASK),
        dict(image=IMG, mask=mask(512, 512)),
        "mask",
        "all black",
    ),
    # Cut short while copying: refused before a byte is sent, not by the API after.
    (
        "remove_background",
        dict(image=IMG),
        dict(image=IMG[:-100]),
        "image",
        "cut short",
    ),
    (
        "remove_background",
        dict(image=encoded(512, 512, "JPEG")),
        dict(image=encoded(512, 512, "JPEG")[:-200]),
        "image",
        "cut short",
    ),
    (
        "image_to_image",
        dict(image=svg(512, 512), prompt="x", strength=0.5),
        dict(image=SVG_SCRIPT, prompt="x", strength=0.5),
        "image",
        "<script> element",
    ),
    (
        "image_to_image",
        dict(image=svg(512, 512), prompt="x", strength=0.5),
        dict(image=SVG_LINK, prompt="x", strength=0.5),
        "image",
        "a link to another file",
    ),
    (
        "inpaint",
        dict(image=IMG, mask=MASK, prompt="x"),
        dict(image=IMG, mask=svg(512, 512), prompt="x"),
        "mask",
        "SVG is not accepted",
    ),
]


@pytest.mark.parametrize(
    "op,good,wrong,field,rule", CASES, ids=[f"{c[0]}-{c[3]}-{i}" for i, c in enumerate(CASES)]
)
def test_rule(client, op, good, wrong, field, rule):
    ok(client, op, **good)
    bad(client, op, field, rule, **wrong)


@pytest.mark.parametrize("as_png", [False, True])
@pytest.mark.parametrize("grey", [(5, 400), (511, 0), (0, 511)])
def test_a_grey_pixel_anywhere_is_found(client, as_png, grey):
    # The check looks byte by byte only at the rows that are not black: a lone grey pixel
    # far from the white, or in a mask with no white at all, still counts.
    x, y = grey
    for base in (mask(512, 512, (100, 100, 200, 200)), mask(512, 512)):
        pixels = bytearray(base.pixels)
        pixels[y * 512 + x] = 7
        wrong = Raster(512, 512, "L", bytes(pixels))
        bad(client, "erase_region", "mask", "(e.g. 7)", image=IMG,
            mask=wrong.to_png() if as_png else wrong)  # fmt: skip


def test_every_operation_is_covered_by_a_case():
    covered = {c[0] for c in CASES}
    assert set(OPERATIONS) - covered <= {"user"}


def test_a_large_file_is_reported_at_its_real_size(client, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(png(512, 512) + b"\0" * (14 * 1024 * 1024))
    bad(client, "vectorize", "image", "file is 14.0 MB; it must be under 10 MB", image=big)


def test_file_size_limit_counts_bytes_before_decoding(client, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(png(512, 512) + b"\0" * (10 * 1024 * 1024))
    bad(client, "vectorize", "image", "under 10 MB", image=big)
    ok(
        client,
        "vectorize",
        image=tmp_path.joinpath("small.png").write_bytes(IMG) and tmp_path / "small.png",
    )


def test_pixel_limits_from_the_header_only(client):
    # Sizes come from the header: a forged one is judged without decoding the body.
    def forged(w, h):
        data = bytearray(png(256, 256))
        data[16:24] = w.to_bytes(4, "big") + h.to_bytes(4, "big")
        return bytes(data)

    ok(client, "creative_upscale", image=forged(4000, 4000))
    ok(client, "creative_upscale", image=forged(4096, 3906))  # 15,998,976 pixels
    bad(client, "creative_upscale", "image", "at most 16 MP", image=forged(4096, 3907))
    bad(client, "creative_upscale", "image", "at most 16 MP", image=forged(4096, 4096))
    bad(client, "creative_upscale", "image", "at most 4096", image=forged(4097, 300))


def test_style_images_total_at_most_5mb(client):
    noisy = bytes(range(256)) * (512 * 3 * 512 // 256)

    one = Raster(512, 512, "RGB", noisy).to_png(level=0)  # ~0.75 MB each, stored uncompressed
    ok(client, "create_style", images=[one] * 5, style="any")
    big = Raster(1024, 1024, "RGB", noisy * 4).to_png(level=0)  # ~3 MB
    bad(client, "create_style", "images", "at most 5 MB", images=[big, big], style="any")


def test_unknown_parameter_is_named(client):
    bad(client, "generate", "colour", "not a parameter of generate", prompt="x", colour="red")


def test_unknown_operation(client):
    with pytest.raises(ValidationError, match="'paint' is not one of"):
        client.prepare("paint")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "WEBP-lossless"])
def test_formats_read_from_header(client, fmt):
    p = client.prepare("remove_background", image=encoded(300, 257, fmt))
    [(name, upload)] = p.files
    assert (name, upload.info.width, upload.info.height) == ("image", 300, 257)
