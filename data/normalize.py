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
            ``(original_start, original_end)``; pinyin glosses inside the span are included, those just outside are not.
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
        converted = _converter().convert(run)
        if len(converted) == len(run):
            return converted
        return "".join(_simplify_char(char) for char in run)

    return _CJK_RUN.sub(convert_run, text)


def _fold_width(char: str) -> str:
    if char in (_IDEOGRAPHIC_SPACE, _NO_BREAK_SPACE):
        return " "
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E and char not in _KEEP_FULL_WIDTH:
        return chr(code - 0xFEE0)
    return char


def normalize(text: str) -> NormalizedText:
    """Normalise a bulletin: entities unescaped, pinyin glosses dropped, width folded, traditional → simplified.

    Args:
        text: the original decoded text.

    Returns:
        A NormalizedText whose ``to_original`` maps any span back to ``text``.
    """
    chars: list[str] = []
    offsets: list[int] = []
    ends: list[int] = []
    glosses = {match.start(): match.end() for match in _PINYIN_GLOSS.finditer(text)}
    entities = {match.start(): match for match in _ENTITY.finditer(text)}
    index = 0
    while index < len(text):
        if index in glosses:
            index = glosses[index]
            continue
        entity = entities.get(index)
        if entity is not None:
            decoded = html.unescape(entity.group())
            if decoded != entity.group():
                for char in decoded:
                    chars.append(_fold_width(char))
                    offsets.append(index)
                    ends.append(entity.end())
                index = entity.end()
                continue
        chars.append(_fold_width(text[index]))
        offsets.append(index)
        ends.append(index + 1)
        index += 1
    normalized = _simplify("".join(chars))
    if len(normalized) != len(offsets):  # _simplify keeps lengths; this guards the offset map against a regression
        raise AssertionError("normalisation changed the text length; the offset map would be wrong")
    return NormalizedText(text=normalized, offsets=offsets, ends=ends, original_length=len(text))
