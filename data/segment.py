"""Find the case units of a bulletin (spec: labels.md, "case unit"), with transparent rules.

Pipeline, one small step each:

1. ``normalize`` the text (simplified script, ASCII digits, no pinyin glosses) and keep the offset map.
2. Cut the body into lines; split lines that carry several numbered cases inline (``。2、…``, ``——…``).
3. Classify every line: case heading, ``…案`` title, case-part heading (基本案情), commentary or closing marker
   (【法官说法】, 警方提醒), statute text, caption, navigation, short headline, or body.
4. Join lines broken in mid-word (``行政拘`` / ``留``) into paragraphs.
5. If the bulletin numbers its cases, the heading style whose blocks hold the most cases cuts it into blocks
   (another style right above them is a section heading). A block is a case when it shows conduct (a ``…案`` title
   with text below, or an offender with conduct or disposal); a block under a category heading (一、网络赌博类) is
   grouped like unheaded text. Text after a block is read for cases told without a heading ("此外，…").
6. Otherwise sentences are grouped: a unit opens at a sentence naming an offender with conduct, continues over
   sentences that refer back to it (经查, 目前, 该公司, the same names) and a new unit starts where a sentence or
   paragraph introduces a new offender with its own disposal (labels.md: split at ``。``/``；``), or at each dated
   paragraph of a bulletin that tells one case per paragraph. Leads, statistics, law text and closing remarks name
   no specific offender and open nothing; after commentary (警方提醒, 问：) or two paragraphs that add nothing to a
   told case, only a date, an agency's announcement or a dateline opens one. A news story's teaser lead that names
   nobody ("一网民…被行政拘留") joins the retelling that follows it.

All offsets are computed on the normalised text and mapped back, so ``unit.text == text[unit.start:unit.end]``.

The steps have their own modules: ``data.segment_lines`` (steps 2-4: lines, their kinds, paragraphs, sentences),
``data.segment_offenders`` (whom a sentence names) and ``data.segment_cues`` (what a sentence tells). This module
chooses the heading style and groups paragraphs and sentences into units (steps 5-6).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from data.normalize import NormalizedText, normalize
from data.segment_cues import (
    ANAPHORA,
    CONDUCT_CUES,
    DATED_AGENCY,
    DISPOSAL_CUES,
    LAW_TEXT,
    ONE_CASE,
    STRONG_START,
    TIME_OPENING,
    announces_another,
    compact_text,
    has_any,
    introduces_offender,
    is_generic,
    is_stats,
    new_offender_names,
    opens_case,
    refers_back,
    starts_as_continuation,
    starts_as_narration,
)
from data.segment_lines import (
    HEADING_PREFIX,
    TITLE_END,
    UNNUMBERED_STYLES,
    Paragraph,
    Span,
    build_paragraphs,
    classify_line,
    is_title,
    split_inline,
    split_lines,
    split_sentences,
)
from data.segment_offenders import has_offender, offender_mentions, offender_names
from data.types import CaseUnit

logger = logging.getLogger(__name__)

EARLY_OFFENDER_CHARS = 32  # a new case names its offender near the start of its paragraph
SUBJECT_OFFENDER_CHARS = 10  # ... right at the start when the case before it named nobody to compare with
MIN_CASE_CHARS = 12  # below this a unit is a fragment (labels.md: "7.张某某")
MIN_INLINE_CASE_CHARS = 40  # a heading line this long tells its case inline, even when cut off before its "。"
MAX_SKIPPED_PARAGRAPHS = 2  # paragraphs in a row that are not part of a told case end it (one may be a quote)
MIN_CASE_LIST_PARAGRAPHS = 3  # whole-case paragraphs in a row before text is read as one case per paragraph

# Heading styles that mark a case even when a bulletin has only one ("案例一", "第1起"); a lone "1." does not.
_STRONG_STYLES = ("bracket_case", "case_word", "ordinal")
_SECTION_KINDS = ("heading", "short", "title")  # a line of these kinds right before a case heading is a section
# A paragraph that announces a list of cases ("现将典型案例通报如下：", "还查处了以下情况：").
_LIST_INTRO = re.compile(r"(?:如下|以下|下列)[^，。,；;]{0,8}[：:]$|[：:]$")
# The first line of a news story ("本报讯", "新华社…电"): a new story, not more of the case before it.
_DATELINE = re.compile(
    r"^(?:本报讯|又讯|另讯|本报[\u4e00-\u9fff]{0,6}\d{1,2}月\d{1,2}日电|[\u4e00-\u9fff]{2,10}(?:讯|电)[（( ]|"
    r"新华社[\u4e00-\u9fff]{0,6}\d{1,2}月\d{1,2}日电|[\u4e00-\u9fff]{2,12}\d{1,2}月\d{1,2}日(?:讯|电))"
)


@dataclass
class _Unit:
    """A unit being built: normalised span, the names it introduced and whether a disposal was seen."""

    start: int
    end: int
    names: set[str] = field(default_factory=set)
    complete: bool = False


# ---------------------------------------------------------------------------------------------------------------
# Headed bulletins: one block per numbered case.
# ---------------------------------------------------------------------------------------------------------------


def _heading_indices(paragraphs: list[Paragraph], style: str) -> list[int]:
    return [i for i, p in enumerate(paragraphs) if p.kind == "heading" and p.lines[0].style == style]


def _block_is_case(paragraphs: list[Paragraph], first: int, last: int) -> bool:
    """A headed block is a case when it shows conduct: a …案 title with text below, or an offender doing something.

    labels.md: a lone heading cut off at the end (``案``) or a fragment without conduct (``7.张某某``) is no case.
    """
    heading = paragraphs[first].lines[0]
    title = heading.rest
    body_start = first + 1
    if not title and body_start <= last and paragraphs[body_start].kind in ("title", "short"):
        title = paragraphs[body_start].text
        body_start += 1
    body = "".join(p.text for p in paragraphs[body_start : last + 1] if p.kind not in ("caption", "nav"))
    told_inline = len(compact_text(title)) >= MIN_INLINE_CASE_CHARS and not TITLE_END.search(title)
    if not body.strip() and not re.search(r"[。；;]", title) and not told_inline:
        return False  # a table-of-contents entry or a heading cut off at the end: no text shows the conduct
    if TITLE_END.search(title) and len(title.strip()) >= 5:
        return True
    text = compact_text(title + body)
    if len(text) < MIN_CASE_CHARS:
        return False
    conduct = has_any(text, CONDUCT_CUES) or has_any(text, DISPOSAL_CUES)
    # without a named offender, only a long block that reads as a told case counts: not law text, a definition or a
    # warning to the public (裁判要点 items, "一、罪名概述", a numbered statute quote)
    return conduct and (has_offender(text) or (len(text) >= 40 and not LAW_TEXT.search(text)))


def _block_end(paragraphs: list[Paragraph], first: int, stop: int) -> int:  # noqa: C901 - one rule per line
    """Last paragraph index of the block opened at ``first`` (exclusive bound ``stop``).

    A block ends at a commentary/closing/statute/navigation line, and once its disposal has been told, at the first
    paragraph that does not continue the case (a headline of the next news item, statistics, a caption).
    """
    last = first
    category = _is_category(_heading_title(paragraphs, first))
    names: set[str] = set(offender_names(compact_text(paragraphs[first].text)))
    # only the body tells the disposal ("…侦破…案" in a title does not), but a heading may carry the body inline
    heading_rest = paragraphs[first].lines[0].rest
    disposed = (
        not category
        and bool(re.search(r"[。；;]", heading_rest))
        and has_any(compact_text(heading_rest), DISPOSAL_CUES)
    )
    for index in range(first + 1, stop):
        paragraph = paragraphs[index]
        if paragraph.kind in ("commentary", "closing", "statute", "nav"):
            break
        if paragraph.kind in ("caption",):
            continue
        text = compact_text(paragraph.text)
        if disposed and _LIST_INTRO.search(text):
            break  # "此外，还查处了以下情况：" introduces further cases, told without headings
        if disposed and paragraph.kind != "part":
            continues = (
                paragraph.kind == "body"
                and not _DATELINE.match(text)
                and not is_stats(text)
                and (starts_as_continuation(text) or has_any(text, DISPOSAL_CUES) or has_any(text, CONDUCT_CUES))
            )
            # after the disposal, a paragraph naming a new offender at its start is the next case told without
            # a heading ("此外，百色市罗某…"), unless the heading names a category of cases
            another = (
                not category
                and not starts_as_narration(text)
                and not refers_back(text)
                and (announces_another(text) or introduces_offender(text, names, EARLY_OFFENDER_CHARS))
                and has_any(text, DISPOSAL_CUES)
            )
            if not continues or another:
                break
        names.update(offender_names(text))
        if paragraph.kind in ("body", "part", "title", "heading", "short"):
            last = index
        disposed = disposed or (paragraph.kind == "body" and has_any(text, DISPOSAL_CUES))
    while last > first and paragraphs[last].kind in ("heading", "caption"):
        last -= 1  # a caption right before the next case belongs to neither
    return last


def _style_blocks(paragraphs: list[Paragraph], style: str) -> list[Span]:
    """Blocks ``(first, last)`` of one heading style; an other-style heading right before a heading is a section."""
    starts = _heading_indices(paragraphs, style)
    blocks = []
    for position, first in enumerate(starts):
        stop = starts[position + 1] if position + 1 < len(starts) else len(paragraphs)
        # a section heading ("一、网络谣言类") sits right before the next case heading: it ends this block
        while stop < len(paragraphs) and stop - 1 > first and paragraphs[stop - 1].kind in _SECTION_KINDS:
            stop -= 1
        blocks.append((first, _block_end(paragraphs, first, stop)))
    return blocks


def _choose_style(paragraphs: list[Paragraph]) -> str | None:
    """The heading style that numbers the cases: the one whose blocks hold the most cases.

    A section style (一、…类 above 1. 2. 3.) loses because its blocks each hold several cases' text but count once.
    """
    best: tuple[int, int, str] | None = None
    styles = {p.lines[0].style for p in paragraphs if p.kind == "heading"}
    for style in styles:
        if _follows_commentary(paragraphs, _heading_indices(paragraphs, style)[0]):
            continue  # "法律提示：1.… 2.…" numbers the points of a commentary, not cases
        blocks = _style_blocks(paragraphs, style)
        cases = sum(_block_is_case(paragraphs, first, last) for first, last in blocks)
        numbers = [paragraphs[first].lines[0].number for first, _ in blocks]
        ordered = style in UNNUMBERED_STYLES or all(b == a + 1 for a, b in zip(numbers, numbers[1:], strict=False))
        if cases == 0 or (cases == 1 and style not in _STRONG_STYLES and style not in UNNUMBERED_STYLES):
            # one case under a lone "1." is no numbering; a "…案" title or a run of numbers (6. 7.) is
            titled = cases == 1 and any(TITLE_END.search(paragraphs[f].lines[0].rest) for f, _ in blocks)
            if not (titled or (cases == 1 and len(blocks) >= 2 and ordered)):
                continue
        key = (cases + (1 if ordered else 0), -_heading_indices(paragraphs, style)[0], style)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def _follows_commentary(paragraphs: list[Paragraph], index: int) -> bool:
    """Whether the heading at ``index`` sits inside commentary: only body text lies between it and a commentary,
    closing or statute line above."""
    for paragraph in reversed(paragraphs[:index]):
        if paragraph.kind in ("commentary", "closing", "statute"):
            return True
        if paragraph.kind != "body":
            return False
    return False


def _headed_units(paragraphs: list[Paragraph], style: str, text: str) -> list[Span]:
    """Units of a bulletin that numbers its cases: one per case block (split where a block tells two cases), plus
    unheaded cases after a list intro ("还查处了以下情况：") or in the tail after the last numbered case."""
    blocks = [block for block in _style_blocks(paragraphs, style) if _block_is_case(paragraphs, *block)]
    case_list = _is_case_list(paragraphs)  # whole-case paragraphs across the category sections
    spans: list[Span] = []
    covered: set[int] = set()
    for first, last in blocks:
        spans.extend(_split_block(paragraphs, first, last, text, case_list))
        covered.update(range(first, last + 1))
    for stretch in _unheaded_stretches(paragraphs, covered):
        spans.extend(_unheaded_units(stretch, text, stretch[-1] is paragraphs[-1], case_list=case_list))
    return sorted(spans)


def _unheaded_stretches(paragraphs: list[Paragraph], covered: set[int]) -> list[list[Paragraph]]:
    """Paragraphs outside the case blocks that may still tell cases.

    Leads, commentary and unrelated news around a numbered list must never become cases, so only two kinds of
    stretch are read: what follows a list intro ending in "：" (up to the next heading), and the body paragraphs
    right after a case block, up to the first headline, dateline, commentary or closing line (a case told after
    the list or between two numbered ones: "此外，百色市罗某…", "同期，…").
    """
    stretches: list[list[Paragraph]] = []
    for index, paragraph in enumerate(paragraphs):
        if index in covered or paragraph.kind != "body" or not _LIST_INTRO.search(compact_text(paragraph.text)):
            continue
        stop = index + 1
        while stop < len(paragraphs) and stop not in covered and paragraphs[stop].kind != "heading":
            stop += 1
        if stop > index + 1:
            stretches.append(paragraphs[index + 1 : stop])
    taken = {id(p) for stretch in stretches for p in stretch}
    for index in sorted(covered):
        if index + 1 in covered:
            continue
        stretch = []
        for paragraph in paragraphs[index + 1 :]:
            if paragraph.kind != "body" or _DATELINE.match(paragraph.text) or id(paragraph) in taken:
                break
            stretch.append(paragraph)
        if stretch:
            stretches.append(stretch)
    return stretches


def _heading_title(paragraphs: list[Paragraph], first: int) -> str:
    """The title of the heading at ``first``: its own text, or the title line right below a bare marker."""
    title = paragraphs[first].lines[0].rest
    if not title and first + 1 < len(paragraphs) and paragraphs[first + 1].kind in ("title", "short"):
        title = paragraphs[first + 1].text
    return title


def _is_category(title: str) -> bool:
    """A heading that names a kind of case ("一、网络赌博类", "二、压实网站平台主体责任"), not one case.

    Such a heading names no offender and is no "…案" title; its block may hold several cases told one per paragraph.
    """
    compact = compact_text(title).rstrip("。：:")
    if compact and is_stats(compact):
        return True  # "一、依法办理…案事件156起，…": a section that counts its cases, then tells some of them
    if not compact or offender_names(compact) or re.search(r"[，,；;]", compact):
        return False
    return not TITLE_END.search(compact) or compact.startswith("其他")


def _split_block(paragraphs: list[Paragraph], first: int, last: int, text: str, case_list: bool = False) -> list[Span]:
    """A case block, split only where one paragraph tells a second case with its own offender and disposal.

    Under a category heading the block's paragraphs are grouped like unheaded text (one case per paragraph is
    common there); the heading joins the first case.
    """
    title = _heading_title(paragraphs, first)
    if _is_category(title):
        body = paragraphs[first + 1 : last + 1]
        units = _unheaded_units(body, text, at_document_end=False, keep_incomplete=True, case_list=case_list)
        if units:
            if not is_stats(compact_text(title)):
                units[0] = (paragraphs[first].start, units[0][1])  # the heading introduces the first case
            return units
        return [(paragraphs[first].start, paragraphs[last].end)]
    grouper = _Grouper(text, within_block=True)
    heading = paragraphs[first]
    grouper.current = _Unit(heading.start, heading.end)
    opened_case = True
    for paragraph in paragraphs[first : last + 1]:
        if paragraph.kind in ("body", "heading"):
            grouper.feed_paragraph(paragraph, fresh=opened_case)
            opened_case = paragraph.kind == "heading" and not re.search(r"[。；;]", paragraph.lines[0].rest)
        elif paragraph.kind == "title":
            opened_case = True
    grouper.close()
    units = grouper.units
    units[-1].end = paragraphs[last].end
    return [(unit.start, unit.end) for unit in units]


def _case_titles(paragraphs: list[Paragraph], text: str) -> list[Paragraph]:
    """Unnumbered title lines: "…案" titles, and short lines right above a paragraph that refers back to the line's
    subject ("某直播平台未落实主体责任" / "该平台…") or opens a case naming the line's offender ("高某发布不实言论" /
    "10月18日，网民高某…"); a news story's subheadings are followed by more of its case."""
    titles = []
    for paragraph, below in zip(paragraphs, [*paragraphs[1:], None], strict=True):
        if paragraph.kind == "title":
            titles.append(paragraph)
        elif paragraph.kind == "short" and below is not None and below.kind == "body":
            first = compact_text(text[slice(*split_sentences(below, text)[0])])
            named = set(offender_names(compact_text(paragraph.text))) & set(offender_names(first))
            if ANAPHORA.match(first) or (named and opens_case(first)):
                titles.append(paragraph)
    return titles


def _promote_titles(titles: list[Paragraph]) -> None:
    """Promote unnumbered title lines to headings when a bulletin uses them as its only case headings."""
    for paragraph in titles:
        line = paragraph.lines[0]
        line.kind, line.style, line.number, line.rest = "heading", "title", 0, line.text


# ---------------------------------------------------------------------------------------------------------------
# Unheaded bulletins: group sentences into cases.
# ---------------------------------------------------------------------------------------------------------------


class _Grouper:
    """Walks paragraphs and sentences, opening, extending and closing units (see module docstring, step 6)."""

    def __init__(self, text: str, within_block: bool = False, case_list: bool = False) -> None:
        self.text = text
        self.within_block = within_block  # inside a numbered case block: only split a paragraph telling two cases
        self.case_list = case_list  # one case per paragraph: a paragraph with its own disposal is a new case
        self.units: list[_Unit] = []
        self.current: _Unit | None = None
        self.after_break = False  # a headline, section line or caption since the last body paragraph
        self.skipped = 0  # body paragraphs in a row that added nothing to the open unit
        self.aside = False  # reading commentary, or what follows a case that has ended: no case opens until one is
        # announced (a date, an agency's announcement, a dateline) or a new section starts
        self.fresh_paragraph = False  # the paragraph being read opened its own unit (or none was open)

    def close(self) -> None:
        if self.current is not None:
            self.units.append(self.current)
        self.current = None

    def open(self, start: int, end: int, sentence: str) -> None:
        self.close()
        compact = compact_text(sentence)
        self.current = _Unit(start, end, set(offender_names(compact)), has_any(compact, DISPOSAL_CUES))

    def extend(self, end: int, sentence: str, tells_disposal: bool = True) -> None:
        assert self.current is not None
        compact = compact_text(sentence)
        self.current.end = end
        self.current.names.update(offender_names(compact))
        self.current.complete = self.current.complete or (tells_disposal and has_any(compact, DISPOSAL_CUES))

    def feed_marker(self, paragraph: Paragraph) -> None:
        """A non-body line: commentary and closing lines end the unit; headlines and captions only mark a break."""
        if paragraph.kind in ("commentary", "closing", "statute", "nav"):
            self.close()
            self.aside = self.aside or paragraph.kind in ("commentary", "closing")
        elif paragraph.kind in ("heading", "short", "title", "caption"):
            self.after_break = True
            self.aside = self.aside and paragraph.kind in ("caption", "short")

    def feed_paragraph(self, paragraph: Paragraph, fresh: bool | None = None) -> None:
        """Read one body paragraph; ``fresh`` says whether it opens its case (default: no unit was open)."""
        sentences = split_sentences(paragraph, self.text)
        paragraph_text = compact_text(paragraph.text)
        if self.aside:
            announced = TIME_OPENING.match(paragraph_text) or STRONG_START.match(paragraph_text)
            if not (announced or _DATELINE.match(paragraph_text)):
                return
            self.aside = False
        self.fresh_paragraph = self.current is None if fresh is None else fresh
        before = self.current
        before_end = before.end if before is not None else -1
        for index, (start, end) in enumerate(sentences):
            sentence = compact_text(self.text[start:end])
            if self.current is None:
                if opens_case(sentence):
                    self.open(start, end, sentence)
                    self.fresh_paragraph = True
            elif index == 0 and self.within_block:
                # "…侦破…案。" as the first sentence of a heading is the case's title, not its disposal
                self.extend(end, sentence, tells_disposal=not is_title(re.sub(HEADING_PREFIX, "", sentence)))
            elif index == 0:
                self._paragraph_start(start, end, sentence, paragraph_text)
            else:
                self._next_sentence(start, end, sentence)
        untouched = before is not None and self.current is before and before.end == before_end
        self.skipped = self.skipped + 1 if untouched else 0
        if untouched and before.complete and self.skipped >= MAX_SKIPPED_PARAGRAPHS and not self.within_block:
            # a told case does not reach over statistics, a Q&A or an explainer to a sentence that mentions it again
            self.close()
            self.aside = True
        self.after_break = False

    def _strong_start(self, sentence: str) -> bool:
        """ "<agency> 侦破一起…案" naming a new offender (or announcing one case) opens a new unit."""
        assert self.current is not None
        if not STRONG_START.match(sentence) or ANAPHORA.search(re.split(r"[，,。；;]", sentence, maxsplit=1)[0]):
            return False
        return bool(new_offender_names(sentence, self.current.names)) or bool(ONE_CASE.search(sentence))

    def _paragraph_start(self, start: int, end: int, sentence: str, paragraph_text: str) -> None:
        """First sentence of a paragraph while a unit is open: a new case, a continuation, or something else."""
        assert self.current is not None
        narration = starts_as_narration(sentence)
        continuation = starts_as_continuation(sentence) or refers_back(sentence)
        # In a list of one case per paragraph, a dated or agency-led paragraph opens a case even when the source
        # is cut off before its disposal.
        opens_like_case = self.case_list and bool(TIME_OPENING.match(sentence) or STRONG_START.match(sentence))
        disposal = has_any(paragraph_text, DISPOSAL_CUES) or opens_like_case
        stands_alone = not is_stats(sentence) and (opens_case(sentence) or (opens_case(paragraph_text) and disposal))
        if self.current.complete and stands_alone and announces_another(sentence):
            self.open(start, end, sentence)
            self.fresh_paragraph = True
            return
        if self.current.complete and not narration and stands_alone:
            known = self.current.names
            # A new case names its offender as the subject, near the start of its paragraph; police tracing
            # accomplices of the same case name them later ("今年3月，民警在工作中发现，马某名下…"). After a
            # headline or section line a new offender anywhere in the paragraph is enough.
            if self.after_break:
                within = None
            else:
                within = EARLY_OFFENDER_CHARS if known else SUBJECT_OFFENDER_CHARS
            # "经查，某公司…" opens a case in a bulletin of one case per paragraph: only anaphora before the new
            # name ("经查，该团伙成员李某…") ties such a paragraph to the case before it
            new_offender = not refers_back(sentence) and introduces_offender(paragraph_text, known, within)
            listed = self.case_list and disposal and not refers_back(sentence)
            if self._strong_start(sentence) or new_offender or listed:
                self.open(start, end, sentence)
                self.fresh_paragraph = True
                return
        self._continue_or_skip(end, sentence, continuation)

    def _next_sentence(self, start: int, end: int, sentence: str) -> None:
        """A later sentence of the paragraph: split only for a new offender with its own disposal.

        labels.md: a paragraph narrating several cases is split at 。/； when each has its own offender and
        disposal. Inside a paragraph that continues an earlier case ("本案中王某…卢某…"), only an agency sentence
        announcing another case splits: co-defendants of one case are listed the same way.
        """
        assert self.current is not None
        continuation_start = starts_as_continuation(sentence)
        continuation = continuation_start or refers_back(sentence)
        own_case = opens_case(sentence) and has_any(sentence, DISPOSAL_CUES)
        if self.current.complete and own_case and announces_another(sentence):
            self.open(start, end, sentence)
            return
        if self.current.complete and not continuation_start and own_case:
            weak = (
                not continuation
                and self.fresh_paragraph
                and bool(self.current.names)
                and introduces_offender(sentence, self.current.names, EARLY_OFFENDER_CHARS)
            )
            mentions = offender_mentions(sentence)
            names_known_case = bool(mentions) and mentions[0][1] in self.current.names  # "近日，法院…判处范某"
            dated = self.fresh_paragraph and bool(DATED_AGENCY.match(sentence)) and not names_known_case
            if self._strong_start(sentence) or weak or dated:
                self.open(start, end, sentence)
                return
        self._continue_or_skip(end, sentence, continuation)

    def _continue_or_skip(self, end: int, sentence: str, continuation: bool) -> None:
        """Extend the unit over a sentence that refers back to it or tells more of it; skip leads and law text."""
        assert self.current is not None
        if self.within_block:
            self.extend(end, sentence)
            return
        if LAW_TEXT.search(sentence) or (is_generic(sentence) and not continuation):
            return  # what the law allows, or a warning to the public, is not part of the case
        if is_stats(sentence) and not continuation:
            return
        points_back = continuation or bool(set(offender_names(sentence)) & self.current.names)
        tells_more = has_offender(sentence) and (has_any(sentence, DISPOSAL_CUES) or has_any(sentence, CONDUCT_CUES))
        if points_back or tells_more or has_any(sentence, DISPOSAL_CUES):
            self.extend(end, sentence)


def _is_case_list(paragraphs: list[Paragraph]) -> bool:
    """Whether several paragraphs in a row each tell a whole case: a bulletin of one case per paragraph.

    Each such paragraph tells a disposal and opens like a case, with a date ("3月，…", "同月，…") or with its
    offender as the subject ("某婚恋APP…", "居民倪某…"); a news story about one case rarely has three in a row.
    """
    run = best = 0
    for paragraph in paragraphs:
        if paragraph.kind != "body":
            continue
        text = compact_text(paragraph.text)
        mentions = offender_mentions(text)
        opens = (
            bool(TIME_OPENING.match(text))
            or bool(STRONG_START.match(text))
            or bool(mentions and mentions[0][0] <= SUBJECT_OFFENDER_CHARS)
        )
        whole_case = opens and has_any(text, DISPOSAL_CUES) and not starts_as_narration(text) and opens_case(text)
        run = run + 1 if whole_case else 0
        best = max(best, run)
    return best >= MIN_CASE_LIST_PARAGRAPHS


def _unheaded_units(
    paragraphs: list[Paragraph],
    text: str,
    at_document_end: bool = True,
    keep_incomplete: bool = False,
    case_list: bool = False,
) -> list[Span]:
    """Group the sentences of bulletin text without case headings into units.

    A unit that never reaches a disposal is dropped (a news item about a drill, a policy paragraph), unless it runs
    to the last body paragraph of a source that ``at_document_end`` says is cut off there (labels.md: a case cut
    off before its disposal is still a case, with complete=false).
    """
    grouper = _Grouper(text, case_list=case_list or _is_case_list(paragraphs))
    for paragraph in paragraphs:
        if paragraph.kind == "body" or (paragraph.kind == "heading" and re.search(r"[。；;]", paragraph.text)):
            grouper.feed_paragraph(paragraph)  # a numbered line that carries its case inline reads as text
        elif paragraph.kind != "part":
            grouper.feed_marker(paragraph)
    grouper.close()
    bodies = [p for p in paragraphs if p.kind == "body"]
    last_body_start = bodies[-1].start if bodies else -1
    units = [
        (u.start, u.end)
        for u in grouper.units
        if len(compact_text(text[u.start : u.end])) >= MIN_CASE_CHARS
        and (u.complete or keep_incomplete or (at_document_end and u.end > last_body_start))
    ]
    if not grouper.case_list:
        units = _merge_teaser(units, paragraphs, text)
    return _attach_leading_lines(units, paragraphs, text)


def _paragraph_at(paragraphs: list[Paragraph], offset: int) -> int | None:
    """Index of the paragraph holding ``offset`` (its line break included)."""
    return next((i for i, p in enumerate(paragraphs) if p.start <= offset < p.end + 1), None)


def _merge_teaser(units: list[Span], paragraphs: list[Paragraph], text: str) -> list[Span]:
    """Join a news story's teaser lead to the retelling that follows it.

    A story often opens with a one-paragraph summary naming nobody ("一网民…被行政拘留", "一家公司…被警告") and then
    tells the same case in detail with names (网民王某某…); labels.md makes the lead that tells the case part of its
    unit. Only the first unit, and only when the next unit starts the next body paragraph.
    """
    if len(units) < 2:
        return units
    (start, end), (next_start, next_end) = units[0], units[1]
    bodies = [p for p in paragraphs if p.kind == "body"]
    holder = _paragraph_at(bodies, start)
    if holder is None or holder + 1 >= len(bodies) or end > bodies[holder].end:
        return units
    teaser_names = offender_names(compact_text(text[start:end]))
    retold_names = offender_names(compact_text(text[next_start:next_end]))
    indefinite = all(name.startswith("一") for name in teaser_names)
    if bodies[holder + 1].start == next_start and indefinite and any("某" in name for name in retold_names):
        return [(start, next_end), *units[2:]]
    return units


def _attach_leading_lines(units: list[Span], paragraphs: list[Paragraph], text: str) -> list[Span]:
    """Extend a unit back over a case-part heading (基本案情) and, for a single news story, its headline and lead.

    labels.md: the headline (when it directly precedes the text) and the lead that tells the case belong to it.
    """
    result = []
    for start, end in units:
        index = _paragraph_at(paragraphs, start)
        if index is None:
            result.append((start, end))
            continue
        first_in_paragraph = paragraphs[index].start
        prefix = compact_text(text[first_in_paragraph:start])
        if prefix:
            earlier_unit_here = bool(result) and result[-1][1] > first_in_paragraph
            if not earlier_unit_here and _introduces_unit(prefix, compact_text(text[start:end])):
                start = first_in_paragraph
            result.append((start, end))
            continue
        cursor = index - 1
        if cursor >= 0 and paragraphs[cursor].kind == "part":
            start = paragraphs[cursor].start
            cursor -= 1
        elif len(units) == 1:
            if cursor >= 0 and paragraphs[cursor].kind == "body" and _DATELINE.match(paragraphs[cursor].text):
                if not is_stats(compact_text(paragraphs[cursor].text)):
                    start = paragraphs[cursor].start
                    cursor -= 1
            if cursor >= 0 and paragraphs[cursor].kind in ("short", "heading"):
                start = paragraphs[cursor].start
        result.append((start, end))
    return result


def _introduces_unit(prefix: str, unit: str) -> bool:
    """Whether the sentences before a unit in its paragraph lead into it: they introduce its offender ("现年36岁的
    农民慕某…") or open the news story it tells ("山西晚报讯…"), rather than being a lead or statistics."""
    sentences = [part for part in re.split(r"(?<=[。！？!?；;])", prefix) if part]
    if any(is_stats(sentence) or is_generic(sentence) for sentence in sentences):
        return False
    story_opening = len(sentences) == 1 and bool(_DATELINE.match(prefix))
    return story_opening or bool(set(offender_names(prefix)) & set(offender_names(unit)))


# ---------------------------------------------------------------------------------------------------------------
# Public entry point.
# ---------------------------------------------------------------------------------------------------------------


def normalised_units(normalized: NormalizedText, start: int) -> list[Span]:
    """The rule segmenter's units as untrimmed spans of the normalised text (the learned segmenter reads them too)."""
    text = normalized.text
    body_start = normalized.to_normalized(start)
    lines = [classify_line(line) for line in split_inline(split_lines(text, body_start))]
    paragraphs = build_paragraphs(lines)
    style = _choose_style(paragraphs)
    if style is None and len(titles := _case_titles(paragraphs, text)) >= 2:
        _promote_titles(titles)
        style = _choose_style(paragraphs)
    if style is not None:
        logger.debug("headed bulletin, case heading style %s", style)
        return _headed_units(paragraphs, style, text)
    logger.debug("no case headings; grouping sentences")
    return _unheaded_units(paragraphs, text)


def segment_bulletin(text: str, source: str = "", start: int = 0) -> list[CaseUnit]:
    """Split a bulletin body into case units.

    Args:
        text: the whole decoded bulletin (``Bulletin.text``).
        source: copied into every unit, to say where it came from.
        start: where the body starts (``Bulletin.body_start``: after a ``SOURCE:`` header).

    Returns:
        The case units in text order, numbered from 1, with ``start``/``end`` into ``text`` (end exclusive) and
        ``unit.text == text[unit.start:unit.end]``, trimmed of surrounding whitespace.
    """
    if not 0 <= start <= len(text):
        raise ValueError(f"start={start} is outside the text (length {len(text)})")
    normalized = normalize(text)
    units: list[CaseUnit] = []
    for norm_start, norm_end in normalised_units(normalized, start):
        segment = normalized.text[norm_start:norm_end]
        norm_start += len(segment) - len(segment.lstrip())
        norm_end -= len(segment) - len(segment.rstrip())
        if norm_end <= norm_start:
            continue
        original_start, original_end = normalized.to_original(norm_start, norm_end)
        units.append(CaseUnit(source, len(units) + 1, original_start, original_end, text[original_start:original_end]))
    logger.info("segmented %d case units from %s", len(units), source or "<text>")
    return units
