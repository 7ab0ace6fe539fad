"""Tests of dpsynth.release.plots: every plot is a decodable, embeddable PNG."""

from __future__ import annotations

import base64
import io

from PIL import Image

from dpsynth.release.plots import (
    MAX_LABELS,
    downstream_plot,
    epsilon_plot,
    heatmap_pair,
    marginal_plot,
    slice_plot,
)

PREFIX = "data:image/png;base64,"


def _image(uri: str) -> Image.Image:
    assert uri.startswith(PREFIX)
    image = Image.open(io.BytesIO(base64.b64decode(uri[len(PREFIX):])))
    image.load()
    assert image.format == "PNG"
    return image


def test_marginal_plot_caps_the_number_of_labels():
    def height(k: int) -> int:
        labels = [f"v{i}" for i in range(k)]
        freqs = [1 / k] * k
        return _image(marginal_plot("c", labels, freqs, freqs)).height

    # each label adds 0.28 inch (28 px at 100 dpi); the capped plot differs only by the
    # width of its longer title, a pixel or two of tight bounding box
    assert height(MAX_LABELS) - height(5) > 10 * 28
    assert abs(height(3 * MAX_LABELS) - height(MAX_LABELS)) <= 5


def test_every_plot_is_a_png_and_tolerates_missing_values():
    names = ["a", "b", "c"]
    real = [[1.0, 0.2, None], [0.2, 1.0, 0.5], [None, 0.5, 1.0]]
    synthetic = [[1.0, 0.1, 0.0], [0.1, 1.0, 0.4], [0.0, 0.4, 1.0]]
    images = [
        heatmap_pair(names, real, synthetic, "Cramér's V"),
        slice_plot(["sex = F", "sex = M"], [0.05, None], [True, False], 0.04),
        slice_plot(["x = 1"], [-0.01], [False], None),
        downstream_plot(["train_real", "dp_baseline"], {"accuracy": [0.8, None], "AUC": [0.9, 0.7]}),
        epsilon_plot(1.0, 0.0, [0.0, 3.0], 2.4),
        epsilon_plot(1.0, None, None, None),
    ]
    for uri in images:
        image = _image(uri)
        assert image.width > 100 and image.height > 50
