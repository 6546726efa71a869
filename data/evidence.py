"""What a case unit's text says outright: cited statutes, administrative fines in yuan, and label cue words.

The rule baseline labels from this evidence, and every model's predictions carry it so analysts can check a label
against the words that support it.
"""

from __future__ import annotations

import re

from data.labels import LabelSet
from data.types import Evidence

# Financial (capital) numerals 壹贰叁… appear in formal penalty decisions.
_CN_DIGITS = dict(
    zip(
        "零〇一二两三四五六七八九壹贰叁肆伍陆柒捌玖",
        [0, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        strict=True,
    )
)
_CN_UNITS = {"十": 10, "百": 100, "千": 1000, "拾": 10, "佰": 100, "仟": 1000, "万": 10_000, "亿": 100_000_000}
_NUMERAL = r"[0-9０-９]+(?:[.,，][0-9０-９]+)*|[零〇一二两三四五六七八九十百千万亿壹贰叁肆伍陆柒捌玖拾佰仟]+"
_ARTICLE = (
    rf"第\s*({_NUMERAL})\s*条(之[一二三四五六七八九十])?(?:第\s*(?:{_NUMERAL})\s*款)?(?:第\s*(?:{_NUMERAL})\s*项)?"
)
_ARTICLE_RUN = re.compile(rf"(?:{_ARTICLE}\s*(?:[、，,和及与或]|以及)?\s*)+")
_ARTICLE_ONE = re.compile(_ARTICLE)
_TITLED_LAW = re.compile(r"《([^》\n]{2,40})》")
# Laws often cited without 《》 in news reposts; the title regex would miss them.
_BARE_LAW = re.compile(
    r"(?<!《)((?:中华人民共和国)?(?:刑法|网络安全法|数据安全法|个人信息保护法|治安管理处罚法|反电信网络诈骗法))"
)
_ORDER = re.compile(r"(?:公安部)?第?\s*(\d+|[一二三四五六七八九十]+)\s*号令")
_AMOUNT = re.compile(rf"({_NUMERAL})\s*(万|千)?\s*(?:余)?元")
_CLAUSE_END = re.compile(r"[。；;！!？?\n]")
# A fine is an amount governed by 罚款; these words govern an amount that is not an administrative fine.
_NOT_FINE = (
    "罚金",
    "违法所得",
    "没收",
    "获利",
    "赃款",
    "涉案",
    "流水",
    "诈骗",
    "收取",
    "赌资",
    "价值",
    "损失",
    "费用",
    "报酬",
    "售价",
    "金额达",
    "非法所得",
    "返利",
    "工资",
)


def parse_number(token: str) -> float | None:
    """Arabic (full- or half-width, with separators) or Chinese numerals → number; None if it is not one."""
    token = token.translate(str.maketrans("０１２３４５６７８９，", "0123456789,"))
    if re.fullmatch(r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?", token):
        return float(token.replace(",", ""))
    if not token or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in token):
        return None
    total, section, digit = 0, 0, 0
    for ch in token:
        if ch in _CN_DIGITS:
            digit = _CN_DIGITS[ch]
        elif _CN_UNITS[ch] >= 10_000:
            total += (section + digit) * _CN_UNITS[ch]
            section, digit = 0, 0
        else:
            section += (digit or 1) * _CN_UNITS[ch]  # '十五' means 15: a unit with no digit before it counts once
            digit = 0
    return float(total + section + digit)


def find_statutes(text: str) -> tuple[str, ...]:
    """Cited articles as ``'<law> 第<n>条'`` in text order, each once (``《中华人民共和国网络安全法》第二十一条`` →
    ``网络安全法 第21条``)."""
    found: list[str] = []
    laws = [(m.end(), m.group(1)) for m in _TITLED_LAW.finditer(text)]
    laws += [(m.end(), m.group(1)) for m in _BARE_LAW.finditer(text)]
    laws += [(m.end(), f"公安部{m.group(1)}号令") for m in _ORDER.finditer(text)]
    for end, law in sorted(laws):
        run = _ARTICLE_RUN.match(text, end + (1 if text[end : end + 1] in "的之" else 0))
        if not run:
            continue
        name = re.sub(r"^中华人民共和国", "", law).strip()
        for article in _ARTICLE_ONE.finditer(run.group(0)):
            number = parse_number(article.group(1))
            if number is not None:
                found.append(f"{name} 第{int(number)}条{article.group(2) or ''}")
    return tuple(dict.fromkeys(found))


def find_fine_amounts(text: str) -> tuple[int, ...]:
    """Administrative fines in yuan, in text order, each distinct amount once (spec: 'fine_amounts')."""
    amounts: list[int] = []
    for match in _AMOUNT.finditer(text):
        value = parse_number(match.group(1))
        if value is None or not _governed_by_fine(text, match.start(), match.end()):
            continue
        value *= {"万": 10_000, "千": 1000}.get(match.group(2) or "", 1)
        amounts.append(int(round(value)))
    return tuple(dict.fromkeys(amounts))


def _governed_by_fine(text: str, start: int, end: int) -> bool:
    """An amount is a fine when 罚款 is the nearest governing word before it in its clause, or follows it directly
    (``分别处以1万元、5000元罚款``)."""
    clause_start = max((m.end() for m in _CLAUSE_END.finditer(text, 0, start)), default=0)
    before = text[clause_start:start]
    after = re.match(
        rf"(?:\s*[、和及与]\s*(?:{_NUMERAL})\s*(?:万|千)?\s*元)*\s*(?:的)?\s*(罚款|罚金|行政处罚)", text[end:]
    )
    if after:
        return after.group(1) != "罚金"  # '处2000元的行政处罚': a sum of money as an administrative penalty
    fine_at = before.rfind("罚款")
    if fine_at < 0:
        return False
    return not any(word in before[fine_at:] for word in _NOT_FINE)


def find_cues(text: str, label_set: LabelSet) -> tuple[tuple[str, str, int, int], ...]:
    """Every offense and penalty cue of the label set found in the text, as ``(label, cue, start, end)``."""
    cues = []
    for table in (label_set.offense_cues, label_set.penalty_cues):
        for label, words in table.items():
            for word in words:
                cues.extend((label, word, m.start(), m.end()) for m in re.finditer(re.escape(word), text))
    return tuple(sorted(cues, key=lambda c: (c[2], c[3], c[0])))


def extract_evidence(text: str, label_set: LabelSet) -> Evidence:
    """Statutes, fines and cues of one case unit (offsets relative to ``text``)."""
    return Evidence(
        statutes=find_statutes(text), fine_amounts=find_fine_amounts(text), cues=find_cues(text, label_set)
    )
