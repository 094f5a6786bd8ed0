"""The API's operations as data: path, fields, files, models and result kind of each.

This table drives validation, request building, the Client's methods and the CLI. Adding an
operation means adding one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import catalog


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # text, int, float, choice, uuid, json
    help: str
    required: bool = False
    low: float | None = None
    high: float | None = None
    high_open: bool = False  # the range excludes `high`
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileInput:
    name: str  # parameter name, and the multipart field it is sent as
    help: str
    formats: tuple[str, ...] = ("png", "jpeg", "webp", "svg")
    kind: str = "image"  # image, mask, or images (a list)
    required: bool = True
    check_dimensions: bool = True  # the docs set no pixel limits for style references


@dataclass(frozen=True)
class Operation:
    name: str
    path: str
    help: str
    method: str = "POST"
    body: str = "multipart"  # multipart, json, or none
    fields: tuple[Field, ...] = ()
    files: tuple[FileInput, ...] = ()
    models: tuple[str, ...] = ()  # empty: the operation takes no model
    default_model: str | None = None
    style_generations: frozenset[str] = frozenset()  # generations whose models take a style
    negative_prompt_generations: frozenset[str] | None = None  # None: every model
    text_layout_generations: frozenset[str] = frozenset({"v3"})
    prompt_rule: str = "model"  # model: UTF-8 bytes by model family; chars: MAX_ENHANCE_CHARS
    result: str = "images"  # images, image, style, prompt, user
    min_side: int = catalog.MIN_SIDE
    svg_min_side: bool = True  # False where small SVGs are scaled up instead of refused

    @property
    def cli_name(self) -> str:
        return self.name.replace("_", "-")

    @property
    def url_path(self) -> str:
        return "/v1" + self.path

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.files) + tuple(f.name for f in self.fields)


# Fields shared by many operations; `model` is added per operation with its own choices.
PROMPT = Field("prompt", "text", "what to draw (or to change)", required=True)
N = Field("n", "int", "number of images, 1-6", low=1, high=6)
STYLE = Field("style", "choice", "base style", choices=tuple(catalog.STYLES))
STYLE_ID = Field("style_id", "uuid", "a style created with create_style")
SIZE = Field("size", "text", "output size, WxH or w:h")
NEGATIVE_PROMPT = Field("negative_prompt", "text", "what the image should not show")
RANDOM_SEED = Field(
    "random_seed", "int", "seed for reproducible results", low=0, high=catalog.UINT32_MAX
)
RESPONSE_FORMAT = Field(
    "response_format", "choice", "url or b64_json", choices=catalog.RESPONSE_FORMATS
)
TEXT_LAYOUT = Field("text_layout", "json", "words and their 4-point boxes (V3 models)")
CONTROLS = Field("controls", "json", "colors, background_color, artistic_level, no_text")
STRENGTH = Field("strength", "float", "0 keeps the image, 1 departs most", True, 0, 1)
EXPAND = tuple(
    Field(f"expand_{side}", "int", f"pixels to add on the {side}", low=0, high=catalog.MAX_EXPAND)
    for side in ("left", "right", "top", "bottom")
)
ZOOM = Field(
    "zoom_out_percentage", "float", "shrink the image by this %", low=0, high=100, high_open=True
)

IMAGE = FileInput("image", "the image to work on")
RASTER_IMAGE = FileInput("image", "the image to work on", formats=("png", "jpeg", "webp"))
MASK = FileInput("mask", "white: change, black: keep", formats=("png", "jpeg", "webp"), kind="mask")

_EDIT_FIELDS = (N, STYLE, STYLE_ID, RESPONSE_FORMAT, NEGATIVE_PROMPT, TEXT_LAYOUT, CONTROLS)
_GENERATE_FIELDS = (
    PROMPT,
    N,
    STYLE,
    STYLE_ID,
    SIZE,
    NEGATIVE_PROMPT,
    RANDOM_SEED,
    RESPONSE_FORMAT,
    TEXT_LAYOUT,
    CONTROLS,
)
_V3_EDIT = dict(
    models=catalog.V3_MODELS,
    default_model="recraftv3",
    style_generations=frozenset({"v3"}),
)
_GENERATE = dict(
    body="json",
    fields=_GENERATE_FIELDS,
    default_model="recraftv4_1",
    style_generations=frozenset({"v2", "v3"}),
    negative_prompt_generations=frozenset({"v2", "v3"}),
)
_PROCESS = dict(fields=(RESPONSE_FORMAT,), result="image")

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "generate",
            "/images/generations",
            "Generate images from a prompt, with any model",
            models=catalog.ALL_MODELS,
            **_GENERATE,
        ),
        Operation(
            "generate_raster",
            "/images/generations/raster",
            "Generate raster images from a prompt (raster models and styles only)",
            models=tuple(m for m in catalog.ALL_MODELS if not catalog.MODELS[m].vector),
            **_GENERATE,
        ),
        Operation(
            "generate_vector",
            "/images/generations/vector",
            "Generate SVG images from a prompt (vector models and styles only)",
            models=tuple(m for m in catalog.ALL_MODELS if catalog.MODELS[m].vector),
            **{**_GENERATE, "default_model": "recraftv4_1_vector"},
        ),
        Operation(
            "create_style",
            "/styles",
            "Create a style from up to 5 reference images and/or existing styles",
            fields=(
                Field(
                    "style",
                    "choice",
                    "the base style",
                    required=True,
                    choices=tuple(catalog.STYLES),
                ),
                Field("prompt", "text", "a prompt kept with the style"),
                Field("image_weights", "json", "one weight per image"),
                Field("source_styles", "json", "existing style ids to mix in"),
                Field("source_style_weights", "json", "one weight per source style"),
                Field("mix_policy", "choice", "how sources mix", choices=catalog.MIX_POLICIES),
            ),
            files=(
                FileInput(
                    "images",
                    "reference images (PNG, JPG, WEBP)",
                    formats=("png", "jpeg", "webp"),
                    kind="images",
                    required=False,
                    check_dimensions=False,
                ),
            ),
            models=catalog.ALL_MODELS,
            result="style",
            prompt_rule="none",
        ),
        Operation(
            "image_to_image",
            "/images/imageToImage",
            "Make images like the given one, changed as the prompt says",
            fields=(PROMPT, STRENGTH, RANDOM_SEED, *_EDIT_FIELDS),
            files=(IMAGE,),
            models=catalog.IMAGE_TO_IMAGE_MODELS,
            default_model="recraftv4_1",
            style_generations=frozenset({"v3", "v4"}),
            min_side=0,  # its docs give a maximum only
        ),
        Operation(
            "inpaint",
            "/images/inpaint",
            "Regenerate the white part of the mask as the prompt says",
            fields=(PROMPT, *_EDIT_FIELDS),
            files=(IMAGE, MASK),
            **_V3_EDIT,
        ),
        Operation(
            "outpaint",
            "/images/outpaint",
            "Extend the image beyond its borders",
            fields=(PROMPT, *EXPAND, SIZE, ZOOM, *_EDIT_FIELDS),
            files=(IMAGE,),
            **_V3_EDIT,
        ),
        Operation(
            "replace_background",
            "/images/replaceBackground",
            "Detect the background and replace it as the prompt says",
            fields=(PROMPT, *_EDIT_FIELDS),
            files=(IMAGE,),
            **_V3_EDIT,
        ),
        Operation(
            "generate_background",
            "/images/generateBackground",
            "Generate a background in the white part of the mask",
            fields=(PROMPT, *_EDIT_FIELDS),
            files=(IMAGE, MASK),
            **_V3_EDIT,
        ),
        Operation(
            "vectorize",
            "/images/vectorize",
            "Convert a raster image to SVG",
            files=(RASTER_IMAGE,),
            **_PROCESS,
        ),
        Operation(
            "remove_background",
            "/images/removeBackground",
            "Remove the background (SVG in, SVG out)",
            files=(IMAGE,),
            svg_min_side=False,
            **_PROCESS,
        ),
        Operation(
            "crisp_upscale",
            "/images/crispUpscale",
            "Upscale, sharper and cleaner",
            files=(RASTER_IMAGE,),
            min_side=32,
            **_PROCESS,
        ),
        Operation(
            "creative_upscale",
            "/images/creativeUpscale",
            "Upscale, refining small details and faces",
            files=(RASTER_IMAGE,),
            **_PROCESS,
        ),
        Operation(
            "erase_region",
            "/images/eraseRegion",
            "Erase the white part of the mask",
            files=(IMAGE, MASK),
            **_PROCESS,
        ),
        Operation(
            "remix",
            "/images/variateImage",
            "New versions of the image in another size",
            fields=(
                Field("size", "text", "output size, WxH or w:h", required=True),
                N,
                RANDOM_SEED,
                RESPONSE_FORMAT,
            ),
            files=(IMAGE,),
            models=catalog.ALL_MODELS,
            default_model="recraftv4_1",
        ),
        Operation(
            "explore",
            "/images/explore",
            "A set of diverse images for a prompt",
            body="json",
            fields=(PROMPT, STYLE, STYLE_ID, SIZE, RESPONSE_FORMAT, CONTROLS),
            models=catalog.EXPLORE_MODELS,
            default_model="recraftv4_1",
            style_generations=frozenset({"v4"}),
        ),
        Operation(
            "explore_similar",
            "/images/explore/similar",
            "Images similar to one that explore made",
            body="json",
            fields=(
                Field("source_image_id", "uuid", "image_id from explore", required=True),
                Field("similarity", "int", "1 a little .. 5 extremely", True, 1, 5),
                RESPONSE_FORMAT,
            ),
        ),
        Operation(
            "enhance_prompt",
            "/prompts/enhance",
            "Expand a short prompt into a detailed one",
            body="json",
            fields=(PROMPT,),
            result="prompt",
            prompt_rule="chars",
        ),
        Operation(
            "user",
            "/users/me",
            "Your account and its credits balance",
            method="GET",
            body="none",
            result="user",
        ),
    )
}
