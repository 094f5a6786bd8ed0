"""Data tables of the Recraft API: models, families, sizes, styles, prices and limits.

The values come from Recraft's published API docs and their appendix (model list, size table,
style list) and from Recraft's published price list.  Nothing here imports the client package:
the server keeps its own copy of the rules so that a mistake in the client's copy shows up as a
disagreement in the tests.
"""

from __future__ import annotations

# --- models -----------------------------------------------------------------------------------

GENERATION_MODELS: tuple[str, ...] = (
    "recraftv4_1",
    "recraftv4_1_vector",
    "recraftv4_1_pro",
    "recraftv4_1_pro_vector",
    "recraftv4_1_utility",
    "recraftv4_1_utility_vector",
    "recraftv4_1_utility_pro",
    "recraftv4_1_utility_pro_vector",
    "recraftv4",
    "recraftv4_vector",
    "recraftv4_pro",
    "recraftv4_pro_vector",
    "recraftv3",
    "recraftv3_vector",
    "recraftv2",
    "recraftv2_vector",
)

V2, V3, V4, V4_PRO = "V2", "V3", "V4", "V4 Pro"


def is_vector(model: str) -> bool:
    return model.endswith("_vector")


def family(model: str) -> str:
    if model.startswith("recraftv2"):
        return V2
    if model.startswith("recraftv3"):
        return V3
    return V4_PRO if "_pro" in model else V4


def kind(model: str) -> str:
    return "vector" if is_vector(model) else "raster"


RASTER_MODELS = tuple(m for m in GENERATION_MODELS if not is_vector(m))
VECTOR_MODELS = tuple(m for m in GENERATION_MODELS if is_vector(m))
V3_MODELS = ("recraftv3", "recraftv3_vector")
IMAGE_TO_IMAGE_MODELS = tuple(m for m in GENERATION_MODELS if family(m) in (V3, V4, V4_PRO))
EXPLORE_MODELS = (
    "recraftv4_1",
    "recraftv4_1_vector",
    "recraftv4_1_pro",
    "recraftv4_1_pro_vector",
    "recraftv4",
    "recraftv4_vector",
    "recraftv4_pro",
    "recraftv4_pro_vector",
)

# Prompt limits are counted in UTF-8 bytes, not characters.
PROMPT_LIMIT_BYTES = {V2: 1000, V3: 1000, V4: 10000, V4_PRO: 10000}
ENHANCE_PROMPT_MAX_CHARS = 2000

# --- sizes ------------------------------------------------------------------------------------

ASPECTS = ("1:1", "2:1", "1:2", "3:2", "2:3", "4:3", "3:4", "5:4", "4:5", "6:10", "14:10", "10:14",
           "16:9", "9:16")  # fmt: skip

_V3_SIZES = ("1024x1024", "2048x1024", "1024x2048", "1536x1024", "1024x1536", "1365x1024",
             "1024x1365", "1280x1024", "1024x1280", "1024x1707", "1434x1024", "1024x1434",
             "1820x1024", "1024x1820")  # fmt: skip
_V4_SIZES = ("1024x1024", "1536x768", "768x1536", "1280x832", "832x1280", "1216x896",
             "896x1216", "1152x896", "896x1152", "832x1344", "1280x896", "896x1280", "1344x768",
             "768x1344")  # fmt: skip
_V4_PRO_SIZES = ("2048x2048", "3072x1536", "1536x3072", "2560x1664", "1664x2560", "2432x1792",
                 "1792x2432", "2304x1792", "1792x2304", "1664x2688", "2560x1792", "1792x2560",
                 "2688x1536", "1536x2688")  # fmt: skip

# family -> {aspect: size}; the rows line up with ASPECTS.
ASPECT_SIZES: dict[str, dict[str, str]] = {
    V2: dict(zip(ASPECTS, _V3_SIZES, strict=True)),
    V3: dict(zip(ASPECTS, _V3_SIZES, strict=True)),
    V4: dict(zip(ASPECTS, _V4_SIZES, strict=True)),
    V4_PRO: dict(zip(ASPECTS, _V4_PRO_SIZES, strict=True)),
}
# Sizes with no aspect name of their own (1707x1024 is 10:6, which the table does not list).
EXTRA_SIZES: dict[str, tuple[str, ...]] = {V2: ("1707x1024",), V3: ("1707x1024",), V4: (),
                                           V4_PRO: ()}  # fmt: skip


def sizes_for(model: str) -> tuple[str, ...]:
    fam = family(model)
    return tuple(ASPECT_SIZES[fam].values()) + EXTRA_SIZES[fam]


def default_size(model: str) -> str:
    return ASPECT_SIZES[family(model)]["1:1"]


# --- styles -----------------------------------------------------------------------------------

RASTER_STYLES = ("realistic_image", "digital_illustration", "logo_raster")
VECTOR_STYLES = ("vector_illustration", "icon")
BASE_STYLES = ("any", *RASTER_STYLES, *VECTOR_STYLES)


def style_kinds(style: str) -> tuple[str, ...]:
    if style == "any":
        return ("raster", "vector")
    return ("vector",) if style in VECTOR_STYLES else ("raster",)


MIX_POLICIES = ("PaletteMatch", "MaxWeight")
RESPONSE_FORMATS = ("url", "b64_json")
IMAGE_FORMATS = ("png", "webp")

# --- text layout ------------------------------------------------------------------------------


def text_layout_char_ok(ch: str) -> bool:
    code = ord(ch)
    if code < 128:
        return 33 <= code <= 126  # printable ASCII minus space: letters, digits, punctuation
    if 0x00C0 <= code <= 0x00FF:
        return code not in (0x00D7, 0x00F7)  # Latin-1 letters, not the × and ÷ signs
    return 0x0400 <= code <= 0x04FF  # Cyrillic


# --- numbers ----------------------------------------------------------------------------------

N_RANGE = (1, 6)
SEED_RANGE = (0, 2**32 - 1)
EXPAND_RANGE = (0, 4096)
SIMILARITY_RANGE = (1, 5)
ARTISTIC_LEVEL_RANGE = (0, 5)
EXPLORE_COUNT = 4
OUTPAINT_MAX_SIDE = 4096

# --- image inputs -----------------------------------------------------------------------------

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 16_000_000  # "16 MP" in decimal megapixels: 4000x4000 passes, 4096x4096 does not
MAX_SIDE = 4096
MIN_SIDE = 256
CRISP_MIN_SIDE = 32
STYLE_MAX_FILES = 5
STYLE_MAX_TOTAL_BYTES = 5 * 1024 * 1024
# The docs set no pixel limit for style images; this sanity cap keeps decoding bounded.
STYLE_MAX_PIXELS = 16_000_000
RASTER_FORMATS = ("png", "jpeg", "webp")
RASTER_AND_SVG = (*RASTER_FORMATS, "svg")
# Upscale results are capped to this longest side (the factor shrinks to fit).
UPSCALE_MAX_SIDE = 8192
# Whole request bodies above this get 413 without being read.
MAX_BODY_BYTES = 64 * 1024 * 1024

# --- prices -----------------------------------------------------------------------------------
# Credits follow Recraft's published API price list.  Model prices are per output image
# (generations, imageToImage, inpaint, outpaint, replaceBackground, generateBackground,
# variateImage, explore, explore/similar); the rest are per request.

MODEL_PRICES: dict[str, dict[str, int]] = {
    V2: {"raster": 22, "vector": 44},
    V3: {"raster": 40, "vector": 80},
    V4: {"raster": 40, "vector": 80},
    V4_PRO: {"raster": 250, "vector": 300},
}
EXPLORE_SIMILAR_PRICE_MODEL = "recraftv4_1"
REQUEST_PRICES: dict[str, int] = {
    "create_style": 40,
    "vectorize": 10,
    "remove_background": 10,
    "crisp_upscale": 4,
    "creative_upscale": 250,
    "erase_region": 2,
    "enhance_prompt": 0,
}


def image_price(model: str) -> int:
    return MODEL_PRICES[family(model)][kind(model)]
