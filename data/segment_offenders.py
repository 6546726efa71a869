"""Offenders: the names that tell one case from the next.

A case unit opens where a sentence names an offender and a new one opens where another offender is introduced, so
the segmenter compares names: persons (张某, 吴某某), 某-entities ("某科技公司", "辖区某网吧"), named companies, quoted
site or account names, the placeholders of court releases (甲公司) and indefinite introductions ("一家网吧"). Matching
runs on the normalised (simplified) text.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Authorities that act on a case (公安局, 网信办, 法院…). A 某-phrase naming one ("某区人民法院") is the authority, not
# an offender; ``data.segment_cues`` builds its announcements of a case ("<agency> 侦破一起…案") from the same list.
AGENCY = (
    r"(?:公安局|公安分局|分局|公安机关|公安厅|警方|派出所|网安支队|网安大队|网安总队|网安部门|网警支队|网警大队|"
    r"网警部门|网信办|网信部门|法院|检察院|检察机关|市场监管局|刑警大队|刑侦大队|治安大队|专案组)"
)

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


@lru_cache(maxsize=4096)
def offender_mentions(text: str) -> tuple[tuple[int, str], ...]:
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


def offender_names(text: str) -> list[str]:
    """Offender names in order of appearance (see ``offender_mentions``)."""
    return [name for _, name in offender_mentions(text)]


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
        if not _PLACE_BEFORE.search(text[max(0, m.start() - 8) : m.start()]) and not re.search(AGENCY, m.group())
    ]


def _first_offender_position(text: str) -> int:
    """Where the first offender mention (name, entity, indefinite "一家…公司" or role word) starts; -1 if none."""
    patterns = (_MOU_ENTITY, _INDEFINITE, _ROLE, _COUNTED_OFFENDER)
    positions = [m.start() for pattern in patterns for m in [pattern.search(text)] if m]
    positions += [position for position, _ in offender_mentions(text)[:1]]
    positions += [m.start() for m in [_COMPANY.search(text)] if m and "该" not in m.group()]
    positions += [m.start() for m in [_QUOTED_NAME.search(text)] if m]
    return min(positions) if positions else -1


def has_offender(text: str) -> bool:
    """Whether ``text`` mentions an offender: a name, a 某-entity, an indefinite "一家…公司" or a role word."""
    return _first_offender_position(text) >= 0
