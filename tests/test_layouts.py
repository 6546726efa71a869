"""Layout augmentation: every layout yields exact, ordered, trimmed gold spans around the units it was given."""

import re

import opencc
import pytest

from data.layouts import LAYOUTS, NO_CASE_LAYOUTS, WRAPPER_LAYOUTS, corpus_unit_texts, render_bulletins

# Short units written for this test, each with the source heading the generator must strip; BODIES are their
# texts without that heading, written out by hand rather than computed with the generator's own regex.
UNITS = (
    "案例一：某网吧未核验上网人员身份案\n某网吧为未登记身份的人员提供上网服务。公安机关对该网吧给予警告，并责令改正。",
    "（二）王某在微信群散布不实消息，称本地水库即将决堤。公安机关依法对王某处以行政拘留五日。",
    "【案例9】\n某公司网站存在高危漏洞未修补，导致用户数据被窃取。公安机关对该公司处罚款一万元。",
    "⑦李某出售本人名下银行卡三张，获利六百元。李某以涉嫌帮助信息网络犯罪活动罪被刑事拘留。",
    "某学校网站未办理联网备案手续。公安机关对该学校予以警告，责令其限期备案。",
    "12.赵某利用木马程序控制他人电脑二十台。法院以非法控制计算机信息系统罪判处赵某有期徒刑一年。",
)
BODIES = (
    "某网吧未核验上网人员身份案\n某网吧为未登记身份的人员提供上网服务。公安机关对该网吧给予警告，并责令改正。",
    "王某在微信群散布不实消息，称本地水库即将决堤。公安机关依法对王某处以行政拘留五日。",
    "某公司网站存在高危漏洞未修补，导致用户数据被窃取。公安机关对该公司处罚款一万元。",
    "李某出售本人名下银行卡三张，获利六百元。李某以涉嫌帮助信息网络犯罪活动罪被刑事拘留。",
    "某学校网站未办理联网备案手续。公安机关对该学校予以警告，责令其限期备案。",
    "赵某利用木马程序控制他人电脑二十台。法院以非法控制计算机信息系统罪判处赵某有期徒刑一年。",
)
# a round-up paragraph tells its cases back to back, so a unit's title line is dropped there
UNTITLED = tuple(body.split("\n", 1)[-1] for body in BODIES)
PAGES_PER_LAYOUT = 12
SEED = 7
PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")
TO_SIMPLIFIED = opencc.OpenCC("t2s")


@pytest.fixture(scope="module")
def pages():
    return render_bulletins(UNITS, PAGES_PER_LAYOUT * len(LAYOUTS), seed=SEED)


def _pages_of(pages, layout):
    chosen = [page for page in pages if page.layout == layout]
    assert len(chosen) == PAGES_PER_LAYOUT
    return chosen


def _sentences(text):
    return [s for s in re.split(r"(?<=[。；])|\n", text) if s.strip()]


def _tells(span_text, body):
    """Every line and sentence of ``body`` is in ``span_text``, in order (layouts may put labels between them)."""
    position = 0
    for sentence in _sentences(body):
        position = span_text.find(sentence, position)
        if position < 0:
            return False
        position += len(sentence)
    return True


def _normalised(layout, span_text):
    """The span as simplified text without the layout's artefacts: pinyin glosses, hard line breaks."""
    if layout == "traditional_mirror":
        return TO_SIMPLIFIED.convert(PINYIN.sub("", span_text))
    if layout == "line_broken":
        return span_text.replace("\n", "")
    return span_text


@pytest.mark.parametrize("layout", LAYOUTS)
def test_layouts_spans_are_sorted_trimmed_and_inside_text(pages, layout):
    for page in _pages_of(pages, layout):
        assert page.name.startswith(f"layout-{layout}-")
        previous_end = 0
        for start, end in page.spans:
            assert previous_end <= start < end <= len(page.text)
            assert page.text[start:end] == page.text[start:end].strip()
            previous_end = end


@pytest.mark.parametrize("layout", [name for name in LAYOUTS if name not in NO_CASE_LAYOUTS])
def test_layouts_each_span_tells_one_of_the_units(pages, layout):
    found = 0
    for page in _pages_of(pages, layout):
        for start, end in page.spans:
            span_text = _normalised(layout, page.text[start:end])
            bodies = BODIES + UNTITLED if layout in ("roundup_paragraph", *WRAPPER_LAYOUTS) else BODIES
            if layout == "line_broken":
                bodies = tuple(body.replace("\n", "") for body in bodies)
            assert any(_tells(span_text, body) for body in bodies), span_text
            found += 1
    assert found >= PAGES_PER_LAYOUT // 2  # a wrapper may have drawn a page with no case


@pytest.mark.parametrize("layout", NO_CASE_LAYOUTS)
def test_layouts_without_cases_have_no_spans(pages, layout):
    assert all(page.spans == () and page.text for page in _pages_of(pages, layout))


def test_layouts_strip_the_source_heading_but_keep_the_title(pages):
    numbered = [page for page in pages if page.layout == "numbered_list"]
    # at most six units a page, so the layout itself never numbers a case 9, ⑦ only as its own 7th case
    assert not any("【案例9】" in page.text or "12.赵某" in page.text for page in numbered)
    assert any("某网吧未核验上网人员身份案" in page.text[s:e] for page in numbered for s, e in page.spans)


def test_layouts_news_story_span_starts_with_its_headline(pages):
    for page in _pages_of(pages, "news_story"):
        (start, end), *rest = page.spans
        assert rest == []
        first_line = page.text[start:end].split("\n", 1)[0]
        assert "。" not in first_line, first_line


def test_layouts_traditional_mirror_round_trips_to_the_simplified_units(pages):
    mirrored = _pages_of(pages, "traditional_mirror")
    assert any(PINYIN.search(page.text) for page in mirrored)
    for page in mirrored:
        for start, end in page.spans:
            span_text = page.text[start:end]
            assert span_text != TO_SIMPLIFIED.convert(span_text)  # really in traditional script
            simplified = TO_SIMPLIFIED.convert(PINYIN.sub("", span_text))
            assert any(_tells(simplified, body) for body in BODIES + UNTITLED), simplified


def test_layouts_line_broken_breaks_lines_mid_sentence(pages):
    lines = [line for page in _pages_of(pages, "line_broken") for line in page.text.split("\n")]
    assert max(len(line.strip()) for line in lines) <= 40
    assert sum(1 for line in lines if line and line[-1] not in "。：；！？") > len(lines) // 3


def test_layouts_same_seed_same_pages_other_seed_other_pages(pages):
    assert render_bulletins(UNITS, len(pages), seed=SEED) == pages
    assert render_bulletins(UNITS, len(pages), seed=SEED + 1) != pages


def test_layouts_unknown_layout_is_an_error():
    with pytest.raises(ValueError, match="numbered_lists"):
        render_bulletins(UNITS, 1, seed=0, layouts=["numbered_lists"])


def test_corpus_unit_texts_reads_gold_text_of_each_file(tmp_path):
    (tmp_path / "b.jsonl").write_text('{"text": "乙"}\n', encoding="utf-8")
    (tmp_path / "a.jsonl").write_text('{"text": "甲"}\n\n{"text": "丙"}\n', encoding="utf-8")
    assert corpus_unit_texts(tmp_path) == ["甲", "丙", "乙"]
