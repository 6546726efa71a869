"""Find the case units of a bulletin (spec: labels.md, "case unit"), with transparent rules.

Pipeline, one small step each:

1. ``normalize`` the text (simplified script, ASCII digits, no pinyin glosses) and keep the offset map.
2. Cut the body into lines; split lines that carry several numbered cases inline (``。2、…``, ``——…``).
3. Classify every line: case heading, ``…案`` title, case-part heading (基本案情), commentary or closing marker
   (【法官说法】, 警方提醒), statute text, caption, navigation, short headline, or body.
4. Join lines broken in mid-word (``行政拘`` / ``留``) into paragraphs.
5. If the bulletin numbers its cases, the chosen heading style cuts it into blocks; a block is a case when it shows
   conduct (a ``…案`` title with text below, or an offender with conduct or disposal).
6. Otherwise sentences are grouped: a unit opens at a sentence naming an offender with conduct, continues over
   sentences that refer back to it (经查, 目前, 该公司, the same names) and a new unit starts where a sentence or
   paragraph introduces a new offender with its own disposal (labels.md: split at ``。``/``；``).

All offsets are computed on the normalised text and mapped back, so ``unit.text == text[unit.start:unit.end]``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from data.normalize import NormalizedText, normalize
from data.types import CaseUnit

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------------------------
# Cue words. Matching runs on the normalised (simplified) text, so every list is in simplified script.
# ---------------------------------------------------------------------------------------------------------------

# Disposal: what an authority did to the offender. A case unit ends with (or is announced by) one of these; a
# paragraph without any of them cannot complete a case (labels.md: a case has conduct and disposal).
DISPOSAL_CUES = (
    "处以", "处罚", "罚款", "警告", "拘留", "刑拘", "逮捕", "判处", "判决", "宣判", "有期徒刑", "拘役", "罚金", "缓刑",
    "约谈", "责令", "关闭", "关停", "停机整顿", "停业整顿", "暂停", "吊销", "注销", "下架", "封禁", "封停", "禁言",
    "没收", "抓获", "抓捕", "归案", "到案", "落网", "破获", "侦破", "捣毁", "摧毁", "打掉", "立案侦查", "取保候审",
    "监视居住", "起诉", "公诉", "强制措施", "移送", "羁押", "查处", "查获", "予以", "给予", "追究", "依法处理",
    "批评教育", "训诫", "整改", "定罪", "追缴", "收缴",
)

# Conduct: what the offender did, or how it was found out. Used with an offender to recognise the opening of a case
# that is cut off before its disposal (labels.md: such a unit is still a case, with complete=false).
CONDUCT_CUES = (
    "经查", "查明", "发现", "违反", "未按", "未落实", "未履行", "未建立", "未采取", "未经", "未取得", "未向", "未对",
    "未核", "未登记", "未备案", "未开展", "未制定", "未及时", "非法", "利用", "涉嫌", "编造", "散布", "传播", "发布",
    "出售", "贩卖", "倒卖", "售卖", "购买", "收购", "收集", "泄露", "窃取", "获取", "入侵", "攻击", "篡改", "植入",
    "诈骗", "赌博", "赌场", "淫秽", "色情", "谣言", "虚假", "不实", "冒充", "开设", "组织", "制作", "销售", "租用",
    "搭建", "侵犯", "帮助", "提供", "存在", "漏洞", "翻墙", "代理", "水军", "删帖", "敲诈", "勒索", "辱骂", "侮辱",
    "报案", "举报", "报警", "接报", "破坏", "控制", "盗取", "作弊", "偷拍", "窃听", "洗钱", "跑分", "出租", "出借",
)

# A sentence that starts like this refers back to the case being told (labels.md: one case may span paragraphs).
CONTINUATION_STARTS = (
    "经查", "经审查", "经审讯", "经讯问", "经调查", "经侦查", "经鉴定", "经核实", "经初查", "经审理", "经突审", "经检查",
    "经过", "经民警", "经公安", "经法院", "经检察", "目前", "截至", "截止", "接报后", "接警后", "案发后", "随后", "此后",
    "之后", "后经", "后又", "后来", "同时", "据了解", "据交代", "据介绍", "该", "上述", "此案", "本案", "该案", "其",
    "对其", "对该", "对上述", "民警", "办案民警", "专案组", "警方随即", "顺藤摸瓜", "进一步", "在此基础上", "最终",
    "依据", "根据", "鉴于", "针对", "对此", "为此", "但", "然而", "这", "此外还", "另查明", "当天", "次日", "当晚",
    "期间", "其间", "与此同时", "法院审理", "法院认为", "法院经审理", "检察机关", "公诉机关", "被告人", "案件",
    "查明案情后", "到案后", "归案后", "民警随即", "民警立即", "办案民警立即", "获得此情况后", "掌握", "初步掌握",
)

# Words in the first clause of a paragraph that tie it to the case already being told even when it names new people
# (police tracing accomplices of the same case): "南通警方顺藤摸瓜…先后抓获周某".
CONTINUATION_ANYWHERE = ("顺藤摸瓜", "深挖", "循线", "涉案", "此次", "该案", "此案", "本案", "上述", "该团伙",
                         "该犯罪团伙", "同案", "落网")

# Anaphora: "该公司" names no new offender; it continues the case that introduced the company.
_ANAPHORA = re.compile(
    r"(?:该|上述|这家|此)(?:公司|单位|企业|网站|平台|APP|App|app|医院|学校|中学|小学|学院|团伙|犯罪团伙|男子|女子|网民|"
    r"嫌疑人|犯罪嫌疑人|店|店铺|网吧|机构|运营商|主播|账号|帐号|群|用户|局|中心|银行|酒店|宾馆|软件|程序|视频|网店|"
    r"论坛|公众号|工作室|人员|人|案|名|三人|两人|二人)"
)

# Verbs by which an authority announces a case it handled; "<agency> 侦破一起…案" opens a new case even inside a
# paragraph that already told another (labels.md: several cases narrated in one paragraph are split).
_AGENCY = (
    r"(?:公安局|公安分局|分局|公安机关|公安厅|警方|派出所|网安支队|网安大队|网安总队|网安部门|网警支队|网警大队|"
    r"网警部门|网信办|网信部门|法院|检察院|检察机关|市场监管局|刑警大队|刑侦大队|治安大队|专案组)"
)
_ANNOUNCE_VERBS = r"(?:侦破|破获|查处|查获|打掉|捣毁|办理|侦办|审理|审结|判决|宣判|查明|发现|通报|抓获|依法)"
_STRONG_START = re.compile(
    rf"^(?:此外|另外|同时|另)?[，,]?(?:在[^，,。]{{1,20}}方面[，,])?(?:(?:\d{{4}}年)?\d{{1,2}}月(?:\d{{1,2}}日)?[，,]?)?"
    rf"[\u4e00-\u9fff]{{0,16}}{_AGENCY}[^，,。；;]{{0,12}}{_ANNOUNCE_VERBS}"
)
_ONE_CASE = re.compile(r"(?:一起|一个|首起|一宗|一批)")

# A concrete investigation is under way even when the offender is not named yet ("以…为线索…成立专案组").
_INVESTIGATION = re.compile(r"发现|查明|接到|接报|报案|报警|线索|侦办|侦查|立案|专案组|抓捕行动")

# A paragraph that announces a list of cases ("现将典型案例通报如下：", "还查处了以下情况：").
_LIST_INTRO = re.compile(r"(?:如下|以下|下列)[^，。,；;]{0,8}[：:]$|[：:]$")

# Statistics and leads: aggregate words with several counts and no named offender ("共侦破…案件93起，抓获…1398名").
_AGGREGATE = re.compile(r"共|累计|总计|合计|全年|以来|截至目前|先后|期间|期内|一批|各类|各地|全省|全市|全国|全区")
_COUNT = re.compile(r"\d+(?:\.\d+)?(?:万|亿)?余?(?:起|人|名|家|条|个|次|份|批|件|部|张|款|家次|人次|余起)")
# A list of several quoted case names is a summary ("破获了“A案”、“B案”等一批大案"), not a case.
_CASE_NAME_LIST = re.compile(r"“[^”]{2,40}案”[、，,]\s*“[^”]{2,40}案”")

# Offenders. Surnames (common ones) keep "对某公司" or "市某银行" from being read as a person called 对某.
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟"
    "谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安"
    "齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛"
    "靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝矦"
)
# Surname characters that are also everyday words ("向某公司反映", "于某日"): before an organisation noun they start a
# 某-entity, not a person.
_AMBIGUOUS_SURNAMES = "向于和应时明全关成高方文安江路金石华常车谷商师农宁司古吉景党宫费卜冷席卫米柏宗桂边单季"
_PERSON = re.compile(rf"([{_SURNAMES}])(某{{1,2}})")
_ORG_NOUN = (
    r"(?:有限公司|公司|集团|企业|单位|网站|平台|医院|学校|中学|小学|学院|大学|银行|网吧|宾馆|酒店|APP|App|app|论坛|"
    r"工作室|机构|店|馆|厂|协会|合作社|账号|帐号|公众号|小程序|软件|社区|中心|局|运营商|营业厅|代办点|直播间|主播|"
    r"博主|网民|男子|女子|居民|村民|人员|商家|网店|群|团伙|物业|代理商)"
)
_MOU_BODY = rf"某(?!某|些|种|日|时|地|天|月|年|段|处|方面)(?:(?!某)\w){{0,10}}?{_ORG_NOUN}"
_MOU_AFTER = re.compile(_MOU_BODY)
_UNAMBIGUOUS_SURNAMES = "".join(c for c in _SURNAMES if c not in _AMBIGUOUS_SURNAMES)
_MOU_ENTITY = re.compile(rf"(?<![{_UNAMBIGUOUS_SURNAMES}某该]){_MOU_BODY}")
_COMPANY = re.compile(r"[\u4e00-\u9fff]{2,16}?(?:有限公司|股份公司|集团|学院|大学|委员会|工委)")
_QUOTED_NAME = re.compile(
    r"“([^”]{2,20})”(?=\s*(?:网站|APP|App|app|平台|账号|帐号|公众号|群|直播|论坛|软件|工作室|小程序|号|等))"
    r"|(?<=”)“([^”]{2,20})”|“([^”]{2,20})”(?=“)"
    r"|(?:主播|网站|账号|帐号|公众号|平台|APP|App|博主|网民|群|论坛|微博|抖音号|快手号|视频号|网名|昵称)为?“([^”]{2,20})”"
)
_INDEFINITE = re.compile(rf"一(?:名|家|个|位|所|间|款|户)?[^，,。；;]{{0,10}}?(?:{_ORG_NOUN}|者”?)")
_ROLE = re.compile(r"犯罪嫌疑人|违法嫌疑人|嫌疑人|被告人|违法行为人|当事人|被告单位|涉案人员|运营者|经营者|负责人")
# Quoted names of enforcement campaigns ("“净网2020”专项行动") name no offender.
_CAMPAIGN = re.compile(r"专项|行动|系列|活动|集中|主题|工作")
# Generic subjects: "一些不法分子" is the topic of a lead or a warning, never a case's offender.
_GENERIC = re.compile(r"一些|一批|个别|不法分子|犯罪分子|广大|群众|各地|各级|全国")

# ---------------------------------------------------------------------------------------------------------------
# Line patterns.
# ---------------------------------------------------------------------------------------------------------------

_CN_DIGITS = "一二三四五六七八九十百零〇两"
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
    ("cn_bare", re.compile(rf"^([{_CN_DIGITS}]{{1,3}})$")),
    ("dash", re.compile(r"^(?:——|--|—)\s*(\S.*)$")),
)
_STRONG_STYLES = ("bracket_case", "case_word", "ordinal")
# Inline markers: a numbered case that starts right after a sentence end in the same line ("…改正。2、2023年…").
_INLINE_MARKERS = (
    ("num_dot", re.compile(r"(?<=[。；;！？!?])\s*(\d{1,2})(?:、|[.．](?=[^\d\s]))")),
    ("cn_dun", re.compile(rf"(?<=[。；;！？!?])\s*([{_CN_DIGITS}]{{1,3}})、")),
    ("case_word", re.compile(rf"(?<=[。；;！？!?])\s*案例\s*([{_CN_DIGITS}\d]+)[:：、，,\s]")),
    ("dash", re.compile(r"(?:(?<=[。；;！？!?:：])|(?<=[。；;！？!?:：]\s)|(?<=\s\s))\s*——(?=\S)")),
)

# Case-part headings inside one case (a court release's 基本案情 / 裁判结果): they never start a new unit.
_PART_NAMES = (
    "基本案情", "简要案情", "案情简介", "案情回顾", "案情概要", "案件情况", "案件经过", "案件概况", "案情", "案件简介",
    "调查处理", "处理情况", "处理结果", "查处情况", "处罚结果", "处罚情况", "处罚决定", "裁判结果", "判决结果", "法院判决",
    "审理结果", "审判结果", "诉讼过程", "检察履职情况", "履职情况", "办理结果", "侦破经过", "办案经过", "处置情况",
)
_PART_LINE = re.compile(
    rf"^(?:[（(【]?[{_CN_DIGITS}\d]+[）)】、.．]?\s*)?【?(?:{'|'.join(_PART_NAMES)})】?\s*[:：]?$"
)

# Commentary and closing markers: a case ends before them (labels.md: commentary after a case is not a case).
_COMMENTARY_NAMES = (
    "法官说法", "法官提醒", "法官点评", "检察官说法", "检察官提醒", "法条链接", "法律链接", "相关法条", "相关法律", "法律规定",
    "法律依据", "典型意义", "案例评析", "案件评析", "专家点评", "律师说法", "以案说法", "以案释法", "警方提醒", "警方提示",
    "警方说法", "警示意义", "警示", "安全提示", "风险提示", "温馨提示", "网警提示", "网警提醒", "网警普法", "网警说法",
    "普法小课堂", "小贴士", "延伸阅读", "相关阅读", "相关新闻", "相关链接", "链接", "提醒", "编后", "点评", "评析", "说法",
)
_COMMENTARY_LINE = re.compile(rf"^【?(?:{'|'.join(_COMMENTARY_NAMES)})】?\s*(?:[:：]|$|\s)")
_CLOSING_LINE = re.compile(r"^[^，。,：:；;]{1,16}(?:提醒|提示|表示|呼吁|希望|建议|强调|倡议)(?:广大[^，。]{0,8})?[：:，,]")
_SUMMARY_CLOSE = re.compile(r"^(?:以上|上述)[^，。]{0,12}(?:处罚|决定|案例|案件)")
_STATUTE_LINE = re.compile(
    rf"^(?:《[^》]{{2,40}}》?\s*)?第[{_CN_DIGITS}\d]+(?:章|条)(?:第[{_CN_DIGITS}\d]+[款项])*(?:\s|[:：]|$)"
    rf"|^《[^》]{{2,40}}》\s*$|^[^《]{{0,4}}》\s*$"
)
# Law text quoted after a case ("…的，由有关主管部门责令改正"): it names what the law allows, not what was done.
_LAW_TEXT = re.compile(
    r"规定[:：]|的[，,](?:由|处|对|可以|并处)|以上[\d一二三四五六七八九十百千万]+[万元年日]*以下|应当|不得|并处或者单处"
)
_NAV_LINE = re.compile(
    r"^(?:来源|作者|编辑|责任编辑|责编|审核|校对|发布时间|发布日期|发表于|时间|字号|分享到|原标题|关键词|关键字|标签|声明|"
    r"原文链接|原文|转载|本文来源|版权|Copyright|copyright|©|【打印|【关闭|打印本页|关闭窗口|上一篇|下一篇|返回|扫一扫|"
    r"阅读|点击|热门资讯|最新图文|相关阅读|相关新闻)"
    r"|首页\s*[>»/]|当前位置|您的位置|您当前的位置|所在的位置|位置\s*[:：]|\s[>»]\s|阅读量|浏览次数|Author:|All Rights Reserved"
)
_CAPTION_LINE = re.compile(
    r"^图\s*\d*\s*[（(：:为]|^图\d+$|^[（(]?(?:资料图片|图片来源|供图|网络图片|图源)|(?:摄|供图|图)[)）]?$|^▲|^△|"
    r"^!\[|^\[图"
)
_DATELINE = re.compile(r"^(?:本报讯|本报[\u4e00-\u9fff]{0,6}\d{1,2}月\d{1,2}日电|[\u4e00-\u9fff]{2,10}(?:讯|电)[（( ]|"
                       r"新华社[\u4e00-\u9fff]{0,6}\d{1,2}月\d{1,2}日电|[\u4e00-\u9fff]{2,12}\d{1,2}月\d{1,2}日(?:讯|电))")
_TITLE_END = re.compile(r"(?:案|案件|一案)\s*[。”\"）)]?\s*$")
_SENTENCE_END = "。！？!?；;…"
_TERMINAL = _SENTENCE_END + "：:”」』）)】]"

MAX_TITLE_CHARS = 70  # a "…案" title longer than this is a sentence that happens to end in 案
MAX_SHORT_CHARS = 40  # headline or section line without sentence punctuation
EARLY_OFFENDER_CHARS = 32  # a new case names its offender near the start of its paragraph
SUBJECT_OFFENDER_CHARS = 10  # ... right at the start when the case before it named nobody to compare with
MIN_CASE_CHARS = 12  # below this a unit is a fragment (labels.md: "7.张某某")


# ---------------------------------------------------------------------------------------------------------------
# Lines and paragraphs.
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class _Line:
    """One line (or inline piece) of the normalised body; offsets are into the normalised text."""

    start: int
    end: int
    text: str
    kind: str = "body"  # heading, title, part, commentary, closing, statute, nav, caption, short, body
    style: str = ""
    number: int = 0
    rest: str = ""


@dataclass
class _Paragraph:
    """Lines joined where a sentence was broken across them."""

    lines: list[_Line]

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


@dataclass
class _Unit:
    """A unit being built: normalised span, the names it introduced and whether a disposal was seen."""

    start: int
    end: int
    names: set[str] = field(default_factory=set)
    complete: bool = False


def _chinese_number(token: str) -> int:
    """Parse 1-99 written as digits or Chinese numerals (一, 十二, 二十三); 0 when it is not a number."""
    if token.isdigit():
        return int(token)
    circled = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
    if token in circled:
        return circled.index(token) + 1
    digits = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
    if "百" in token:
        return 0
    if "十" in token:
        tens, _, ones = token.partition("十")
        value = (digits.get(tens, 0) if tens else 1) * 10 + (digits.get(ones, 0) if ones else 0)
        return value if all(c in digits for c in tens + ones) else 0
    if len(token) == 1 and token in digits:
        return digits[token]
    return 0


def _split_lines(text: str, start: int) -> list[_Line]:
    """Non-empty lines of ``text[start:]``, stripped, with their normalised offsets."""
    lines = []
    position = start
    for raw in text[start:].split("\n"):
        stripped = raw.strip()
        if stripped:
            offset = position + (len(raw) - len(raw.lstrip()))
            lines.append(_Line(offset, offset + len(stripped), stripped))
        position += len(raw) + 1
    return lines


def _inline_cuts(line: _Line, last_numbers: dict[str, int]) -> list[int]:
    """Positions inside ``line.text`` where an inline numbered case starts ("…改正。2、2023年…").

    A numbered marker counts only when it continues the numbering so far (``last_numbers``, per style, updated here),
    so "第1、2条" or a stray "3." inside a sentence does not split; dash bullets (——) count when a line has two.
    """
    heading = _match_heading(line.text)
    if heading is not None and heading[0] != "dash":
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


def _split_inline(lines: list[_Line]) -> list[_Line]:
    pieces = []
    last_numbers: dict[str, int] = {}
    for line in lines:
        cuts = _inline_cuts(line, last_numbers)
        bounds = [0, *cuts, len(line.text)]
        for left, right in zip(bounds, bounds[1:]):
            piece = line.text[left:right]
            stripped = piece.strip()
            if stripped:
                offset = line.start + left + (len(piece) - len(piece.lstrip()))
                pieces.append(_Line(offset, offset + len(stripped), stripped))
    return pieces


def _match_heading(text: str) -> tuple[str, int, str] | None:
    """``(style, number, rest)`` when the line opens with a case-number marker."""
    body = _BULLET.sub("", text).strip().strip("*").strip()
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


def _is_title(text: str) -> bool:
    """A "…案" title line: short, ends in 案, and is not a sentence."""
    body = text.strip().strip("*").strip()
    if not 5 <= len(body) <= MAX_TITLE_CHARS or not _TITLE_END.search(body):
        return False
    inner = body.rstrip("。”\"）) ")
    return not re.search(r"[。；;！？!?]", inner) and inner.count("，") + inner.count(",") <= 1


def _classify(line: _Line) -> _Line:
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
    elif _NAV_LINE.search(text) and len(text) < 120:
        line.kind = "nav"
    elif _STATUTE_LINE.match(text):
        line.kind = "statute"
    elif _CAPTION_LINE.search(text) and not _has_any(text, DISPOSAL_CUES[:20]) and len(text) < 80:
        line.kind = "caption"
    elif _CLOSING_LINE.match(text) or _SUMMARY_CLOSE.match(text):
        line.kind = "closing"
    elif _is_title(text):
        line.kind = "title"
    elif len(text) <= MAX_SHORT_CHARS and not re.search(r"[。；;！？!?，,]", text):
        line.kind = "short"
    return line


def _is_broken(previous: _Line, line: _Line) -> bool:
    """Whether ``line`` continues a sentence that ``previous`` broke off mid-word (``行政拘`` / ``留。``)."""
    if previous.kind != "body" or line.kind not in ("body", "short", "title", "caption"):
        return False
    if previous.text[-1] in _TERMINAL:
        return False
    # a body line cut off without punctuation: it must look like prose (has a comma or is long) to be a broken line
    return bool(re.search(r"[，,、]", previous.text)) or len(previous.text) > MAX_SHORT_CHARS


def _paragraphs(lines: list[_Line]) -> list[_Paragraph]:
    paragraphs: list[_Paragraph] = []
    for line in lines:
        if paragraphs and _is_broken(paragraphs[-1].lines[-1], line):
            line.kind = "body"
            paragraphs[-1].lines.append(line)
        else:
            paragraphs.append(_Paragraph([line]))
    return paragraphs


# ---------------------------------------------------------------------------------------------------------------
# Sentence features.
# ---------------------------------------------------------------------------------------------------------------


def _has_any(text: str, cues: tuple[str, ...]) -> bool:
    return any(cue in text for cue in cues)


def _compact(text: str) -> str:
    """Text without whitespace, so cues match across a mid-word line break."""
    return re.sub(r"\s+", "", text)


def _names(text: str) -> list[str]:
    """Offender names in order of appearance: persons (张某), 某-entities, named companies, quoted site names."""
    found: list[tuple[int, str]] = []
    found += [(m.start(), m.group()) for m in _persons(text)]
    found += [(m.start(), m.group()) for m in _MOU_ENTITY.finditer(text)]
    found += [(m.start(), m.group()) for m in _COMPANY.finditer(text) if "某" not in m.group() and "该" not in m.group()]
    found += [(m.start(), next(g for g in m.groups() if g)) for m in _QUOTED_NAME.finditer(text)
              if not _CAMPAIGN.match(text, _end_of_quote_run(text, m.end()))]
    return [name for _, name in sorted(found)]


def _end_of_quote_run(text: str, position: int) -> int:
    """Index after a run of adjacent quoted names and a trailing 等 ("“净网”“清朗”等")."""
    while True:
        match = re.compile(r"\s*“[^”]{0,20}”").match(text, position)
        if not match:
            break
        position = match.end()
    return position + 1 if text.startswith("等", position) else position


def _persons(text: str) -> list[re.Match[str]]:
    """Person names such as 张某 / 吴某某 (a given-name character after 某 is not kept: 刘某龙 → 刘某)."""
    persons = []
    for match in _PERSON.finditer(text):
        if match.group(1) in _AMBIGUOUS_SURNAMES and _MOU_AFTER.match(text, match.start(2)):
            continue
        persons.append(match)
    return persons


def _first_offender_position(text: str) -> int:
    """Where the first offender mention (name, entity, indefinite "一家…公司" or role word) starts; -1 if none."""
    positions = [m.start() for pattern in (_MOU_ENTITY, _INDEFINITE, _ROLE) for m in [pattern.search(text)] if m]
    positions += [m.start() for m in _persons(text)[:1]]
    positions += [m.start() for m in [_COMPANY.search(text)] if m and "该" not in m.group()]
    positions += [m.start() for m in [_QUOTED_NAME.search(text)] if m]
    return min(positions) if positions else -1


def _has_offender(text: str) -> bool:
    return _first_offender_position(text) >= 0


def _is_stats(text: str) -> bool:
    """Aggregate figures without a named offender: a lead or statistics sentence, not a case."""
    if _names(text):
        return False
    counts = len(_COUNT.findall(text))
    return (counts >= 2 and bool(_AGGREGATE.search(text))) or counts >= 3 or bool(re.search(r"\d{2,}起", text))


def _is_summary(text: str) -> bool:
    return bool(_CASE_NAME_LIST.search(text))


def _is_generic(text: str) -> bool:
    """The only "offender" is generic (一些不法分子, 一批网站): a lead, a warning or a policy sentence."""
    if _LAW_TEXT.search(text):
        return True
    if _names(text):
        return False
    return bool(_GENERIC.search(text))


def _opens_case(text: str) -> bool:
    """A sentence that can open a case: an offender (or a discovery) with conduct or disposal, not a lead."""
    compact = _compact(text)
    if _is_stats(compact) or _is_summary(compact) or _is_generic(compact):
        return False
    offender = _has_offender(compact) or bool(_INVESTIGATION.search(compact))
    return offender and (_has_any(compact, CONDUCT_CUES) or _has_any(compact, DISPOSAL_CUES))


def _starts_as_continuation(text: str) -> bool:
    """The sentence opens like the next step of the case being told (经查, 目前, 民警…, 该公司…)."""
    return _compact(text).startswith(CONTINUATION_STARTS)


def _refers_back(text: str) -> bool:
    """The first clause points back at the case being told (涉案, 此次, 该公司, 顺藤摸瓜)."""
    first_clause = re.split(r"[，,。；;]", _compact(text), maxsplit=1)[0]
    return _has_any(first_clause, CONTINUATION_ANYWHERE) or bool(_ANAPHORA.search(first_clause))


def _new_names(text: str, known: set[str]) -> list[str]:
    return [name for name in _names(text) if name not in known]


def _introduces_offender(text: str, known: set[str], within: int | None) -> bool:
    """Whether ``text`` introduces an offender not yet seen, starting within ``within`` characters (None: anywhere)."""
    compact = _compact(text)
    names = _names(compact)
    if names and names[0] in known:
        return False
    new = _new_names(compact, known)
    if not new:
        return False
    position = compact.find(new[0])
    return within is None or 0 <= position <= within


def _sentences(paragraph: _Paragraph, text: str) -> list[tuple[int, int]]:
    """Sentence spans (normalised offsets) of a paragraph; a closing quote or bracket stays with its sentence."""
    spans = []
    start = paragraph.start
    pattern = re.compile(rf"[{re.escape(_SENTENCE_END)}]+[”」』）)]*")
    for match in pattern.finditer(text, paragraph.start, paragraph.end):
        spans.append((start, match.end()))
        start = match.end()
    if start < paragraph.end:
        spans.append((start, paragraph.end))
    return [(s, e) for s, e in spans if text[s:e].strip()]


# ---------------------------------------------------------------------------------------------------------------
# Headed bulletins: one block per numbered case.
# ---------------------------------------------------------------------------------------------------------------


def _heading_indices(paragraphs: list[_Paragraph], style: str) -> list[int]:
    return [i for i, p in enumerate(paragraphs) if p.kind == "heading" and p.lines[0].style == style]


def _block_is_case(paragraphs: list[_Paragraph], first: int, last: int) -> bool:
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
    if not body.strip() and not re.search(r"[。；;]", title):
        return False  # a table-of-contents entry or a heading cut off at the end: no text shows the conduct
    if _TITLE_END.search(title) and len(title.strip()) >= 5:
        return True
    text = _compact(title + body)
    if len(text) < MIN_CASE_CHARS:
        return False
    conduct = _has_any(text, CONDUCT_CUES) or _has_any(text, DISPOSAL_CUES)
    return conduct and (_has_offender(text) or len(text) >= 40)


def _block_end(paragraphs: list[_Paragraph], first: int, stop: int) -> int:
    """Last paragraph index of the block opened at ``first`` (exclusive bound ``stop``).

    A block ends at a commentary/closing/statute/navigation line, and once its disposal has been told, at the first
    paragraph that does not continue the case (a headline of the next news item, statistics, a caption).
    """
    last = first
    # only the body tells the disposal ("…侦破…案" in a title does not), but a heading may carry the body inline
    heading_rest = paragraphs[first].lines[0].rest
    disposed = bool(re.search(r"[。；;]", heading_rest)) and _has_any(_compact(heading_rest), DISPOSAL_CUES)
    for index in range(first + 1, stop):
        paragraph = paragraphs[index]
        if paragraph.kind in ("commentary", "closing", "statute", "nav"):
            break
        if paragraph.kind in ("caption",):
            continue
        text = _compact(paragraph.text)
        if disposed and _LIST_INTRO.search(text):
            break  # "此外，还查处了以下情况：" introduces further cases, told without headings
        if disposed and paragraph.kind != "part":
            continues = paragraph.kind == "body" and not _DATELINE.match(text) and not _is_stats(text) and (
                _starts_as_continuation(text) or _has_any(text, DISPOSAL_CUES) or _has_any(text, CONDUCT_CUES)
            )
            if not continues:
                break
        if paragraph.kind in ("body", "part", "title", "heading", "short"):
            last = index
        disposed = disposed or (paragraph.kind == "body" and _has_any(text, DISPOSAL_CUES))
    while last > first and paragraphs[last].kind in ("heading", "caption"):
        last -= 1  # a caption right before the next case belongs to neither
    return last


def _style_blocks(paragraphs: list[_Paragraph], style: str) -> list[tuple[int, int]]:
    """Blocks ``(first, last)`` of one heading style; an other-style heading right before a heading is a section."""
    starts = _heading_indices(paragraphs, style)
    blocks = []
    for position, first in enumerate(starts):
        stop = starts[position + 1] if position + 1 < len(starts) else len(paragraphs)
        # a section heading ("一、网络谣言类") sits right before the next case heading: it ends this block
        while stop < len(paragraphs) and stop - 1 > first and paragraphs[stop - 1].kind in ("heading", "short", "title"):
            stop -= 1
        blocks.append((first, _block_end(paragraphs, first, stop)))
    return blocks


def _choose_style(paragraphs: list[_Paragraph]) -> str | None:
    """The heading style that numbers the cases: the one whose blocks hold the most cases.

    A section style (一、…类 above 1. 2. 3.) loses because its blocks each hold several cases' text but count once.
    """
    best: tuple[int, int, str] | None = None
    styles = {p.lines[0].style for p in paragraphs if p.kind == "heading"}
    for style in styles:
        blocks = _style_blocks(paragraphs, style)
        cases = sum(_block_is_case(paragraphs, first, last) for first, last in blocks)
        numbers = [paragraphs[first].lines[0].number for first, _ in blocks]
        ordered = style == "dash" or all(b == a + 1 for a, b in zip(numbers, numbers[1:]))
        if cases == 0 or (cases == 1 and style not in _STRONG_STYLES and style != "dash"):
            titled = cases == 1 and any(_TITLE_END.search(paragraphs[f].lines[0].rest) for f, _ in blocks)
            if not titled:
                continue
        key = (cases + (1 if ordered else 0), -_heading_indices(paragraphs, style)[0], style)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def _headed_units(paragraphs: list[_Paragraph], style: str, text: str) -> list[tuple[int, int]]:
    """Units of a bulletin that numbers its cases: one per case block (split where a block tells two cases), plus
    unheaded cases after a list intro ("还查处了以下情况：") or in the tail after the last numbered case."""
    blocks = [(f, l) for f, l in _style_blocks(paragraphs, style) if _block_is_case(paragraphs, f, l)]
    spans: list[tuple[int, int]] = []
    covered: set[int] = set()
    for first, last in blocks:
        spans.extend(_split_block(paragraphs, first, last, text))
        covered.update(range(first, last + 1))
    for stretch in _unheaded_stretches(paragraphs, covered, blocks[-1][1] if blocks else len(paragraphs)):
        spans.extend(_unheaded_units(stretch, text, at_document_end=stretch[-1] is paragraphs[-1]))
    return sorted(spans)


def _unheaded_stretches(paragraphs: list[_Paragraph], covered: set[int], last_block: int) -> list[list[_Paragraph]]:
    """Paragraphs outside the case blocks that may still tell cases.

    Two places only, so that leads, commentary and unrelated news around a numbered list are never read as cases:
    after a list intro ending in "：" (up to the next heading), and the tail right after the last numbered case up
    to the first headline, dateline, commentary or closing line (a case told after the list, e.g. "同期，…").
    """
    stretches = []
    for index, paragraph in enumerate(paragraphs):
        if index in covered or paragraph.kind != "body" or not _LIST_INTRO.search(_compact(paragraph.text)):
            continue
        stop = index + 1
        while stop < len(paragraphs) and stop not in covered and paragraphs[stop].kind != "heading":
            stop += 1
        if stop > index + 1:
            stretches.append(paragraphs[index + 1 : stop])
    tail = []
    for paragraph in paragraphs[last_block + 1 :]:
        if paragraph.kind != "body" or _DATELINE.match(paragraph.text):
            break
        tail.append(paragraph)
    if tail and not any(tail[0] is stretch[0] or tail[0] in stretch for stretch in stretches):
        stretches.append(tail)
    return stretches


def _split_block(paragraphs: list[_Paragraph], first: int, last: int, text: str) -> list[tuple[int, int]]:
    """A case block, split only where one paragraph tells a second case with its own offender and disposal."""
    grouper = _Grouper(text, within_block=True)
    heading = paragraphs[first]
    grouper.current = _Unit(heading.start, heading.end, set(_names(_compact(heading.text))), False)
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


def _title_blocks(paragraphs: list[_Paragraph]) -> list[_Paragraph]:
    """Promote unnumbered "…案" title lines to headings when a bulletin uses them as its only case headings."""
    titles = [p for p in paragraphs if p.kind == "title"]
    for paragraph in titles:
        line = paragraph.lines[0]
        line.kind, line.style, line.number, line.rest = "heading", "title", 0, line.text
    return paragraphs


# ---------------------------------------------------------------------------------------------------------------
# Unheaded bulletins: group sentences into cases.
# ---------------------------------------------------------------------------------------------------------------


class _Grouper:
    """Walks paragraphs and sentences, opening, extending and closing units (see module docstring, step 6)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.units: list[_Unit] = []
        self.current: _Unit | None = None
        self.after_break = False  # a headline, section line or caption since the last body paragraph
        self.fresh_paragraph = False  # the paragraph being read opened its own unit (or none was open)

    def close(self) -> None:
        if self.current is not None:
            self.units.append(self.current)
        self.current = None

    def open(self, start: int, end: int, sentence: str) -> None:
        self.close()
        compact = _compact(sentence)
        self.current = _Unit(start, end, set(_names(compact)), _has_any(compact, DISPOSAL_CUES))

    def extend(self, end: int, sentence: str) -> None:
        assert self.current is not None
        compact = _compact(sentence)
        self.current.end = end
        self.current.names.update(_names(compact))
        self.current.complete = self.current.complete or _has_any(compact, DISPOSAL_CUES)

    def feed_marker(self, paragraph: _Paragraph) -> None:
        """A non-body line: commentary and closing lines end the unit; headlines and captions only mark a break."""
        if paragraph.kind in ("commentary", "closing", "statute", "nav"):
            self.close()
        elif paragraph.kind in ("heading", "short", "title", "caption"):
            self.after_break = True

    def feed_paragraph(self, paragraph: _Paragraph) -> None:
        sentences = _sentences(paragraph, self.text)
        paragraph_text = _compact(paragraph.text)
        self.fresh_paragraph = self.current is None
        for index, (start, end) in enumerate(sentences):
            sentence = _compact(self.text[start:end])
            if self.current is None:
                if _opens_case(sentence):
                    self.open(start, end, sentence)
                    self.fresh_paragraph = True
            elif index == 0:
                self._paragraph_start(start, end, sentence, paragraph_text)
            else:
                self._next_sentence(start, end, sentence)
        self.after_break = False

    def _strong_start(self, sentence: str) -> bool:
        """"<agency> 侦破一起…案" naming a new offender (or announcing one case) opens a new unit."""
        assert self.current is not None
        if not _STRONG_START.match(sentence):
            return False
        return bool(_new_names(sentence, self.current.names)) or bool(_ONE_CASE.search(sentence))

    def _paragraph_start(self, start: int, end: int, sentence: str, paragraph_text: str) -> None:
        """First sentence of a paragraph while a unit is open: a new case, a continuation, or something else."""
        assert self.current is not None
        starts_as_continuation = _starts_as_continuation(sentence)
        continuation = starts_as_continuation or _refers_back(sentence)
        stands_alone = not _is_stats(sentence) and (
            _opens_case(sentence) or (_opens_case(paragraph_text) and _has_any(paragraph_text, DISPOSAL_CUES))
        )
        if self.current.complete and not starts_as_continuation and stands_alone:
            known = self.current.names
            # A new case names its offender as the subject, near the start of its paragraph; police tracing
            # accomplices of the same case name them later ("今年3月，民警在工作中发现，马某名下…"). After a
            # headline or section line a new offender anywhere in the paragraph is enough.
            if self.after_break:
                within = None
            else:
                within = EARLY_OFFENDER_CHARS if known else SUBJECT_OFFENDER_CHARS
            new_offender = not continuation and _introduces_offender(paragraph_text, known, within)
            if self._strong_start(sentence) or new_offender:
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
        starts_as_continuation = _starts_as_continuation(sentence)
        continuation = starts_as_continuation or _refers_back(sentence)
        own_case = _opens_case(sentence) and _has_any(sentence, DISPOSAL_CUES)
        if self.current.complete and not starts_as_continuation and own_case:
            weak = (
                not continuation
                and self.fresh_paragraph
                and bool(self.current.names)
                and _introduces_offender(sentence, self.current.names, EARLY_OFFENDER_CHARS)
            )
            if self._strong_start(sentence) or weak:
                self.open(start, end, sentence)
                return
        self._continue_or_skip(end, sentence, continuation)

    def _continue_or_skip(self, end: int, sentence: str, continuation: bool) -> None:
        """Extend the unit over a sentence that refers back to it or tells more of it; skip leads and law text."""
        assert self.current is not None
        if _is_generic(sentence) and not continuation:
            return
        if _is_stats(sentence) and not continuation:
            return
        refers_back = continuation or bool(set(_names(sentence)) & self.current.names)
        tells_more = _has_offender(sentence) and (
            _has_any(sentence, DISPOSAL_CUES) or _has_any(sentence, CONDUCT_CUES)
        )
        if refers_back or tells_more or _has_any(sentence, DISPOSAL_CUES):
            self.extend(end, sentence)


def _unheaded_units(paragraphs: list[_Paragraph], text: str) -> list[tuple[int, int]]:
    grouper = _Grouper(text)
    for paragraph in paragraphs:
        if paragraph.kind in ("body",):
            grouper.feed_paragraph(paragraph)
        elif paragraph.kind == "part":
            continue
        else:
            grouper.feed_marker(paragraph)
    grouper.close()
    units = [(u.start, u.end) for u in grouper.units if len(_compact(text[u.start : u.end])) >= MIN_CASE_CHARS]
    return _attach_leading_lines(units, paragraphs, text)


def _attach_leading_lines(units: list[tuple[int, int]], paragraphs: list[_Paragraph], text: str) -> list[tuple[int, int]]:
    """Extend a unit back over a case-part heading (基本案情) and, for a single news story, its headline and lead.

    labels.md: the headline (when it directly precedes the text) and the lead that tells the case belong to it.
    """
    result = []
    for start, end in units:
        index = next((i for i, p in enumerate(paragraphs) if p.start <= start < p.end + 1), None)
        if index is None:
            result.append((start, end))
            continue
        first_in_paragraph = paragraphs[index].start
        if text[first_in_paragraph:start].strip():
            result.append((start, end))
            continue
        cursor = index - 1
        if cursor >= 0 and paragraphs[cursor].kind == "part":
            start = paragraphs[cursor].start
            cursor -= 1
        elif len(units) == 1:
            if cursor >= 0 and paragraphs[cursor].kind == "body" and _DATELINE.match(paragraphs[cursor].text):
                if not _is_stats(_compact(paragraphs[cursor].text)):
                    start = paragraphs[cursor].start
                    cursor -= 1
            if cursor >= 0 and paragraphs[cursor].kind in ("short", "heading"):
                start = paragraphs[cursor].start
        result.append((start, end))
    return result


# ---------------------------------------------------------------------------------------------------------------
# Public entry point.
# ---------------------------------------------------------------------------------------------------------------


def _normalised_units(normalized: NormalizedText, start: int) -> list[tuple[int, int]]:
    text = normalized.text
    body_start = normalized.to_normalized(start)
    lines = [_classify(line) for line in _split_inline(_split_lines(text, body_start))]
    paragraphs = _paragraphs(lines)
    style = _choose_style(paragraphs)
    if style is None and sum(p.kind == "title" for p in paragraphs) >= 2:
        paragraphs = _title_blocks(paragraphs)
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
    for norm_start, norm_end in _normalised_units(normalized, start):
        segment = normalized.text[norm_start:norm_end]
        norm_start += len(segment) - len(segment.lstrip())
        norm_end -= len(segment) - len(segment.rstrip())
        if norm_end <= norm_start:
            continue
        original_start, original_end = normalized.to_original(norm_start, norm_end)
        units.append(
            CaseUnit(source, len(units) + 1, original_start, original_end, text[original_start:original_end])
        )
    logger.info("segmented %d case units from %s", len(units), source or "<text>")
    return units
