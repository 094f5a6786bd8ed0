"""The local server's own PNG writer and background mask (render.py): the pixels a client
decodes are the ones the server meant, in every mode it writes, and the mask is the one the
plain int16 formula gives."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from recraft_server import render


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("size", [(1, 1), (7, 3), (300, 257)])
def test_png_bytes_decode_to_the_same_pixels(mode, size):
    rng = np.random.default_rng(sum(size) + len(mode))
    width, height = size
    shape = (height, width) if mode == "L" else (height, width, len(mode))
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    decoded = Image.open(io.BytesIO(render.png_bytes(pixels, mode)))
    assert decoded.mode == mode and decoded.size == size
    assert np.array_equal(np.asarray(decoded), pixels)


def test_encode_writes_pngs_pillow_reads():
    image = Image.new("RGBA", (64, 40), (10, 200, 30, 128))
    out = render.encode(image)
    assert out.ext == "png"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(out.data))), np.asarray(image))


@pytest.mark.parametrize("key", [(0, 0, 0), (255, 255, 255), (5, 250, 128), (20, 21, 235)])
def test_background_mask_is_the_int16_formula(key):
    rng = np.random.default_rng(key[0] + 7 * key[1] + 13 * key[2])
    rgba = rng.integers(0, 256, (120, 90, 4), dtype=np.uint8)
    near = rng.integers(-render.KEY_TOLERANCE - 2, render.KEY_TOLERANCE + 3, (120, 90, 3))
    close = rng.random((120, 90)) < 0.5  # half the pixels near the key, at and past the edge
    rgba[..., :3][close] = np.clip(np.array(key) + near[close], 0, 255)
    rgba[..., 3][rng.random((120, 90)) < 0.1] = 0
    rgba[0, 0, :3] = key
    diff = np.abs(rgba[..., :3].astype(np.int16) - np.array(key, np.int16)).max(axis=-1)
    expected = (rgba[..., 3] == 0) | (diff <= render.KEY_TOLERANCE)
    assert np.array_equal(render.background_mask(rgba), expected)
