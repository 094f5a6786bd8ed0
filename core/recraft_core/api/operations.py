"""The API's operations as data: path, fields, files, models, outputs and form hints of each.

This one table drives validation, request building, the Client's methods, the CLI and the
editors' forms. Adding an operation means adding one entry here (and, for a rule that spans
several fields, one function in `rules`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from . import catalog, rules

INT32_MAX = 2**31 - 1  # GIMP's integer arguments are signed 32-bit


@dataclass(frozen=True)
class Field:
    """One parameter: its rule, and how a form shows it."""

    name: str
    type: str  # text, int, float, bool, choice, uuid, color, colors, object, json
    help: str
    required: bool = False
    low: float | None = None
    high: float | None = None
    high_open: bool = False  # the range excludes `high`
    choices: tuple[str, ...] = ()
    label: str = ""  # short, for a form; derived from the name when empty
    default: object = None  # what the API uses when the field is left out
    widget: str = ""  # multiline, slider, seed, size, style; empty: by type
    step: float | None = None
    # Model generations (v2, v3, v4) that accept it; None: every model of the operation.
    generations: frozenset[str] | None = None
    advanced: bool = False  # folded away in a form
    hidden: bool = False  # never in a form: the transport's business
    parts: tuple[Field, ...] = ()  # an object's sub-fields
    # The help in an editor's form, where it differs from the API's (the CLI's) terms.
    editor_help: str = ""
    improvable: bool = False  # a prompt that Improve prompt may rewrite
    placeholder: str = ""  # what an empty text box shows

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def accepts(self, model: catalog.Model | None) -> bool:
        return model is None or self.generations is None or model.generation in self.generations


@dataclass(frozen=True)
class FileInput:
    name: str  # parameter name, and the multipart field it is sent as
    help: str
    formats: tuple[str, ...] = ("png", "jpeg", "webp", "svg")
    kind: str = "image"  # image, mask, or images (a list)
    required: bool = True
    check_dimensions: bool = True  # the docs set no pixel limits for style references

    @property
    def role(self) -> str:
        """Where an editor takes it from: the layer, the selection, or several layers."""
        return {"image": "layer", "mask": "selection", "images": "layers"}[self.kind]


@dataclass(frozen=True)
class Offer:
    """Where the editors offer an operation."""

    rank: int  # its place in Krita's docker and in GIMP's Filters › Recraft
    docker: bool = True  # False: Krita shows it otherwise (Improve prompt is a button there)
    # Krita's Tools › Recraft entry (a one-click run on the active layer), and what it asks
    # first: "" nothing, "prompt", or "size" (the size nearest the image's shape).
    action: str = ""
    asks: str = ""
    # Also in this GIMP menu, beside Filters › Recraft: (procedure suffix, menu path, label).
    gimp_menu: tuple[str, str, str] | None = None


@dataclass(frozen=True)
class Operation:
    name: str
    path: str
    help: str
    label: str = ""  # for menus
    method: str = "POST"
    body: str = "multipart"  # multipart, json, or none
    fields: tuple[Field, ...] = ()
    files: tuple[FileInput, ...] = ()
    models: tuple[str, ...] = ()  # empty: the operation takes no model
    default_model: str | None = None
    prompt_rule: str = "model"  # model: UTF-8 bytes by model family; chars; none
    result: str = "images"  # how the answer reads: images, image, style, prompt, user
    # What an editor does with it: layers, document (a new one), vector, style, prompt, account
    output: str = "layers"
    price: int | str | None = None  # credits per request, "image" (per image, by model), None
    min_side: int = catalog.MIN_SIDE
    svg_min_side: bool = True  # False where small SVGs are scaled up instead of refused
    svg_stays_svg: bool = False  # an SVG sent comes back as SVG
    check: Callable[[dict, dict], None] | None = None  # a rule spanning several fields
    # What it does in an editor's words (layers and selections, not files and masks), where
    # those differ from `help`, which the CLI shows.
    editor_help: str = ""
    offer: Offer | None = None  # None: the CLI's only
    # The result holds the source inside a larger picture, placed by the expand_* and
    # zoom_out_percentage fields (planning.Expansion).
    extends: bool = False
    # Where a result (a style) is put to use: that operation's field of the same kind.
    result_used_in: str | None = None
    # The operation whose source_image_id its results' image ids start (Explore's results
    # start Explore similar, whose own results start it again): editors keep those ids.
    ids_start: str | None = None
    # Only the alpha of its raster result is used, on the source's own pixels (a cut-out):
    # the colours stay in the source's depth and colour model, untouched.
    cuts_out: bool = False

    @property
    def cli_name(self) -> str:
        return self.name.replace("_", "-")

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    @property
    def action_id(self) -> str:
        """Krita's id for its Tools › Recraft action (shortcuts are saved under it)."""
        if self.offer is None or not self.offer.action:
            return ""
        return "recraft_" + self.offer.action.rstrip("…").lower().replace(" ", "_")

    @property
    def about(self) -> str:
        """A sentence or two for an editor's docker or dialog."""
        if self.editor_help:
            return self.editor_help + "."
        return self.help + "." + (" Works on the selection." if self.needs_selection else "")

    @property
    def url_path(self) -> str:
        return "/v1" + self.path

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.files) + tuple(f.name for f in self.fields)

    @property
    def needs_selection(self) -> bool:
        return any(f.role == "selection" for f in self.files)

    @property
    def roles(self) -> frozenset[str]:
        """What an editor takes its files from: layer, selection, layers."""
        return frozenset(f.role for f in self.files)

    @property
    def reads_layer(self) -> bool:
        """It sends the active layer (or the visible image), so a Source choice applies."""
        return "layer" in self.roles

    @property
    def on_each_layer(self) -> bool:
        """A one-click operation on a layer as it is (an editor's action) and no selection:
        with several layers selected, it runs once on each of them."""
        return (
            self.offer is not None
            and bool(self.offer.action)
            and self.reads_layer
            and (not self.needs_selection)
        )

    @property
    def uses_canvas(self) -> bool:
        """Its results go into an open image (or it reads one): layers, shapes, a document."""
        return self.output in ("layers", "vector", "document")

    @property
    def can_improve_prompt(self) -> bool:
        prompt = self.field("prompt")
        return prompt is not None and prompt.improvable

    def result_format(self, model: str | None = None, source: str | None = None) -> str:
        """The file kind its images come back as: "svg" or "png" (a raster's format is read
        from its bytes; png names it for a file). `source` is the sent image's format, for
        an operation that answers SVG with SVG."""
        if self.output == "vector":
            return "svg"
        if self.result not in ("images", "image"):
            return ""
        if self.models:
            chosen = catalog.MODELS.get(model or self.default_model or "")
            return "svg" if chosen is not None and chosen.vector else "png"
        return "svg" if source == "svg" and self.svg_stays_svg else "png"


V2_V3 = frozenset({"v2", "v3"})
V3 = frozenset({"v3"})
V3_V4 = frozenset({"v3", "v4"})

# Fields shared by many operations; `model` is added per operation with its own choices.
PROMPT = Field(
    "prompt",
    "text",
    "what to draw (or to change)",
    required=True,
    widget="multiline",
    improvable=True,
)
N = Field("n", "int", "number of images, 1-6", low=1, high=6, default=1, label="Images")
STYLE = Field("style", "choice", "base style", choices=tuple(catalog.STYLES), widget="style")
STYLE_ID = Field(
    "style_id",
    "uuid",
    "a style created with create_style",
    label="Saved style",
    widget="style",
    editor_help="the id of a style made with Create style",
    placeholder="a style id from Create style",
)
SIZE = Field("size", "text", "output size, WxH or w:h", widget="size")
NEGATIVE_PROMPT = Field(
    "negative_prompt", "text", "what the image should not show", widget="multiline"
)
RANDOM_SEED = Field(
    "random_seed",
    "int",
    "seed for reproducible results; empty for a new one each run",
    low=0,
    high=catalog.UINT32_MAX,
    label="Seed",
    widget="seed",
    advanced=True,
    placeholder="random",
)
RESPONSE_FORMAT = Field(
    "response_format",
    "choice",
    "url or b64_json",
    choices=catalog.RESPONSE_FORMATS,
    default="url",
    hidden=True,
)
TEXT_LAYOUT = Field(
    "text_layout",
    "json",
    "words and their 4-point boxes",
    generations=V3,
    advanced=True,
    hidden=True,  # a list of boxes needs an on-canvas tool, not a form field
)
_RGB = "[r, g, b], each 0-255"
CONTROLS = Field(
    "controls",
    "object",
    "colors, background color, artistic level, no text",
    advanced=True,
    parts=(
        Field(
            "colors",
            "colors",
            f"preferred colors: {_RGB}, each with an optional weight",
            editor_help="preferred colours, as #rrggbb separated by commas",
            placeholder="#ff8800, #2040c0",
        ),
        Field(
            "background_color",
            "color",
            f"the background color wished for: {_RGB}",
            editor_help="the background colour wished for, as #rrggbb",
            placeholder="#ffffff",
        ),
        Field(
            "artistic_level",
            "int",
            "0 static and clean .. 5 dynamic and eccentric",
            low=0,
            high=5,
            widget="slider",
            step=1,
            generations=V3,
        ),
        Field("no_text", "bool", "do not embed text", generations=V3),
    ),
)
STRENGTH = Field(
    "strength",
    "float",
    "0 keeps the image, 1 departs most",
    required=True,
    low=0,
    high=1,
    default=0.5,
    widget="slider",
    step=0.05,
)
EXPAND = tuple(
    Field(
        f"expand_{side}",
        "int",
        f"pixels to add on the {side}",
        low=0,
        high=catalog.MAX_EXPAND,
        label=f"Expand {side}",
    )
    for side in ("left", "right", "top", "bottom")
)
ZOOM = Field(
    "zoom_out_percentage",
    "float",
    "shrink the image by this % inside the result",
    low=0,
    high=100,
    high_open=True,
    default=0,
    widget="slider",
    step=1,
    label="Zoom out %",
)

IMAGE = FileInput("image", "the image to work on")
RASTER_IMAGE = FileInput("image", "the image to work on", formats=("png", "jpeg", "webp"))
MASK = FileInput("mask", "white: change, black: keep", formats=("png", "jpeg", "webp"), kind="mask")


def _edit_fields(style_generations: frozenset[str]) -> tuple[Field, ...]:
    return (
        N,
        replace(STYLE, generations=style_generations),
        replace(STYLE_ID, generations=style_generations),
        RESPONSE_FORMAT,
        NEGATIVE_PROMPT,
        TEXT_LAYOUT,
        CONTROLS,
    )


_GENERATE_FIELDS = (
    PROMPT,
    N,
    replace(STYLE, generations=V2_V3),
    replace(STYLE_ID, generations=V2_V3),
    SIZE,
    replace(NEGATIVE_PROMPT, generations=V2_V3),
    RANDOM_SEED,
    RESPONSE_FORMAT,
    TEXT_LAYOUT,
    CONTROLS,
)
_V3_EDIT = dict(
    models=catalog.V3_MODELS, default_model="recraftv3", price="image", fields=_edit_fields(V3)
)
_GENERATE = dict(body="json", fields=_GENERATE_FIELDS, default_model="recraftv4_1", price="image")
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
            offer=Offer(9),
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
            editor_help="Create a style from up to 5 layers and/or saved styles, to use in "
            "Generate",
            label="Create style from layers",
            fields=(
                Field(
                    "style",
                    "choice",
                    "the base style",
                    required=True,
                    choices=tuple(catalog.STYLES),
                    default="any",
                    widget="style",
                ),
                Field("prompt", "text", "a prompt kept with the style", widget="multiline"),
                Field("image_weights", "json", "one weight per image", advanced=True),
                Field("source_styles", "json", "existing style ids to mix in", advanced=True),
                Field("source_style_weights", "json", "one weight per source style", advanced=True),
                Field(
                    "mix_policy",
                    "choice",
                    "how sources mix",
                    choices=catalog.MIX_POLICIES,
                    advanced=True,
                ),
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
            output="style",
            prompt_rule="none",
            price=catalog.REQUEST_PRICES["create_style"],
            check=rules.style_sources,
            result_used_in="generate",
            offer=Offer(15),
        ),
        Operation(
            "image_to_image",
            "/images/imageToImage",
            "Make images like the given one, changed as the prompt says",
            editor_help="Make images like the layer, changed as the prompt says",
            label="Image to image",
            fields=(PROMPT, STRENGTH, RANDOM_SEED, *_edit_fields(V3_V4)),
            files=(IMAGE,),
            models=catalog.IMAGE_TO_IMAGE_MODELS,
            default_model="recraftv4_1",
            price="image",
            min_side=0,  # its docs give a maximum only
            offer=Offer(7),
        ),
        Operation(
            "inpaint",
            "/images/inpaint",
            "Regenerate the white part of the mask as the prompt says",
            editor_help="Repaint the selected area as the prompt says; the rest stays as it is",
            label="Inpaint selection",
            files=(IMAGE, MASK),
            **{**_V3_EDIT, "fields": (PROMPT, *_V3_EDIT["fields"])},
            offer=Offer(1, action="Inpaint Selection…", asks="prompt"),
        ),
        Operation(
            "outpaint",
            "/images/outpaint",
            "Extend the image beyond its borders",
            files=(IMAGE,),
            check=rules.outpaint,
            **{**_V3_EDIT, "fields": (PROMPT, *EXPAND, SIZE, ZOOM, *_V3_EDIT["fields"])},
            extends=True,
            offer=Offer(6),
        ),
        Operation(
            "replace_background",
            "/images/replaceBackground",
            "Detect the background and replace it as the prompt says",
            editor_help="Find the layer's background and replace it as the prompt says",
            files=(IMAGE,),
            **{**_V3_EDIT, "fields": (PROMPT, *_V3_EDIT["fields"])},
            offer=Offer(4),
        ),
        Operation(
            "generate_background",
            "/images/generateBackground",
            "Generate a background in the white part of the mask",
            editor_help="Paint a new background in the selected area as the prompt says",
            label="Generate background in selection",
            files=(IMAGE, MASK),
            **{**_V3_EDIT, "fields": (PROMPT, *_V3_EDIT["fields"])},
            offer=Offer(3),
        ),
        Operation(
            "vectorize",
            "/images/vectorize",
            "Convert a raster image to SVG",
            editor_help="Trace the layer into editable vector shapes",
            files=(RASTER_IMAGE,),
            output="vector",
            price=catalog.REQUEST_PRICES["vectorize"],
            **_PROCESS,
            offer=Offer(14, action="Vectorize"),
        ),
        Operation(
            "remove_background",
            "/images/removeBackground",
            "Remove the background (SVG in, SVG out)",
            editor_help="Remove the layer's background, keeping its subject",
            files=(IMAGE,),
            svg_min_side=False,
            price=catalog.REQUEST_PRICES["remove_background"],
            **_PROCESS,
            svg_stays_svg=True,
            cuts_out=True,
            offer=Offer(
                5,
                action="Remove Background",
                gimp_menu=(
                    "layer",
                    "<Image>/Layer/Transparency",
                    "Remove Background (Recraft)",
                ),
            ),
        ),
        Operation(
            "crisp_upscale",
            "/images/crispUpscale",
            "Upscale, sharper and cleaner",
            files=(RASTER_IMAGE,),
            min_side=32,
            output="document",
            price=catalog.REQUEST_PRICES["crisp_upscale"],
            **_PROCESS,
            offer=Offer(12, action="Crisp Upscale"),
        ),
        Operation(
            "creative_upscale",
            "/images/creativeUpscale",
            "Upscale, refining small details and faces",
            files=(RASTER_IMAGE,),
            output="document",
            price=catalog.REQUEST_PRICES["creative_upscale"],
            **_PROCESS,
            offer=Offer(13, action="Creative Upscale"),
        ),
        Operation(
            "erase_region",
            "/images/eraseRegion",
            "Erase the white part of the mask",
            editor_help="Erase what is selected, filling in what would be behind it",
            label="Erase selection",
            files=(IMAGE, MASK),
            price=catalog.REQUEST_PRICES["erase_region"],
            **_PROCESS,
            offer=Offer(2, action="Erase Selection"),
        ),
        Operation(
            "remix",
            "/images/variateImage",
            "New versions of the image in another size",
            editor_help="New versions of the layer in another size",
            fields=(
                Field("size", "text", "output size, WxH or w:h", required=True, widget="size"),
                N,
                RANDOM_SEED,
                RESPONSE_FORMAT,
            ),
            files=(IMAGE,),
            models=catalog.ALL_MODELS,
            default_model="recraftv4_1",
            price="image",
            offer=Offer(8, action="Remix", asks="size"),
        ),
        Operation(
            "explore",
            "/images/explore",
            "A set of diverse images for a prompt",
            body="json",
            fields=(
                PROMPT,
                STYLE,
                STYLE_ID,
                replace(SIZE, default="1:1"),
                RESPONSE_FORMAT,
                CONTROLS,
            ),
            models=catalog.EXPLORE_MODELS,
            default_model="recraftv4_1",
            price="image",
            ids_start="explore_similar",
            offer=Offer(10),
        ),
        Operation(
            "explore_similar",
            "/images/explore/similar",
            "Images similar to one that explore made",
            label="Explore similar",
            body="json",
            fields=(
                Field("source_image_id", "uuid", "image_id from explore", required=True),
                Field(
                    "similarity",
                    "int",
                    "1 a little .. 5 extremely",
                    required=True,
                    low=1,
                    high=5,
                    default=3,
                    widget="slider",
                    step=1,
                ),
                RESPONSE_FORMAT,
            ),
            price="image",
            ids_start="explore_similar",
            offer=Offer(11),
        ),
        Operation(
            "enhance_prompt",
            "/prompts/enhance",
            "Expand a short prompt into a detailed one",
            label="Improve prompt",
            body="json",
            fields=(PROMPT,),
            result="prompt",
            output="prompt",
            prompt_rule="chars",
            price=catalog.REQUEST_PRICES["enhance_prompt"],
            offer=Offer(16, docker=False),
        ),
        Operation(
            "user",
            "/users/me",
            "Your account and its credits balance",
            label="Credits",
            method="GET",
            body="none",
            result="user",
            output="account",
            price=0,
        ),
    )
}


# The operations the editors use by role, not by choice of the user.
ACCOUNT = "user"  # the credits balance
RESULT_ID = "source_image_id"  # the field that takes an earlier result's image id (ids_start)
IMPROVE_PROMPT = "enhance_prompt"  # the Improve prompt button


def offered() -> list[Operation]:
    """What the editors offer, in the order an artist looks for it."""
    return sorted((op for op in OPERATIONS.values() if op.offer), key=lambda op: op.offer.rank)


def starting(target: Operation) -> list[Operation]:
    """The offered operations whose results' image ids start `target` (see ids_start)."""
    return [op for op in offered() if op.ids_start == target.name]
