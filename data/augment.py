"""Training-time augmentation: perturbed copies of case units, as real pages deliver them (issue 12).

Real bulletins reach the labeler in shapes the authored corpus rarely shows: traditional-script mirrors with pinyin
glosses, full-width digits, page furniture (image captions, share bars) between a case's paragraphs, a case cut off
before its end, a long news-story background before the conduct. ``augment_cases`` gives a share of the training
units one extra copy with one such perturbation; offense and party stay the gold ones.

What normalisation already undoes (``data.normalize.normalize``, which every labeler applies before it reads a unit):
traditional script (t2s), pinyin glosses and full-width digits. Copies with those perturbations normalise to the
original text (``NORMALIZED_KINDS``; tests/test_augment.py checks it), so for the models they are plain duplicates:
they cost training time and teach nothing. The kinds that survive normalisation, and are the default, are
``furniture``, ``cutoff`` and ``background`` (``DEFAULT_KINDS``).

The renderers are ``data.layouts``' own (mirror script, full-width digits, furniture lines, news-story background),
so the segmenter's synthetic pages and these copies show the same artefacts. Every filler sentence is authored there
from templates; no real text is involved.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import re
from collections.abc import Sequence

from data.layouts import fullwidth_digits, furniture_line, split_unit_head, story_background, to_mirror_script
from data.types import GoldCase

logger = logging.getLogger(__name__)

AUGMENT_KINDS = ("traditional", "pinyin", "fullwidth", "furniture", "cutoff", "background")
# normalize() maps these copies back to the original text (t2s, glosses dropped, width folded)
NORMALIZED_KINDS = ("traditional", "pinyin", "fullwidth")
DEFAULT_KINDS = ("furniture", "cutoff", "background")
CUTOFF_RANGE = (0.1, 0.4)  # share of the text a cut-off copy loses at its end
PINYIN_RATE = 0.15  # glosses per glossable character in a pinyin copy (layouts' pages: 0.08)
META_KEY = "augmented"  # GoldCase.meta key naming the perturbation of a copy

# Where a furniture line may go: after a sentence end, or before a line break, never at either end of the unit.
_SENTENCE_END = re.compile(r"[。！？；!?;](?!\n)|(?=\n)")
_CLAUSE_END = re.compile(r"[，,：:]")


def perturb_case(case: GoldCase, kind: str, rng: random.Random) -> GoldCase:
    """A copy of ``case`` with one perturbation applied to its text.

    Args:
        case: a training unit.
        kind: one of ``AUGMENT_KINDS``:
            ``traditional``: traditional script (OpenCC s2t);
            ``pinyin``: ``(xiàn)`` glosses after some characters, script unchanged;
            ``fullwidth``: full-width digits;
            ``furniture``: one or two furniture lines (captions, share bars) on lines of their own inside the unit;
            ``cutoff``: the last 10–40% of the characters cut off;
            ``background``: a news-story background paragraph after the heading/title, before the conduct.
        rng: draws every random choice, so the same generator state gives the same copy.

    Returns:
        A new ``GoldCase`` with the same ``doc``, offense and party, ``meta["augmented"] = kind``. A cut-off copy is
        ``complete=False`` with no penalties and no fines (spec: a unit cut off before its disposal is visible is
        incomplete; the annotated real ones all list no penalties); training masks the penalty loss of incomplete
        units and metrics skip their penalties, so the cut teaches no penalty either way.

    Raises:
        ValueError: an unknown ``kind``.
    """
    text = case.text
    changes: dict = {}
    if kind == "traditional":
        text = to_mirror_script(text, rng, traditional=True, pinyin_rate=0.0)
    elif kind == "pinyin":
        text = to_mirror_script(text, rng, traditional=False, pinyin_rate=PINYIN_RATE)
    elif kind == "fullwidth":
        text = fullwidth_digits(text)
    elif kind == "furniture":
        text = _insert_furniture(text, rng)
    elif kind == "cutoff":
        text = _cut_off(text, rng)
        changes = {"complete": False, "penalties": (), "fine_amounts": ()}
    elif kind == "background":
        head, rest = split_unit_head(text)
        text = head + story_background(rest, rng) + "\n" + rest
    else:
        raise ValueError(f"unknown augmentation kind {kind!r}; known: {list(AUGMENT_KINDS)}")
    return dataclasses.replace(case, text=text, meta=case.meta | {META_KEY: kind}, **changes)


def augment_cases(
    cases: Sequence[GoldCase], fraction: float, seed: int, kinds: Sequence[str] = DEFAULT_KINDS
) -> list[GoldCase]:
    """Perturbed extra copies of ``round(fraction * len(cases))`` training units, one copy each.

    Args:
        cases: the training units as training sees them (a real unit repeated by ``data.real_oversample`` is drawn
            per occurrence, so its copies carry different perturbations). Never pass validation or test units.
        fraction: share of ``cases`` that get a copy, in [0, 1].
        seed: seeds the choice of units, each copy's kind and its perturbation (``training.seed``).
        kinds: the perturbations to draw from, uniformly.

    Returns:
        The copies only, in the order of the units they copy; the caller appends them to the training units.

    Raises:
        ValueError: a fraction outside [0, 1], or an empty or unknown ``kinds``.
    """
    check_fraction(fraction)
    check_kinds(kinds)
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(cases)), round(fraction * len(cases))))
    copies = [perturb_case(cases[i], rng.choice(list(kinds)), rng) for i in chosen]
    logger.info("augmentation: %d perturbed copies of %d training units (%s)", len(copies), len(cases), list(kinds))
    return copies


def check_fraction(fraction: float) -> None:
    """Raises ValueError unless ``fraction`` (the share of units copied) is in [0, 1]."""
    if not 0 <= fraction <= 1:
        raise ValueError(f"augmentation fraction must be in [0, 1] (share of training units copied), got {fraction}")


def check_kinds(kinds: Sequence[str]) -> None:
    """Raises ValueError for an empty ``kinds`` or one not in ``AUGMENT_KINDS``."""
    unknown = [kind for kind in kinds if kind not in AUGMENT_KINDS]
    if unknown or not kinds:
        raise ValueError(f"unknown augmentation kinds {unknown or list(kinds)}; known: {list(AUGMENT_KINDS)}")


def _insert_furniture(text: str, rng: random.Random) -> str:
    """One or two furniture lines, each on a line of its own at a sentence end or line break inside the text."""
    for _ in range(rng.randint(1, 2)):
        stripped = len(text.rstrip())
        positions = [m.end() for m in _SENTENCE_END.finditer(text) if 0 < m.end() < stripped]
        if not positions:  # one sentence: after a comma, else at the end
            positions = [m.end() for m in _CLAUSE_END.finditer(text) if m.end() < stripped] or [stripped]
        at = rng.choice(positions)
        line = furniture_line(rng)
        text = text[:at] + ("\n" + line if text[at : at + 1] == "\n" else "\n" + line + "\n") + text[at:]
    return text


def _cut_off(text: str, rng: random.Random) -> str:
    """The text without its last 10–40% of characters (whitespace left at the cut trimmed), at least one kept."""
    share = rng.uniform(*CUTOFF_RANGE)
    keep = max(1, round(len(text) * (1 - share)))
    return text[:keep].rstrip() or text[:keep]
