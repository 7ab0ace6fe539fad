"""Plots of the release report, drawn with matplotlib and returned as embeddable PNGs.

Every function takes plain values (lists of labels and numbers, as found in
the release record) and returns a ``data:image/png;base64,...`` URI for an
``<img>`` element, so the report needs no external file. Figures are built
with :class:`matplotlib.figure.Figure` and the Agg canvas: no pyplot, no
global state, no display.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

REAL_COLOUR = "#4c72b0"
SYNTHETIC_COLOUR = "#dd8452"
DP_COLOUR = "#55a868"
FLAG_COLOUR = "#c44e52"

#: at most this many labels are drawn in one marginal plot (the most frequent in the real data)
MAX_LABELS = 20


def _png(fig: Figure) -> str:
    """Render ``fig`` to a base64 PNG data URI."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _values(xs: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if x is None else x for x in xs], dtype=float)


def marginal_plot(
    column: str, labels: Sequence[str], real: Sequence[float], synthetic: Sequence[float]
) -> str:
    """Side-by-side bars of a column's real and synthetic frequencies."""
    r, s = _values(real), _values(synthetic)
    order = np.arange(len(labels))
    if len(labels) > MAX_LABELS:
        order = np.sort(np.argsort(-r, kind="stable")[:MAX_LABELS])
    y = np.arange(len(order))
    fig = Figure(figsize=(5.2, 0.9 + 0.28 * len(order)))
    ax = fig.add_subplot()
    ax.barh(y - 0.2, r[order], height=0.4, color=REAL_COLOUR, label="real")
    ax.barh(y + 0.2, s[order], height=0.4, color=SYNTHETIC_COLOUR, label="synthetic")
    ax.set_yticks(y, [str(labels[i]) for i in order], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("share of rows")
    shown = "" if len(order) == len(labels) else f" ({len(order)} most frequent of {len(labels)})"
    ax.set_title(f"{column}{shown}", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def heatmap_pair(
    columns: Sequence[str],
    real: Sequence[Sequence[float | None]],
    synthetic: Sequence[Sequence[float | None]],
    title: str,
    *,
    vmin: float = 0.0,
) -> str:
    """Real, synthetic and absolute-difference heatmaps of an association matrix."""
    r, s = _values([v for row in real for v in row]), _values([v for row in synthetic for v in row])
    k = len(columns)
    r, s = r.reshape(k, k), s.reshape(k, k)
    fig = Figure(figsize=(13, 4.6))
    panels = ((r, "real", vmin, 1.0, "viridis"), (s, "synthetic", vmin, 1.0, "viridis"),
              (np.abs(r - s), "|real - synthetic|", 0.0, 1.0, "magma"))
    for i, (m, name, lo, hi, cmap) in enumerate(panels):
        ax = fig.add_subplot(1, 3, i + 1)
        im = ax.imshow(m, vmin=lo, vmax=hi, cmap=cmap)
        ax.set_xticks(range(k), columns, rotation=90, fontsize=7)
        ax.set_yticks(range(k), columns if i == 0 else [""] * k, fontsize=7)
        ax.set_title(name, fontsize=10)
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.suptitle(title, fontsize=11)
    return _png(fig)


def slice_plot(
    names: Sequence[str],
    excess: Sequence[float | None],
    flagged: Sequence[bool],
    threshold: float | None,
) -> str:
    """Horizontal bars of each subgroup's excess 2-way TVD, flagged ones in red."""
    v = _values(excess)
    y = np.arange(len(names))
    fig = Figure(figsize=(5.2, 1.0 + 0.3 * len(names)))
    ax = fig.add_subplot()
    colours = [FLAG_COLOUR if f else REAL_COLOUR for f in flagged]
    ax.barh(y, np.nan_to_num(v), color=colours)
    ax.set_yticks(y, list(names), fontsize=8)
    ax.invert_yaxis()
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle="--", linewidth=1, label="flag threshold")
        ax.legend(fontsize=8, loc="lower right")
    ax.axvline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("mean 2-way TVD beyond sampling noise (red: flagged for fidelity)")
    return _png(fig)


def downstream_plot(models: Sequence[str], metrics: dict[str, Sequence[float | None]]) -> str:
    """Grouped bars of each model's scores (one group per metric)."""
    fig = Figure(figsize=(6.5, 3.2))
    ax = fig.add_subplot()
    names = list(metrics)
    x = np.arange(len(names))
    width = 0.8 / max(len(models), 1)
    palette = (REAL_COLOUR, SYNTHETIC_COLOUR, DP_COLOUR, "#8172b3")
    for i, model in enumerate(models):
        vals = np.nan_to_num(_values([metrics[m][i] for m in names]))
        ax.bar(x + (i - (len(models) - 1) / 2) * width, vals, width, label=model,
               color=palette[i % len(palette)])
    ax.set_xticks(x, names)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title("downstream task on the real holdout", fontsize=10)
    return _png(fig)


def epsilon_plot(
    claimed: float,
    lower: float | None,
    interval: Sequence[float] | None,
    ceiling: float | None,
) -> str:
    """The claimed epsilon against the audit's empirical lower bound and ceiling."""
    fig = Figure(figsize=(6.5, 1.9))
    ax = fig.add_subplot()
    top = max([claimed] + [x for x in (lower, ceiling) if x is not None] + list(interval or []))
    ax.axvline(claimed, color=REAL_COLOUR, linewidth=2, label=f"claimed epsilon {claimed:g}")
    if ceiling is not None:
        ax.axvline(ceiling, color="grey", linestyle=":", label=f"ceiling {ceiling:.3g}")
    if interval is not None and len(interval) == 2:
        ax.plot(list(interval), [0.5, 0.5], color=FLAG_COLOUR, linewidth=3, label="interval")
    if lower is not None:
        ax.plot([lower], [0.5], "o", color=FLAG_COLOUR, label=f"empirical lower bound {lower:.3g}")
    right = top * 1.15 if top > 0 else 1.0
    ax.set_xlim(-0.02 * right, right)  # a bound of 0 stays visible
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_xlabel("epsilon")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _png(fig)
