"""Forms from the operations table, and errors a person can read."""

from __future__ import annotations

import pytest

from recraft_core import (
    APIError,
    AuthenticationError,
    Cancelled,
    Client,
    ConnectionFailed,
    InsufficientCreditsError,
    ProtocolError,
    RateLimitError,
    RecraftError,
    ServerError,
    Timeout,
    ValidationError,
)
from recraft_core.api import forms, validation
from recraft_core.api.operations import INT32_MAX, OPERATIONS, Field
from recraft_core.exceptions import MAYBE_CHARGED
from recraft_core.imaging import imageinfo, png


def names(op, model=None, **kw):
    return [f.name for f in forms.fields_for(op, model, **kw)]


def test_fields_follow_the_chosen_model():
    v3 = names("generate", "recraftv3")
    v4 = names("generate", "recraftv4_1")
    assert {"negative_prompt", "style", "controls.artistic_level", "controls.no_text"} <= set(v3)
    assert not {"negative_prompt", "style", "style_id", "controls.artistic_level"} & set(v4)
    assert {"prompt", "n", "size", "random_seed", "controls.colors"} <= set(v4)
    # The transport's business never reaches a form; text_layout needs a canvas tool.
    assert "response_format" not in v3 and "text_layout" not in v3
    assert v3[:2] == ["model", "prompt"]


def test_choices_follow_the_chosen_model():
    by_name = {f.name: f for f in forms.fields_for("generate", "recraftv3_vector")}
    assert set(by_name["style"].choices) == {"any", "vector_illustration", "icon"}
    assert (
        "1820x1024" in by_name["size"].choices
        and "16:9 (1820x1024)" in by_name["size"].choice_labels
    )
    pro = {f.name: f for f in forms.fields_for("generate", "recraftv4_1_pro")}
    assert "2048x2048" in pro["size"].choices and "1024x1024" not in pro["size"].choices
    model = {f.name: f for f in forms.fields_for("inpaint")}["model"]
    assert model.choices == ("recraftv3", "recraftv3_vector") and model.default == "recraftv3"


def test_widget_hints_defaults_and_ranges():
    fields = {f.name: f for f in forms.fields_for("image_to_image", "recraftv4_1")}
    assert fields["prompt"].widget == "multiline" and fields["prompt"].required
    strength = fields["strength"]
    assert (strength.widget, strength.low, strength.high, strength.step, strength.default) == (
        "slider", 0, 1, 0.05, 0.5
    )  # fmt: skip
    assert fields["random_seed"].high == 2**32 - 1 and fields["random_seed"].advanced
    gimp = {f.name: f for f in forms.fields_for("image_to_image", "recraftv4_1", int32=True)}
    assert gimp["random_seed"].high == INT32_MAX
    assert all(f.high is None or f.high <= INT32_MAX for f in gimp.values() if f.type == "int")


def test_operations_without_models_or_fields():
    assert names("vectorize") == [] and names("remove_background") == []
    assert names("explore_similar") == ["source_image_id", "similarity"]


def test_roles_and_outputs_are_in_the_table():
    assert [f.role for f in OPERATIONS["inpaint"].files] == ["layer", "selection"]
    assert OPERATIONS["inpaint"].needs_selection and not OPERATIONS["remix"].needs_selection
    assert OPERATIONS["create_style"].files[0].role == "layers"
    outputs = {name: op.output for name, op in OPERATIONS.items()}
    assert outputs["crisp_upscale"] == outputs["creative_upscale"] == "document"
    assert outputs["vectorize"] == "vector" and outputs["inpaint"] == "layers"
    assert (outputs["create_style"], outputs["enhance_prompt"], outputs["user"]) == (
        "style", "prompt", "account"
    )  # fmt: skip


def test_collect_folds_parts_and_drops_empty_values():
    values = {"prompt": "fox", "negative_prompt": "", "controls.no_text": True, "n": None}
    params = forms.collect("generate", values)
    assert params == {"prompt": "fox", "controls": {"no_text": True}}
    # What a form collects is what validation accepts.
    assert validation.validate(OPERATIONS["generate"], {**params, "model": "recraftv3"})


def test_cost_before_the_run():
    assert forms.cost("generate", {"model": "recraftv4_1", "n": 3}) == 120
    assert forms.cost("generate", {"model": "recraftv4_1_pro_vector"}) == 300
    assert forms.cost("inpaint", {}) == 40  # the default model, one image
    assert forms.cost("vectorize", {}) == 10 and forms.cost("crisp_upscale", {}) == 4
    assert forms.cost("explore", {}) is None  # how many images it returns is not documented


def test_cost_matches_what_the_server_charges(recraft_server):
    with Client(recraft_server.token, base_url=recraft_server.base_url) as client:
        for params in ({"model": "recraftv3_vector", "n": 2}, {"model": "recraftv2"}):
            result = client.generate(prompt="fox", **params)
            assert result.credits == forms.cost("generate", params)


def test_an_integer_field_without_bounds_is_checked_without_crashing():
    free = Field("count", "int", "any integer")
    assert validation.check_field(free, 10**12) == 10**12
    with pytest.raises(ValidationError, match="integer"):
        validation.check_field(free, 1.5)
    low_only = Field("count", "int", "", low=0)
    with pytest.raises(ValidationError, match=r"out of range \[0, \]"):
        validation.check_field(low_only, -1)


ERRORS = [
    (ValidationError("prompt", "must not be empty"), "Prompt must not be empty. Change it"),
    (AuthenticationError(401, None, "bad token"), "Your Recraft token was refused"),
    (InsufficientCreditsError(402, None, "no"), "not have enough credits"),
    (RateLimitError(429, None, "slow down"), "Wait a minute"),
    (ServerError(502, None, "bad gateway"), "problem on its side (HTTP 502)"),
    (APIError(400, "invalid", "size is wrong"), "Recraft refused the request: Size is wrong."),
    (ProtocolError("no images"), "could not be used (no images)"),
    (ConnectionFailed("cannot connect"), "Check the internet connection"),
    (Timeout("no answer"), "may still finish and charge"),
    (Cancelled("cancelled").charge(MAYBE_CHARGED), "may still be charged"),
    (png.PNGError("damaged PNG"), "Damaged PNG. Try again"),
    (imageinfo.UnknownImage("not a PNG, JPEG, WEBP or SVG file"), "Not a PNG"),
]


@pytest.mark.parametrize("error,words", ERRORS, ids=lambda e: type(e).__name__)
def test_every_error_has_a_sentence_for_a_person(error, words):
    assert isinstance(error, RecraftError)
    message = error.user_message
    assert words in message
    assert "Traceback" not in message and message.strip()[-1] in ".!"


def test_editors_describe_operations_in_their_own_words():
    """A docker or dialog talks of layers and selections: no masks, files or SVG inputs, which
    are the CLI's terms (found by new-user tests in both editors)."""
    for op in OPERATIONS.values():
        about = op.about
        assert about.endswith(".") and about[0].isupper(), op.name
        for word in ("mask", "SVG in", "the given one", "create_style"):
            assert word not in about, (op.name, about)
        if op.needs_selection:
            assert "select" in about.lower(), (op.name, about)
    assert "white part of the mask" in OPERATIONS["inpaint"].help  # the CLI keeps its terms


def test_colour_fields_say_how_editors_take_them():
    fields = {f.name: f for f in forms.fields_for("generate", "recraftv3")}
    assert "#rrggbb" in fields["controls.colors"].help
    assert "#rrggbb" in fields["controls.background_color"].help
    assert "create_style" not in fields["style_id"].help


@pytest.mark.parametrize(
    "field,rule,message",
    [
        ("prompt", "is required", "Prompt is required. Change it and run again."),
        ("controls.colors", "must be a list", "Colors must be a list. Change it and run again."),
        ("selection", "is empty: select the area to change",
         "Selection is empty: select the area to change."),
        ("image", "not a PNG", "Image: Not a PNG. Change it and run again."),
    ],
)  # fmt: skip
def test_a_rule_reads_as_one_sentence_with_its_field(field, rule, message):
    assert ValidationError(field, rule).user_message == message


def test_models_show_as_names_not_ids():
    field = next(f for f in forms.fields_for("generate") if f.name == "model")
    shown = dict(zip(field.choices, field.choice_labels, strict=True))
    assert shown["recraftv3"] == "Recraft V3"
    assert shown["recraftv4_1_utility_pro_vector"] == "Recraft V4.1 Utility Pro (vector)"
    assert len(set(shown.values())) == len(shown)  # no two models look alike
