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
   no specific offender and open nothing.

All offsets are computed on the normalised text and mapped back, so ``unit.text == text[unit.start:unit.end]``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache

from data.normalize import NormalizedText, normalize
from data.types import CaseUnit

logger = logging.getLogger(__name__)

Span = tuple[int, int]  # [start, end) in the normalised text

# ---------------------------------------------------------------------------------------------------------------
# Cue words. Matching runs on the normalised (simplified) text, so every list is in simplified script. Lists are
# written as space-separated words to keep them readable.
# ---------------------------------------------------------------------------------------------------------------

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
    查明案情后 到案后 归案后 民警随即 民警立即 获得此情况后 掌握 初步掌握 经审查 经审讯 经讯问 经突审 经审理 经鉴定
    根据其供述 根据供述""".split()
)

# Starts that usually continue a case but also open one in bulletins of one case per paragraph ("经查，某公司…",
# "民警在检查中发现，某宾馆…"): inside a paragraph they continue; at a paragraph start they continue unless the
# paragraph names a new offender of its own.
NEUTRAL_STARTS = ("经", "民警", "根据")

# Words before the first name in a sentence that tie it to the case already being told even when it names new
# people (police tracing accomplices of one case): "南通警方顺藤摸瓜…先后抓获周某".
CONTINUATION_ANYWHERE = tuple("顺藤摸瓜 深挖 循线 涉案 此次 该案 此案 本案 上述 该团伙 该犯罪团伙 同案 落网".split())

# The sentence itself says it tells a further case: "另有一家网吧…", "又查处一起…".
_ANOTHER_CASE = re.compile(r"另有|另一|还有一|又查处|又破获|又侦破")

# Anaphora: "该公司" names no new offender; it continues the case that introduced the company.
_ANAPHORA = re.compile(
    r"(?:该|上述|这家|此)(?:公司|单位|企业|网站|平台|APP|App|app|医院|学校|中学|小学|学院|团伙|犯罪团伙|男子|女子|网民|"
    r"嫌疑人|犯罪嫌疑人|店|店铺|网吧|机构|运营商|主播|账号|帐号|群|用户|局|中心|银行|酒店|宾馆|软件|程序|视频|网店|"
    r"论坛|公众号|工作室|人员|人|案|名|三人|两人|二人|校|院|所|村|厂|司)"
)

# An authority announcing a case it handled: "<agency> 侦破一起…案" opens a new case even inside a paragraph that
# already told another (labels.md: several cases narrated in one paragraph are split).
_AGENCY = (
    r"(?:公安局|公安分局|分局|公安机关|公安厅|警方|派出所|网安支队|网安大队|网安总队|网安部门|网警支队|网警大队|"
    r"网警部门|网信办|网信部门|法院|检察院|检察机关|市场监管局|刑警大队|刑侦大队|治安大队|专案组)"
)
_ANNOUNCE_VERBS = r"(?:侦破|破获|查处|查获|打掉|捣毁|办理|侦办|审理|审结|判决|宣判|查明|发现|通报)"
# A time expression opening a paragraph ("3月下旬，", "同月，"): chronicles tell one case per dated paragraph.
_TIME_START = (
    r"(?:(?:\d{4}年)?\d{1,2}月(?:\d{1,2}日)?(?:上旬|中旬|下旬|初|底|末|份|中)?|同月|同日|同期|当月|次月|年初|年底|"
    r"近日|日前|一季度|二季度|三季度|四季度|上半年|下半年)[，,]?"
)
_TIME_OPENING = re.compile(rf"^{_TIME_START}")
_STRONG_START = re.compile(
    rf"^(?:此外|另外|同时|另)?[，,]?(?:在[^，,。]{{1,20}}方面[，,])?(?:{_TIME_START})?(?:(?:据|根据|经)[^，,。]{{0,12}}[，,])?"
    rf"[\u4e00-\u9fff]{{0,16}}{_AGENCY}(?:则|[^。；;]{{0,16}}?{_ANNOUNCE_VERBS})"
)
# Inside a paragraph, a sentence that opens with a date and an agency ("同日，上望派出所…抓获…") tells another case.
_DATED_AGENCY = re.compile(rf"^{_TIME_START}(?!在)[\u4e00-\u9fff]{{0,16}}{_AGENCY}")
# "一起…案": one specific case (statistics count 起 in numbers instead).
_ONE_CASE = re.compile(r"(?:一起|一个|首起|一宗)")
# A concrete investigation is under way even when the offender is not named yet ("以…为线索…成立专案组").
_INVESTIGATION = re.compile(r"发现|查明|接到|接报|报案|报警|线索|侦办|侦查|立案|专案组|抓捕行动")
# A paragraph that announces a list of cases ("现将典型案例通报如下：", "还查处了以下情况：").
_LIST_INTRO = re.compile(r"(?:如下|以下|下列)[^，。,；;]{0,8}[：:]$|[：:]$")

# Statistics and leads: aggregate words with several counts and no named offender ("共侦破…案件93起，抓获…1398名").
_AGGREGATE = re.compile(r"共|累计|总计|合计|全年|以来|截至目前|先后|期间|期内|一批|各类|各地|全省|全市|全国|全区")
_COUNT = re.compile(r"\d+(?:\.\d+)?(?:万|亿)?余?(?:起|人|名|家|条|个|次|份|批|件|部|张|款|家次|人次|余起)")
# A list of several quoted case names is a summary ("破获了“A案”、“B案”等一批大案"), not a case.
_CASE_NAME_LIST = re.compile(r"“[^”]{2,40}案”[、，,]\s*“[^”]{2,40}案”")
# Generic subjects and plans: "一些不法分子", "将继续加强…" belong to leads, warnings and closings, not to a case.
_GENERIC = re.compile(
    r"一些|一批(?=[\u4e00-\u9fff“])|个别|不法分子|犯罪分子|广大|群众|各地|各级|全国|将继续|将持续|将进一步|下一步|今后"
)
# Law text quoted after a case ("…的，由有关主管部门责令改正"): it names what the law allows, not what was done.
_LAW_TEXT = re.compile(
    r"规定[:：]|的[，,](?:由|处|对|可以|并处)|以上[\d一二三四五六七八九十百千万]+[万元年日]*以下|应当|不得|并处或者单处"
)

# ---------------------------------------------------------------------------------------------------------------
# Offenders: the names that tell one case from the next.
# ---------------------------------------------------------------------------------------------------------------

# Surnames (the common single-character ones, plus first syllables of minority names such as 岩, 玉, 热, 艾) keep
# "对某公司", "市某银行" or "桥某小区" from being read as a person called 对某; a rare surname that is missing only
# means one name fewer to compare.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟"
    "谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安"
    "齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛"
    "靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝矦富那宝岩玉热乌阿买吐帕努达索扎旦格卓尼"
    "巴哈木呼苏楚东储封国羊谈郁訾鞠丰云洪花傅宣贝米阎双闻慕蔺茅厉邰亓綦暴原印宿秋仝钮逯揭衣幸冀郦"
)
# Surnames that are also everyday words ("向某公司反映", "于某日"): before an organisation noun they start a
# 某-entity, not a person.
_AMBIGUOUS_SURNAMES = frozenset(
    "向于和应时明全关成高方文安江路金石华常车谷商师农宁司古吉景党宫费卜冷席卫米柏宗桂边单季东国原"
)
_PERSON = re.compile(r"([\u4e00-\u9fff])(某{1,2})")
# Where a person's name is introduced ("鹿城镇居民汤某", "会龙镇杭某", "，郜某"): after these a character before 某
# is taken as a surname even when it is not in the list (unless it is a function word or a place suffix).
_NAME_CONTEXT = re.compile(
    r"(?:^|[，,。；;：:、（(“\s]|镇|乡|村|区|县|市|州|街道|居民|村民|网民|男子|女子|青年|学生|员工|人员|嫌疑人|被告人|当事人|"
    r"主播|店主|老板|博主|群主)$"
)
_NOT_SURNAME = frozenset(
    "对将在向为的及和与经由从被等让把给跟同于至到自以是系有无称叫该其此这那每各本全一二三四五六七八九十几多数某两"
    "省市县区镇乡村州盟旗街道路巷号楼院局厅队所站部委会办处科组网群内外上下中前后东南西北里间场店厂园校司城岛湾"
    "山河湖港台了着过也都又还就才只并或即而但如若因据按照名位家个些种类型款年月日时分秒天周"
)
_ORG_NOUN = (
    r"(?:有限公司|公司|集团|企业|单位|网站|平台|医院|学校|中学|小学|学院|大学|银行|网吧|宾馆|酒店|APP|App|app|论坛|"
    r"工作室|机构|店|馆|厂|协会|俱乐部|合作社|账号|帐号|公众号|小程序|软件|社区|中心|局|运营商|营业厅|代办点|直播间|主播|"
    r"博主|网民|男子|女子|居民|村民|人员|商家|网店|群|团伙|物业|代理商)"
)
_MOU_BODY = rf"某(?!某|些|种|日|时|地|天|月|年|段|处|方面)(?:(?!某)\w){{0,10}}?{_ORG_NOUN}"
_MOU_AFTER = re.compile(_MOU_BODY)
_MOU_ENTITY = re.compile(rf"(?<![某该]){_MOU_BODY}")
# "某连锁健身房在…", "某新闻客户端未…": a 某-phrase that is the subject of a verb, whatever its head noun.
_MOU_SUBJECT = re.compile(
    r"(?<![某该])某(?!某|些|种|日|时|地|天|月|年|段|处|方面)[\u4e00-\u9fffA-Za-z0-9]{2,8}?"
    r"(?=在|于|将|对|因|未|以|通过|利用|从|向|被|把|为|是|系|长期|多次|频繁|擅自|私自|存在|违规|[，,。、])"
)
# "在某小区内", "通过某直播APP": a 某-phrase after these is a place or a tool, not an offender.
_PLACE_BEFORE = re.compile(r"(?:在|到|赴|从|至|往|通过|利用|登录|使用|下载|进入)[\u4e00-\u9fff]{0,6}$")
# "甲公司", "A网吧": the placeholder names of court and procuratorate releases.
_PLACEHOLDER = re.compile(rf"(?<![A-Za-z])[甲乙丙丁戊己庚辛壬癸A-Z][\u4e00-\u9fff]{{0,6}}?{_ORG_NOUN}")
_COMPANY = re.compile(r"[\u4e00-\u9fff]{2,16}?(?:有限公司|股份公司|集团|学院|大学|委员会|工委)")
_QUOTED_NAME = re.compile(
    r"“([^”]{2,20})”(?=\s*(?:网站|APP|App|app|平台|账号|帐号|公众号|群|直播|论坛|软件|工作室|小程序|号|等))"
    r"|(?<=”)“([^”]{2,20})”|“([^”]{2,20})”(?=“)"
    r"|(?:主播|网站|账号|帐号|公众号|平台|APP|App|博主|网民|群|论坛|微博|抖音号|快手号|视频号|网名|昵称)为?“([^”]{2,20})”"
)
# Quoted names of enforcement campaigns ("“净网2020”专项行动") name no offender.
_CAMPAIGN = re.compile(r"专项|行动|系列|活动|集中|主题|工作")
_INDEFINITE = re.compile(rf"一(?:名|家|个|位|所|间|款|户)?[^，,。；;]{{0,10}}?(?:{_ORG_NOUN}|者”?)")
# "一家连锁药店", "一名男子": an indefinite introduction always names someone new.
_INDEFINITE_INTRO = re.compile(rf"一(?:名|家|款|位|所|间|户)[^，,。；;“”]{{0,10}}?{_ORG_NOUN}|一(?:男子|女子)")
# "3名店主", "5家网吧": counted offenders of one case (statistics count cases or suspects after the verb instead).
_COUNTED_OFFENDER = re.compile(
    rf"(?:\d+|[两三四五六七八九十]+)(?:名|家|个)[^，,。；;]{{0,10}}?(?:{_ORG_NOUN}|店主|商户|嫌疑人|青年|学生)"
)
_ROLE = re.compile(r"犯罪嫌疑人|违法嫌疑人|嫌疑人|被告人|违法行为人|当事人|被告单位|涉案人员|运营者|经营者|负责人")
# A reporter's byline "(记者 王某 通讯员 李某)" names no offender.
_BYLINE = re.compile(r"[（(][^（()）]{0,40}(?:记者|通讯员|摄影|编辑|实习生)[^（()）]{0,40}[）)]")
# Right before a name: the name is the object of a measure, not the subject of a new case.
_MEASURE_OBJECT = re.compile(r"(?:对|将|把|抓获|查获|传唤|拘留|逮捕|处罚)[^，,。]{0,6}$")
# People named by their role inside a case that is already being told.
_CASE_ROLE = re.compile(
    r"负责人|主管人员|责任人|法定代表人|法人|经理|员工|站长|群主|管理员|股东|主犯|从犯|同案|其中|成员|下线|店主|网管|老板|"
    r"主要犯罪嫌疑人|头目|首要分子|骨干|经营者"
)

# ---------------------------------------------------------------------------------------------------------------
# Line patterns.
# ---------------------------------------------------------------------------------------------------------------

_CN_DIGITS = "一二三四五六七八九十百零〇两"
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
    ("cn_bare", re.compile(rf"^([{_CN_DIGITS}]{{1,3}})$")),
    ("cn_shi", re.compile(rf"^([{_CN_DIGITS}]{{1,3}})是[，,：:]?\s*([“\u4e00-\u9fff].*)$")),
    ("dash", re.compile(r"^(?:——|--|—)\s*(\S.*)$")),
)
_STRONG_STYLES = ("bracket_case", "case_word", "ordinal")
_SECTION_KINDS = ("heading", "short", "title")  # a line of these kinds right before a case heading is a section
_UNNUMBERED_STYLES = ("dash", "bullet")
# A bullet that marks one news item each ("▶微信群里“抢红包”，群主抽头被抓"), used by roundup articles.
_ITEM_BULLET = re.compile(r"^\s*[▶►■◆●▲]\s*[“\u4e00-\u9fff]")
_HEADING_PREFIX = re.compile(rf"^(?:(?:典型)?案例|第)?[{_CN_DIGITS}\d]+[、.．:：，,\s]*")
# Inline markers: a numbered case that starts right after a sentence end in the same line ("…改正。2、2023年…").
_INLINE_MARKERS = (
    ("num_dot", re.compile(r"(?<=[。；;！？!?])\s*(\d{1,2})(?:、|[.．](?=[^\d\s]))")),
    ("cn_dun", re.compile(rf"(?<=[。；;！？!?])\s*([{_CN_DIGITS}]{{1,3}})、")),
    ("cn_shi", re.compile(rf"(?<=[。；;！？!?])\s*([{_CN_DIGITS}]{{1,3}})是(?=[，,：:“\u4e00-\u9fff])")),
    ("case_word", re.compile(rf"(?<=[。；;！？!?])\s*案例\s*([{_CN_DIGITS}\d]+)[:：、，,\s]")),
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
    提醒 编后 点评 评析 说法""".split()
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
# Page furniture that may sit anywhere in a short line: breadcrumbs, view counters, copyright.
_NAV_ANYWHERE = re.compile(
    r"首页\s*[>»/]|当前位置|您的位置|您当前的位置|所在的位置|位置\s*[:：]|\s[>»]\s|阅读量|浏览次数|Author:|"
    r"All Rights Reserved"
)
_CAPTION_LINE = re.compile(
    r"^图\s*\d*\s*[（(：:为]|^图\d+$|^[（(]?(?:资料图片|图片来源|供图|网络图片|图源)|(?:摄|供图|图)[)）]?$|^▲|^△|"
    r"^!\[|^\[图"
)
# The first line of a news story ("本报讯", "新华社…电"): a new story, not more of the case before it.
_DATELINE = re.compile(
    r"^(?:本报讯|又讯|另讯|本报[\u4e00-\u9fff]{0,6}\d{1,2}月\d{1,2}日电|[\u4e00-\u9fff]{2,10}(?:讯|电)[（( ]|"
    r"新华社[\u4e00-\u9fff]{0,6}\d{1,2}月\d{1,2}日电|[\u4e00-\u9fff]{2,12}\d{1,2}月\d{1,2}日(?:讯|电))"
)
_TITLE_END = re.compile(r"(?:案|案件|一案)\s*[。”\"）)]?\s*$")
_SENTENCE_END = "。！？!?；;…"
_SENTENCE = re.compile(rf"[{re.escape(_SENTENCE_END)}]+[”」』）)]*")
_TERMINAL = _SENTENCE_END + "：:”」』）)】]"

MAX_TITLE_CHARS = 70  # a "…案" title longer than this is a sentence that happens to end in 案
MAX_SHORT_CHARS = 40  # headline or section line without sentence punctuation
EARLY_OFFENDER_CHARS = 32  # a new case names its offender near the start of its paragraph
SUBJECT_OFFENDER_CHARS = 10  # ... right at the start when the case before it named nobody to compare with
MIN_CASE_CHARS = 12  # below this a unit is a fragment (labels.md: "7.张某某")
MIN_CASE_LIST_PARAGRAPHS = 3  # whole-case paragraphs in a row before text is read as one case per paragraph


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
    if token.isascii() and token.isdigit():
        return int(token)
    circled = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
    if token in circled:
        return circled.index(token) + 1
    digits = _CN_DIGIT_VALUES
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
    if heading is not None and heading[0] not in _UNNUMBERED_STYLES:
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
        for left, right in zip(bounds, bounds[1:], strict=False):
            piece = line.text[left:right]
            stripped = piece.strip()
            if stripped:
                offset = line.start + left + (len(piece) - len(piece.lstrip()))
                pieces.append(_Line(offset, offset + len(stripped), stripped))
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


def _is_title(text: str) -> bool:
    """A "…案" title line: short, ends in 案, and is not a sentence."""
    body = text.strip().strip("*").strip()
    if not 5 <= len(body) <= MAX_TITLE_CHARS or not _TITLE_END.search(body):
        return False
    inner = body.rstrip('。”"）) ')
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
    elif (_NAV_LINE.match(text) and len(text) < 120) or (_NAV_ANYWHERE.search(text) and "。" not in text[:-1]):
        line.kind = "nav"
    elif _STATUTE_LINE.match(text):
        line.kind = "statute"
    elif _CAPTION_LINE.search(text) and not _has_any(text, PENALTY_CUES) and len(text) < 80:
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


@lru_cache(maxsize=4096)
def _mentions(text: str) -> tuple[tuple[int, str], ...]:
    """Offender mentions ``(position, name)`` in order: persons (张某), 某-entities, named companies, quoted site
    names and indefinite introductions ("一家网吧"); a reporter's byline in brackets is not searched."""
    text = _BYLINE.sub(lambda m: "#" * len(m.group()), text)
    found: list[tuple[int, str]] = []
    persons = _persons(text)
    found += [(m.start(), m.group()) for m in persons]
    found += [(m.start(), m.group()) for m in _entities(text, persons)]
    found += [(m.start(), m.group()) for m in _COMPANY.finditer(text) if not re.search("[某该]", m.group())]
    found += [
        (m.start(), next(g for g in m.groups() if g))
        for m in _QUOTED_NAME.finditer(text)
        if not _CAMPAIGN.match(text, _end_of_quote_run(text, m.end()))
    ]
    found += [(m.start(), m.group()) for m in _INDEFINITE_INTRO.finditer(text)]
    found += [(m.start(), m.group()) for m in _PLACEHOLDER.finditer(text)]
    return tuple(sorted(found))


def _names(text: str) -> list[str]:
    """Offender names in order of appearance (see ``_mentions``)."""
    return [name for _, name in _mentions(text)]


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
        surname = match.group(1)
        if surname not in _SURNAMES and (
            surname in _NOT_SURNAME or not _NAME_CONTEXT.search(text[max(0, match.start() - 3) : match.start()])
        ):
            continue
        if surname in _AMBIGUOUS_SURNAMES and _MOU_AFTER.match(text, match.start(2)):
            continue
        persons.append(match)
    return persons


def _entities(text: str, persons: list[re.Match[str]]) -> list[re.Match[str]]:
    """某-entities ("某科技公司", "辖区某网吧", "某连锁健身房在…") that are not the 某 of a person's name."""
    person_marks = {m.start(2) for m in persons}
    entities = [m for m in _MOU_ENTITY.finditer(text) if m.start() not in person_marks]
    taken = {m.start() for m in entities} | person_marks
    entities += [m for m in _MOU_SUBJECT.finditer(text) if m.start() not in taken]
    # "在某小区内", "通过某直播APP": a place or a tool; "某区人民法院": the authority, not an offender
    return [
        m
        for m in entities
        if not _PLACE_BEFORE.search(text[max(0, m.start() - 8) : m.start()]) and not re.search(_AGENCY, m.group())
    ]


def _first_offender_position(text: str) -> int:
    """Where the first offender mention (name, entity, indefinite "一家…公司" or role word) starts; -1 if none."""
    patterns = (_MOU_ENTITY, _INDEFINITE, _ROLE, _COUNTED_OFFENDER)
    positions = [m.start() for pattern in patterns for m in [pattern.search(text)] if m]
    positions += [position for position, _ in _mentions(text)[:1]]
    positions += [m.start() for m in [_COMPANY.search(text)] if m and "该" not in m.group()]
    positions += [m.start() for m in [_QUOTED_NAME.search(text)] if m]
    return min(positions) if positions else -1


def _has_offender(text: str) -> bool:
    return _first_offender_position(text) >= 0


def _is_stats(text: str) -> bool:
    """Aggregate figures without a named offender: a lead or statistics sentence, not a case."""
    if _names(text) or (_STRONG_START.match(text) and _ONE_CASE.search(text)):
        return False  # "鞍山市公安局…捣毁一个窝点，抓获4名…" counts what one case seized
    counts = len(_COUNT.findall(text))
    return (counts >= 2 and bool(_AGGREGATE.search(text))) or counts >= 4 or bool(re.search(r"\d{2,}起", text))


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
    announced = bool(_STRONG_START.match(compact)) and bool(_ONE_CASE.search(compact))  # "…分局侦破一起…案"
    offender = _has_offender(compact) or bool(_INVESTIGATION.search(compact)) or announced
    return offender and (_has_any(compact, CONDUCT_CUES) or _has_any(compact, DISPOSAL_CUES))


def _starts_as_continuation(text: str) -> bool:
    """The sentence opens like the next step of the case being told (经查, 目前, 民警…, 该公司…)."""
    return _compact(text).startswith(CONTINUATION_STARTS + NEUTRAL_STARTS)


def _starts_as_narration(text: str) -> bool:
    """Like ``_starts_as_continuation`` but without the neutral starts (经查…, 民警…)."""
    return _compact(text).startswith(CONTINUATION_STARTS)


def _refers_back(text: str) -> bool:
    """Before naming anyone new, the sentence points back at the case being told (涉案, 此次, 该公司, 顺藤摸瓜)."""
    compact = _compact(text)
    mentions = _mentions(compact)
    head = compact[: mentions[0][0]] if mentions else re.split(r"[，,。；;]", compact, maxsplit=1)[0]
    return _has_any(head, CONTINUATION_ANYWHERE) or bool(_ANAPHORA.search(head))


def _announces_another(text: str) -> bool:
    """ "另有一家网吧…", "还有一名…": the sentence itself says this is a further case."""
    return bool(_ANOTHER_CASE.search(_compact(text)[:20]))


def _new_names(text: str, known: set[str]) -> list[str]:
    return [name for name in _names(text) if name not in known]


def _introduces_offender(text: str, known: set[str], within: int | None) -> bool:
    """Whether ``text`` introduces an offender not yet seen, starting within ``within`` characters (None: anywhere).

    Not an introduction: a person named by their role in the case already told ("主管人员陈某", "主犯周某某"), or
    named as the object of a measure ("将犯罪嫌疑人何某抓获", "对金某等5人刑事拘留").
    """
    compact = _compact(text)
    mentions = _mentions(compact)
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


def _sentences(paragraph: _Paragraph, text: str) -> list[Span]:
    """Sentence spans (normalised offsets) of a paragraph; a closing quote or bracket stays with its sentence."""
    spans = []
    start = paragraph.start
    for match in _SENTENCE.finditer(text, paragraph.start, paragraph.end):
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


def _block_end(paragraphs: list[_Paragraph], first: int, stop: int) -> int:  # noqa: C901 - one rule per line
    """Last paragraph index of the block opened at ``first`` (exclusive bound ``stop``).

    A block ends at a commentary/closing/statute/navigation line, and once its disposal has been told, at the first
    paragraph that does not continue the case (a headline of the next news item, statistics, a caption).
    """
    last = first
    category = _is_category(_heading_title(paragraphs, first))
    names: set[str] = set(_names(_compact(paragraphs[first].text)))
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
            continues = (
                paragraph.kind == "body"
                and not _DATELINE.match(text)
                and not _is_stats(text)
                and (_starts_as_continuation(text) or _has_any(text, DISPOSAL_CUES) or _has_any(text, CONDUCT_CUES))
            )
            # after the disposal, a paragraph naming a new offender at its start is the next case told without
            # a heading ("此外，百色市罗某…"), unless the heading names a category of cases
            another = (
                not category
                and not _starts_as_narration(text)
                and not _refers_back(text)
                and (_announces_another(text) or _introduces_offender(text, names, EARLY_OFFENDER_CHARS))
                and _has_any(text, DISPOSAL_CUES)
            )
            if not continues or another:
                break
        names.update(_names(text))
        if paragraph.kind in ("body", "part", "title", "heading", "short"):
            last = index
        disposed = disposed or (paragraph.kind == "body" and _has_any(text, DISPOSAL_CUES))
    while last > first and paragraphs[last].kind in ("heading", "caption"):
        last -= 1  # a caption right before the next case belongs to neither
    return last


def _style_blocks(paragraphs: list[_Paragraph], style: str) -> list[Span]:
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
        ordered = style in _UNNUMBERED_STYLES or all(b == a + 1 for a, b in zip(numbers, numbers[1:], strict=False))
        if cases == 0 or (cases == 1 and style not in _STRONG_STYLES and style not in _UNNUMBERED_STYLES):
            # one case under a lone "1." is no numbering; a "…案" title or a run of numbers (6. 7.) is
            titled = cases == 1 and any(_TITLE_END.search(paragraphs[f].lines[0].rest) for f, _ in blocks)
            if not (titled or (cases == 1 and len(blocks) >= 2 and ordered)):
                continue
        key = (cases + (1 if ordered else 0), -_heading_indices(paragraphs, style)[0], style)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else None


def _headed_units(paragraphs: list[_Paragraph], style: str, text: str) -> list[Span]:
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


def _unheaded_stretches(paragraphs: list[_Paragraph], covered: set[int]) -> list[list[_Paragraph]]:
    """Paragraphs outside the case blocks that may still tell cases.

    Leads, commentary and unrelated news around a numbered list must never become cases, so only two kinds of
    stretch are read: what follows a list intro ending in "：" (up to the next heading), and the body paragraphs
    right after a case block, up to the first headline, dateline, commentary or closing line (a case told after
    the list or between two numbered ones: "此外，百色市罗某…", "同期，…").
    """
    stretches: list[list[_Paragraph]] = []
    for index, paragraph in enumerate(paragraphs):
        if index in covered or paragraph.kind != "body" or not _LIST_INTRO.search(_compact(paragraph.text)):
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


def _heading_title(paragraphs: list[_Paragraph], first: int) -> str:
    """The title of the heading at ``first``: its own text, or the title line right below a bare marker."""
    title = paragraphs[first].lines[0].rest
    if not title and first + 1 < len(paragraphs) and paragraphs[first + 1].kind in ("title", "short"):
        title = paragraphs[first + 1].text
    return title


def _is_category(title: str) -> bool:
    """A heading that names a kind of case ("一、网络赌博类", "二、压实网站平台主体责任"), not one case.

    Such a heading names no offender and is no "…案" title; its block may hold several cases told one per paragraph.
    """
    compact = _compact(title).rstrip("。：:")
    if not compact or _names(compact) or re.search(r"[，,；;]", compact):
        return False
    return not _TITLE_END.search(compact) or compact.startswith("其他")


def _split_block(
    paragraphs: list[_Paragraph], first: int, last: int, text: str, case_list: bool = False
) -> list[Span]:
    """A case block, split only where one paragraph tells a second case with its own offender and disposal.

    Under a category heading the block's paragraphs are grouped like unheaded text (one case per paragraph is
    common there); the heading joins the first case.
    """
    if _is_category(_heading_title(paragraphs, first)):
        body = paragraphs[first + 1 : last + 1]
        units = _unheaded_units(body, text, at_document_end=False, keep_incomplete=True, case_list=case_list)
        if units:
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


def _promote_titles(paragraphs: list[_Paragraph]) -> list[_Paragraph]:
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

    def __init__(self, text: str, within_block: bool = False, case_list: bool = False) -> None:
        self.text = text
        self.within_block = within_block  # inside a numbered case block: only split a paragraph telling two cases
        self.case_list = case_list  # one case per paragraph: a paragraph with its own disposal is a new case
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

    def extend(self, end: int, sentence: str, tells_disposal: bool = True) -> None:
        assert self.current is not None
        compact = _compact(sentence)
        self.current.end = end
        self.current.names.update(_names(compact))
        self.current.complete = self.current.complete or (tells_disposal and _has_any(compact, DISPOSAL_CUES))

    def feed_marker(self, paragraph: _Paragraph) -> None:
        """A non-body line: commentary and closing lines end the unit; headlines and captions only mark a break."""
        if paragraph.kind in ("commentary", "closing", "statute", "nav"):
            self.close()
        elif paragraph.kind in ("heading", "short", "title", "caption"):
            self.after_break = True

    def feed_paragraph(self, paragraph: _Paragraph, fresh: bool | None = None) -> None:
        """Read one body paragraph; ``fresh`` says whether it opens its case (default: no unit was open)."""
        sentences = _sentences(paragraph, self.text)
        paragraph_text = _compact(paragraph.text)
        self.fresh_paragraph = self.current is None if fresh is None else fresh
        for index, (start, end) in enumerate(sentences):
            sentence = _compact(self.text[start:end])
            if self.current is None:
                if _opens_case(sentence):
                    self.open(start, end, sentence)
                    self.fresh_paragraph = True
            elif index == 0 and self.within_block:
                # "…侦破…案。" as the first sentence of a heading is the case's title, not its disposal
                self.extend(end, sentence, tells_disposal=not _is_title(re.sub(_HEADING_PREFIX, "", sentence)))
            elif index == 0:
                self._paragraph_start(start, end, sentence, paragraph_text)
            else:
                self._next_sentence(start, end, sentence)
        self.after_break = False

    def _strong_start(self, sentence: str) -> bool:
        """ "<agency> 侦破一起…案" naming a new offender (or announcing one case) opens a new unit."""
        assert self.current is not None
        if not _STRONG_START.match(sentence) or _ANAPHORA.search(re.split(r"[，,。；;]", sentence, maxsplit=1)[0]):
            return False
        return bool(_new_names(sentence, self.current.names)) or bool(_ONE_CASE.search(sentence))

    def _paragraph_start(self, start: int, end: int, sentence: str, paragraph_text: str) -> None:
        """First sentence of a paragraph while a unit is open: a new case, a continuation, or something else."""
        assert self.current is not None
        narration = _starts_as_narration(sentence)
        continuation = _starts_as_continuation(sentence) or _refers_back(sentence)
        # In a list of one case per paragraph, a dated or agency-led paragraph opens a case even when the source
        # is cut off before its disposal.
        opens_like_case = self.case_list and bool(_TIME_OPENING.match(sentence) or _STRONG_START.match(sentence))
        disposal = _has_any(paragraph_text, DISPOSAL_CUES) or opens_like_case
        stands_alone = not _is_stats(sentence) and (
            _opens_case(sentence) or (_opens_case(paragraph_text) and disposal)
        )
        if self.current.complete and stands_alone and _announces_another(sentence):
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
            # name ("经查，该团伙主要嫌疑人向某某…") ties such a paragraph to the case before it
            new_offender = not _refers_back(sentence) and _introduces_offender(paragraph_text, known, within)
            listed = self.case_list and disposal and not _refers_back(sentence)
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
        starts_as_continuation = _starts_as_continuation(sentence)
        continuation = starts_as_continuation or _refers_back(sentence)
        own_case = _opens_case(sentence) and _has_any(sentence, DISPOSAL_CUES)
        if self.current.complete and own_case and _announces_another(sentence):
            self.open(start, end, sentence)
            return
        if self.current.complete and not starts_as_continuation and own_case:
            weak = (
                not continuation
                and self.fresh_paragraph
                and bool(self.current.names)
                and _introduces_offender(sentence, self.current.names, EARLY_OFFENDER_CHARS)
            )
            mentions = _mentions(sentence)
            names_known_case = bool(mentions) and mentions[0][1] in self.current.names  # "近日，法院…判处范某"
            dated = self.fresh_paragraph and bool(_DATED_AGENCY.match(sentence)) and not names_known_case
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
        if _LAW_TEXT.search(sentence) or (_is_generic(sentence) and not continuation):
            return  # what the law allows, or a warning to the public, is not part of the case
        if _is_stats(sentence) and not continuation:
            return
        refers_back = continuation or bool(set(_names(sentence)) & self.current.names)
        tells_more = _has_offender(sentence) and (
            _has_any(sentence, DISPOSAL_CUES) or _has_any(sentence, CONDUCT_CUES)
        )
        if refers_back or tells_more or _has_any(sentence, DISPOSAL_CUES):
            self.extend(end, sentence)


def _is_case_list(paragraphs: list[_Paragraph]) -> bool:
    """Whether several paragraphs in a row each tell a whole case: a bulletin of one case per paragraph.

    Each such paragraph tells a disposal and opens like a case, with a date ("3月，…", "同月，…") or with its
    offender as the subject ("某婚恋APP…", "居民倪某…"); a news story about one case rarely has three in a row.
    """
    run = best = 0
    for paragraph in paragraphs:
        if paragraph.kind != "body":
            continue
        text = _compact(paragraph.text)
        mentions = _mentions(text)
        opens = (
            bool(_TIME_OPENING.match(text))
            or bool(_STRONG_START.match(text))
            or bool(mentions and mentions[0][0] <= SUBJECT_OFFENDER_CHARS)
        )
        whole_case = opens and _has_any(text, DISPOSAL_CUES) and not _starts_as_narration(text) and _opens_case(text)
        run = run + 1 if whole_case else 0
        best = max(best, run)
    return best >= MIN_CASE_LIST_PARAGRAPHS


def _unheaded_units(
    paragraphs: list[_Paragraph],
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
        if len(_compact(text[u.start : u.end])) >= MIN_CASE_CHARS
        and (u.complete or keep_incomplete or (at_document_end and u.end > last_body_start))
    ]
    return _attach_leading_lines(units, paragraphs, text)


def _attach_leading_lines(units: list[Span], paragraphs: list[_Paragraph], text: str) -> list[Span]:
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


def _normalised_units(normalized: NormalizedText, start: int) -> list[Span]:
    text = normalized.text
    body_start = normalized.to_normalized(start)
    lines = [_classify(line) for line in _split_inline(_split_lines(text, body_start))]
    paragraphs = _paragraphs(lines)
    style = _choose_style(paragraphs)
    if style is None and sum(p.kind == "title" for p in paragraphs) >= 2:
        paragraphs = _promote_titles(paragraphs)
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
        units.append(CaseUnit(source, len(units) + 1, original_start, original_end, text[original_start:original_end]))
    logger.info("segmented %d case units from %s", len(units), source or "<text>")
    return units
