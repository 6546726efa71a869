"""The rule baseline reads penalties from what the text says was imposed, not from what the law allows."""

from __future__ import annotations

import pytest

from data.labels import LabelSet
from models.rules import RuleLabeler


def _penalties(label_set: LabelSet, text: str) -> set[str]:
    scores = RuleLabeler(label_set).score_texts([text])[0].penalties
    return {penalty for penalty, score in scores.items() if score > 0.5}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("民警依法给予该营业厅经营者3000元的行政处罚。", {"fine"}),
        ("公安机关对该公司处以警告，并责令其限期内作出整改。", {"warning", "rectification"}),
        ("民警依法对该网站运营者责令其一周内予以改正。", {"rectification"}),
        ("检查发现该网站漏洞仍未作出整改，公安机关依法予以行政处罚。", set()),
        ("被告人王某某因帮助信息网络犯罪活动罪获刑一年。", {"sentence"}),
        ("网信部门约谈该主播，责令其账号停止更新15日。", {"interview", "suspension"}),
        ("根据规定，可以处五千元以上五万元以下罚款。", set()),
        # labels.md: 责令停止联网 and 责令删除 are rectification
        ("公安机关给予其警告，并责令其停止联网。", {"warning", "rectification"}),
        ("网信部门责令该账号主体删除相关信息。", {"rectification"}),
        # labels.md: 捣毁 of a criminal website or platform is closure; of a den or gang it is not
        ("警方捣毁涉赌网站3个。", {"closure"}),
        ("警方捣毁作案窝点2处。", set()),
        ("警方打掉一个非法直播平台。", {"closure"}),
        ("平台对相关账号予以封停。", {"closure"}),
    ],
)
def test_rule_penalties_follow_what_was_imposed(label_set: LabelSet, text: str, expected: set[str]) -> None:
    assert _penalties(label_set, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # labels.md: `both` when a unit and a named person are each punished, however the person is called
        ("公安机关对该公司处以警告并罚款1万元，对网络安全主管人员罚款5000元。", "both"),
        ("网信办对该公司罚款5万元，对主要责任人罚款1万元。", "both"),
        ("公安机关对该公司处以警告并罚款1万元。", "organization"),
    ],
)
def test_rule_party_is_both_when_a_person_of_the_unit_is_punished_too(
    label_set: LabelSet, text: str, expected: str
) -> None:
    scores = RuleLabeler(label_set).score_texts([text])[0].party
    assert max(scores, key=scores.get) == expected
