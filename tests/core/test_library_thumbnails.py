"""Thumbnails: the core's own PNGs, small, made from pixels the front end already decoded,
each pixel the mean of a block of the source (checked against numpy)."""

from __future__ import annotations

import numpy as np
import pytest

from images import png, svg
from recraft_core.imaging import png as pngcodec
from recraft_core.imaging.png import Raster
from recraft_core.library import Library
from recraft_core.library.thumbnails import SIDE, fit, halve, thumbnail


def decoded(data: bytes) -> np.ndarray:
    w, h, mode, pixels = pngcodec.decode(data)
    return np.frombuffer(pixels, np.uint8).reshape(h, w, len(mode))


def noise(w: int, h: int, channels: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, (h, w, channels), np.uint8).tobytes()


@pytest.mark.parametrize(
    "size, expected",
    [
        ((4096, 4096), (128, 128)),
        ((4096, 2048), (128, 64)),
        ((1000, 3000), (43, 128)),
        ((100, 50), (100, 50)),  # never enlarged
        ((5000, 10), (128, 1)),
    ],
)
def test_fit(size, expected):
    assert fit(*size) == expected


def test_halve_is_the_rounded_mean_of_each_2x2_block():
    w, h = 10, 6
    data = noise(w, h, 4)
    a = np.frombuffer(data, np.uint8).reshape(h, w, 4).astype(np.uint32)
    blocks = a[0::2, 0::2] + a[0::2, 1::2] + a[1::2, 0::2] + a[1::2, 1::2]
    assert halve(data, w, h) == ((blocks + 2) // 4).astype(np.uint8).tobytes()
    assert halve(b"\xff" * (4 * 4 * 4), 4, 4) == b"\xff" * 16  # no carry into the next lane


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "BGRA"])
def test_a_thumbnail_averages_blocks_of_the_source(mode):
    channels = len(mode)
    w, h = 1024, 512  # 128 x 64, each pixel the mean of 4 x 4 of a 512 x 256 nearest pick
    data = noise(w, h, channels, seed=3)
    got = decoded(thumbnail(Raster(w, h, mode, data)))
    assert got.shape[:2] == (64, 128)
    src = np.frombuffer(data, np.uint8).reshape(h, w, channels)
    picked = src[1::2, 1::2].astype(np.uint32)  # nearest neighbour at half size
    if mode == "BGRA":
        picked = picked[..., [2, 1, 0, 3]]
    quarter = (
        picked[0::2, 0::2] + picked[0::2, 1::2] + picked[1::2, 0::2] + picked[1::2, 1::2] + 2
    ) // 4
    eighth = (
        quarter[0::2, 0::2] + quarter[0::2, 1::2] + quarter[1::2, 0::2] + quarter[1::2, 1::2] + 2
    ) // 4
    if mode in ("L", "LA"):  # grey comes back as RGB(A) with equal channels
        grey = np.repeat(eighth[..., :1], 3, axis=2)
        eighth = np.concatenate([grey, eighth[..., 1:]], axis=2) if mode == "LA" else grey
    assert np.array_equal(got, eighth.astype(np.uint8))


def test_noise_averages_out():
    """The point of averaging: a nearest-neighbour pick of noise stays noise."""
    data = noise(2048, 2048, 3, seed=5)
    got = decoded(thumbnail(Raster(2048, 2048, "RGB", data)))
    assert got.shape == (SIDE, SIDE, 3)  # opaque: no alpha channel kept
    assert got.std() < 20  # noise of std 74, averaged over 16 samples: about 18


def test_small_images_are_kept_as_they_are():
    data = noise(50, 30, 4)
    assert decoded(thumbnail(Raster(50, 30, "RGBA", data))).tobytes() == data
    assert decoded(thumbnail(Raster(200, 3, "RGB", noise(200, 3, 3)))).shape == (2, 128, 3)


def test_a_16_mp_result_makes_a_thumbnail_quickly():
    import time

    big = Raster(4096, 4096, "BGRA", bytes(4096 * 4096 * 4))
    started = time.perf_counter()
    data = thumbnail(big)
    assert time.perf_counter() - started < 1.0
    assert decoded(data).shape == (128, 128, 4)  # all transparent: alpha kept


def test_thumbnails_in_the_library(tmp_path):
    lib = Library(tmp_path / "lib")
    source = Raster(640, 480, "RGB", noise(640, 480, 3))
    result = Raster(1024, 1024, "RGBA", noise(1024, 1024, 4))
    entry_id = lib.record(
        "vectorize",
        [png(8, 8), svg(8, 8)],
        source=source,
        pixels=[result, result],  # no thumbnail for the SVG: it draws itself
    )
    entry = lib.get(entry_id)
    assert decoded(entry.path(entry.source_thumbnail).read_bytes()).shape == (96, 128, 3)
    first, second = entry.thumbnail_paths
    assert decoded(first.read_bytes()).shape == (128, 128, 4)
    assert second is None


def test_thumbnails_added_after_decoding(tmp_path):
    """A result is recorded as it arrives, before it is decoded; the front end adds the
    thumbnails once it has the pixels. A result that has one keeps it."""
    lib = Library(tmp_path / "lib")
    entry_id = lib.record("generate", [png(8, 8), png(8, 8)])
    assert lib.get(entry_id).thumbnail_paths == [None, None]
    red = Raster(300, 300, "RGB", b"\xff\x00\x00" * 90000)
    assert lib.add_thumbnails(entry_id, [None, red])
    entry = lib.get(entry_id)
    assert entry.thumbnail_paths[0] is None
    assert decoded(entry.thumbnail_paths[1].read_bytes())[0, 0].tolist() == [255, 0, 0]
    blue = Raster(300, 300, "RGB", b"\x00\x00\xff" * 90000)
    assert lib.add_thumbnails(entry_id, [red, blue])
    entry = lib.get(entry_id)
    assert decoded(entry.thumbnail_paths[1].read_bytes())[0, 0].tolist() == [255, 0, 0]
    assert entry.size == lib.size() > 2 * len(png(8, 8))
    assert lib.list()[0] == entry


def test_pixels_that_make_no_thumbnail_do_not_lose_the_result(tmp_path):
    lib = Library(tmp_path / "lib")
    broken = Raster(10, 10, "RGB", b"short")
    entry = lib.get(lib.record("generate", [png(8, 8)], pixels=[broken], source=broken))
    assert entry.result_paths[0].read_bytes() == png(8, 8)
    assert entry.thumbnail_paths == [None] and entry.source_thumbnail is None
