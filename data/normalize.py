"""Normalise bulletin text for matching and for the model, keeping an exact map back to the original characters.

Bulletins arrive from mirror sites in traditional script, with full-width digits, HTML entities and pinyin glosses
after characters (``現(xiàn)在``). Rules and the model see one clean simplified form; every normalised character
remembers which original characters it came from, so a span found in the normalised text is reported as a span of the
original (``CaseUnit.text == original[start:end]``).
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from functools import lru_cache

logger = logging.getLogger(__name__)

# Full-width forms (U+FF01..U+FF5E) that carry no Chinese meaning of their own and are folded to ASCII, so that
# "１．" and "1." are the same heading and "５万元" parses as a number. Chinese sentence punctuation stays: it marks
# clause and sentence boundaries that the segmenter relies on (labels.md splits cases at '。' and '；').
_KEEP_FULL_WIDTH = frozenset("，。：；（）！？、")
_IDEOGRAPHIC_SPACE = "\u3000"
_NO_BREAK_SPACE = "\u00a0"

_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
# A pinyin gloss that mirror sites insert after a character: "(xiàn)", "(chu3)", also with full-width brackets.
# Requiring a tone mark or a tone digit keeps genuine Latin text in brackets, e.g. "(APP)" or "(app)", untouched.
_TONE_MARKS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_PINYIN_GLOSS = re.compile(
    rf"(?<=[{_CJK}])[(（]\s*(?=[a-zü{_TONE_MARKS}]*[{_TONE_MARKS}]|[a-zü]+[1-5]\s*[)）])"
    rf"[a-zü{_TONE_MARKS}]{{1,7}}[1-5]?\s*[)）]"
)


@dataclass(frozen=True)
class NormalizedText:
    """Normalised text plus, per normalised character, the original span it came from.

    ``offsets[i]`` is the index in the original string of normalised character ``i``; ``ends[i]`` is the index just
    after the original characters it replaced (``offsets[i] + 1`` except for HTML entities, which shrink).
    """

    text: str
    offsets: list[int]
    ends: list[int]
    original_length: int

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalised span ``[start, end)`` to the original span covering the same characters.

        Args:
            start: first normalised index (inclusive).
            end: normalised end index (exclusive); ``start <= end <= len(text)``.

        Returns:
            ``(original_start, original_end)``; pinyin glosses inside the span are kept, those just outside are not.
        """
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span ({start}, {end}) is outside the normalised text of length {len(self.text)}")
        if start == end:
            position = self.offsets[start] if start < len(self.offsets) else self.original_length
            return position, position
        return self.offsets[start], self.ends[end - 1]

    def to_normalized(self, original_index: int) -> int:
        """The first normalised index whose original position is at or after ``original_index``."""
        low, high = 0, len(self.offsets)
        while low < high:
            middle = (low + high) // 2
            if self.offsets[middle] < original_index:
                low = middle + 1
            else:
                high = middle
        return low


@lru_cache(maxsize=1)
def _converter():  # noqa: ANN202 - opencc has no type hints
    """The OpenCC t2s converter, built once: loading its dictionaries takes far longer than converting a bulletin."""
    from opencc import OpenCC

    return OpenCC("t2s")


@lru_cache(maxsize=8192)
def _simplify_char(char: str) -> str:
    converted = _converter().convert(char)
    return converted if len(converted) == 1 else char


def _simplify(text: str) -> str:
    """Traditional to simplified, keeping the length so that the offset map stays exact.

    Whole runs of CJK are converted first (OpenCC's phrase table picks the right character for ambiguous ones such
    as 乾/干); a run whose length changes is converted character by character instead.
    """

    def convert_run(match: re.Match[str]) -> str:
        run = match.group()
        if all(_simplify_char(char) == char for char in run):
            return run  # already simplified: skip the (slow) phrase-table pass
        converted = _converter().convert(run)
        if len(converted) == len(run):
            return converted
        return "".join(_simplify_char(char) for char in run)

    return _CJK_RUN.sub(convert_run, text)


_WIDTH_TABLE = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F) if chr(code) not in _KEEP_FULL_WIDTH} | {
    ord(_IDEOGRAPHIC_SPACE): ord(" "),
    ord(_NO_BREAK_SPACE): ord(" "),
}


def _fold_width(text: str) -> str:
    """Full-width ASCII forms and wide spaces to ASCII; one character in, one character out."""
    return text.translate(_WIDTH_TABLE)


def normalize(text: str) -> NormalizedText:
    """Normalise a bulletin: entities unescaped, pinyin glosses dropped, width folded, traditional → simplified.

    Args:
        text: the original decoded text.

    Returns:
        A NormalizedText whose ``to_original`` maps any span back to ``text``.
    """
    pieces: list[str] = []
    offsets: list[int] = []
    ends: list[int] = []
    specials = sorted(
        [(m.start(), m.end(), "") for m in _PINYIN_GLOSS.finditer(text)]
        + [(m.start(), m.end(), html.unescape(m.group())) for m in _ENTITY.finditer(text)]
    )
    position = 0
    for start, end, replacement in specials:
        if start < position:
            continue  # overlapping matches: the first one wins
        if replacement == text[start:end]:
            continue  # an unknown entity such as "&foo;" stays as it is
        pieces.append(text[position:start])
        offsets.extend(range(position, start))
        ends.extend(range(position + 1, start + 1))
        pieces.append(replacement)  # a gloss is dropped (""), an entity becomes its character(s)
        offsets.extend([start] * len(replacement))
        ends.extend([end] * len(replacement))
        position = end
    pieces.append(text[position:])
    offsets.extend(range(position, len(text)))
    ends.extend(range(position + 1, len(text) + 1))
    normalized = _simplify(_fold_width("".join(pieces)))
    if len(normalized) != len(offsets):  # _simplify keeps lengths; this guards the offset map against a regression
        raise AssertionError("normalisation changed the text length; the offset map would be wrong")
    return NormalizedText(text=normalized, offsets=offsets, ends=ends, original_length=len(text))
