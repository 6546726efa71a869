"""PNG figures for the HTML report: the offense confusion matrix, the reliability diagram and per-label F1 of the
models side by side.

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

    Checked by glyph rather than by family name: distributions name and package CJK fonts differently. matplotlib
    lists the fonts it found when it first ran (its font cache, ``~/.cache/matplotlib``) and never looks again, so a
    font installed later (``apt-get install fonts-noto-cjk`` after the first report) is searched for among the
    system's font files too, and added.
    """
    found = _cjk_family(font_manager.fontManager.ttflist)
    if found is not None:
        return found
    known = {entry.fname for entry in font_manager.fontManager.ttflist}
    added = []
    for path in font_manager.findSystemFonts():
        if path not in known and _has_cjk_glyphs(path):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):  # unreadable: skipped, as matplotlib itself does
                continue
            added.append(path)
    return _cjk_family([entry for entry in font_manager.fontManager.ttflist if entry.fname in added])


def _cjk_family(entries: Sequence[font_manager.FontEntry]) -> str | None:
    """The first family with Chinese glyphs, a sans-serif simplified-Chinese one first (Noto Sans CJK SC rather than
    the Noto Serif CJK JP the same package also installs): the figures' other text is sans-serif."""
    families = {entry.name for entry in entries if _has_cjk_glyphs(entry.fname)}
    return min(families, key=lambda name: ("Sans" not in name, "SC" not in name, name), default=None)


def _has_cjk_glyphs(path: str) -> bool:
    try:
        font = FT2Font(path)
    except (OSError, RuntimeError):  # an unreadable font file is skipped, as matplotlib itself does
        return False
    glyphs = {font.get_char_index(ord(char)) for char in _CJK_PROBE}
    return 0 not in glyphs and len(glyphs) == len(_CJK_PROBE)


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


def per_label_f1_png(labels: Sequence[str], f1: dict[str, Sequence[float]], title: str) -> bytes:
    """Per-label F1 of several models side by side: one group of horizontal bars per label, one bar per model.

    Args:
        labels: the labels as shown, top to bottom (names only when ``can_draw`` them, else identifiers).
        f1: model name → F1 per label, indexed like ``labels``.
        title: says which labels and units are counted.
    """
    font = {} if all(label.isascii() for label in labels) else {"fontfamily": cjk_font()}
    models = list(f1)
    names_font = {} if all(m.isascii() for m in models) or cjk_font() is None else {"family": cjk_font()}
    bar = 0.8 / max(len(models), 1)
    figure = Figure(figsize=(7.5, 1.6 + len(labels) * (0.16 + 0.14 * len(models))))
    axes = figure.add_subplot()
    positions = np.arange(len(labels))
    for index, model in enumerate(models):
        offsets = positions - 0.4 + bar * (index + 0.5)
        values = np.asarray(f1[model], dtype=float)
        axes.barh(offsets, values, height=bar * 0.92, label=model)
        for offset, value in zip(offsets, values, strict=True):
            axes.text(min(value, 1.0) + 0.01, offset, f"{value:.2f}", va="center", fontsize=6)
    axes.set_yticks(positions, labels, fontsize=8, **font)
    axes.invert_yaxis()  # the first label on top, as in the tables
    axes.set_xlim(0, 1.1)
    axes.set_xlabel("F1")
    axes.set_title(title, fontsize=9)
    axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    # beside the axes, not over them: a bar near F1 = 1 would hide under a legend inside
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, prop={"size": 7, **names_font})
    return _png(figure)
