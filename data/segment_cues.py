"""Cue words and sentence tests of the segmenter: what a sentence tells, as opposed to whom it names.

A sentence opens a case when it shows an offender with conduct or disposal; it continues the case being told when
it starts like the next step of it (经查, 目前, 该公司…) or refers back to it; statistics, generic leads, warnings and
quoted law text name no specific offender and open nothing (see ``data.segment``, steps 5-6). Whom a sentence names
is found by ``data.segment_offenders``.

Matching runs on the normalised (simplified) text, so every list is in simplified script. Lists are written as
space-separated words to keep them readable.
"""

from __future__ import annotations

import re

from data.segment_offenders import AGENCY, has_offender, offender_mentions, offender_names

# Penalties: what the authority imposed. A caption or headline never carries one of these.
PENALTY_CUES = tuple(
    """处以 处罚 罚款 警告 拘留 刑拘 逮捕 判处 判决 宣判 有期徒刑 拘役 罚金 缓刑 约谈 责令 关闭 关停 停机整顿
    停业整顿""".split()
)
# Disposal: every measure taken against the offender, penalties and procedure alike. A case is complete once one
# of these is told; a unit that never reaches one is dropped unless the source is cut off there (labels.md:
# complete=false only when the source is cut off).
DISPOSAL_CUES = PENALTY_CUES + tuple(
    """暂停 吊销 注销 下架 封禁 封停 禁言 没收 抓获 抓捕 归案 到案 落网 破获 侦破 捣毁 摧毁 打掉 立案侦查 取保候审
    监视居住 起诉 公诉 强制措施 移送 羁押 查处 查获 予以 给予 追究 依法处理 批评教育 训诫 整改 定罪 追缴
    收缴""".split()
)

# Conduct: what the offender did, or how it came to light. With an offender it opens a case, even one cut off before
# its disposal.
CONDUCT_CUES = tuple(
    """经查 查明 发现 违反 未按 未落实 未履行 未建立 未采取 未经 未取得 未向 未对 未核 未登记 未备案 未开展 未制定
    未及时 非法 利用 涉嫌 编造 散布 传播 发布 出售 贩卖 倒卖 售卖 购买 收购 收集 泄露 窃取 获取 入侵 攻击 篡改 植入
    诈骗 赌博 赌场 淫秽 色情 谣言 虚假 不实 冒充 开设 组织 制作 销售 租用 搭建 侵犯 帮助 提供 存在 漏洞 翻墙 代理
    水军 删帖 敲诈 勒索 辱骂 侮辱 报案 举报 报警 接报 破坏 控制 盗取 作弊 偷拍 窃听 洗钱 跑分 出租 出借""".split()
)

# A sentence that starts like this tells the next step of the case being told (labels.md: a case may span
# paragraphs), so it never opens a new unit.
CONTINUATION_STARTS = tuple(
    """对 目前 截至 截止 接报后 接警后 案发后 随后 此后 之后 后经 后又 后来 同时 据了解 据交代 据介绍 据悉 该 上述
    此案 本案 该案 其 办案民警 专案组 警方随即 顺藤摸瓜 进一步 在此基础上 最终 依据 鉴于 针对 对此 为此 但 然而 这
    此外还 另查明 当天 次日 当晚 期间 其间 与此同时 法院审理 法院认为 法院经审理 检察机关 公诉机关 被告人 案件
    查明案情后 到案后 归案后 民警随即 民警立即 掌握 经审查 经审讯 经讯问 经审理 经鉴定
    根据其供述 根据供述""".split()
)

# "对于…来说", "其实…": a topic or a comment, though the first character reads like a continuation (对, 其).
_TOPIC_STARTS = ("对于", "其实")

# Starts that usually continue a case but also open one in bulletins of one case per paragraph ("经查，某公司…",
# "民警在检查中发现，某宾馆…"): inside a paragraph they continue; at a paragraph start they continue unless the
# paragraph names a new offender of its own.
NEUTRAL_STARTS = ("经", "民警", "根据")

# Words before the first name in a sentence that tie it to the case already being told even when it names new
# people (police tracing accomplices of one case): "警方顺藤摸瓜…又抓获王某".
CONTINUATION_ANYWHERE = tuple("顺藤摸瓜 深挖 循线 涉案 此次 该案 此案 本案 上述 该团伙 该犯罪团伙 同案 落网".split())

# The sentence itself says it tells a further case: "另有一家网吧…", "又查处一起…".
_ANOTHER_CASE = re.compile(r"另有|另一|还有一|又查处|又破获|又侦破")

# Anaphora: "该公司" names no new offender; it continues the case that introduced the company.
ANAPHORA = re.compile(
    r"(?:该|上述|这家|此)(?:公司|单位|企业|网站|平台|APP|App|app|医院|学校|中学|小学|学院|团伙|犯罪团伙|男子|女子|网民|"
    r"嫌疑人|犯罪嫌疑人|店|店铺|网吧|机构|运营商|主播|账号|帐号|群|用户|局|中心|银行|酒店|宾馆|软件|程序|视频|网店|"
    r"论坛|公众号|工作室|人员|人|案|名|三人|两人|二人|校|院|所|村|厂|司)"
)

# An authority announcing a case it handled: "<agency> 侦破一起…案" opens a new case even inside a paragraph that
# already told another (labels.md: several cases narrated in one paragraph are split).
_ANNOUNCE_VERBS = r"(?:侦破|破获|查处|查获|打掉|捣毁|摧毁|铲除|办理|侦办|审理|审结|判决|宣判|查明|发现|通报)"
# A time expression opening a paragraph ("3月下旬，", "同月，"): chronicles tell one case per dated paragraph.
_TIME_START = (
    r"(?:(?:\d{4}年)?\d{1,2}月(?:\d{1,2}日)?(?:上旬|中旬|下旬|初|底|末|份|中)?|同月|同日|同期|当月|次月|年初|年底|"
    r"近日|日前|一季度|二季度|三季度|四季度|上半年|下半年)[，,]?"
)
# "一起…案": one specific case (statistics count 起 in numbers instead).
_ONE_CASE = r"(?:一起|一个|首起|一宗|一条|一处)"
ONE_CASE = re.compile(_ONE_CASE)
TIME_OPENING = re.compile(rf"^{_TIME_START}")
STRONG_START = re.compile(
    rf"^(?:此外|另外|同时|另|例如|比如|如)?[，,]?(?:{_TIME_START})?"
    rf"(?:(?:据|根据|经)[^，,。]{{0,12}}[，,])?"
    rf"(?:[\u4e00-\u9fff]{{0,16}}{AGENCY}(?:则|[^。；;]{{0,16}}?{_ANNOUNCE_VERBS})"
    # a bare place in a round-up of one city's cases: "常州侦破一起…案", "南通摧毁一条…"
    rf"|[\u4e00-\u9fff]{{2,6}}(?:侦破|破获|捣毁|摧毁|打掉|铲除)(?={_ONE_CASE}))"
)
# Inside a paragraph, a sentence that opens with a date and an agency ("同日，上望派出所…抓获…") tells another case.
DATED_AGENCY = re.compile(rf"^{_TIME_START}(?!在)[\u4e00-\u9fff]{{0,16}}{AGENCY}")
# A concrete investigation is under way even when the offender is not named yet ("以…为线索…成立专案组").
_INVESTIGATION = re.compile(r"发现|查明|接到|接报|报案|报警|线索|侦办|侦查|立案|专案组|抓捕行动")

# Statistics and leads: aggregate words with several counts and no named offender ("共侦破…案件93起，抓获…1398名").
_AGGREGATE = re.compile(r"共|累计|总计|合计|全年|以来|截至目前|先后|期间|期内|一批|各类|各地|全省|全市|全国|全区")
_COUNT = re.compile(r"\d+(?:\.\d+)?(?:万|亿)?余?(?:起|人|名|家|条|个|次|份|批|件|部|张|款|家次|人次|余起)")
# A list of several quoted case names is a summary ("破获了“A案”、“B案”等一批大案"), not a case.
_CASE_NAME_LIST = re.compile(r"“[^”]{2,40}案”[、，,]?\s*“[^”]{2,40}案”")
# Generic subjects and plans: "一些不法分子", "将继续加强…" belong to leads, warnings and closings, not to a case.
_GENERIC = re.compile(
    r"一些|一批(?=[\u4e00-\u9fff“])|个别|不法分子|犯罪分子|广大|群众|各地|各级|全国|将继续|将持续|将进一步|下一步|今后"
    r"|大量的|越来越多|很多|不少|许多|少数"  # "大量的网民", "不少人…翻墙": people in general
    r"|^[一二三四五六七八九十]是"  # the points of a commentary or a work report: "一是…，二是…"
)
# Law text quoted after a case ("…的，由有关主管部门责令改正"): it names what the law allows, not what was done.
LAW_TEXT = re.compile(
    r"规定[:：]|的[，,](?:由|处|对|可以|并处|依|同样|均|一律|将|要|须)|以上[\d一二三四五六七八九十百千万]+[万元年日]*以下|应当|不得|并处或者单处"
    # conditions and definitions: what would happen to anyone, not what happened to someone
    r"|^(?:如果|若|倘若|假如|一旦|如若|凡是|如(?:违反|有|未|不|拒不|需))|是指|可能面临|将面临|可根据|可处"
)
# Right before a name: the name is the object of a measure, not the subject of a new case.
_MEASURE_OBJECT = re.compile(r"(?:对|将|把|抓获|查获|传唤|拘留|逮捕|处罚)[^，,。]{0,6}$")
# People named by their role inside a case that is already being told.
_CASE_ROLE = re.compile(
    r"负责人|主管人员|责任人|法定代表人|法人|经理|员工|站长|群主|管理员|股东|主犯|从犯|同案|其中|成员|下线|店主|网管|老板|"
    r"主要犯罪嫌疑人|头目|首要分子|骨干|经营者"
)


def has_any(text: str, cues: tuple[str, ...]) -> bool:
    """Whether any of the cue words occurs in ``text``."""
    return any(cue in text for cue in cues)


def compact_text(text: str) -> str:
    """Text without whitespace, so cues match across a mid-word line break."""
    return re.sub(r"\s+", "", text)


def is_stats(text: str) -> bool:
    """Aggregate figures without a named offender: a lead or statistics sentence, not a case."""
    if STRONG_START.match(text) and ONE_CASE.search(text):
        return False  # "鞍山市公安局…捣毁一个窝点，抓获4名…" counts what one case seized
    names = offender_names(text)
    many_cases = bool(re.search(r"\d{2,}余?起", text))
    if names:
        # only a named offender ("张某…作案10余起") makes counted cases one case; "破获利用“暗网”等…案件90余起" is none
        return many_cases and not any("某" in name for name in names)
    counts = len(_COUNT.findall(text))
    return (counts >= 2 and bool(_AGGREGATE.search(text))) or counts >= 4 or many_cases


def _is_summary(text: str) -> bool:
    return bool(_CASE_NAME_LIST.search(text))


def is_generic(text: str) -> bool:
    """The only "offender" is generic (一些不法分子, 一批网站): a lead, a warning or a policy sentence."""
    if LAW_TEXT.search(text):
        return True
    if offender_names(text):
        return False
    return bool(_GENERIC.search(text))


def opens_case(text: str) -> bool:
    """A sentence that can open a case: an offender (or a discovery) with conduct or disposal, not a lead."""
    compact = compact_text(text)
    announced = bool(STRONG_START.match(compact)) and bool(ONE_CASE.search(compact))  # "…分局侦破一起…案"
    # an announced case may mention its victims or buyers generically ("向…犯罪分子出售"); law text never announces
    generic = LAW_TEXT.search(compact) if announced else is_generic(compact)
    if is_stats(compact) or _is_summary(compact) or generic:
        return False
    offender = has_offender(compact) or bool(_INVESTIGATION.search(compact)) or announced
    return offender and (has_any(compact, CONDUCT_CUES) or has_any(compact, DISPOSAL_CUES))


def starts_as_continuation(text: str) -> bool:
    """The sentence opens like the next step of the case being told (经查, 目前, 民警…, 该公司…)."""
    return starts_as_narration(text) or compact_text(text).startswith(NEUTRAL_STARTS)


def starts_as_narration(text: str) -> bool:
    """Like ``starts_as_continuation`` but without the neutral starts (经查…, 民警…)."""
    compact = compact_text(text)
    return compact.startswith(CONTINUATION_STARTS) and not compact.startswith(_TOPIC_STARTS)


def refers_back(text: str) -> bool:
    """Before naming anyone new, the sentence points back at the case being told (涉案, 此次, 该公司, 顺藤摸瓜)."""
    compact = compact_text(text)
    mentions = offender_mentions(compact)
    head = compact[: mentions[0][0]] if mentions else re.split(r"[，,。；;]", compact, maxsplit=1)[0]
    return has_any(head, CONTINUATION_ANYWHERE) or bool(ANAPHORA.search(head))


def announces_another(text: str) -> bool:
    """ "另有一家网吧…", "还有一名…": the sentence itself says this is a further case."""
    return bool(_ANOTHER_CASE.search(compact_text(text)[:20]))


def new_offender_names(text: str, known: set[str]) -> list[str]:
    """Offender names in ``text`` that are not among the ``known`` names of the case being told, in order."""
    return [name for name in offender_names(text) if name not in known]


def introduces_offender(text: str, known: set[str], within: int | None) -> bool:
    """Whether ``text`` introduces an offender not yet seen, starting within ``within`` characters (None: anywhere).

    Not an introduction: a person named by their role in the case already told ("主管人员陈某", "主犯周某某"), or
    named as the object of a measure ("将犯罪嫌疑人何某抓获", "对金某等5人刑事拘留").
    """
    compact = compact_text(text)
    mentions = offender_mentions(compact)
    if mentions and mentions[0][1] in known:
        return False
    for position, name in mentions:
        if name in known:
            continue
        before = compact[max(0, position - 8) : position]
        if _CASE_ROLE.search(before) or _MEASURE_OBJECT.search(before):
            continue
        return within is None or position <= within
    return False
