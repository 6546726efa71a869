"""Lines, their kinds and paragraphs: steps 2-4 of segmentation (see ``data.segment``).

The body is cut into lines, and a line that carries several numbered cases inline ("…改正。2、2023年…", two "——"
items) is cut again. Every line is classified: case heading, "…案" title, case-part heading (基本案情), commentary or
closing marker (【法官说法】, 警方提醒), statute text, caption, navigation, short headline, or body. Lines broken in
mid-word (``行政拘`` / ``留``) are joined into paragraphs, and paragraphs are cut into sentences. All offsets are into
the normalised text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from data.segment_cues import PENALTY_CUES, has_any

Span = tuple[int, int]  # [start, end) in the normalised text

_CN_DIGITS = "一二三四五六七八九十百零〇两壹贰叁肆伍陆柒捌玖拾"
# Financial numerals (案例叁) number cases as ordinary ones do.
_FINANCIAL = str.maketrans("壹贰叁肆伍陆柒捌玖拾", "一二三四五六七八九十")
_CN_DIGIT_VALUES = dict(zip("零〇一二两三四五六七八九", (0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9), strict=True))
_BULLET = re.compile(r"^(?:[•·●○◆◇■□▪▶►★☆\-*#>]+\s*|\*\*)+")
_HEADING_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bracket_case", re.compile(rf"^【\s*(?:典型)?案(?:例|件)\s*([{_CN_DIGITS}\d]+)\s*】\s*(.*)$")),
    ("case_word", re.compile(rf"^(?:典型)?案(?:例|件)\s*([{_CN_DIGITS}\d]+)(?:\s*[:：、.．,，]\s*|\s+|$)(.*)$")),
    ("ordinal", re.compile(rf"^第([{_CN_DIGITS}\d]+)(?:例|起|个案例)[:：、.．,，\s]*(.*)$")),
    ("paren_cn", re.compile(rf"^[（(]\s*([{_CN_DIGITS}]+)\s*[）)]\s*(.*)$")),
    ("paren_num", re.compile(r"^[（(]\s*(\d{1,2})\s*[）)]\s*(.*)$")),
    ("circled", re.compile(r"^([①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳])\s*(.*)$")),
    ("cn_dun", re.compile(rf"^([{_CN_DIGITS}]+)\s*[、.．]\s*(.*)$")),
    ("num_dot", re.compile(r"^(\d{1,2})\s*(?:、|[.．](?!\d))\s*(.*)$")),
    ("num_space", re.compile(r"^(0?\d{1,2})(?:\s+([\u4e00-\u9fff“【《].*))?$")),
    ("num_zero", re.compile(r"^(0[1-9])([\u4e00-\u9fff“【《].*)$")),  # "01近日，…": a zero-padded number glued to text
    ("cn_bare", re.compile(rf"^([{_CN_DIGITS}]{{1,3}})$")),
    ("cn_shi", re.compile(rf"^([{_CN_DIGITS}]{{1,3}})是[，,：:]?\s*([“\u4e00-\u9fff].*)$")),
    ("dash", re.compile(r"^(?:——|--|—)\s*(\S.*)$")),
)
UNNUMBERED_STYLES = ("dash", "bullet")
# A bullet that marks one news item each ("▶微信群里“抢红包”，群主抽头被抓"), used by roundup articles.
_ITEM_BULLET = re.compile(r"^\s*[▶►■◆●▲]\s*[“\u4e00-\u9fff]")
HEADING_PREFIX = re.compile(rf"^(?:(?:典型)?案例|第)?[{_CN_DIGITS}\d]+[、.．:：，,\s]*")
# Inline markers: a numbered case that starts right after a sentence end in the same line ("…改正。2、2023年…").
_INLINE_MARKERS = (
    ("num_dot", re.compile(r"(?<=[。；;！？!?])\s*(\d{1,2})(?:、|[.．](?=[^\d\s]))")),
    ("cn_dun", re.compile(rf"(?<=[。；;！？!?])\s*([{_CN_DIGITS}]{{1,3}})、")),
    ("cn_shi", re.compile(rf"(?<=[。；;！？!?])\s*([{_CN_DIGITS}]{{1,3}})是(?=[，,：:“\u4e00-\u9fff])")),
    ("case_word", re.compile(rf"(?<=[。；;！？!?])\s*案例\s*([{_CN_DIGITS}\d]+)[:：、，,\s]")),
    # "…公布八起网络造谣案例01近日，…。02近日，…": zero-padded numbers glued to the text around them
    ("num_zero", re.compile(r"(?<=[。；;！？!?\u4e00-\u9fff])(?<![第号])(0[1-9])(?=[\u4e00-\u9fff“【])")),
    ("dash", re.compile(r"(?:(?<=[。；;！？!?:：])|(?<=[。；;！？!?:：]\s)|(?<=\s\s))\s*——(?=\S)")),
)

# Case-part headings inside one case (a court release's 基本案情 / 裁判结果): they never start a new unit.
_PART_NAMES = tuple(
    """基本案情 简要案情 案情简介 案情回顾 案情概要 案件情况 案件经过 案件概况 案情 案件简介 调查处理 处理情况
    处理结果 查处情况 处罚结果 处罚情况 处罚决定 裁判结果 判决结果 法院判决 审理结果 审判结果 诉讼过程 检察履职情况
    履职情况 办理结果 侦破经过 办案经过 处置情况""".split()
)
_PART_LINE = re.compile(rf"^(?:[（(【]?[{_CN_DIGITS}\d]+[）)】、.．]?\s*)?【?(?:{'|'.join(_PART_NAMES)})】?\s*[:：]?$")

# Commentary and closing markers: a case ends before them (labels.md: commentary after a case is not a case).
_COMMENTARY_NAMES = tuple(
    """法官说法 法官提醒 法官点评 检察官说法 检察官提醒 法条链接 法律链接 相关法条 相关法律 法律规定 法律依据
    典型意义 案例评析 案件评析 专家点评 律师说法 以案说法 以案释法 警方提醒 警方提示 警方说法 警示意义 警示 安全提示
    风险提示 温馨提示 网警提示 网警提醒 网警普法 网警说法 普法小课堂 小贴士 延伸阅读 相关阅读 相关新闻 相关链接 链接
    法律提示 律师点评 民警提示 民警提醒 检察官普法 法官普法 答疑释法 知识链接 记者手记
    提醒 编后 点评 评析 说法 问 答""".split()
)
_COMMENTARY_LINE = re.compile(
    rf"^(?:【(?:{'|'.join(_COMMENTARY_NAMES)})】|(?:{'|'.join(_COMMENTARY_NAMES)})\s*(?:[:：]|$|\s))"
)
# "公安机关提醒，…", "市网信办表示，…": closing remarks of the issuer.
_CLOSING_LINE = re.compile(
    r"^[^，。,：:；;]{1,16}(?:提醒|提示|表示|呼吁|希望|建议|强调|倡议)(?:广大[^，。]{0,8})?[：:，,]"
)
_SUMMARY_CLOSE = re.compile(r"^(?:以上|上述)[^，。]{0,12}(?:处罚|决定|案例|案件)")
_STATUTE_LINE = re.compile(
    rf"^(?:《[^》]{{2,40}}》?\s*)?第[{_CN_DIGITS}\d]+(?:章|条)(?:第[{_CN_DIGITS}\d]+[款项])*(?:\s|[:：]|$)"
    rf"|^《[^》]{{2,40}}》\s*$|^[^《]{{0,4}}》\s*$|^[^，。,]{{0,24}}法》?第[{_CN_DIGITS}\d]+条(?:第[{_CN_DIGITS}\d]+[款项])*规定"
)
_NAV_LINE = re.compile(
    r"^(?:来源|作者|编辑|责任编辑|责编|审核|校对|发布时间|发布日期|发表于|时间|字号|分享到|原标题|关键词|关键字|标签|声明|"
    r"原文链接|原文|转载|本文来源|版权|Copyright|copyright|©|【打印|【关闭|打印本页|关闭窗口|上一篇|下一篇|返回|扫一扫|"
    r"阅读|点击|热门资讯|最新图文|相关阅读|相关新闻)"
)
# A page's summary box repeats (and truncates) the story told below it.
_PAGE_SUMMARY = re.compile(r"^(?:摘要|导读|核心提示|内容提要)\s*[:：]")
# A headline: "违反《网络安全法》，一学校被处罚！", "为何“翻墙”被处罚？"
_EXCLAIMED = re.compile(r"[！!？?]\s*$")
# Page furniture that may sit anywhere in a short line: breadcrumbs, view counters, copyright.
_NAV_ANYWHERE = re.compile(
    r"首页\s*[>»/]|当前位置|您的位置|您当前的位置|所在的位置|位置\s*[:：]|\s[>»]\s|阅读量|浏览次数|Author:|"
    r"All Rights Reserved"
)
_CAPTION_LINE = re.compile(
    r"^图\s*\d*\s*[（(：:为]|^图\d+$|^[（(]?(?:资料图片|图片来源|供图|网络图片|图源)|(?:摄|供图|图)[)）]?$|^▲|^△|"
    r"^!\[|^\[图"
)
TITLE_END = re.compile(r"(?:案|案件|一案)\s*[。”\"）)]?\s*$")
_SENTENCE_END = "。！？!?；;…"
_SENTENCE = re.compile(rf"[{re.escape(_SENTENCE_END)}]+[”」』）)]*")
_TERMINAL = _SENTENCE_END + "：:”」』）)】]"

MAX_TITLE_CHARS = 70  # a "…案" title longer than this is a sentence that happens to end in 案
MAX_SHORT_CHARS = 40  # headline or section line without sentence punctuation


@dataclass
class Line:
    """One line (or inline piece) of the normalised body; offsets are into the normalised text."""

    start: int
    end: int
    text: str
    kind: str = "body"  # heading, title, part, commentary, closing, statute, nav, caption, short, body
    style: str = ""
    number: int = 0
    rest: str = ""


@dataclass
class Paragraph:
    """Lines joined where a sentence was broken across them."""

    lines: list[Line]

    @property
    def start(self) -> int:
        return self.lines[0].start

    @property
    def end(self) -> int:
        return self.lines[-1].end

    @property
    def kind(self) -> str:
        return self.lines[0].kind

    @property
    def text(self) -> str:
        return "".join(line.text for line in self.lines)


def _chinese_number(token: str) -> int:
    """Parse 1-99 written as digits or Chinese numerals (一, 十二, 二十三); 0 when it is not a number."""
    if token.isascii() and token.isdigit():
        return int(token)
    circled = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
    if token in circled:
        return circled.index(token) + 1
    digits = _CN_DIGIT_VALUES
    token = token.translate(_FINANCIAL)
    if "百" in token:
        return 0
    if "十" in token:
        tens, _, ones = token.partition("十")
        value = (digits.get(tens, 0) if tens else 1) * 10 + (digits.get(ones, 0) if ones else 0)
        return value if all(c in digits for c in tens + ones) else 0
    if len(token) == 1 and token in digits:
        return digits[token]
    return 0


def split_lines(text: str, start: int) -> list[Line]:
    """Non-empty lines of ``text[start:]``, stripped, with their normalised offsets."""
    lines = []
    position = start
    for raw in text[start:].split("\n"):
        stripped = raw.strip()
        if stripped:
            offset = position + (len(raw) - len(raw.lstrip()))
            lines.append(Line(offset, offset + len(stripped), stripped))
        position += len(raw) + 1
    return lines


def _inline_cuts(line: Line, last_numbers: dict[str, int]) -> list[int]:
    """Positions inside ``line.text`` where an inline numbered case starts ("…改正。2、2023年…").

    A numbered marker counts only when it continues the numbering so far (``last_numbers``, per style, updated here),
    so "第1、2条" or a stray "3." inside a sentence does not split; dash bullets (——) count when a line has two.
    """
    heading = _match_heading(line.text)
    if heading is not None and heading[0] not in UNNUMBERED_STYLES:
        last_numbers[heading[0]] = heading[1]
    cuts: list[int] = []
    for style, pattern in _INLINE_MARKERS:
        found = [(m.start() + len(m.group()) - len(m.group().lstrip()), m) for m in pattern.finditer(line.text)]
        if style == "dash":
            if len(found) >= 2:
                cuts.extend(position for position, _ in found)
            continue
        for position, match in found:
            number = _chinese_number(match.group(1))
            if number == last_numbers.get(style, 0) + 1:
                cuts.append(position)
                last_numbers[style] = number
    return sorted(set(cut for cut in cuts if cut > 0))


def split_inline(lines: list[Line]) -> list[Line]:
    """Cut every line where an inline numbered case starts (see ``_inline_cuts``); the pieces are stripped."""
    pieces = []
    last_numbers: dict[str, int] = {}
    for line in lines:
        cuts = _inline_cuts(line, last_numbers)
        bounds = [0, *cuts, len(line.text)]
        for left, right in zip(bounds, bounds[1:], strict=False):
            piece = line.text[left:right]
            stripped = piece.strip()
            if stripped:
                offset = line.start + left + (len(piece) - len(piece.lstrip()))
                pieces.append(Line(offset, offset + len(stripped), stripped))
    return pieces


def _match_heading(text: str) -> tuple[str, int, str] | None:
    """``(style, number, rest)`` when the line opens with a case-number marker (or a ▶ news-item bullet)."""
    body = _BULLET.sub("", text).strip().strip("*").strip()
    if _ITEM_BULLET.match(text) and not any(pattern.match(body) for _, pattern in _HEADING_PATTERNS):
        return "bullet", 0, body
    for style, pattern in _HEADING_PATTERNS:
        match = pattern.match(body)
        if not match:
            continue
        if style == "dash":
            return style, 0, match.group(1).strip()
        number = _chinese_number(match.group(1))
        if number <= 0:
            continue
        rest = (match.group(2) or "").strip().strip("*").strip() if match.lastindex and match.lastindex >= 2 else ""
        return style, number, rest
    return None


def is_title(text: str) -> bool:
    """A "…案" title line: short, ends in 案, and is not a sentence."""
    body = text.strip().strip("*").strip()
    if not 5 <= len(body) <= MAX_TITLE_CHARS or not TITLE_END.search(body):
        return False
    inner = body.rstrip('。”"）) ')
    return not re.search(r"[。；;！？!?]", inner) and inner.count("，") + inner.count(",") <= 1


def classify_line(line: Line) -> Line:
    """Set ``line.kind`` (and style/number/rest for headings); order matters: markers before generic shapes."""
    text = line.text
    if _PART_LINE.match(text):
        line.kind = "part"
    elif _COMMENTARY_LINE.match(text):
        line.kind = "commentary"
    elif (heading := _match_heading(text)) is not None:
        style, number, rest = heading
        if _PART_LINE.match(rest) or (rest and _COMMENTARY_LINE.match(rest)):
            line.kind = "part" if _PART_LINE.match(rest) else "commentary"
        else:
            line.kind, line.style, line.number, line.rest = "heading", style, number, rest
    elif (
        (_NAV_LINE.match(text) and len(text) < 120)
        or (_NAV_ANYWHERE.search(text) and "。" not in text[:-1])
        or _PAGE_SUMMARY.match(text)
    ):
        line.kind = "nav"
    elif _STATUTE_LINE.match(text):
        line.kind = "statute"
    elif _CAPTION_LINE.search(text) and not has_any(text, PENALTY_CUES) and len(text) < 80:
        line.kind = "caption"
    elif _CLOSING_LINE.match(text) or _SUMMARY_CLOSE.match(text):
        line.kind = "closing"
    elif is_title(text):
        line.kind = "title"
    elif (
        len(text) <= MAX_SHORT_CHARS
        and not re.search(r"[。；;]", text)
        and (not re.search(r"[！？!?，,]", text) or _EXCLAIMED.search(text))
    ):
        line.kind = "short"
    return line


def _is_broken(previous: Line, line: Line) -> bool:
    """Whether ``line`` continues a sentence that ``previous`` broke off mid-word (``行政拘`` / ``留。``)."""
    if previous.kind != "body" or line.kind not in ("body", "short", "title", "caption"):
        return False
    if previous.text[-1] in _TERMINAL:
        return False
    # a body line cut off without punctuation: it must look like prose (has a comma or is long) to be a broken line
    return bool(re.search(r"[，,、]", previous.text)) or len(previous.text) > MAX_SHORT_CHARS


def build_paragraphs(lines: list[Line]) -> list[Paragraph]:
    """Join classified lines into paragraphs where a sentence was broken across them; a joined line reads as body."""
    paragraphs: list[Paragraph] = []
    for line in lines:
        if paragraphs and _is_broken(paragraphs[-1].lines[-1], line):
            line.kind = "body"
            paragraphs[-1].lines.append(line)
        else:
            paragraphs.append(Paragraph([line]))
    return paragraphs


def split_sentences(paragraph: Paragraph, text: str) -> list[Span]:
    """Sentence spans (normalised offsets) of a paragraph; a closing quote or bracket stays with its sentence."""
    spans = []
    start = paragraph.start
    for match in _SENTENCE.finditer(text, paragraph.start, paragraph.end):
        spans.append((start, match.end()))
        start = match.end()
    if start < paragraph.end:
        spans.append((start, paragraph.end))
    return [(s, e) for s, e in spans if text[s:e].strip()]
