"""The transparent rule baseline: cue words and cited statutes from the label set decide every label.

It is the baseline every model must beat, and needs nothing but the label-set file: a user's own labels with their
own cues and statutes work unchanged.
"""

from __future__ import annotations

import math
import re

from data.evidence import find_fine_amounts, find_statutes
from data.labels import LabelSet
from data.normalize import normalize
from data.types import LabelScores

RULES = "rules"
_STATUTE_WEIGHT = 3.0
_TITLE_WEIGHT = 2.0  # a cue in the heading or title line names the case; one in the body may be incidental
_CHARGE_WEIGHT = 4.0  # a 罪 name is the charge itself (spec: prefer the 罪 named in the title or charge)
_OTHER_PRIOR = 0.5
# Penalty words right after these describe what the law allows, what may happen or what was not done (仍未整改),
# not what was imposed.
_NOT_IMPOSED = re.compile(
    r"(可以|可处|可并处|最高|将被|将面临|或者|以下的?|以上的?|可能|应当|予以警示|如有|未|拒不|没有)$"
)
_CRIMINAL = re.compile(r"罪|刑事|犯罪嫌疑人|被告人|公诉|判处|逮捕|刑拘")
_PERSON = re.compile(r"[\u4e00-\u9fff]某{1,2}|嫌疑人|男子|女子|网民|网友|当事人|被告人|个人")
_ORGANIZATION = re.compile(
    r"公司|单位|网站|平台|学校|医院|网吧|酒店|银行|中心|工作室|营业厅|机构|运营商|APP|App|企业|商户|店|协会|门户"
)
_PERSON_PENALTY = re.compile(r"(主管人员|责任人|负责人|法定代表人)[^。；]{0,20}(罚款|拘留|警告)")
_DETENTION_DAYS = re.compile(r"(?<!刑事)拘留\s*[0-9一二三四五六七八九十]+\s*日")
# "责令立即改正", "责令其一周内予以改正", "责令其停止联网", "责令删除": an order to correct, stop the violation or
# clean up, with a deadline or manner between the words (labels.md: 责令停止联网 and 责令删除/清理 are rectification;
# stopping updates, operation or business is a suspension)
_ORDERED_TO_CORRECT = re.compile(r"责令[^。；;，,]{0,10}?(?:改正|整改|纠正|停止(?!更新|运营|营业|服务)|删除|清理)")
_VPN = ("翻墙", "VPN", "vpn", "非法定信道", "国际联网")
# labels.md: 捣毁/打掉 of a criminal website or platform is closure; of a den, company or gang it is not. The object is
# read up to the next clause break.
_TAKEDOWN_VERBS = ("捣毁", "打掉")
_TAKEDOWN = re.compile(rf"(?:{'|'.join(_TAKEDOWN_VERBS)})([^，,。；;]{{0,16}})")
_SITE = re.compile(r"网站|平台|APP|App|app|网页|服务器")
_NOT_SITE = re.compile(r"窝点|团伙|团队|公司|链条|组织")


class RuleLabeler:
    """Scores offense, penalties and party of case-unit texts from cues and statutes."""

    model_type = RULES

    def __init__(self, label_set: LabelSet) -> None:
        self.label_set = label_set
        self._penalty_cues = {
            penalty: [re.compile(re.escape(cue)) for cue in cues if cue not in _TAKEDOWN_VERBS or penalty != "closure"]
            for penalty, cues in label_set.penalty_cues.items()
        }

    def score_texts(self, texts: list[str]) -> list[LabelScores]:
        """Label scores for each text (traditional script and full-width forms are normalised first)."""
        return [self._score(normalize(text).text) for text in texts]

    def _score(self, text: str) -> LabelScores:
        penalties = self._penalties(text)
        return LabelScores(self._offense(text), penalties, self._party(text, penalties))

    def _offense(self, text: str) -> dict[str, float]:
        title = "\n".join(text.strip().splitlines()[:2])[:80]
        statutes = set(find_statutes(text))
        criminal = bool(_CRIMINAL.search(text))
        scores = {}
        for offense in self.label_set.offenses:
            score = _STATUTE_WEIGHT * len(statutes & set(self.label_set.offense_statutes.get(offense, ())))
            for cue in self.label_set.offense_cues.get(offense, ()):
                if cue in text:
                    score += _CHARGE_WEIGHT if cue.endswith("罪") else 1.0
                    score += _TITLE_WEIGHT if cue in title else 0.0
            scores[offense] = score
        if "other" in scores:
            scores["other"] = max(scores["other"], _OTHER_PRIOR)
        # labels.md: a case about selling, providing or using 翻墙/VPN is vpn_circumvention whatever the charge.
        if "vpn_circumvention" in scores and any(cue in title for cue in _VPN):
            scores["vpn_circumvention"] += 2 * _CHARGE_WEIGHT
        # labels.md: criminal measures or a 罪 name make a personal-information case the crime.
        if {"personal_info_admin", "personal_info_crime"} <= scores.keys() and criminal:
            scores["personal_info_crime"] += scores["personal_info_admin"]
            scores["personal_info_admin"] = 0.0
        return _softmax(scores)

    def _penalties(self, text: str) -> dict[str, float]:
        found = {p for p, cues in self._penalty_cues.items() if any(_imposed(text, cue) for cue in cues)}
        if "admin_detention" in self.label_set.penalties and _DETENTION_DAYS.search(text):
            found.add("admin_detention")
        if "rectification" in self.label_set.penalties and _imposed(text, _ORDERED_TO_CORRECT):
            found.add("rectification")
        if "fine" in self.label_set.penalties and find_fine_amounts(text):
            found.add("fine")  # "处2000元的行政处罚": a sum imposed as the penalty is a fine without the word 罚款
        if "other_criminal_measure" in found and (
            not _CRIMINAL.search(text) or found & {"sentence", "arrest", "criminal_detention"}
        ):
            found.discard("other_criminal_measure")  # labels.md: only when no detention, arrest or sentence
        if "closure" in self.label_set.penalties and _sites_taken_down(text):
            found.add("closure")
        if "closure" in found and re.search(r"自行(关闭|关停|下架)", text):
            found.discard("closure")
        return {p: (0.95 if p in found else 0.05) for p in self.label_set.penalties}

    def _party(self, text: str, penalties: dict[str, float]) -> dict[str, float]:
        organization = bool(_ORGANIZATION.search(text))
        person_punished = bool(_PERSON_PENALTY.search(text)) or (
            organization and penalties.get("admin_detention", 0) > 0.5 and bool(_PERSON.search(text))
        )
        if organization and person_punished:
            guess = "both"
        elif organization and not _CRIMINAL.search(text):
            guess = "organization"
        else:
            guess = "individual" if _PERSON.search(text) or not organization else "organization"
        if guess not in self.label_set.parties:
            guess = self.label_set.parties[0]
        rest = (1 - 0.8) / max(1, len(self.label_set.parties) - 1)
        return {p: (0.8 if p == guess else rest) for p in self.label_set.parties}


def _imposed(text: str, cue: re.Pattern) -> bool:
    """Whether any occurrence of ``cue`` reads as imposed rather than merely possible."""
    for match in cue.finditer(text):
        if not _NOT_IMPOSED.search(text[max(0, match.start() - 6) : match.start()]):
            return True
    return False


def _sites_taken_down(text: str) -> bool:
    """Whether a takedown verb's object is a website or platform rather than a den, gang or company."""
    return any(_SITE.search(m.group(1)) and not _NOT_SITE.search(m.group(1)) for m in _TAKEDOWN.finditer(text))


def _softmax(scores: dict[str, float]) -> dict[str, float]:
    top = max(scores.values())
    exp = {k: math.exp(v - top) for k, v in scores.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}
