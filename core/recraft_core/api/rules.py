"""Rules that span several fields of one operation; the operations table points at them.

Each takes the checked parameters (None values dropped) and the checked uploads, and raises
ValidationError naming the field at fault.
"""

from __future__ import annotations

import uuid

from ..exceptions import ValidationError
from . import catalog


def as_uuid(name: str, value) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise ValidationError(name, f"{value!r} is not a UUID") from None


def numbers(name: str, value) -> list:
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in value
    ):
        raise ValidationError(name, "must be a list of numbers")
    return list(value)


def outpaint(params: dict, uploads: dict) -> None:
    """expand_* or size (not both), or a zoom; the result at most MAX_SIDE a side."""
    expands = [params.get(f"expand_{s}") for s in ("left", "right", "top", "bottom")]
    has_expand = any(e is not None for e in expands)
    if has_expand and params.get("size") is not None:
        raise ValidationError("size", "cannot be combined with expand_*; use one or the other")
    if not has_expand and params.get("size") is None and params.get("zoom_out_percentage") is None:
        raise ValidationError(
            "expand_*", "give expand_*, size or zoom_out_percentage (at least one)"
        )
    image = uploads.get("image")
    if has_expand and image is not None:
        left, right, top, bottom = (e or 0 for e in expands)
        w = image.info.width + left + right
        h = image.info.height + top + bottom
        if max(w, h) > catalog.MAX_SIDE:
            raise ValidationError(
                "expand_*", f"the result would be {w}x{h}; at most {catalog.MAX_SIDE} px a side"
            )


def style_sources(params: dict, uploads: dict) -> None:
    """Images and/or source styles, within the count and size limits, weights matching."""
    images = uploads.get("images", [])
    sources = params.get("source_styles")
    if sources is not None:
        if not isinstance(sources, list | tuple):
            raise ValidationError("source_styles", "must be a list of style ids")
        params["source_styles"] = [as_uuid("source_styles", s) for s in sources]
    if not images and not sources:
        raise ValidationError("images", "give at least one image, or source_styles")
    if len(images) > catalog.MAX_STYLE_IMAGES:
        raise ValidationError("images", f"{len(images)} given; at most {catalog.MAX_STYLE_IMAGES}")
    total = sum(len(u.data) for u in images)
    if total > catalog.MAX_STYLE_BYTES:
        raise ValidationError("images", f"{total / 2**20:.1f} MB in all; at most 5 MB")
    for name, count, what in (
        ("image_weights", len(images), "images"),
        ("source_style_weights", len(sources or ()), "source_styles"),
    ):
        if params.get(name) is not None:
            weights = numbers(name, params[name])
            if len(weights) != count:
                raise ValidationError(name, f"has {len(weights)} weights for {count} {what}")
