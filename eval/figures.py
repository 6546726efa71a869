"""PNG figures for the HTML report: the offense confusion matrix and the reliability diagram.

Figures are drawn on a ``Figure`` with its own Agg canvas rather than through ``pyplot``: no global backend switch,
no figure registry to leak, and it works on a machine without a display.

Axis labels may be Chinese label names; matplotlib's bundled fonts (DejaVu) have no CJK glyphs, so those are drawn
with an installed CJK font (``cjk_font``), and a report without one draws identifiers instead (``can_draw``).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence

import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font

_DPI = 100
# Two common Han characters: a font with a distinct glyph for each covers the label names. Distinct, because a
# fallback font such as matplotlib's "Last Resort" maps every character of a block to one placeholder glyph.
_CJK_PROBE = ("罚", "款")


@functools.cache
def cjk_font() -> str | None:
    """The family name of an installed font with Chinese glyphs (e.g. Noto Sans CJK SC), or ``None``.

    Checked by glyph rather than by family name: distributions name and package CJK fonts differently.
    """
    for entry in font_manager.fontManager.ttflist:
        try:
            font = FT2Font(entry.fname)
            glyphs = {font.get_char_index(ord(char)) for char in _CJK_PROBE}
            if 0 not in glyphs and len(glyphs) == len(_CJK_PROBE):
                return entry.name
        except (OSError, RuntimeError):  # an unreadable font file is skipped, as matplotlib itself does
            continue
    return None


def can_draw(labels: Sequence[str]) -> bool:
    """Whether a figure can draw these labels: ASCII always, anything else only with a CJK font installed."""
    return all(label.isascii() for label in labels) or cjk_font() is not None


def _png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight")
    return buffer.getvalue()


def confusion_matrix_png(matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str) -> bytes:
    """A heatmap of gold (rows) against predicted (columns) counts, each non-zero cell annotated.

    Args:
        matrix: square counts, indexed like ``labels``.
        labels: the offense labels as shown: names or identifiers (pass names only when ``can_draw`` them).
        title: says what is and is not counted (e.g. missed units).
    """
    counts = np.asarray(matrix, dtype=int).reshape(len(labels), len(labels))
    font = {} if all(label.isascii() for label in labels) else {"fontfamily": cjk_font()}
    size = 2.5 + 0.42 * len(labels)
    figure = Figure(figsize=(size + 1.5, size))
    axes = figure.add_subplot()
    image = axes.imshow(counts, cmap="Blues")
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    axes.set_xticks(range(len(labels)), labels, rotation=90, fontsize=8, **font)
    axes.set_yticks(range(len(labels)), labels, fontsize=8, **font)
    axes.set_xlabel("predicted offense")
    axes.set_ylabel("gold offense")
    axes.set_title(title, fontsize=9)
    threshold = counts.max() / 2 if counts.size else 0
    for (row, column), count in np.ndenumerate(counts):
        if count:
            color = "white" if count > threshold else "black"
            axes.text(column, row, str(count), ha="center", va="center", fontsize=7, color=color)
    return _png(figure)


def reliability_png(bins: Sequence[dict], title: str) -> bytes:
    """Accuracy per confidence bin against the diagonal of perfect calibration, with each bin's unit count.

    Args:
        bins: ``eval.metrics.reliability_bins`` output.
        title: names the ECE and the number of units.
    """
    figure = Figure(figsize=(5, 4.5))
    axes = figure.add_subplot()
    centres = [(b["lower"] + b["upper"]) / 2 for b in bins]
    width = bins[0]["upper"] - bins[0]["lower"] if bins else 0.1
    filled = [b for b in bins if b["count"]]
    axes.bar(centres, [b["accuracy"] for b in bins], width=width * 0.9, color="#4c72b0", label="accuracy")
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    axes.plot(
        [b["confidence"] for b in filled],
        [b["accuracy"] for b in filled],
        "o",
        color="#dd8452",
        label="mean confidence",
    )
    for centre, b in zip(centres, bins, strict=True):
        if b["count"]:
            axes.text(centre, min(b["accuracy"] + 0.02, 1.02), str(b["count"]), ha="center", fontsize=7)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.08)
    axes.set_xlabel("offense confidence")
    axes.set_ylabel("accuracy")
    axes.set_title(title, fontsize=9)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3, fontsize=7, frameon=False)
    return _png(figure)
