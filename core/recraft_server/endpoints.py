"""The endpoint table: one ``Endpoint`` per POST route, plus the small functions it points at.

Each entry says which body kinds, fields, file inputs and models the route takes, what it
costs, and which renderer answers it; ``service.py`` runs every entry the same way.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime, timezone

from PIL import Image

from . import catalog, render, uploads
from .calls import ENHANCE, IMAGE, JSON, MULTIPART, STYLE, Call, Endpoint
from .catalog import V2, V3, V4, V4_PRO
from .errors import ApiError, invalid
from .render import Output
from .rules import canonical_uuid, check_style_kind
from .state import ExploreImage, StyleRecord
from .svg import SvgInfo

# --- prices ---------------------------------------------------------------------------------------


def per_image(call: Call) -> int:
    return catalog.image_price(call.model) * call.n


def per_similar_image(call: Call) -> int:
    return catalog.image_price(catalog.EXPLORE_SIMILAR_PRICE_MODEL) * call.n


def per_request(name: str) -> Callable[[Call], int]:
    return lambda call: catalog.REQUEST_PRICES[name]


# --- runners --------------------------------------------------------------------------------------


def _digests(call: Call, prompt: str, seed: int | None = None) -> list[bytes]:
    return [render.digest(prompt, seed, i) for i in range(call.n)]


def _vector(call: Call) -> bool:
    return call.model is not None and catalog.is_vector(call.model)


def _patterns(call: Call, prompt: str, seed: int | None = None) -> list[Output]:
    w, h = call.size
    vector, fmt = _vector(call), call.image_format
    return [render.generate(w, h, d, vector, fmt) for d in _digests(call, prompt, seed)]


def run_generate(call: Call) -> list[Output]:
    return _patterns(call, call.params.get("prompt", ""), call.get("random_seed"))


def run_similar(call: Call) -> list[Output]:
    return _patterns(call, f"{call.params['source_image_id']}:{call.params['similarity']}")


def run_remix(call: Call) -> list[Output]:
    prompt = hashlib.sha256(call.file("image").data).hexdigest()
    return _patterns(call, prompt, call.get("random_seed"))


RasterEdit = Callable[[Image.Image, bytes, bool, str], Output]
SvgEdit = Callable[[SvgInfo, bytes], Output]


def _edit(call: Call, on_raster: RasterEdit, on_svg: SvgEdit) -> list[Output]:
    """One edit of the input per requested image.  The output kind follows the model: an SVG
    input stays SVG with a vector model or on an endpoint without a model (eraseRegion), and is
    rasterized first (``render.rasterize_svg``) for a raster model."""
    up = call.file("image")
    digests = _digests(call, call.params.get("prompt", ""), call.get("random_seed"))
    if up.is_svg and (call.model is None or _vector(call)):
        return [on_svg(up.svg, d) for d in digests]
    image = render.rasterize_svg(up.svg) if up.is_svg else up.image
    vector, fmt = _vector(call), call.image_format
    return [on_raster(image, d, vector, fmt) for d in digests]


def run_image_to_image(call: Call) -> list[Output]:
    strength = call.params["strength"]
    return _edit(
        call,
        lambda img, d, vector, fmt: render.image_to_image(img, strength, d, vector, fmt),
        lambda info, d: render.image_to_image_svg(info, strength, d),
    )


def run_masked(call: Call) -> list[Output]:
    mask = call.file("mask")
    return _edit(
        call,
        lambda img, d, vector, fmt: render.masked_fill(img, mask.image, d, vector, fmt),
        lambda info, d: render.masked_fill_svg(info, mask.bbox, d),
    )


def run_outpaint(call: Call) -> list[Output]:
    canvas, place = call.plan["canvas"], call.plan["place"]
    return _edit(
        call,
        lambda img, d, vector, fmt: render.outpaint(img, canvas, place, d, vector, fmt),
        lambda info, d: render.outpaint_svg(info, canvas, place, d),
    )


def run_replace_background(call: Call) -> list[Output]:
    return _edit(call, render.replace_background, render.replace_background_svg)


def run_remove_background(call: Call) -> list[Output]:
    up = call.file("image")
    if up.is_svg:
        return [render.remove_background_svg(up.svg, call.plan["svg_size"])]
    return [render.remove_background(up.image, call.image_format)]


def run_vectorize(call: Call) -> list[Output]:
    return [render.svg_output(render.vectorize(call.file("image").image))]


def run_upscale(factor: int) -> Callable[[Call], list[Output]]:
    return lambda call: [render.upscale(call.file("image").image, factor, call.image_format)]


def run_create_style(call: Call) -> dict:
    record = StyleRecord(
        id=str(uuid.uuid4()),
        style=call.params["style"],
        creation_time=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        is_private=call.params.get("private", True),
        model=call.params.get("model"),
    )
    with call.state.lock:
        call.state.styles[record.id] = record
    return style_json(record)


def style_json(record: StyleRecord) -> dict:
    return {
        "id": record.id,
        "style": record.style,
        "creation_time": record.creation_time,
        "is_private": record.is_private,
    }


ENHANCE_DETAILS = (
    "highly detailed, soft natural lighting, balanced composition, rich textures",
    "vivid colors, crisp focus, cinematic framing, gentle depth of field",
    "harmonious palette, clean shapes, studio lighting, professional quality",
    "atmospheric light, layered depth, fine details, striking contrast",
)


def enhance(prompt: str) -> str:
    """The original prompt (trailing space trimmed) + ", " + one of ENHANCE_DETAILS by hash."""
    pick = hashlib.sha256(prompt.encode()).digest()[0] % len(ENHANCE_DETAILS)
    return f"{prompt.rstrip()}, {ENHANCE_DETAILS[pick]}"


def run_enhance(call: Call) -> dict:
    return {"enhanced_prompt": enhance(call.params["prompt"])}


# --- cross-field rules ----------------------------------------------------------------------------


def check_outpaint(call: Call) -> None:
    p = call.params
    sides = ("left", "right", "top", "bottom")
    expand = {s: p.get(f"expand_{s}") for s in sides}
    has_expand = any(v is not None for v in expand.values())
    zoom = p.get("zoom_out_percentage")
    if "size" in p and has_expand:
        raise invalid(
            "size", "cannot be combined with expand_left/expand_right/expand_top/expand_bottom"
        )
    if "size" not in p and not has_expand and zoom is None:
        raise ApiError(
            "missing_parameter",
            "outpaint needs at least one of size, expand_left, expand_right, expand_top, "
            "expand_bottom or zoom_out_percentage",
        )
    up = call.file("image")
    w, h = up.width, up.height
    if "size" in p:
        canvas = call.size
        field_w = field_h = "size"
    else:
        e = {s: v or 0 for s, v in expand.items()}
        canvas = (w + e["left"] + e["right"], h + e["top"] + e["bottom"])
        field_w, field_h = "expand_left/expand_right", "expand_top/expand_bottom"
    for side, name in ((canvas[0], field_w), (canvas[1], field_h)):
        if side > catalog.OUTPAINT_MAX_SIDE:
            raise invalid(
                name,
                f"would make the result {canvas[0]}x{canvas[1]}; each side must be at most "
                f"{catalog.OUTPAINT_MAX_SIDE} px",
            )
    if zoom is not None:
        sw = max(1, render.round_half_up(w * (100 - zoom) / 100))
        sh = max(1, render.round_half_up(h * (100 - zoom) / 100))
        x, y = (canvas[0] - sw) // 2, (canvas[1] - sh) // 2
    elif "size" in p:
        sw, sh = w, h
        x, y = (canvas[0] - w) // 2, (canvas[1] - h) // 2
    else:
        sw, sh, x, y = w, h, expand["left"] or 0, expand["top"] or 0
    if sw > canvas[0] or sh > canvas[1]:
        raise invalid(
            "size",
            f"{canvas[0]}x{canvas[1]} cannot hold the {sw}x{sh} source image "
            "(choose a larger size or add zoom_out_percentage)",
        )
    call.plan["canvas"] = canvas
    call.plan["place"] = (x, y, sw, sh)


def check_remove_background(call: Call) -> None:
    up = call.file("image")
    if up.is_svg:
        size = render.svg_upscaled_size(up.width, up.height, catalog.MIN_SIDE)
        uploads.check_dimensions("image (scaled up to the 256 px minimum)", *size, None)
        call.plan["svg_size"] = size


def check_explore(call: Call) -> None:
    call.n = catalog.EXPLORE_COUNT


def check_explore_similar(call: Call) -> None:
    sid = canonical_uuid("source_image_id", call.params["source_image_id"])
    call.params["source_image_id"] = sid
    with call.state.lock:
        source = call.state.explore_images.get(sid)
    if source is None:
        raise invalid("source_image_id", f"{sid} is not an image returned by /v1/images/explore")
    call.model, call.size, call.n = source.model, source.size, catalog.EXPLORE_COUNT


def remember_explore(call: Call, image_ids: list[str]) -> None:
    with call.state.lock:
        for image_id in image_ids:
            call.state.explore_images[image_id] = ExploreImage(call.model, call.size)


def check_create_style(call: Call) -> None:
    images = [up for ups in call.files.values() for up in ups]
    if len(images) > catalog.STYLE_MAX_FILES:
        raise invalid(
            "files",
            f"at most {catalog.STYLE_MAX_FILES} style images are allowed, got {len(images)}",
        )
    for up in images:  # format and header size first: nothing is decoded yet
        uploads.check_file(up, catalog.RASTER_FORMATS)
        uploads.check_dimensions(
            up.field, up.width or 0, up.height or 0, None, None, catalog.STYLE_MAX_PIXELS
        )
    total = sum(up.size for up in images)
    if total > catalog.STYLE_MAX_TOTAL_BYTES:
        raise invalid(
            "files",
            f"total {total} bytes; all style images together must be at most 5 MB "
            f"({catalog.STYLE_MAX_TOTAL_BYTES} bytes)",
        )
    for up in images:
        uploads.decode(up)
    p = call.params
    sources = p.get("source_styles") or []
    canonical = []
    for i, sid in enumerate(sources):
        if not isinstance(sid, str):
            raise invalid(f"source_styles[{i}]", f"must be a style id (UUID string), got {sid!r}")
        sid = canonical_uuid(f"source_styles[{i}]", sid)
        with call.state.lock:
            record = call.state.styles.get(sid)
        if record is None:
            raise invalid(f"source_styles[{i}]", f"{sid} is not a known style")
        if call.model is not None:
            check_style_kind(f"source_styles[{i}]", record.style, call.model)
        canonical.append(sid)
    if "source_styles" in p:
        p["source_styles"] = canonical
    if not images and not sources:
        raise ApiError(
            "missing_parameter",
            "files: at least one style image (multipart file part) is required unless "
            "source_styles is given",
        )
    if "image_weights" in p and len(p["image_weights"]) != len(images):
        raise invalid(
            "image_weights",
            f"has {len(p['image_weights'])} weights but {len(images)} images were uploaded",
        )
    if "source_style_weights" in p and len(p["source_style_weights"]) != len(sources):
        raise invalid(
            "source_style_weights",
            f"has {len(p['source_style_weights'])} weights but source_styles has {len(sources)}",
        )


# --- the table ------------------------------------------------------------------------------------

_GEN_FIELDS = ("prompt", "n", "model", "style", "style_id", "size", "negative_prompt",
               "random_seed", "response_format", "text_layout", "controls")  # fmt: skip
_GEN_EXTRAS = ("block_nsfw", "calculate_features", "creativity", "expire", "image_format",
               "style_match", "substyle", "upscale", "style_reference_urls")  # fmt: skip
_TRANSFORM_FIELDS = ("prompt", "n", "model", "style", "style_id", "response_format",
                     "negative_prompt", "text_layout", "controls")  # fmt: skip
_TRANSFORM_EXTRAS = ("random_seed", "block_nsfw", "calculate_features", "creativity", "expire",
                     "image_format", "style_match", "substyle")  # fmt: skip
_PROCESS_EXTRAS = ("expire", "image_format", "upscale")
_VECTORIZE_EXTRAS = ("expire", "image_format", "color_reduction", "limit_num_shapes",
                     "max_num_shapes", "return_gradients", "shape_stacking", "small_shape_filter",
                     "strict_color_palette", "svg_compression")  # fmt: skip
_ONLY_IMAGE = "this endpoint takes only the image (and response_format)"


def _generations(path: str, models: tuple[str, ...], default: str) -> Endpoint:
    return Endpoint(
        path=path,
        bodies=(JSON, MULTIPART),
        fields=_GEN_FIELDS,
        extras=_GEN_EXTRAS,
        extra_files=("style_references",),
        required=("prompt",),
        models=models,
        default_model=default,
        default_size=True,
        style_families=(V2, V3),
        negative_prompt_families=(V2, V3),
        run=run_generate,
        price=per_image,
    )


def _transform(path: str, run, *, mask: bool = False, **kw) -> Endpoint:
    return Endpoint(
        path=path,
        bodies=(MULTIPART,),
        fields=_TRANSFORM_FIELDS + tuple(kw.pop("more_fields", ())),
        extras=_TRANSFORM_EXTRAS,
        required=("prompt", "image", *(("mask",) if mask else ()), *kw.pop("more_required", ())),
        files=("image", "mask") if mask else ("image",),
        models=kw.pop("models", catalog.V3_MODELS),
        default_model=kw.pop("default_model", "recraftv3"),
        style_families=kw.pop("style_families", (V3,)),
        run=run,
        price=per_image,
        **kw,
    )


def _process(path: str, run, price: str, **kw) -> Endpoint:
    return Endpoint(
        path=path,
        bodies=(MULTIPART,),
        fields=("response_format",),
        extras=kw.pop("extras", _PROCESS_EXTRAS),
        required=("image",),
        files=("image",),
        response=IMAGE,
        run=run,
        price=per_request(price),
        hints={"prompt": _ONLY_IMAGE, "model": _ONLY_IMAGE},
        **kw,
    )


ENDPOINTS: tuple[Endpoint, ...] = (
    _generations("/v1/images/generations", catalog.GENERATION_MODELS, "recraftv4_1"),
    _generations("/v1/images/generations/raster", catalog.RASTER_MODELS, "recraftv4_1"),
    _generations(
        "/v1/images/generations/vector",
        catalog.VECTOR_MODELS,
        "recraftv4_1_vector",
    ),
    _transform(
        "/v1/images/imageToImage",
        run_image_to_image,
        more_fields=("strength", "random_seed"),
        models=catalog.IMAGE_TO_IMAGE_MODELS,
        default_model="recraftv4_1",
        style_families=(V3, V4, V4_PRO),
        more_required=("strength",),
        min_side=None,  # the docs give only maximums for imageToImage
    ),
    _transform("/v1/images/inpaint", run_masked, mask=True),
    _transform(
        "/v1/images/outpaint",
        run_outpaint,
        more_fields=(
            "size",
            "expand_left",
            "expand_right",
            "expand_top",
            "expand_bottom",
            "zoom_out_percentage",
        ),
        check=check_outpaint,
    ),
    _transform("/v1/images/replaceBackground", run_replace_background),
    _transform("/v1/images/generateBackground", run_masked, mask=True),
    _process(
        "/v1/images/vectorize",
        run_vectorize,
        "vectorize",
        image_formats=catalog.RASTER_FORMATS,
        extras=_VECTORIZE_EXTRAS,
    ),
    _process(
        "/v1/images/removeBackground",
        run_remove_background,
        "remove_background",
        svg_scaled_up=True,
        check=check_remove_background,
    ),
    _process(
        "/v1/images/crispUpscale",
        run_upscale(2),
        "crisp_upscale",
        image_formats=catalog.RASTER_FORMATS,
        min_side=catalog.CRISP_MIN_SIDE,
    ),
    _process(
        "/v1/images/creativeUpscale",
        run_upscale(4),
        "creative_upscale",
        image_formats=catalog.RASTER_FORMATS,
    ),
    Endpoint(
        path="/v1/images/eraseRegion",
        bodies=(MULTIPART,),
        fields=("response_format",),
        extras=("expire", "image_format"),
        required=("image", "mask"),
        files=("image", "mask"),
        response=IMAGE,
        run=run_masked,
        price=per_request("erase_region"),
        hints={"prompt": "eraseRegion takes only image, mask and response_format"},
    ),
    Endpoint(
        path="/v1/images/variateImage",
        bodies=(MULTIPART,),
        fields=("size", "n", "model", "random_seed", "response_format"),
        extras=("expire", "image_format"),
        required=("image", "size"),
        files=("image",),
        models=catalog.GENERATION_MODELS,
        default_model="recraftv4_1",
        run=run_remix,
        price=per_image,
        hints={"prompt": "remix (variateImage) does not use a prompt"},
    ),
    Endpoint(
        path="/v1/images/explore",
        bodies=(JSON,),
        fields=("prompt", "model", "style", "style_id", "size", "response_format", "controls"),
        extras=("block_nsfw", "expire", "image_format"),
        required=("prompt",),
        models=catalog.EXPLORE_MODELS,
        default_model="recraftv4_1",
        default_size=True,
        style_families=(V4, V4_PRO),
        run=run_generate,
        price=per_image,
        check=check_explore,
        on_result=remember_explore,
        hints={"n": "explore always returns 4 images"},
    ),
    Endpoint(
        path="/v1/images/explore/similar",
        bodies=(JSON,),
        fields=("source_image_id", "similarity", "response_format"),
        extras=("block_nsfw", "expire", "image_format"),
        required=("source_image_id", "similarity"),
        run=run_similar,
        price=per_similar_image,
        check=check_explore_similar,
        on_result=remember_explore,
        hints={"n": "explore similar always returns 4 images"},
    ),
    Endpoint(
        path="/v1/styles",
        bodies=(MULTIPART,),
        fields=(
            "style",
            "model",
            "image_weights",
            "source_styles",
            "source_style_weights",
            "prompt",
            "mix_policy",
        ),
        extras=("private", "match", "palette"),
        required=("style",),
        files=("*",),
        models=catalog.GENERATION_MODELS,
        response=STYLE,
        run=run_create_style,
        price=per_request("create_style"),
        check=check_create_style,
    ),
    Endpoint(
        path="/v1/prompts/enhance",
        bodies=(JSON,),
        fields=("prompt",),
        required=("prompt",),
        prompt_max_chars=catalog.ENHANCE_PROMPT_MAX_CHARS,
        response=ENHANCE,
        run=run_enhance,
        price=per_request("enhance_prompt"),
    ),
)

BY_PATH: dict[str, Endpoint] = {ep.path: ep for ep in ENDPOINTS}
