"""Layout augmentation: authored case units re-rendered into the page layouts real bulletins use.

A learned segmenter that only ever sees the authored corpus learns its few layouts (and its phrasing) by heart. This
module takes case-unit texts, strips their own case-number heading, and lays them out again as numbered lists,
court releases, news stories, dense round-up paragraphs, Q&A pieces, pages wrapped in site furniture, traditional
mirrors with pinyin artefacts or PDF copies with hard line breaks — with every filler sentence (leads, statistics,
tips, commentary, navigation) generated here from templates with random slots, never copied from a real page.

Pages are built as paragraphs of segments, each segment either filler or a piece of one unit; the gold spans are
computed from the segments after every transformation (traditional script, pinyin, line breaks), so they are exact
by construction. A unit's span runs from its first to its last segment, trimmed of whitespace; furniture that a
layout puts between two of its paragraphs therefore lies inside the span (labels.md: a unit is contiguous).
"""

from __future__ import annotations

import functools
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from data.corpus import BUILD_DIR
from data.errors import InputError

CONTENT_LAYOUTS = (
    "numbered_list",
    "commentary_list",
    "news_story",
    "roundup_paragraph",
    "qa",
    "stats_only",
    "tips_only",
    "summary_then_full",
    "court_release",
)
WRAPPER_LAYOUTS = ("page_furniture", "traditional_mirror", "line_broken")
LAYOUTS: tuple[str, ...] = CONTENT_LAYOUTS + WRAPPER_LAYOUTS
NO_CASE_LAYOUTS = ("stats_only", "tips_only")
_T = TypeVar("_T")


@dataclass(frozen=True)
class RenderedBulletin:
    """One synthetic page and the exact gold spans of its case units.

    Attributes:
        name: ``layout-<layout>-<index>``, unique within one ``render_bulletins`` call.
        text: the whole page text (no SOURCE header).
        spans: gold case-unit ``[start, end)`` offsets into ``text``: in text order, non-overlapping, trimmed.
        layout: the name (one of ``LAYOUTS``) of the layout that produced the page.
    """

    name: str
    text: str
    spans: tuple[tuple[int, int], ...]
    layout: str


# ---------------------------------------------------------------------------------------------------------------
# Units: strip the source's case-number heading, keep its title line
# ---------------------------------------------------------------------------------------------------------------

_CN_DIGITS = "零一二三四五六七八九"
_NUMERAL = r"[一二三四五六七八九十百零〇两\d０-９]+"
# The heading forms the authored corpus and real bulletins number cases with; a unit keeps none of them because
# the layout numbers it again in its own style (a kept "案例三：" under a layout's "5." would teach double headings).
_CASE_HEADING = re.compile(
    r"^[\s　]*(?:"
    rf"【?案[例件]\s*{_NUMERAL}】?\s*[：:、.．]?"
    rf"|第{_NUMERAL}(?:起|例|个)?案?例?[：:、]"
    rf"|[（(]{_NUMERAL}[)）]"
    r"|[一二三四五六七八九十百]+[、．.]"
    r"|[一二三四五六七八九十]+是"
    r"|[\d０-９]{1,3}\s*(?:[、)）]|[.．](?![\d０-９]))"
    r"|[\d０-９]{1,2}(?=[ 　\n])"
    r"|[①-⑳]"
    r")[\s　]*"
)
_SENTENCE_END = re.compile(r"[。！？；!?;]")
_PARAGRAPH_END = re.compile(r"[。！？；!?;：:”」）)】]$")
_TITLE_MAX = 60


@dataclass(frozen=True)
class _Unit:
    """A case unit without its source heading: an optional title (or headline) line and its body paragraphs."""

    title: str | None
    paragraphs: tuple[str, ...]

    @property
    def body(self) -> str:
        return "\n".join(self.paragraphs)


def _parse_unit(text: str) -> _Unit | None:
    """Split a unit text into title and body paragraphs; ``None`` when nothing but a heading is left.

    A line that stops mid-sentence (a hard break copied from a PDF, ``行政拘`` / ``留``) is kept together with the
    next one, so the layout's paragraph separator never lands inside a sentence of the source.
    """
    rest = _CASE_HEADING.sub("", text.strip(), count=1)
    lines = [line.strip(" 　\t") for line in rest.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return None
    title = None
    if len(lines) > 1 and _is_title(lines[0]):
        title, lines = lines[0], lines[1:]
    paragraphs = [lines[0]]
    for line in lines[1:]:
        if _PARAGRAPH_END.search(paragraphs[-1]):
            paragraphs.append(line)
        else:
            paragraphs[-1] += "\n" + line
    return _Unit(title=title, paragraphs=tuple(paragraphs))


def _is_title(line: str) -> bool:
    """A title ("…案") or news headline: short, no sentence end, not a long clause cut off by a line break."""
    if len(line) > _TITLE_MAX or _SENTENCE_END.search(line) or line[-1] in "，、,：:（(“《":
        return False
    return "，" not in line or len(line) <= 30


def _sentences(text: str) -> list[str]:
    """Sentences of a body, each with its closing mark (the split court releases and teasers need)."""
    return [s for s in re.findall(r"[^。！？；!?;\n]+[。！？；!?;]?", text) if s.strip()]


# ---------------------------------------------------------------------------------------------------------------
# Pages: paragraphs of segments, rendered to text + spans
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _Segment:
    text: str
    unit: int | None = None  # index of the unit on this page; None for filler


@dataclass
class _Paragraph:
    segments: list[_Segment]
    kind: str = "text"  # "text", "heading" (may be bolded), "furniture", "unit"
    tight: bool = False  # joined to the previous paragraph by one newline whatever the page's separator

    @property
    def unit(self) -> int | None:
        units = {s.unit for s in self.segments if s.unit is not None}
        return units.pop() if len(units) == 1 else None


def _filler(text: str, kind: str = "text", tight: bool = False) -> _Paragraph:
    return _Paragraph([_Segment(text)], kind=kind, tight=tight)


def _unit_para(text: str, unit: int, tight: bool = False) -> _Paragraph:
    return _Paragraph([_Segment(text, unit)], kind="unit", tight=tight)


@dataclass
class _Ctx:
    """One page's random state and typographic choices (separator, indentation, digit width)."""

    rng: random.Random
    separator: str = "\n"
    indent: str = ""
    fullwidth: bool = False
    units: int = 0  # units placed on the page so far

    def new_unit(self) -> int:
        """The index of the next unit on this page."""
        self.units += 1
        return self.units - 1

    def digits(self, text: str) -> str:
        return text.translate(_FULLWIDTH) if self.fullwidth else text

    def pick(self, options: Sequence[_T]) -> _T:
        return self.rng.choice(options)

    def fill(self, template: str) -> str:
        """Fill ``{slot}`` placeholders with this page's random values (digits in the page's width)."""
        return self.digits(template.format(**_slots(self.rng)))


_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _render(ctx: _Ctx, paragraphs: list[_Paragraph]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """Join paragraphs into page text and compute each unit's trimmed span from its segments."""
    parts: list[str] = []
    bounds: dict[int, list[int]] = {}
    length = 0
    for number, paragraph in enumerate(paragraphs):
        lead = ("\n" if paragraph.tight else ctx.separator) if number else ""
        if paragraph.kind in ("text", "unit") and ctx.indent:
            lead += ctx.indent
        parts.append(lead)
        length += len(lead)
        for segment in paragraph.segments:
            if segment.unit is not None and segment.text.strip():
                inner = len(segment.text) - len(segment.text.lstrip())
                start, end = length + inner, length + len(segment.text.rstrip())
                span = bounds.setdefault(segment.unit, [start, end])
                span[0], span[1] = min(span[0], start), max(span[1], end)
            parts.append(segment.text)
            length += len(segment.text)
    spans = tuple(sorted((s, e) for s, e in bounds.values()))
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise RuntimeError(f"bug: a layout produced overlapping unit spans {spans}")
    return "".join(parts), spans


# ---------------------------------------------------------------------------------------------------------------
# Filler: slots and templates (all authored here)
# ---------------------------------------------------------------------------------------------------------------

_CITY = (
    "江川",
    "临安",
    "青阳",
    "云溪",
    "南湖",
    "北山",
    "东川",
    "西平",
    "长宁",
    "清河",
    "安远",
    "永丰",
    "洛溪",
    "枫林",
)
_PROVINCE = ("江南省", "西川省", "东海省", "北原省", "中州省", "南岭省")
_SURNAME = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
_CAMPAIGN = ("净网", "护网", "清朗", "昆仑", "断卡", "云剑", "护苗")
_TOPICS = (
    ("谣言|虚假信息|不实", "网络谣言"),
    ("诈骗", "电信网络诈骗"),
    ("赌", "网络赌博"),
    ("淫秽|色情", "网络涉黄"),
    ("个人信息", "侵犯公民个人信息"),
    ("窃听|窃照|间谍器材", "非法销售窃听窃照器材"),
    ("银行卡|电话卡|帮助信息网络|跑分", "帮助信息网络犯罪"),
    ("侵入|攻击|木马|破坏计算机", "黑客攻击"),
    ("等级保护|漏洞|日志|安全保护", "不履行网络安全保护义务"),
    ("备案", "网站未备案"),
    ("翻墙|VPN|国际联网|信道", "非法翻墙"),
    ("实名|身份", "未落实实名制"),
)


def _slots(rng: random.Random) -> dict[str, str]:
    city = rng.choice(_CITY)
    return {
        "city": city + rng.choice(("市", "市", "县", "区")),
        "city2": rng.choice(_CITY) + "市",
        "province": rng.choice(_PROVINCE),
        "police": city + rng.choice(("市公安局", "县公安局", "公安分局", "市公安局网安支队", "县公安局网安大队")),
        "cac": rng.choice((city + "市委网信办", rng.choice(_PROVINCE) + "网信办", city + "市网信办")),
        "court": city + rng.choice(("市中级人民法院", "区人民法院", "县人民法院")),
        "name": rng.choice(_SURNAME) + rng.choice(("某", "某某")),
        "name2": rng.choice(_SURNAME) + rng.choice(("某", "某某")),
        "year": str(rng.randint(2017, 2025)),
        "month": str(rng.randint(1, 12)),
        "day": str(rng.randint(1, 28)),
        "campaign": rng.choice(_CAMPAIGN) + str(rng.randint(2018, 2025)),
        "n1": str(rng.randint(12, 900)),
        "n2": str(rng.randint(3, 400)),
        "n3": str(rng.randint(2, 60)),
        "n4": str(rng.randint(1000, 90000)),
        "pct": str(rng.randint(5, 60)),
        "hits": str(rng.randint(30, 99999)),
    }


def _topic(unit: _Unit) -> str:
    """A headline topic read off the unit's own words, so the headline matches the case it heads."""
    text = (unit.title or "") + unit.body
    for pattern, topic in _TOPICS:
        if re.search(pattern, text):
            return topic
    return "涉网违法"


_LEADS = (
    "为进一步净化网络空间，{city}公安机关持续开展“{campaign}”专项行动，依法查处了一批涉网违法犯罪案件。现将其中几起案例公布如下。",
    "近日，{police}公布了一批网络安全领域行政执法典型案例，提醒广大网络运营者切实履行法定义务。",
    "今年以来，{province}各级网安部门紧盯网络安全突出问题，重拳出击、依法打击，取得阶段性成效。以下为部分典型案例：",
    "为震慑违法犯罪、教育引导群众，{cac}会同公安机关梳理了近期查办的若干案件，现予公布。",
    "{year}年{month}月{day}日，{police}召开新闻发布会，通报近期查处的典型案件。",
    "为深入推进网络生态治理，切实维护公民合法权益，现将我局近期办理的部分案件向社会公布。",
)
_STATS = (
    "专项行动开展以来，共侦破各类涉网案件{n1}起，抓获犯罪嫌疑人{n2}名，行政处罚违法单位{n3}家。",
    "截至{month}月底，全{city_unit}共检查重点单位{n1}家，发现并督促整改安全隐患{n2}处，下发整改通知书{n3}份。",
    "据统计，{year}年全省网安部门共查处各类网络违法案件{n1}起，同比上升{pct}%。",
    "今年以来，已依法关停违法违规网站{n2}个，清理各类有害信息{n4}余条。",
    "行动期间，共约谈网络运营者{n3}家次，责令整改{n2}家，罚款金额合计{n4}元。",
    "数据显示，涉网案件占刑事案件总数的比例已达{pct}%，其中电信网络诈骗类案件约占一半。",
)
_CLOSINGS = (
    "下一步，公安机关将持续保持高压严打态势，依法查处各类网络违法犯罪行为。",
    "网络不是法外之地。{police}提醒广大网民自觉遵守法律法规，共同维护清朗网络空间。",
    "各网络运营单位要以案为鉴，认真落实网络安全主体责任，切实做好安全防护工作。",
    "欢迎广大群众积极举报网络违法犯罪线索，举报电话：{phone}。",
    "对拒不履行网络安全保护义务的单位，公安机关将依法从严处理，绝不姑息。",
)
_SECTION_NAMES = (
    "行政处罚类",
    "刑事打击类",
    "网络安全保护义务类",
    "个人信息保护类",
    "网络谣言类",
    "涉网新型违法犯罪类",
    "网络生态治理类",
    "其他典型案例",
)
_TIPS = (
    "不要轻信陌生来电和短信中的“退款”“理赔”说法，务必通过官方渠道核实",
    "切勿点击来历不明的链接，不扫描陌生二维码",
    "不出租、出借、出售本人银行卡、电话卡和网络账号",
    "网上发布信息要核实来源，不造谣、不信谣、不传谣",
    "设置复杂密码并定期更换，不同平台不要使用同一密码",
    "安装手机软件要从正规应用商店下载，谨慎授予通讯录、定位等权限",
    "网络运营者要落实等级保护制度，定期开展安全检测和漏洞修补",
    "网站开通后要及时办理公安联网备案手续",
    "提供上网服务的场所要落实实名登记制度，按规定留存上网日志",
    "发现个人信息泄露要及时修改密码、冻结账户并向公安机关报案",
    "不参与任何形式的网络赌博，不浏览、不传播淫秽色情信息",
    "家长要关注未成年人上网情况，引导孩子文明健康用网",
    "遇到网络暴力要注意保存证据，依法维护自身合法权益",
    "购买智能摄像头等设备后要及时修改默认密码，关闭不必要的远程访问",
)
_COMMENTARY_HEADS = ("【法官说法】", "【典型意义】", "警方提醒：", "【以案说法】", "【案件点评】", "检察官提示：")
_COMMENTARY = (
    "本案警示我们，网络空间同样需要遵守法律，任何人都不能以“网上说说”为由逃避责任。",
    "网络运营者是网络安全的第一责任人，应当建立健全内部安全管理制度，落实技术防护措施。",
    "个人信息关系群众切身利益，处理个人信息必须遵循合法、正当、必要的原则，不得过度收集。",
    "此类行为表面上获利不多，实则为下游违法犯罪提供了便利，社会危害性不容忽视。",
    "依法从严惩处此类行为，有利于形成有效震慑，也为同类案件的办理提供了参考。",
    "广大群众应提高法治意识和防范意识，不为蝇头小利而出卖自身信息和账户。",
)
_STATUTES = (
    "《中华人民共和国网络安全法》第{article}条规定：网络运营者应当按照网络安全等级保护制度的要求，履行安全保护义务……",
    "《中华人民共和国治安管理处罚法》第{article}条规定：散布谣言，谎报险情、疫情、警情或者以其他方法故意扰乱公共秩序的……",
    "《中华人民共和国刑法》第{article}条规定：违反国家有关规定，向他人出售或者提供公民个人信息，情节严重的……",
    "《中华人民共和国个人信息保护法》第{article}条规定：处理个人信息应当具有明确、合理的目的……",
    "《中华人民共和国数据安全法》第{article}条规定：开展数据处理活动应当依照法律、法规的规定，建立健全全流程数据安全管理制度……",
)


def _cn_number(n: int) -> str:
    """Chinese numeral for 1..99 as bulletins write case numbers (十, 十一, 二十三)."""
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _CN_DIGITS[ones]
    head = "" if tens == 1 else _CN_DIGITS[tens]
    return head + "十" + (_CN_DIGITS[ones] if ones else "")


# Numbering styles: (name, heading of case n, whether the heading may stand on its own line)
_Numbering = tuple[str, Callable[[int], str], bool]
_NUMBERINGS: tuple[_Numbering, ...] = (
    ("anli", lambda n: f"案例{_cn_number(n)}：", True),
    ("anli_plain", lambda n: f"案例{_cn_number(n)}", True),
    ("cn_comma", lambda n: f"{_cn_number(n)}、", False),
    ("dot", lambda n: f"{n}.", False),
    ("dot_fw", lambda n: f"{n}．", False),
    ("comma", lambda n: f"{n}、", False),
    ("paren_cn", lambda n: f"（{_cn_number(n)}）", False),
    ("bracket", lambda n: f"【案例{n}】", True),
    ("zero", lambda n: f"{n:02d}", True),
    ("circled", lambda n: chr(0x2460 + n - 1) if n <= 20 else f"{n}.", False),
    ("di", lambda n: f"第{_cn_number(n)}起", True),
)


def _case_heading(ctx: _Ctx, style: _Numbering, n: int) -> tuple[str, bool]:
    """The heading text for case ``n`` and whether it stands on its own line."""
    name, make, may_stand_alone = style
    heading = ctx.digits(make(n))
    alone = may_stand_alone and (name == "zero" or ctx.rng.random() < 0.5)
    if not alone and name == "zero":
        heading += " "
    return heading, alone


def _numbered_unit(ctx: _Ctx, unit: _Unit, style: _Numbering, n: int) -> list[_Paragraph]:
    """A unit under a layout heading: heading inline with its first line or on a line of its own."""
    index = ctx.new_unit()
    heading, alone = _case_heading(ctx, style, n)
    lines = ([unit.title] if unit.title else []) + list(unit.paragraphs)
    paragraphs: list[_Paragraph] = []
    if alone:
        paragraphs.append(_unit_para(heading, index))
        paragraphs.append(_unit_para(lines[0], index, tight=True))
    else:
        paragraphs.append(_Paragraph([_Segment(heading + lines[0], index)], kind="unit"))
    for number, line in enumerate(lines[1:]):
        # a title line and its body sit on consecutive lines; body paragraphs follow the page's separator
        paragraphs.append(_unit_para(line, index, tight=number == 0 and unit.title is not None))
    return paragraphs


def _lead(ctx: _Ctx) -> list[_Paragraph]:
    paragraphs = [_filler(ctx.fill(ctx.pick(_LEADS)))]
    if ctx.rng.random() < 0.7:
        paragraphs.append(_filler(_fill_stats(ctx)))
    return paragraphs


def _fill_stats(ctx: _Ctx) -> str:
    template = ctx.pick(_STATS).replace("{city_unit}", ctx.pick(("市", "省", "区", "县")))
    return ctx.fill(template)


def _closing(ctx: _Ctx) -> _Paragraph:
    return _filler(_closing_text(ctx))


def _closing_text(ctx: _Ctx) -> str:
    template = ctx.pick(_CLOSINGS).replace("{phone}", str(ctx.rng.choice((110, 12377, 12321))))
    return ctx.fill(template)


def _headline(ctx: _Ctx, about: str) -> _Paragraph:
    templates = (
        "{city}公布一批{about}典型案例",
        "{police}通报{n3}起{about}典型案件",
        "以案释法｜{about}典型案例通报",
        "{year}年{about}典型案例公布",
        "{cac}发布{about}执法典型案例",
    )
    return _filler(ctx.fill(ctx.pick(templates).replace("{about}", about)), kind="heading")


def _numbering(ctx: _Ctx, names: Sequence[str] = (), avoid: str = "") -> _Numbering:
    """A random numbering style among ``names`` (all by default) other than ``avoid``."""
    return ctx.pick([s for s in _NUMBERINGS if (not names or s[0] in names) and s[0] != avoid])


# ---------------------------------------------------------------------------------------------------------------
# Content layouts
# ---------------------------------------------------------------------------------------------------------------


def _layout_numbered_list(ctx: _Ctx, units: list[_Unit]) -> list[_Paragraph]:
    """Lead + statistics, numbered cases (maybe under section headings), closing remarks."""
    paragraphs = (
        [_headline(ctx, ctx.pick(("网络安全", "涉网违法犯罪", "网络安全行政")))] if ctx.rng.random() < 0.6 else []
    )
    paragraphs += _lead(ctx)
    section_style = _numbering(ctx, ("cn_comma", "paren_cn"))
    case_style = _numbering(ctx, avoid=section_style[0])
    sections = ctx.rng.random() < 0.35 and len(units) >= 4
    cut = ctx.rng.randint(1, len(units) - 1) if sections else len(units)
    names = ctx.rng.sample(list(_SECTION_NAMES), 2)
    restart = ctx.rng.random() < 0.5
    for number, unit in enumerate(units, start=1):
        if sections and number in (1, cut + 1):
            section = 1 if number == 1 else 2
            paragraphs.append(_filler(ctx.digits(section_style[1](section)) + names[section - 1], kind="heading"))
        shown = number - cut if sections and restart and number > cut else number
        paragraphs += _numbered_unit(ctx, unit, case_style, shown)
    if ctx.rng.random() < 0.8:
        paragraphs.append(_closing(ctx))
    return paragraphs


def _commentary(ctx: _Ctx) -> list[_Paragraph]:
    """A commentary block after a case: 法官说法 / 典型意义 / 警方提醒 / 法律链接 (never part of the unit)."""
    if ctx.rng.random() < 0.3:
        statute = ctx.pick(_STATUTES).replace("{article}", _cn_number(ctx.rng.randint(10, 99)))
        head = ctx.pick(("【法律链接】", "法律链接：", "【相关法条】"))
        if head.endswith("】") and ctx.rng.random() < 0.5:
            return [_filler(head, kind="heading"), _filler(statute, tight=True)]
        return [_filler(head + statute)]
    head = ctx.pick(_COMMENTARY_HEADS)
    text = "".join(ctx.rng.sample(list(_COMMENTARY), ctx.rng.randint(1, 3)))
    if head.endswith("】") and ctx.rng.random() < 0.5:
        return [_filler(head, kind="heading"), _filler(text, tight=True)]
    return [_filler(head + text)]


def _layout_commentary_list(ctx: _Ctx, units: list[_Unit]) -> list[_Paragraph]:
    """Numbered cases, each followed by a commentary block that is not part of it."""
    paragraphs = [_headline(ctx, ctx.pick(("网络安全", "涉网犯罪", "个人信息保护")))] + _lead(ctx)[:1]
    style = _numbering(ctx)
    for number, unit in enumerate(units, start=1):
        paragraphs += _numbered_unit(ctx, unit, style, number)
        paragraphs += _commentary(ctx)
    return paragraphs


_DATELINES = (
    "本报讯（记者 {name} 通讯员 {name2}）",
    "本报讯（记者 {name}）",
    "{month}月{day}日，记者从{police}获悉，",
    "近日，记者从{police}了解到，",
    "{city}讯（通讯员 {name}）",
    "新闻网讯 ",
)
_STORY_LEADS = (
    "近日，当地公安机关依法查处一起{topic}案件。",
    "{police}网安部门近日成功办理一起{topic}案件，相关人员已被依法处理。",
    "一起{topic}案件近日在{city}告破。",
    "该局近期依法查处了一起{topic}案件。",
)
_BACKGROUNDS = (
    "据介绍，今年以来，当地公安机关持续加大对{topic}等突出问题的打击整治力度。",
    "据了解，该案线索来源于网安民警日常巡查中发现的异常情况。",
    "近年来，随着互联网快速发展，{topic}问题时有发生，群众反映强烈。",
)
_QUOTES = (
    "“网络不是法外之地，任何人在网上的言行都要守法。”办案民警{name}告诉记者。",
    "“这类案件隐蔽性强，我们将持续加大打击力度。”{police}相关负责人表示。",
    "{police}网安民警{name}介绍：“当事人对违法事实供认不讳，我们依法作出了处理。”",
    "“希望广大群众引以为戒，遇到可疑情况及时报警。”民警{name}说。",
)
_TIP_INTROS = ("警方提醒：", "民警提醒广大市民：", "在此，警方提醒：", "【防范提示】", "如何防范？警方支招：")
_STORY_SOURCES = (
    "来源：{city}公安　编辑：{name}",
    "{year}-{month}-{day}　来源：{city}日报",
    "发布时间：{year}年{month}月{day}日　作者：{name}",
    "{city}晚报　{year}年{month}月{day}日",
)


def _tips(ctx: _Ctx, low: int = 5, high: int = 10) -> list[_Paragraph]:
    """A numbered advice list (一是…二是… inline, or one tip a line): never a case."""
    count = ctx.rng.randint(low, min(high, len(_TIPS)))
    tips = ctx.rng.sample(list(_TIPS), count)
    intro = ctx.pick(_TIP_INTROS)
    if ctx.rng.random() < 0.4:
        inline = "；".join(f"{_cn_number(i)}是{tip}" for i, tip in enumerate(tips, start=1)) + "。"
        return [_filler(intro + inline)]
    style = _numbering(ctx, ("dot", "comma", "cn_comma", "paren_cn", "circled"))
    return [_filler(intro, kind="heading")] + [
        _filler(ctx.digits(style[1](i)) + tip + "。", tight=True) for i, tip in enumerate(tips, 1)
    ]


def _story_headline(ctx: _Ctx, unit: _Unit) -> str:
    """The unit's own title when it has one, else a headline made from the case's topic."""
    if unit.title:
        return unit.title
    templates = (
        "{city}查处一起{topic}案件",
        "{topic}？警方依法处理",
        "{city}警方破获一起{topic}案",
        "一起{topic}案件被查处",
    )
    return ctx.fill(ctx.pick(templates).replace("{topic}", _topic(unit)))


def _layout_news_story(ctx: _Ctx, units: list[_Unit]) -> list[_Paragraph]:
    """One case as a news story: headline + dateline lead + background + quote + case, then tips (not a unit)."""
    unit = units[0]
    index = ctx.new_unit()
    topic = _topic(unit)
    paragraphs: list[_Paragraph] = []
    if ctx.rng.random() < 0.5:
        # page metadata above the headline: a headline must directly precede its story to belong to it
        paragraphs.append(_filler(ctx.fill(ctx.pick(_STORY_SOURCES)), kind="furniture"))
    # labels.md: a single-case story's headline directly before the text and its lead belong to the unit
    paragraphs.append(_Paragraph([_Segment(_story_headline(ctx, unit), index)], kind="heading"))
    lead = ctx.fill(ctx.pick(_DATELINES) + ctx.pick(_STORY_LEADS).replace("{topic}", topic))
    body = list(unit.paragraphs)
    quote_inside = ctx.rng.random() < 0.5
    middle = [lead]
    if ctx.rng.random() < 0.6:
        middle.append(ctx.fill(ctx.pick(_BACKGROUNDS).replace("{topic}", topic)))
    if quote_inside:
        middle.append(ctx.fill(ctx.pick(_QUOTES)))
    for number, text in enumerate(middle + body):
        paragraphs.append(_unit_para(text, index, tight=number == 0))
    if not quote_inside and ctx.rng.random() < 0.7:
        paragraphs.append(_filler(ctx.fill(ctx.pick(_QUOTES))))
    paragraphs += _tips(ctx)
    if ctx.rng.random() < 0.5:
        paragraphs.append(
            _filler(ctx.fill("（完）" if ctx.rng.random() < 0.3 else "责任编辑：{name}"), kind="furniture")
        )
    return paragraphs


def _short_units(units: list[_Unit], limit: int = 3) -> list[_Unit]:
    """Units whose body is one paragraph of at most ``limit`` sentences ending with 。 — what a round-up holds."""
    return [u for u in units if len(u.paragraphs) == 1 and u.body.endswith("。") and len(_sentences(u.body)) <= limit]


def _layout_roundup_paragraph(ctx: _Ctx, units: list[_Unit]) -> list[_Paragraph]:
    """One dense paragraph telling several cases back to back: each case a unit, lead and closing not."""
    paragraphs = [_headline(ctx, "涉网违法")] if ctx.rng.random() < 0.5 else []
    segments = [_Segment(ctx.fill(ctx.pick(_LEADS)))] if ctx.rng.random() < 0.8 else []
    for unit in units:
        # labels.md: a paragraph narrating several cases is split into one unit per case at sentence boundaries
        segments.append(_Segment("".join(unit.paragraphs), ctx.new_unit()))
    if ctx.rng.random() < 0.7:
        segments.append(_Segment(_closing_text(ctx)))
    paragraphs.append(_Paragraph(segments, kind="unit"))
    if ctx.rng.random() < 0.5:
        paragraphs.append(_filler(_fill_stats(ctx)))
    return paragraphs


_QUESTIONS = (
    "问：近期，{city}查处了哪些典型案件？",
    "问：能否介绍一个具体案例？",
    "问：群众最关心的{topic}问题，有没有典型案件？",
    "记者：这类案件通常是怎样被发现的？",
)
_ANSWER_INTROS = (
    "答：有的。比如下面这起案件：",
    "答：我们举一个例子。",
    "{name}：近期我们办理了这样一起案件。",
    "答：今年以来我们办理了不少此类案件，其中比较典型的是：",
)
_FOLLOW_UPS = (
    (
        "问：对此类行为，法律是如何规定的？",
        "答：相关法律对此有明确规定，情节严重的还将被追究刑事责任，大家务必引以为戒。",
    ),
    ("问：普通群众应当如何防范？", "答：关键是增强法治意识，不随意泄露个人信息，发现违法线索及时向公安机关举报。"),
    ("问：下一步还有哪些打算？", "答：我们将继续保持严打高压态势，同时加强宣传教育，推动全社会共同维护网络安全。"),
)


def _layout_qa(ctx: _Ctx, units: list[_Unit]) -> list[_Paragraph]:
    """An interview in 问/答 form around one or two cases; questions and answers are not units."""
    paragraphs = [_filler(ctx.fill("以案说法｜{police}负责人就网络安全问题答记者问"), kind="heading")]
    for unit in units:
        paragraphs.append(_filler(ctx.fill(ctx.pick(_QUESTIONS).replace("{topic}", _topic(unit)))))
        paragraphs.append(_filler(ctx.fill(ctx.pick(_ANSWER_INTROS)), tight=True))
        index = ctx.new_unit()
        lines = ([unit.title] if unit.title else []) + list(unit.paragraphs)
        paragraphs += [_unit_para(line, index, tight=True) for line in lines]
    for question, answer in ctx.rng.sample(list(_FOLLOW_UPS), ctx.rng.randint(1, 3)):
        paragraphs += [_filler(question), _filler(answer, tight=True)]
    return paragraphs


_CAMPAIGN_NEWS = (
    "{police}部署开展“{campaign}”专项行动，重点整治侵犯公民个人信息、网络谣言、黑客攻击等突出问题，行动将持续至年底。",
    "{month}月{day}日，{city}召开网络安全工作推进会，要求各单位对照等级保护要求开展自查，于{n3}日内报送整改情况。",
    "{cac}启动网络生态治理专项工作，将对短视频、直播、社交等平台开展集中检查。",
    "为迎接网络安全宣传周，{city}将在全市{n3}个社区开展宣传活动，现场发放宣传资料{n4}余份。",
)


def _layout_stats_only(ctx: _Ctx, units: list[_Unit]) -> list[_Paragraph]:
    """Statistics, campaign announcements and tips: a page with no case at all."""
    titles = (
        "{city}网络安全专项行动取得阶段性成效",
        "{year}年{city}网安工作情况通报",
        "{police}通报“{campaign}”行动进展",
    )
    paragraphs = [_filler(ctx.fill(ctx.pick(titles)), kind="heading")]
    paragraphs += [_filler(_fill_stats(ctx)) for _ in range(ctx.rng.randint(1, 3))]
    paragraphs += [_filler(ctx.fill(t)) for t in ctx.rng.sample(list(_CAMPAIGN_NEWS), ctx.rng.randint(1, 2))]
    if ctx.rng.random() < 0.5:
        paragraphs += _tips(ctx, 3, 6)
    paragraphs.append(_closing(ctx))
    return paragraphs


def _layout_tips_only(ctx: _Ctx, units: list[_Unit]) -> list[_Paragraph]:
    """A security-tips page: intro, advice list, closing — no case."""
    title = ctx.pick(("网络安全小贴士", "这些防范要点请收好", "警方发布防骗提示", "网络安全知识问答"))
    paragraphs = [_filler(title, kind="heading")]
    if ctx.rng.random() < 0.7:
        paragraphs.append(
            _filler(ctx.fill("近期，{city}发生多起涉网违法案件，为帮助大家提高防范意识，{police}整理了以下要点。"))
        )
    paragraphs += _tips(ctx)
    paragraphs.append(_closing(ctx))
    return paragraphs


def _layout_summary_then_full(ctx: _Ctx, units: list[_Unit]) -> list[_Paragraph]:
    """A teaser (摘要 or a short version) then the full story: only the full telling is a unit."""
    unit = units[0]
    sentences = _sentences(unit.body)
    teaser = sentences[0] if len(sentences) < 3 else sentences[0] + sentences[-1]
    if ctx.rng.random() < 0.4:
        teaser = ctx.fill("{city}一起" + _topic(unit) + "案件近日办结，当事人被依法处理。")
    head = ctx.pick(("摘要：", "【摘要】", "导读：", "内容提要："))
    paragraphs = [
        _filler(
            _story_headline(ctx, unit) if unit.title is None else ctx.fill("{city}通报一起典型案件"), kind="heading"
        )
    ]
    paragraphs.append(_filler(head + teaser))
    if ctx.rng.random() < 0.3:
        paragraphs.append(_filler(ctx.pick(("【详细】", "全文如下：", "——")), kind="heading"))
    index = ctx.new_unit()
    lines = ([unit.title] if unit.title else []) + list(unit.paragraphs)
    paragraphs += [_unit_para(line, index) for line in lines]
    if ctx.rng.random() < 0.5:
        paragraphs.append(_closing(ctx))
    return paragraphs


_SIGNIFICANCE = (
    "本案的审理，体现了人民法院依法惩治网络违法犯罪的鲜明态度，对规范网络秩序具有示范作用。",
    "本案明确了相关行为的认定标准，为同类案件的审理提供了有益参考。",
    "本案警示社会公众，网络空间不是法外之地，必须依法规范自身行为。",
    "人民法院通过本案依法保护了公民的合法权益，彰显了司法的价值导向。",
)
_COURT_PARTS = re.compile(r"基本案情|裁判结果|处理结果|判决结果|检察履职|【[^】]{2,6}】")
_DISPOSAL = re.compile(r"判处|判决|处以|罚款|拘留|责令|给予|没收|警告|逮捕|起诉|抓获|关停|约谈|吊销|罚金")


def _court_parts(unit: _Unit) -> tuple[list[str], list[str]]:
    """Split a body into 基本案情 and 裁判结果 at the first trailing sentence that disposes of the case."""
    sentences = _sentences(unit.body.replace("\n", ""))
    if len(sentences) < 2:
        return list(unit.paragraphs), []
    cut = len(sentences) - 1
    while cut > 1 and _DISPOSAL.search(sentences[cut - 1]):
        cut -= 1
    return ["".join(sentences[:cut])], ["".join(sentences[cut:])]


# How a court release labels its parts: a function of (part number, part name)
_PART_LABELS: tuple[Callable[[int, str], str], ...] = (
    lambda n, name: f"【{name}】",
    lambda n, name: f"{name}：",
    lambda n, name: name,
    lambda n, name: f"{_cn_number(n)}、{name}",
    lambda n, name: f"（{_cn_number(n)}）{name}",
)


def _layout_court_release(ctx: _Ctx, units: list[_Unit]) -> list[_Paragraph]:
    """Court releases: title + 基本案情 + 裁判结果 form the unit; 典型意义 after it does not."""
    paragraphs = [_filler(ctx.fill("{court}发布涉网络犯罪典型案例"), kind="heading")]
    if ctx.rng.random() < 0.6:
        paragraphs.append(_filler(ctx.fill(ctx.pick(_LEADS))))
    style = _numbering(ctx, ("anli", "anli_plain", "bracket", "di"))
    label = ctx.pick(_PART_LABELS)
    for number, unit in enumerate(units, start=1):
        index = ctx.new_unit()
        heading, _ = _case_heading(ctx, style, number)
        # no invented title: a made-up "…案" could name the wrong offense for the body under it
        first = f"{heading.strip()} {unit.title}" if unit.title else heading.strip()
        paragraphs.append(_Paragraph([_Segment(first, index)], kind="unit"))
        if _COURT_PARTS.search(unit.body):  # the unit already has its parts labelled: keep them
            paragraphs += [_unit_para(line, index, tight=n == 0) for n, line in enumerate(unit.paragraphs)]
        else:
            facts, result = _court_parts(unit)
            paragraphs += _court_part(label(1, "基本案情"), facts, index)
            if result:
                paragraphs += _court_part(label(2, "裁判结果"), result, index)
        significance = "".join(ctx.rng.sample(list(_SIGNIFICANCE), ctx.rng.randint(1, 2)))
        paragraphs += [_filler(label(3, "典型意义"), kind="heading"), _filler(significance, tight=True)]
    return paragraphs


def _court_part(label: str, lines: list[str], index: int) -> list[_Paragraph]:
    """A part label (inline when it ends with a colon, else on its own line) and its text, all inside the unit."""
    if label.endswith("："):
        first = _Paragraph([_Segment(label + lines[0], index)], kind="unit")
        return [first] + [_unit_para(line, index) for line in lines[1:]]
    return [_unit_para(label, index)] + [_unit_para(line, index, tight=n == 0) for n, line in enumerate(lines)]


# ---------------------------------------------------------------------------------------------------------------
# Wrappers: furniture, traditional script + pinyin, hard line breaks
# ---------------------------------------------------------------------------------------------------------------

_NAV = (
    "首页 > 新闻中心 > 警务动态",
    "当前位置：首页 > 工作动态 > 网安动态",
    "首页 > 政务公开 > 通知公告 > 正文",
    "您现在的位置：首页 >> 法治 >> 社会",
    "首页｜机构设置｜政务公开｜办事服务｜互动交流",
)
_TOP = (
    "【字体：大 中 小】",
    "分享到：微信 微博 QQ空间",
    "浏览次数：{hits}",
    "阅读量：{hits}　点赞：{n3}",
    "发布时间：{year}-{month}-{day}　来源：{police}",
    "信息来源：{cac}　发布日期：{year}年{month}月{day}日",
    "**{city}警方**",
)
_INSIDE = (
    "[图片]",
    "![](https://www.example.gov.cn/images/{year}/{n4}.jpg)",
    "![图片](https://img.example.com.cn/news/{n4}.png)",
    "（图片来源：网络）",
    "视频加载中…",
    "[点击查看大图]",
    "扫码关注{city}公安微信公众号",
    "图为民警在现场开展检查。{city}公安供图",
    "▲办案民警清点涉案物品（受访者供图）",
)
_BOTTOM = (
    "上一篇：{city}召开网络安全工作会议",
    "下一篇：关于开展网络安全宣传周活动的通知",
    "【打印本页】　【关闭窗口】",
    "版权所有：{police}　地址：{city}人民路{n2}号",
    "备案号：{province_short}ICP备{n4}号",
    "联系我们 | 网站地图 | 隐私声明",
    "主办单位：{police}　技术支持：{city}信息中心",
    "分享到：微信 微博",
    "编辑：{name}　审核：{name2}",
    "相关新闻",
)


def _furnish(ctx: _Ctx, paragraphs: list[_Paragraph]) -> list[_Paragraph]:
    """Wrap a page in navigation, share buttons and footers, and drop some furniture between unit paragraphs."""
    top = [_filler(ctx.fill(t), kind="furniture") for t in ctx.rng.sample(list(_TOP), ctx.rng.randint(1, 3))]
    result = [_filler(ctx.pick(_NAV), kind="furniture")] + top
    previous: int | None = None
    for paragraph in paragraphs:
        unit = paragraph.unit
        if unit is not None and unit == previous and ctx.rng.random() < 0.25:
            # inside a unit: the span still runs from its first to its last case line
            result.append(_filler(ctx.fill(ctx.pick(_INSIDE)), kind="furniture"))
        elif unit is None and ctx.rng.random() < 0.1:
            result.append(_filler(ctx.fill(ctx.pick(_INSIDE)), kind="furniture"))
        if paragraph.kind == "heading" and paragraph.unit is None and ctx.rng.random() < 0.4:
            paragraph = _Paragraph([_Segment(f"**{s.text}**", s.unit) for s in paragraph.segments], "heading")
        result.append(paragraph)
        previous = unit
    bottom = ctx.rng.sample(list(_BOTTOM), ctx.rng.randint(2, 5))
    province_short = ctx.pick(("京", "沪", "浙", "粤", "苏", "川", "鲁", "豫"))
    result += [_filler(ctx.fill(t.replace("{province_short}", province_short)), kind="furniture") for t in bottom]
    return result


# Pinyin with tone marks for common characters in bulletins; mirror sites gloss some characters this way.
_PINYIN = {
    "现": "xiàn", "处": "chù", "发": "fā", "网": "wǎng", "公": "gōng", "安": "ān", "罚": "fá", "款": "kuǎn",
    "警": "jǐng", "查": "chá", "案": "àn", "法": "fǎ", "某": "mǒu", "对": "duì", "依": "yī", "规": "guī",
    "定": "dìng", "信": "xìn", "息": "xī", "责": "zé", "令": "lìng", "改": "gǎi", "正": "zhèng", "拘": "jū",
    "留": "liú", "违": "wéi", "行": "xíng", "为": "wéi", "民": "mín", "局": "jú", "该": "gāi", "经": "jīng",
    "据": "jù", "给": "gěi", "予": "yǔ", "站": "zhàn", "络": "luò", "个": "gè", "人": "rén", "户": "hù",
    "数": "shù", "犯": "fàn", "罪": "zuì", "判": "pàn", "刑": "xíng", "号": "hào", "万": "wàn",
    "元": "yuán", "日": "rì", "月": "yuè", "年": "nián", "市": "shì", "县": "xiàn", "区": "qū", "司": "sī",
}  # fmt: skip
_PINYIN_RATE = 0.08
_GLOSS_AHEAD = re.compile(r"[(（][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]")


@functools.cache
def _converter(config: str) -> Callable[[str], str]:
    """An opencc ``convert``, built once: building a converter reads its dictionaries (tens of milliseconds)."""
    import opencc  # local import: only the traditional layout needs it

    return opencc.OpenCC(config).convert


@functools.cache
def _traditional_pinyin() -> dict[str, str]:
    convert = _converter("s2t")
    return {convert(char): sound for char, sound in _PINYIN.items()} | _PINYIN


def to_mirror_script(
    text: str, rng: random.Random, traditional: bool = True, pinyin_rate: float = _PINYIN_RATE
) -> str:
    """Text as a traditional mirror site renders it: traditional script, pinyin glosses after some characters.

    Args:
        text: simplified text.
        rng: the random generator drawing which characters get a gloss (one draw per glossable character).
        traditional: convert to traditional script (OpenCC ``s2t``); ``False`` keeps the script and only glosses.
        pinyin_rate: chance that a character with a known reading gets a ``(xiàn)`` gloss after it.

    Returns:
        The rendered text; ``data.normalize.normalize`` undoes both (t2s, glosses dropped).
    """
    table = _traditional_pinyin()
    converted = _converter("s2t")(text) if traditional else text
    out = []
    for index, char in enumerate(converted):
        out.append(char)
        # a character the text already glosses (a mirror's copy) gets no second gloss: no page has "發(fā)(fā)"
        if char in table and rng.random() < pinyin_rate and not _GLOSS_AHEAD.match(converted, index + 1):
            out.append(f"({table[char]})")
    return "".join(out)


def _to_traditional(ctx: _Ctx, paragraphs: list[_Paragraph]) -> None:
    """Convert every segment to traditional script and gloss some characters with pinyin, in place.

    Segments are converted one by one, so no phrase straddles a unit boundary and spans stay exact.
    """
    for paragraph in paragraphs:
        for segment in paragraph.segments:
            segment.text = to_mirror_script(segment.text, ctx.rng)


def _break_lines(ctx: _Ctx, paragraphs: list[_Paragraph]) -> None:
    """Insert hard line breaks every 20–40 characters, mid-sentence, as PDF and page copies have them; in place."""
    for paragraph in paragraphs:
        width = ctx.rng.randint(20, 40)
        run = 0
        total = sum(len(s.text) for s in paragraph.segments)
        seen = 0
        for segment in paragraph.segments:
            out = []
            for char in segment.text:
                out.append(char)
                seen += 1
                run = 0 if char == "\n" else run + 1
                if run >= width and seen < total and not char.isspace():
                    out.append("\n")
                    run = 0
                    width = ctx.rng.randint(20, 40)
            segment.text = "".join(out)


# ---------------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------------

_CONTENT: dict[str, Callable[[_Ctx, list[_Unit]], list[_Paragraph]]] = {
    "numbered_list": _layout_numbered_list,
    "commentary_list": _layout_commentary_list,
    "news_story": _layout_news_story,
    "roundup_paragraph": _layout_roundup_paragraph,
    "qa": _layout_qa,
    "stats_only": _layout_stats_only,
    "tips_only": _layout_tips_only,
    "summary_then_full": _layout_summary_then_full,
    "court_release": _layout_court_release,
}
# how many units each content layout draws: (fewest, most)
_UNITS_PER_PAGE = {
    "numbered_list": (2, 10),
    "commentary_list": (2, 5),
    "news_story": (1, 1),
    "roundup_paragraph": (2, 6),
    "qa": (1, 2),
    "stats_only": (0, 0),
    "tips_only": (0, 0),
    "summary_then_full": (1, 1),
    "court_release": (1, 4),
}
_SEPARATORS = ("\n", "\n", "\n\n", "\n\n", "\n\n\n", "\n　\n")
_INDENTS = ("", "", "", "　　", "  ", "    ")


def _draw_units(ctx: _Ctx, layout: str, units: list[_Unit]) -> list[_Unit]:
    low, high = _UNITS_PER_PAGE[layout]
    if high == 0:
        return []
    pool = units
    if layout == "roundup_paragraph":
        pool = _short_units(units) or units
    count = ctx.rng.randint(low, high)
    if count <= len(pool):
        return ctx.rng.sample(pool, count)
    return [ctx.rng.choice(pool) for _ in range(count)]


def _render_page(layout: str, units: list[_Unit], rng: random.Random) -> tuple[str, tuple[tuple[int, int], ...]]:
    ctx = _Ctx(
        rng=rng,
        separator=rng.choice(_SEPARATORS),
        indent=rng.choice(_INDENTS),
        fullwidth=rng.random() < 0.25,
    )
    content = rng.choice(CONTENT_LAYOUTS) if layout in WRAPPER_LAYOUTS else layout
    if layout == "line_broken" and ctx.separator == "\n" and rng.random() < 0.7:
        ctx.separator = "\n\n"  # PDF copies usually keep a blank line between paragraphs
    paragraphs = _CONTENT[content](ctx, _draw_units(ctx, content, units))
    if layout == "page_furniture" or (layout in WRAPPER_LAYOUTS and rng.random() < 0.3):
        paragraphs = _furnish(ctx, paragraphs)
    if layout == "traditional_mirror":
        _to_traditional(ctx, paragraphs)
    if layout == "line_broken":
        _break_lines(ctx, paragraphs)
    return _render(ctx, paragraphs)


def fullwidth_digits(text: str) -> str:
    """Digits in full width (``５万元``), as a quarter of the rendered pages print them."""
    return text.translate(_FULLWIDTH)


# Furniture that lands inside a case on real pages: image captions and placeholders, follow prompts (_INSIDE), and
# the font-size, share and read-count bars (the first four of _TOP) that some sites repeat above every picture.
_INSIDE_UNIT = _INSIDE + _TOP[:4]


def furniture_line(rng: random.Random) -> str:
    """One line of page furniture as pages put it between the paragraphs of a case (slots filled from ``rng``)."""
    ctx = _Ctx(rng=rng)
    return ctx.fill(ctx.pick(_INSIDE_UNIT))


def story_background(text: str, rng: random.Random, sentences: tuple[int, int] = (2, 4)) -> str:
    """Generic context a news story puts before a case's conduct: dateline and lead, background, perhaps a quote.

    Args:
        text: the case text; its topic (``网络谣言``, ``电信网络诈骗``, ...) is read off its words, as headlines are.
        rng: fills the templates' slots and picks them.
        sentences: how many background and quote sentences follow the lead, inclusive range.

    Returns:
        One paragraph of authored filler; it names no penalty of the case (statistics sentences are left out: their
        罚款 and 责令整改 would be cues that belong to other cases).
    """
    ctx = _Ctx(rng=rng)
    topic = _topic(_Unit(title=None, paragraphs=(text,)))
    parts = [ctx.fill(ctx.pick(_DATELINES) + ctx.pick(_STORY_LEADS).replace("{topic}", topic))]
    pool = [t.replace("{topic}", topic) for t in _BACKGROUNDS] + list(_QUOTES)
    count = min(rng.randint(*sentences), len(pool))
    parts += [ctx.fill(template) for template in rng.sample(pool, count)]
    return "".join(parts)


def split_unit_head(text: str) -> tuple[str, str]:
    """The case-number heading and title line that open a unit (either may be absent), and the rest.

    ``"案例二：\n某公司未备案案\n经查，……"`` → ``("案例二：\n某公司未备案案\n", "经查，……")``; a heading written inline
    (``"一、某公司……"``) gives ``("一、", "某公司……")``.
    """
    match = _CASE_HEADING.match(text)
    end = match.end() if match else 0
    first, newline, _ = text[end:].partition("\n")
    if newline and first.strip() and _is_title(first.strip(" 　\t")):
        end += len(first) + 1
    return text[:end], text[end:]


def render_bulletins(
    units: Sequence[str], count: int, seed: int, layouts: Sequence[str] = LAYOUTS
) -> list[RenderedBulletin]:
    """Render ``count`` synthetic pages with exact gold case-unit spans.

    Layouts are drawn round-robin from ``layouts`` (so a small ``count`` still covers each); each page has its own
    random generator seeded from ``seed`` and its index, so page ``i`` is the same whatever ``count`` is.

    Args:
        units: case-unit texts, e.g. from ``corpus_unit_texts()``; a leading case-number heading is stripped and
            replaced by the layout's own numbering, a title line is kept.
        count: number of pages.
        seed: the seed; the same seed gives the same pages.
        layouts: names from ``LAYOUTS``.

    Returns:
        ``count`` pages, in order.

    Raises:
        ValueError: for an unknown layout, a negative count, or no usable unit when a layout needs one.
    """
    unknown = [name for name in layouts if name not in LAYOUTS]
    if unknown or not layouts:
        raise ValueError(f"unknown layouts {unknown or list(layouts)}; known: {list(LAYOUTS)}")
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    parsed = [unit for unit in map(_parse_unit, units) if unit is not None]
    if not parsed and any(name not in NO_CASE_LAYOUTS for name in layouts):
        raise ValueError(f"no usable unit text among {len(units)} units; layouts {list(layouts)} need some")
    pages = []
    for number in range(count):
        layout = layouts[number % len(layouts)]
        text, spans = _render_page(layout, parsed, random.Random(seed * 1_000_003 + number))
        pages.append(RenderedBulletin(name=f"layout-{layout}-{number:04d}", text=text, spans=spans, layout=layout))
    return pages


def corpus_unit_texts(directory: str | Path | None = None) -> list[str]:
    """The case-unit texts (gold ``text``) of every ``*.jsonl`` in ``directory``, sorted by file name.

    Args:
        directory: an annotated directory; the built authored corpus (``data/corpus/bulletins``) by default.

    Raises:
        InputError: when the directory holds no ``*.jsonl`` (for the corpus: run ``make corpus`` first).
    """
    folder = Path(directory) if directory is not None else BUILD_DIR
    paths = sorted(folder.glob("*.jsonl"))
    if not paths:
        raise InputError(f"no *.jsonl gold files in {folder}; build the corpus with: make corpus")
    texts = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts
