"""Segmenter behaviour on short bulletins written for these tests (labels.md, "case unit"), plus the real-data score.

Every bulletin here is invented; none is copied from a real source.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from data.annotated import load_annotated_dir
from data.labels import LabelSet
from data.segment import segment_bulletin
from data.types import CaseUnit
from eval.segmentation import match_spans, segmentation_scores

LEAD = "为规范网络秩序，某市公安局网安支队今年以来持续开展执法检查，现将典型案例通报如下：\n"
CASE_A = "甲公司运营的点餐小程序长期未留存访问日志，民警依法对该公司处以警告，并责令其十日内改正。"
CASE_B = "乙网吧未核验上网人员身份证件，辖区派出所依法对该网吧处罚款八千元。"
CASE_C = "居民丙某在微信群散布虚构的停水消息，引发围观，丙某被依法行政拘留三日。"


def texts(units: list[CaseUnit]) -> list[str]:
    return [unit.text for unit in units]


def assert_units_match_source(units: list[CaseUnit], source: str) -> None:
    for number, unit in enumerate(units, start=1):
        assert unit.index == number
        assert unit.text == source[unit.start : unit.end]
        assert unit.text == unit.text.strip()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("案例一：\n", "案例二：\n"),
        ("一、", "二、"),
        ("（一）", "（二）"),
        ("1.", "2."),
        ("1、", "2、"),
        ("【案例1】", "【案例2】"),
        ("案例1 ", "案例2 "),
    ],
    ids=["case_word_colon", "cn_dun", "paren", "num_dot", "num_dun", "bracket", "case_word_digit"],
)
def test_segment_each_heading_style_starts_a_unit(first: str, second: str) -> None:
    text = f"{LEAD}{first}甲公司未留存日志案\n{CASE_A}\n{second}乙网吧未核验身份案\n{CASE_B}\n"
    case_a = text[text.index(first) : text.index(CASE_A) + len(CASE_A)]
    case_b = text[text.index(second) : text.index(CASE_B) + len(CASE_B)]
    units = segment_bulletin(text)
    assert texts(units) == [case_a.strip(), case_b.strip()]
    assert_units_match_source(units, text)


def test_segment_title_lines_ending_in_an_are_headings() -> None:
    text = f"{LEAD}甲公司未留存访问日志案\n{CASE_A}\n乙网吧未核验上网人员身份案\n{CASE_B}\n"
    units = segment_bulletin(text)
    assert texts(units) == [f"甲公司未留存访问日志案\n{CASE_A}", f"乙网吧未核验上网人员身份案\n{CASE_B}"]


def test_segment_joins_line_broken_mid_word() -> None:
    text = (
        f"{LEAD}案例一：\n居民丁某在多个群组发布虚假招工信息，骗取押金，县公安局对丁某处以行政拘\n留十日。\n"
        f"案例二：\n{CASE_B}\n"
    )
    units = segment_bulletin(text)
    assert len(units) == 2
    assert units[0].text.endswith("行政拘\n留十日。")


def test_segment_splits_two_cases_at_semicolon() -> None:
    text = f"{LEAD}{CASE_A[:-1]}；{CASE_C}\n"
    units = segment_bulletin(text)
    assert texts(units) == [f"{CASE_A[:-1]}；", CASE_C]


def test_segment_splits_cases_narrated_in_one_paragraph_at_full_stop() -> None:
    second = "同日，东区网民戊某在短视频平台冒充民警直播，被依法处以罚款五百元。"
    text = f"{LEAD}{CASE_C}{second}\n"
    assert texts(segment_bulletin(text)) == [CASE_C, second]


def test_segment_keeps_one_unit_when_one_sentence_disposes_of_all() -> None:
    paragraph = (
        "东区甲科技公司、西区乙文化公司、南区丙商贸公司均未落实网络安全等级保护制度，"
        "其门户网站被植入博彩链接；市网信办对上述三家公司负责人进行约谈，并责令限期改正。"
    )
    assert texts(segment_bulletin(f"{LEAD}{paragraph}\n")) == [paragraph]


def test_segment_excludes_lead_statistics_caption_and_closing() -> None:
    text = (
        "今年以来，全市共检查联网单位320家次，下发整改通知书41份，行政处罚违法单位17家。\n"
        f"案例一：\n{CASE_A}\n"
        "图为民警在机房检查日志留存情况。\n"
        f"案例二：\n{CASE_B}\n"
        "警方提醒：网络运营者应当依法履行安全保护义务，切勿心存侥幸。\n"
    )
    assert texts(segment_bulletin(text)) == [f"案例一：\n{CASE_A}", f"案例二：\n{CASE_B}"]


def test_segment_excludes_section_heading_over_numbered_cases() -> None:
    text = f"{LEAD}一、网络谣言类\n1.{CASE_C}\n2.{CASE_C.replace('丙某', '己某')}\n二、网络安全类\n1.{CASE_A}\n"
    units = segment_bulletin(text)
    assert len(units) == 3
    assert not any("网络谣言类" in unit.text or "网络安全类" in unit.text for unit in units)


def test_segment_excludes_judge_commentary_after_case() -> None:
    case = (
        "【案例1】\n被告人庚某出售自己名下银行卡三张，供他人转移诈骗资金，"
        "法院以帮助信息网络犯罪活动罪判处其有期徒刑八个月。"
    )
    text = f"{case}\n【法官说法】\n出售银行卡看似小事，实则为犯罪提供了便利，切莫因小利触犯刑法。\n"
    assert texts(segment_bulletin(text)) == [case]


def test_segment_excludes_lone_an_cut_off_at_end() -> None:
    text = f"{LEAD}案例一：\n{CASE_A}\n案例二：\n{CASE_B}\n案\n"
    assert texts(segment_bulletin(text)) == [f"案例一：\n{CASE_A}", f"案例二：\n{CASE_B}"]


def test_segment_excludes_fragment_without_conduct() -> None:
    text = f"{LEAD}6.{CASE_A}\n7.张某某\n"
    assert texts(segment_bulletin(text)) == [f"6.{CASE_A}"]


def test_segment_keeps_case_cut_off_before_its_disposal() -> None:
    text = f"{LEAD}案例一：\n{CASE_A}\n案例二：辛某编造疫情谣言案\n辛某在本地论坛发布所谓内部通知，称全城即将"
    units = segment_bulletin(text)
    assert len(units) == 2 and units[1].text.endswith("称全城即将")


def test_segment_news_story_keeps_headline_and_lead() -> None:
    headline = "刷单返利骗局被识破 三名嫌疑人落网"
    story = (
        "本报讯（记者 吴某）近日，北区公安分局破获一起刷单返利诈骗案，抓获犯罪嫌疑人壬某等3人。\n"
        "今年5月，市民小林在网上做兼职时被要求垫付货款，先后被骗1.2万元。接报后，民警循线追踪，锁定了壬某团伙。\n"
        "目前，壬某等3人已被依法刑事拘留，案件正在进一步侦办中。"
    )
    text = f"首页 > 平安频道 > 正文\n{headline}\n{story}\n图为民警清点涉案手机。\n"
    assert texts(segment_bulletin(text)) == [f"{headline}\n{story}"]


def test_segment_bulletin_without_headings_gives_one_unit_per_case_paragraph() -> None:
    text = f"{LEAD}{CASE_A}\n{CASE_B}\n{CASE_C}\n以上处罚决定均已送达当事人。\n"
    assert texts(segment_bulletin(text)) == [CASE_A, CASE_B, CASE_C]


def test_segment_offsets_point_into_original_with_header_and_traditional_script() -> None:
    header = "SOURCE: https://example.org/mirror\nTITLE: 測試\n---\n"
    body = (
        "現(xiàn)將典型案例通報如下：\n"
        "一、甲公司未落實(shí)日誌留存案\n甲公司未按規(guī)定留存網(wǎng)絡(luò)日誌，民警依法對(duì)該公司處(chǔ)以警告。\n"
        "二、丙某散布謠言案\n丙某在群內(nèi)散布謠言，被依法處(chǔ)以行政拘留三日。\n"
    )
    text = header + body
    units = segment_bulletin(text, source="mirror.txt", start=len(header))
    assert [unit.source for unit in units] == ["mirror.txt", "mirror.txt"]
    assert_units_match_source(units, text)
    assert units[0].start > len(header)
    assert units[0].text.startswith("一、甲公司") and units[0].text.endswith("處(chǔ)以警告。")
    assert units[1].text.startswith("二、丙某") and units[1].text.endswith("行政拘留三日。")


def test_segment_reads_only_after_start() -> None:
    text = f"{CASE_C}\n{CASE_A}\n"
    units = segment_bulletin(text, start=len(CASE_C) + 1)
    assert texts(units) == [CASE_A]
    assert units[0].start == len(CASE_C) + 1


def test_segment_returns_no_unit_for_text_without_cases() -> None:
    assert segment_bulletin("今年以来，全市共检查联网单位320家次。\n警方提醒：请勿泄露验证码。\n") == []


def test_segment_rejects_start_outside_text() -> None:
    with pytest.raises(ValueError, match="start=99"):
        segment_bulletin("短文本", start=99)


def test_match_spans_pairs_each_gold_span_once_by_best_iou() -> None:
    predicted = [(0, 10), (0, 9), (20, 30)]
    gold = [(0, 10), (21, 30), (50, 60)]
    assert match_spans(predicted, gold) == [(0, 0), (2, 1)]


def test_match_spans_ignores_overlap_below_threshold() -> None:
    assert match_spans([(0, 10)], [(5, 30)], min_iou=0.5) == []


def test_segmentation_scores_counts_tp_fp_fn() -> None:
    scores = segmentation_scores([(3, 2, [(0, 0), (1, 1)]), (0, 1, [])])
    assert (scores["tp"], scores["fp"], scores["fn"]) == (2, 1, 1)
    assert scores["precision"] == pytest.approx(2 / 3) and scores["recall"] == pytest.approx(2 / 3)


def test_segment_scores_f1_at_least_095_on_real_bulletins(real_dir: Path, label_set: LabelSet) -> None:
    results = []
    for annotated in load_annotated_dir(real_dir, label_set):
        bulletin = annotated.bulletin
        units = segment_bulletin(bulletin.text, bulletin.source, bulletin.body_start)
        spans = [(unit.start, unit.end) for unit in units]
        results.append((len(spans), len(annotated.spans), match_spans(spans, annotated.spans)))
        assert_units_match_source(units, bulletin.text)
    scores = segmentation_scores(results)
    assert scores["f1"] >= 0.95, scores


def test_segment_splits_a_round_up_of_cities_cases() -> None:
    cases = [
        "甲城警方捣毁一个编造虚假险情信息的网络水军团伙，抓获犯罪嫌疑人6名。",
        "乙城侦破一起冒充记者敲诈勒索案，抓获犯罪嫌疑人3名。",
    ]
    text = f"在打击网络水军方面，全省累计侦破案件21起。{''.join(cases)}\n"
    assert texts(segment_bulletin(text)) == cases


def test_segment_ignores_numbered_points_of_a_commentary() -> None:
    points = (
        "法律提示：\n"
        "1.出租、出借本人银行卡，尚不构成犯罪的，由公安机关依法处罚。\n"
        "2.以“抢红包”等方式在微信群赌博的，参与者同样要承担法律责任。\n"
    )
    text = f"{LEAD}{CASE_A}\n{CASE_C}\n{points}"
    assert texts(segment_bulletin(text)) == [CASE_A, CASE_C]


def test_segment_joins_a_teaser_lead_to_the_case_it_retells() -> None:
    teaser = "近日，东区警方查处一起网络谣言案件。一网民为博取关注转发不实视频，被行政拘留。"
    story = "网民庚某在短视频平台转发多条虚构的“水库溃坝”视频，经查均为不实信息，庚某被依法行政拘留五日。"
    assert texts(segment_bulletin(f"{teaser}\n{story}\n")) == [f"{teaser}\n{story}"]


def test_segment_case_does_not_reach_over_statistics_and_a_qa() -> None:
    story = "市民辰某报案称被骗，经查，午某出租本人银行卡供他人转移赃款，午某已被依法刑事拘留。"
    rest = (
        "今年以来，全区共审查起诉此类案件30件50人。\n"
        "问：什么是“两卡”？\n"
        "答：“两卡”指手机卡和银行卡。\n"
        "本案中，午某出租银行卡的行为已涉嫌犯罪。"
    )
    assert texts(segment_bulletin(f"{story}\n{rest}\n")) == [story]


def test_segment_starts_where_the_paragraph_introduces_the_offender() -> None:
    paragraph = (
        "现年40岁的岑某在城区经营一家电子产品店。去年春天，岑某从网上购进针孔摄像设备在店内出售，"
        "被公安机关查获，法院以非法销售窃照专用器材罪判处其拘役二个月。"
    )
    assert texts(segment_bulletin(f"{paragraph}\n")) == [paragraph]


def test_segment_skips_page_summary_and_exclaimed_headline() -> None:
    story = "近日，西区网安大队发现某公司网站开办以来未办理公安联网备案，依法对其予以警告，责令其限期备案。"
    text = f"网站未备案，一公司被处罚！\n摘要：{story[:30]}\n{story}\n"
    assert texts(segment_bulletin(text)) == [story]


def test_segment_reads_short_title_lines_followed_by_their_subject() -> None:
    first = "某资讯网站发布不实新闻\n该网站未经核实转载虚构的企业破产消息，市网信办依法约谈该网站负责人，责令整改。"
    second = "某直播平台未落实审核责任\n该平台多个直播间存在低俗内容，市网信办责令该平台暂停新增用户注册。"
    assert texts(segment_bulletin(f"{first}\n{second}\n")) == [first, second]


def test_segment_conditional_law_text_is_no_case() -> None:
    text = f"{CASE_B}\n网警提醒\n如网站运营者拒不履行备案义务，公安机关可根据有关规定对其进行处罚。\n"
    assert texts(segment_bulletin(text)) == [CASE_B]


def test_segment_keeps_a_numbered_case_cut_off_inside_its_line() -> None:
    first = "1、“某某生活”APP未公开收集规则，经西区分局网安大队调查，依据《网络安全法》第六十四条，对其处以警告。"
    cut = (
        "2、“某某出行”APP超范围收集用户通讯录，涉嫌违规收集个人信息，经东区分局网安大队受案调查，"
        "依据《网络安全法》第六十四条，对其运营单位处以"
    )
    assert texts(segment_bulletin(f"典型案例\n{first}\n{cut}")) == [first, cut]


def test_segment_announced_case_may_name_criminals_generically() -> None:
    cases = [
        "例如，甲市公安机关打掉一个贩卖学生信息的犯罪团伙，抓获犯罪嫌疑人5名。",
        "乙市公安机关打掉一个向诈骗犯罪分子出售营业执照的团伙，抓获犯罪嫌疑人4名。",
    ]
    text = f"今年以来，全省共破获此类案件90余起，抓获犯罪嫌疑人220余名。{''.join(cases)}\n"
    assert texts(segment_bulletin(text)) == cases


def test_segment_points_of_a_report_open_no_case() -> None:
    case = "3月，丁某某在网上销售伪装成手表的窃照设备，被法院以非法销售窃照专用器材罪判处拘役四个月。"
    text = f"一是商家包装销售钻监管空子。很多博主以“家庭安防”为名售卖此类设备。{case}\n"
    assert texts(segment_bulletin(text)) == [case]


def test_segment_reads_zero_padded_numbers_glued_to_the_text() -> None:
    first = "01近日，网民甲某在微信群编造“全城停水”的虚假信息，公安机关依法对甲某行政拘留五日。"
    second = "02近日，网民乙某转发“学校停课”的不实消息，公安机关依法对乙某予以批评教育。"
    text = f"市公安局公布两起网络谣言案例{first}{second}"
    assert texts(segment_bulletin(text)) == [first, second]


def test_segment_reads_financial_numerals_in_case_headings() -> None:
    text = f"{LEAD}案例壹：\n{CASE_A}\n案例贰：\n{CASE_B}\n案例叁：\n{CASE_C}\n"
    assert texts(segment_bulletin(text)) == [f"案例壹：\n{CASE_A}", f"案例贰：\n{CASE_B}", f"案例叁：\n{CASE_C}"]


def test_segment_for_example_with_a_date_opens_a_case() -> None:
    cases = [
        "如6月12日，甲市公安局侦破一起跨境网络赌博案，抓获犯罪嫌疑人12名。",
        "如7月3日，乙市公安局侦破一起利用网络赌球案，抓获犯罪嫌疑人8名。",
    ]
    text = f"今年以来，全省共侦破网络赌博案件200余起。{''.join(cases)}\n"
    assert texts(segment_bulletin(text)) == cases


def test_segment_sections_that_count_cases_then_tell_one_under_a_title() -> None:
    first = "甲某在通报下发布不实评论\n10月18日，网民甲某在通报下发布不实评论称死伤多人，公安机关对甲某行政拘留五日。"
    second = "乙某发布招考谣言\n11月26日，网民乙某为吸粉引流发布不实招考信息，公安机关依法对乙某处以罚款。"
    text = (
        "一、依法办理涉广场斗殴网络谣言案件15起，行政拘留7人。\n典型案例\n"
        f"{first}\n二、依法办理涉招考网络谣言案件11起，罚款6人。\n典型案例\n{second}\n"
    )
    assert texts(segment_bulletin(text)) == [first, second]
