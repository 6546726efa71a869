"""Sentences of a bulletin with the structural features a learned segmenter reads (torch-free).

The learned segmenter (``models.segmenter``) tags sentences as beginning, inside or outside a case unit. What it
cannot learn from a few hundred annotated bulletins it gets here, computed by the rule segmenter's own parts: the
kind of line a sentence sits on (heading, title, commentary, statute, navigation …), its heading style, where it
sits in its paragraph and page, what it tells (an offender, conduct, a disposal, statistics, law text) and whether
the rule segmenter put it in a unit. Every feature is a general layout or cue test, never a phrase of one bulletin.

Sentences are cut on the normalised text (simplified script, ASCII digits) and keep their offsets into it, so a
tagged span maps back to the original text exactly (``NormalizedText.to_original``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from data.normalize import NormalizedText, normalize
from data.segment import normalised_units
from data.segment_cues import (
    CONDUCT_CUES,
    DATED_AGENCY,
    DISPOSAL_CUES,
    LAW_TEXT,
    ONE_CASE,
    PENALTY_CUES,
    TIME_OPENING,
    announces_another,
    has_any,
    is_generic,
    is_stats,
    opens_case,
    refers_back,
    starts_as_continuation,
)
from data.segment_lines import (
    TITLE_END,
    build_paragraphs,
    classify_line,
    split_inline,
    split_lines,
    split_sentences,
)
from data.segment_offenders import has_offender

LINE_KINDS = ("heading", "title", "part", "commentary", "closing", "statute", "nav", "caption", "short", "body")
HEADING_STYLES = (
    "bracket_case",
    "case_word",
    "ordinal",
    "paren_cn",
    "paren_num",
    "circled",
    "cn_dun",
    "num_dot",
    "num_space",
    "num_zero",
    "cn_bare",
    "cn_shi",
    "dash",
)
_CUE_TESTS = (
    ("offender", has_offender),
    ("opens_case", opens_case),
    ("stats", is_stats),
    ("generic", is_generic),
    ("refers_back", refers_back),
    ("continuation", starts_as_continuation),
    ("announces_another", announces_another),
    ("conduct", lambda s: has_any(s, CONDUCT_CUES)),
    ("disposal", lambda s: has_any(s, DISPOSAL_CUES)),
    ("penalty", lambda s: has_any(s, PENALTY_CUES)),
    ("law_text", lambda s: bool(LAW_TEXT.search(s))),
    ("time_opening", lambda s: bool(TIME_OPENING.match(s))),
    ("dated_agency", lambda s: bool(DATED_AGENCY.match(s))),
    ("one_case", lambda s: bool(ONE_CASE.search(s))),
    ("title_end", lambda s: bool(TITLE_END.search(s))),
    ("mou", lambda s: "某" in s),
    ("question", lambda s: bool(re.search(r"[？?]\s*$", s))),
    ("quote", lambda s: s.lstrip().startswith(("“", '"', "「"))),
    ("colon_end", lambda s: bool(re.search(r"[:：]\s*$", s))),
    ("date", lambda s: bool(re.search(r"\d{1,2}月|\d{4}年", s))),
)
FEATURE_NAMES: tuple[str, ...] = (
    tuple(f"kind={k}" for k in LINE_KINDS)
    + tuple(f"style={s}" for s in HEADING_STYLES)
    + tuple(f"cue={name}" for name, _ in _CUE_TESTS)
    + (
        "paragraph_first",
        "paragraph_last",
        "paragraph_single",
        "line_first",
        "blank_before",
        "heading_in_sequence",
        "position",
        "first_paragraph",
        "last_paragraph",
        "log_chars",
        "short",
        "terminal_punctuation",
        "rules_begin",
        "rules_inside",
    )
)


@dataclass(frozen=True)
class Sentence:
    """One sentence (or line without sentence punctuation) of the normalised body."""

    start: int  # offsets into the normalised text
    end: int
    paragraph: int  # index of its paragraph in the bulletin
    features: tuple[float, ...]


@dataclass(frozen=True)
class SentencedBulletin:
    normalized: NormalizedText
    sentences: list[Sentence]

    def texts(self) -> list[str]:
        return [self.normalized.text[s.start : s.end] for s in self.sentences]


def sentence_bulletin(text: str, start: int = 0) -> SentencedBulletin:
    """Cut a bulletin body into sentences and compute each one's features.

    Args:
        text: the whole decoded bulletin.
        start: where the body starts (after a ``SOURCE:`` header), as for ``segment_bulletin``.
    """
    normalized = normalize(text)
    norm = normalized.text
    body_start = normalized.to_normalized(start)
    lines = [classify_line(line) for line in split_inline(split_lines(norm, body_start))]
    paragraphs = build_paragraphs(lines)
    rule_units = normalised_units(normalized, start)
    rule_begins = {begin for begin, _ in rule_units}
    sentences: list[Sentence] = []
    previous_heading_number = 0
    for index, paragraph in enumerate(paragraphs):
        first_line = paragraph.lines[0]
        in_sequence = first_line.kind == "heading" and first_line.number == previous_heading_number + 1
        if first_line.kind == "heading":
            previous_heading_number = first_line.number
        gap = norm[paragraphs[index - 1].end : paragraph.start] if index else "\n\n"
        spans = split_sentences(paragraph, norm)
        line_starts = {line.start for line in paragraph.lines}
        for number, (begin, end) in enumerate(spans):
            sentence = norm[begin:end].strip()
            kind = _line_kind(paragraph.lines, begin)
            context = {
                "paragraph_first": number == 0,
                "paragraph_last": number == len(spans) - 1,
                "paragraph_single": len(spans) == 1,
                "line_first": begin in line_starts or norm[begin - 1 : begin] == "\n",
                "blank_before": number == 0 and gap.count("\n") >= 2,
                "heading_in_sequence": number == 0 and in_sequence,
                "position": index / max(len(paragraphs) - 1, 1),
                "first_paragraph": index == 0,
                "last_paragraph": index == len(paragraphs) - 1,
                "log_chars": math.log1p(len(sentence)) / 6,
                "short": len(sentence) < 16,
                "terminal_punctuation": bool(re.search(r"[。！？!?；;]\W*$", sentence)),
                "rules_begin": any(begin <= b < end for b in rule_begins),
                "rules_inside": any(b < end and begin < e for b, e in rule_units),
            }
            features = (
                [float(kind == k) for k in LINE_KINDS]
                + [float(number == 0 and first_line.style == s) for s in HEADING_STYLES]
                + [float(test(sentence)) for _, test in _CUE_TESTS]
                + [float(context[name]) for name in FEATURE_NAMES[-len(context) :]]
            )
            sentences.append(Sentence(begin, end, index, tuple(features)))
    return SentencedBulletin(normalized, sentences)


def _line_kind(lines: list, offset: int) -> str:
    """The kind of the line a sentence starts on (lines joined into a paragraph read as body after its first)."""
    kind = lines[0].kind
    for line in lines:
        if line.start <= offset:
            kind = line.kind
    return kind


def sentence_tags(sentences: list[Sentence], spans: list[tuple[int, int]]) -> list[int]:
    """Begin (1) / inside (2) / outside (0) tags of sentences for gold spans in the same (normalised) offsets.

    A sentence belongs to a unit when most of its characters lie inside it; the first such sentence of each unit is
    its beginning. Why "most": gold units and sentences disagree by a few characters (a trailing quote, a trimmed
    heading), never by half a sentence.
    """
    tags = [0] * len(sentences)
    for span_start, span_end in spans:
        first = True
        for index, sentence in enumerate(sentences):
            overlap = min(sentence.end, span_end) - max(sentence.start, span_start)
            if overlap > 0 and overlap * 2 >= sentence.end - sentence.start:
                tags[index] = 1 if first else 2
                first = False
    return tags


def decode_tags(tags: list[int]) -> list[tuple[int, int]]:
    """Sentence index ranges ``[first, last]`` of the units that begin/inside/outside tags describe.

    An inside tag with no open unit opens one: the tagger saw a unit but missed its first sentence.
    """
    units: list[tuple[int, int]] = []
    current: int | None = None
    for index, tag in enumerate(tags):
        if tag == 1 or (tag == 2 and current is None):
            if current is not None:
                units.append((current, index - 1))
            current = index
        elif tag == 0 and current is not None:
            units.append((current, index - 1))
            current = None
    if current is not None:
        units.append((current, len(tags) - 1))
    return units
