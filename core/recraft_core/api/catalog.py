"""What the API offers: models, their sizes and prompt limits, styles and upload limits.

Pure data, from Recraft's API docs and their Appendix. Everything that checks or builds a
request reads these tables; nothing else spells a model or a size out.
"""

from __future__ import annotations

from dataclasses import dataclass

# The upload limits live with the imaging code that plans within them; they are the API's too.
from ..imaging.limits import MAX_FILE_BYTES, MAX_PIXELS, MAX_SIDE, MIN_SIDE  # noqa: F401

# Sizes per family, as (aspect, WxH) rows of the Appendix. An aspect maps to the size on its row.
_V3_SIZES = (
    ("1:1", "1024x1024"),
    ("2:1", "2048x1024"),
    ("1:2", "1024x2048"),
    ("3:2", "1536x1024"),
    ("2:3", "1024x1536"),
    ("4:3", "1365x1024"),
    ("3:4", "1024x1365"),
    ("5:4", "1280x1024"),
    ("4:5", "1024x1280"),
    ("6:10", "1024x1707"),
    ("14:10", "1434x1024"),
    ("10:14", "1024x1434"),
    ("16:9", "1820x1024"),
    ("9:16", "1024x1820"),
    (None, "1707x1024"),
)
_V4_SIZES = (
    ("1:1", "1024x1024"),
    ("2:1", "1536x768"),
    ("1:2", "768x1536"),
    ("3:2", "1280x832"),
    ("2:3", "832x1280"),
    ("4:3", "1216x896"),
    ("3:4", "896x1216"),
    ("5:4", "1152x896"),
    ("4:5", "896x1152"),
    ("6:10", "832x1344"),
    ("14:10", "1280x896"),
    ("10:14", "896x1280"),
    ("16:9", "1344x768"),
    ("9:16", "768x1344"),
)
_V4_PRO_SIZES = (
    ("1:1", "2048x2048"),
    ("2:1", "3072x1536"),
    ("1:2", "1536x3072"),
    ("3:2", "2560x1664"),
    ("2:3", "1664x2560"),
    ("4:3", "2432x1792"),
    ("3:4", "1792x2432"),
    ("5:4", "2304x1792"),
    ("4:5", "1792x2304"),
    ("6:10", "1664x2688"),
    ("14:10", "2560x1792"),
    ("10:14", "1792x2560"),
    ("16:9", "2688x1536"),
    ("9:16", "1536x2688"),
)


@dataclass(frozen=True)
class Family:
    name: str  # "v2", "v3", "v4", "v4pro": what the docs' compatibility columns speak of
    prompt_limit: int  # UTF-8 bytes
    sizes: tuple[tuple[str | None, str], ...]

    @property
    def generation(self) -> str:
        """V4 Pro is a V4 model for every compatibility rule except sizes."""
        return "v4" if self.name == "v4pro" else self.name

    def resolve_size(self, size: str) -> str | None:
        """WxH for a size given as WxH or w:h, or None when the family has no such size."""
        for aspect, wxh in self.sizes:
            if size in (aspect, wxh):
                return wxh
        return None

    def size_choices(self) -> list[str]:
        return [wxh for _, wxh in self.sizes] + [a for a, _ in self.sizes if a]


V2 = Family("v2", 1000, _V3_SIZES)
V3 = Family("v3", 1000, _V3_SIZES)
V4 = Family("v4", 10000, _V4_SIZES)
V4_PRO = Family("v4pro", 10000, _V4_PRO_SIZES)


@dataclass(frozen=True)
class Model:
    name: str
    family: Family

    @property
    def vector(self) -> bool:
        return self.name.endswith("_vector")

    @property
    def generation(self) -> str:
        return self.family.generation

    @property
    def label(self) -> str:
        """For a form: recraftv4_1_utility_pro_vector is "Recraft V4.1 Utility Pro (vector)"."""
        base = self.name.removeprefix("recraft").removesuffix("_vector")
        version, _, kind = base.partition("_")
        if kind[:1].isdigit():  # v4_1: a minor version
            minor, _, kind = kind.partition("_")
            version += "." + minor
        words = ["Recraft", version.upper(), *(w.capitalize() for w in kind.split("_") if w)]
        return " ".join(words) + (" (vector)" if self.vector else "")


def _models(family: Family, *bases: str) -> list[Model]:
    return [Model(n, family) for b in bases for n in (b, b + "_vector")]


# In the docs' order: the default comes first.
MODELS: dict[str, Model] = {
    m.name: m
    for m in (
        _models(V4, "recraftv4_1")
        + _models(V4_PRO, "recraftv4_1_pro")
        + _models(V4, "recraftv4_1_utility")
        + _models(V4_PRO, "recraftv4_1_utility_pro")
        + _models(V4, "recraftv4")
        + _models(V4_PRO, "recraftv4_pro")
        + _models(V3, "recraftv3")
        + _models(V2, "recraftv2")
    )
}

ALL_MODELS = tuple(MODELS)
V3_MODELS = ("recraftv3", "recraftv3_vector")
IMAGE_TO_IMAGE_MODELS = tuple(m for m in ALL_MODELS if MODELS[m].generation in ("v3", "v4"))
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

# Base styles. "any" fits both kinds; the others are raster-only or vector-only.
STYLES: dict[str, str] = {
    "any": "any",
    "realistic_image": "raster",
    "digital_illustration": "raster",
    "logo_raster": "raster",
    "vector_illustration": "vector",
    "icon": "vector",
}


def style_label(style: str) -> str:
    """A base style as a form shows it: "realistic_image" is "Realistic image"."""
    return style.replace("_", " ").capitalize()


MIX_POLICIES = ("PaletteMatch", "MaxWeight")
RESPONSE_FORMATS = ("url", "b64_json")

MAX_STYLE_IMAGES = 5
MAX_STYLE_BYTES = 5 * 1024 * 1024
MAX_EXPAND = 4096
MAX_ENHANCE_CHARS = 2000
UINT32_MAX = 2**32 - 1

# Credits, from Recraft's published API price list (the API docs themselves give none, so a
# form shows these as an estimate; the answer's `credits` is what was charged). Per image for
# the model's family and kind, or per request.
IMAGE_PRICES: dict[str, dict[str, int]] = {
    "v2": {"raster": 22, "vector": 44},
    "v3": {"raster": 40, "vector": 80},
    "v4": {"raster": 40, "vector": 80},
    "v4pro": {"raster": 250, "vector": 300},
}
REQUEST_PRICES: dict[str, int] = {
    "create_style": 40,
    "vectorize": 10,
    "remove_background": 10,
    "crisp_upscale": 4,
    "creative_upscale": 250,
    "erase_region": 2,
    "enhance_prompt": 0,
}
# explore/similar is priced as images of this model.
EXPLORE_SIMILAR_PRICE_MODEL = "recraftv4_1"


def _text_layout_chars() -> frozenset[str]:
    """Characters a text_layout word may use.

    The docs' own list is cut off in our copy; this is our reading of it: printable ASCII
    without space, Latin-1 letters and Cyrillic letters.
    """
    ascii_ = {chr(c) for c in range(0x21, 0x7F)}
    latin1 = {chr(c) for c in range(0xC0, 0x100)} - {"\u00d7", "\u00f7"}
    cyrillic = {chr(c) for c in range(0x400, 0x500) if chr(c).isalpha()}
    return frozenset(ascii_ | latin1 | cyrillic)


TEXT_LAYOUT_CHARS = _text_layout_chars()
