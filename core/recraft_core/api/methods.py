"""Client methods, one per operation: written by `python -m recraft_core.api.codegen`
from the operations table. Do not edit; a test checks it matches the table."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import os

    from ..imaging.png import Raster
    from .progress import Progress
    from .results import EnhancedPrompt, ImageResult, Style, User
    from .transport import CancelToken

    FileLike = str | os.PathLike | bytes | bytearray | Raster  # a path, the bytes, or pixels


def _given(**values) -> dict:
    """The arguments passed: None is "leave it to the API"."""
    return {name: value for name, value in values.items() if value is not None}


class Methods:
    """Each operation of the table as a method; `Client.call` does the work."""

    def call(self, operation: str, **params) -> Any:
        raise NotImplementedError

    def generate(
        self,
        *,
        prompt: str,
        n: int | None = None,
        style: str | None = None,
        style_id: str | None = None,
        size: str | None = None,
        negative_prompt: str | None = None,
        random_seed: int | None = None,
        response_format: str | None = None,
        text_layout: Any | None = None,
        controls: dict | None = None,
        model: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """Generate images from a prompt, with any model.

        POST /v1/images/generations
        prompt: what to draw (or to change) (required)
        n: number of images, 1-6
        style: base style
        style_id: a style created with create_style
        size: output size, WxH or w:h
        negative_prompt: what the image should not show
        random_seed: seed for reproducible results; empty for a new one each run
        response_format: url or b64_json
        text_layout: words and their 4-point boxes
        controls: colors, background color, artistic level, no text
        model: one of recraftv4_1, recraftv4_1_vector, recraftv4_1_pro, recraftv4_1_pro_vector,
            recraftv4_1_utility, recraftv4_1_utility_vector, recraftv4_1_utility_pro,
            recraftv4_1_utility_pro_vector, recraftv4, recraftv4_vector, recraftv4_pro,
            recraftv4_pro_vector, recraftv3, recraftv3_vector, recraftv2, recraftv2_vector;
            default recraftv4_1
        """
        return self.call(
            "generate",
            cancel=cancel,
            progress=progress,
            **_given(
                prompt=prompt,
                n=n,
                style=style,
                style_id=style_id,
                size=size,
                negative_prompt=negative_prompt,
                random_seed=random_seed,
                response_format=response_format,
                text_layout=text_layout,
                controls=controls,
                model=model,
            ),
        )

    def generate_raster(
        self,
        *,
        prompt: str,
        n: int | None = None,
        style: str | None = None,
        style_id: str | None = None,
        size: str | None = None,
        negative_prompt: str | None = None,
        random_seed: int | None = None,
        response_format: str | None = None,
        text_layout: Any | None = None,
        controls: dict | None = None,
        model: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """Generate raster images from a prompt (raster models and styles only).

        POST /v1/images/generations/raster
        prompt: what to draw (or to change) (required)
        n: number of images, 1-6
        style: base style
        style_id: a style created with create_style
        size: output size, WxH or w:h
        negative_prompt: what the image should not show
        random_seed: seed for reproducible results; empty for a new one each run
        response_format: url or b64_json
        text_layout: words and their 4-point boxes
        controls: colors, background color, artistic level, no text
        model: one of recraftv4_1, recraftv4_1_pro, recraftv4_1_utility,
            recraftv4_1_utility_pro, recraftv4, recraftv4_pro, recraftv3, recraftv2; default
            recraftv4_1
        """
        return self.call(
            "generate_raster",
            cancel=cancel,
            progress=progress,
            **_given(
                prompt=prompt,
                n=n,
                style=style,
                style_id=style_id,
                size=size,
                negative_prompt=negative_prompt,
                random_seed=random_seed,
                response_format=response_format,
                text_layout=text_layout,
                controls=controls,
                model=model,
            ),
        )

    def generate_vector(
        self,
        *,
        prompt: str,
        n: int | None = None,
        style: str | None = None,
        style_id: str | None = None,
        size: str | None = None,
        negative_prompt: str | None = None,
        random_seed: int | None = None,
        response_format: str | None = None,
        text_layout: Any | None = None,
        controls: dict | None = None,
        model: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """Generate SVG images from a prompt (vector models and styles only).

        POST /v1/images/generations/vector
        prompt: what to draw (or to change) (required)
        n: number of images, 1-6
        style: base style
        style_id: a style created with create_style
        size: output size, WxH or w:h
        negative_prompt: what the image should not show
        random_seed: seed for reproducible results; empty for a new one each run
        response_format: url or b64_json
        text_layout: words and their 4-point boxes
        controls: colors, background color, artistic level, no text
        model: one of recraftv4_1_vector, recraftv4_1_pro_vector, recraftv4_1_utility_vector,
            recraftv4_1_utility_pro_vector, recraftv4_vector, recraftv4_pro_vector,
            recraftv3_vector, recraftv2_vector; default recraftv4_1_vector
        """
        return self.call(
            "generate_vector",
            cancel=cancel,
            progress=progress,
            **_given(
                prompt=prompt,
                n=n,
                style=style,
                style_id=style_id,
                size=size,
                negative_prompt=negative_prompt,
                random_seed=random_seed,
                response_format=response_format,
                text_layout=text_layout,
                controls=controls,
                model=model,
            ),
        )

    def create_style(
        self,
        images: list[FileLike] | None = None,
        *,
        style: str,
        prompt: str | None = None,
        image_weights: Any | None = None,
        source_styles: Any | None = None,
        source_style_weights: Any | None = None,
        mix_policy: str | None = None,
        model: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> Style:
        """Create a style from up to 5 reference images and/or existing styles.

        POST /v1/styles
        images: reference images (PNG, JPG, WEBP)
        style: the base style (required)
        prompt: a prompt kept with the style
        image_weights: one weight per image
        source_styles: existing style ids to mix in
        source_style_weights: one weight per source style
        mix_policy: how sources mix
        model: one of recraftv4_1, recraftv4_1_vector, recraftv4_1_pro, recraftv4_1_pro_vector,
            recraftv4_1_utility, recraftv4_1_utility_vector, recraftv4_1_utility_pro,
            recraftv4_1_utility_pro_vector, recraftv4, recraftv4_vector, recraftv4_pro,
            recraftv4_pro_vector, recraftv3, recraftv3_vector, recraftv2, recraftv2_vector;
            default None
        """
        return self.call(
            "create_style",
            cancel=cancel,
            progress=progress,
            **_given(
                images=images,
                style=style,
                prompt=prompt,
                image_weights=image_weights,
                source_styles=source_styles,
                source_style_weights=source_style_weights,
                mix_policy=mix_policy,
                model=model,
            ),
        )

    def image_to_image(
        self,
        image: FileLike,
        *,
        prompt: str,
        strength: float,
        random_seed: int | None = None,
        n: int | None = None,
        style: str | None = None,
        style_id: str | None = None,
        response_format: str | None = None,
        negative_prompt: str | None = None,
        text_layout: Any | None = None,
        controls: dict | None = None,
        model: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """Make images like the given one, changed as the prompt says.

        POST /v1/images/imageToImage
        image: the image to work on
        prompt: what to draw (or to change) (required)
        strength: 0 keeps the image, 1 departs most (required)
        random_seed: seed for reproducible results; empty for a new one each run
        n: number of images, 1-6
        style: base style
        style_id: a style created with create_style
        response_format: url or b64_json
        negative_prompt: what the image should not show
        text_layout: words and their 4-point boxes
        controls: colors, background color, artistic level, no text
        model: one of recraftv4_1, recraftv4_1_vector, recraftv4_1_pro, recraftv4_1_pro_vector,
            recraftv4_1_utility, recraftv4_1_utility_vector, recraftv4_1_utility_pro,
            recraftv4_1_utility_pro_vector, recraftv4, recraftv4_vector, recraftv4_pro,
            recraftv4_pro_vector, recraftv3, recraftv3_vector; default recraftv4_1
        """
        return self.call(
            "image_to_image",
            cancel=cancel,
            progress=progress,
            **_given(
                image=image,
                prompt=prompt,
                strength=strength,
                random_seed=random_seed,
                n=n,
                style=style,
                style_id=style_id,
                response_format=response_format,
                negative_prompt=negative_prompt,
                text_layout=text_layout,
                controls=controls,
                model=model,
            ),
        )

    def inpaint(
        self,
        image: FileLike,
        mask: FileLike,
        *,
        prompt: str,
        n: int | None = None,
        style: str | None = None,
        style_id: str | None = None,
        response_format: str | None = None,
        negative_prompt: str | None = None,
        text_layout: Any | None = None,
        controls: dict | None = None,
        model: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """Regenerate the white part of the mask as the prompt says.

        POST /v1/images/inpaint
        image: the image to work on
        mask: white: change, black: keep
        prompt: what to draw (or to change) (required)
        n: number of images, 1-6
        style: base style
        style_id: a style created with create_style
        response_format: url or b64_json
        negative_prompt: what the image should not show
        text_layout: words and their 4-point boxes
        controls: colors, background color, artistic level, no text
        model: one of recraftv3, recraftv3_vector; default recraftv3
        """
        return self.call(
            "inpaint",
            cancel=cancel,
            progress=progress,
            **_given(
                image=image,
                mask=mask,
                prompt=prompt,
                n=n,
                style=style,
                style_id=style_id,
                response_format=response_format,
                negative_prompt=negative_prompt,
                text_layout=text_layout,
                controls=controls,
                model=model,
            ),
        )

    def outpaint(
        self,
        image: FileLike,
        *,
        prompt: str,
        expand_left: int | None = None,
        expand_right: int | None = None,
        expand_top: int | None = None,
        expand_bottom: int | None = None,
        size: str | None = None,
        zoom_out_percentage: float | None = None,
        n: int | None = None,
        style: str | None = None,
        style_id: str | None = None,
        response_format: str | None = None,
        negative_prompt: str | None = None,
        text_layout: Any | None = None,
        controls: dict | None = None,
        model: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """Extend the image beyond its borders.

        POST /v1/images/outpaint
        image: the image to work on
        prompt: what to draw (or to change) (required)
        expand_left: pixels to add on the left
        expand_right: pixels to add on the right
        expand_top: pixels to add on the top
        expand_bottom: pixels to add on the bottom
        size: output size, WxH or w:h
        zoom_out_percentage: shrink the image by this % inside the result
        n: number of images, 1-6
        style: base style
        style_id: a style created with create_style
        response_format: url or b64_json
        negative_prompt: what the image should not show
        text_layout: words and their 4-point boxes
        controls: colors, background color, artistic level, no text
        model: one of recraftv3, recraftv3_vector; default recraftv3
        """
        return self.call(
            "outpaint",
            cancel=cancel,
            progress=progress,
            **_given(
                image=image,
                prompt=prompt,
                expand_left=expand_left,
                expand_right=expand_right,
                expand_top=expand_top,
                expand_bottom=expand_bottom,
                size=size,
                zoom_out_percentage=zoom_out_percentage,
                n=n,
                style=style,
                style_id=style_id,
                response_format=response_format,
                negative_prompt=negative_prompt,
                text_layout=text_layout,
                controls=controls,
                model=model,
            ),
        )

    def replace_background(
        self,
        image: FileLike,
        *,
        prompt: str,
        n: int | None = None,
        style: str | None = None,
        style_id: str | None = None,
        response_format: str | None = None,
        negative_prompt: str | None = None,
        text_layout: Any | None = None,
        controls: dict | None = None,
        model: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """Detect the background and replace it as the prompt says.

        POST /v1/images/replaceBackground
        image: the image to work on
        prompt: what to draw (or to change) (required)
        n: number of images, 1-6
        style: base style
        style_id: a style created with create_style
        response_format: url or b64_json
        negative_prompt: what the image should not show
        text_layout: words and their 4-point boxes
        controls: colors, background color, artistic level, no text
        model: one of recraftv3, recraftv3_vector; default recraftv3
        """
        return self.call(
            "replace_background",
            cancel=cancel,
            progress=progress,
            **_given(
                image=image,
                prompt=prompt,
                n=n,
                style=style,
                style_id=style_id,
                response_format=response_format,
                negative_prompt=negative_prompt,
                text_layout=text_layout,
                controls=controls,
                model=model,
            ),
        )

    def generate_background(
        self,
        image: FileLike,
        mask: FileLike,
        *,
        prompt: str,
        n: int | None = None,
        style: str | None = None,
        style_id: str | None = None,
        response_format: str | None = None,
        negative_prompt: str | None = None,
        text_layout: Any | None = None,
        controls: dict | None = None,
        model: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """Generate a background in the white part of the mask.

        POST /v1/images/generateBackground
        image: the image to work on
        mask: white: change, black: keep
        prompt: what to draw (or to change) (required)
        n: number of images, 1-6
        style: base style
        style_id: a style created with create_style
        response_format: url or b64_json
        negative_prompt: what the image should not show
        text_layout: words and their 4-point boxes
        controls: colors, background color, artistic level, no text
        model: one of recraftv3, recraftv3_vector; default recraftv3
        """
        return self.call(
            "generate_background",
            cancel=cancel,
            progress=progress,
            **_given(
                image=image,
                mask=mask,
                prompt=prompt,
                n=n,
                style=style,
                style_id=style_id,
                response_format=response_format,
                negative_prompt=negative_prompt,
                text_layout=text_layout,
                controls=controls,
                model=model,
            ),
        )

    def vectorize(
        self,
        image: FileLike,
        *,
        response_format: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """Convert a raster image to SVG.

        POST /v1/images/vectorize
        image: the image to work on
        response_format: url or b64_json
        """
        return self.call(
            "vectorize",
            cancel=cancel,
            progress=progress,
            **_given(
                image=image,
                response_format=response_format,
            ),
        )

    def remove_background(
        self,
        image: FileLike,
        *,
        response_format: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """Remove the background (SVG in, SVG out).

        POST /v1/images/removeBackground
        image: the image to work on
        response_format: url or b64_json
        """
        return self.call(
            "remove_background",
            cancel=cancel,
            progress=progress,
            **_given(
                image=image,
                response_format=response_format,
            ),
        )

    def crisp_upscale(
        self,
        image: FileLike,
        *,
        response_format: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """Upscale, sharper and cleaner.

        POST /v1/images/crispUpscale
        image: the image to work on
        response_format: url or b64_json
        """
        return self.call(
            "crisp_upscale",
            cancel=cancel,
            progress=progress,
            **_given(
                image=image,
                response_format=response_format,
            ),
        )

    def creative_upscale(
        self,
        image: FileLike,
        *,
        response_format: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """Upscale, refining small details and faces.

        POST /v1/images/creativeUpscale
        image: the image to work on
        response_format: url or b64_json
        """
        return self.call(
            "creative_upscale",
            cancel=cancel,
            progress=progress,
            **_given(
                image=image,
                response_format=response_format,
            ),
        )

    def erase_region(
        self,
        image: FileLike,
        mask: FileLike,
        *,
        response_format: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """Erase the white part of the mask.

        POST /v1/images/eraseRegion
        image: the image to work on
        mask: white: change, black: keep
        response_format: url or b64_json
        """
        return self.call(
            "erase_region",
            cancel=cancel,
            progress=progress,
            **_given(
                image=image,
                mask=mask,
                response_format=response_format,
            ),
        )

    def remix(
        self,
        image: FileLike,
        *,
        size: str,
        n: int | None = None,
        random_seed: int | None = None,
        response_format: str | None = None,
        model: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """New versions of the image in another size.

        POST /v1/images/variateImage
        image: the image to work on
        size: output size, WxH or w:h (required)
        n: number of images, 1-6
        random_seed: seed for reproducible results; empty for a new one each run
        response_format: url or b64_json
        model: one of recraftv4_1, recraftv4_1_vector, recraftv4_1_pro, recraftv4_1_pro_vector,
            recraftv4_1_utility, recraftv4_1_utility_vector, recraftv4_1_utility_pro,
            recraftv4_1_utility_pro_vector, recraftv4, recraftv4_vector, recraftv4_pro,
            recraftv4_pro_vector, recraftv3, recraftv3_vector, recraftv2, recraftv2_vector;
            default recraftv4_1
        """
        return self.call(
            "remix",
            cancel=cancel,
            progress=progress,
            **_given(
                image=image,
                size=size,
                n=n,
                random_seed=random_seed,
                response_format=response_format,
                model=model,
            ),
        )

    def explore(
        self,
        *,
        prompt: str,
        style: str | None = None,
        style_id: str | None = None,
        size: str | None = None,
        response_format: str | None = None,
        controls: dict | None = None,
        model: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """A set of diverse images for a prompt.

        POST /v1/images/explore
        prompt: what to draw (or to change) (required)
        style: base style
        style_id: a style created with create_style
        size: output size, WxH or w:h
        response_format: url or b64_json
        controls: colors, background color, artistic level, no text
        model: one of recraftv4_1, recraftv4_1_vector, recraftv4_1_pro, recraftv4_1_pro_vector,
            recraftv4, recraftv4_vector, recraftv4_pro, recraftv4_pro_vector; default
            recraftv4_1
        """
        return self.call(
            "explore",
            cancel=cancel,
            progress=progress,
            **_given(
                prompt=prompt,
                style=style,
                style_id=style_id,
                size=size,
                response_format=response_format,
                controls=controls,
                model=model,
            ),
        )

    def explore_similar(
        self,
        *,
        source_image_id: str,
        similarity: int,
        response_format: str | None = None,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> ImageResult:
        """Images similar to one that explore made.

        POST /v1/images/explore/similar
        source_image_id: image_id from explore (required)
        similarity: 1 a little .. 5 extremely (required)
        response_format: url or b64_json
        """
        return self.call(
            "explore_similar",
            cancel=cancel,
            progress=progress,
            **_given(
                source_image_id=source_image_id,
                similarity=similarity,
                response_format=response_format,
            ),
        )

    def enhance_prompt(
        self,
        *,
        prompt: str,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> EnhancedPrompt:
        """Expand a short prompt into a detailed one.

        POST /v1/prompts/enhance
        prompt: what to draw (or to change) (required)
        """
        return self.call(
            "enhance_prompt",
            cancel=cancel,
            progress=progress,
            **_given(
                prompt=prompt,
            ),
        )

    def user(
        self,
        *,
        cancel: CancelToken | None = None,
        progress: Callable[[Progress], None] | None = None,
    ) -> User:
        """Your account and its credits balance.

        GET /v1/users/me
        """
        return self.call(
            "user",
            cancel=cancel,
            progress=progress,
            **_given(
            ),
        )
