"""Normalisation for matching, and the exact map back to the original characters."""

from __future__ import annotations

import pytest

from data import normalize as normalize_module
from data.normalize import normalize


def test_normalize_converts_traditional_to_simplified() -> None:
    assert normalize("網絡安全執法檢查").text == "网络安全执法检查"


def test_normalize_keeps_length_so_offsets_stay_one_to_one() -> None:
    result = normalize("對該公司處以警告")
    assert len(result.text) == len("對該公司處以警告")
    assert result.offsets == list(range(8))


def test_normalize_folds_full_width_digits_letters_and_space() -> None:
    assert normalize("罚款５０００元，ＡＰＰ　下架").text == "罚款5000元，APP 下架"


def test_normalize_keeps_chinese_punctuation() -> None:
    assert normalize("经查：该店（某区）未登记；已整改。").text == "经查：该店（某区）未登记；已整改。"


def test_normalize_unescapes_html_entities() -> None:
    result = normalize("甲&amp;乙&nbsp;丙&#x4e00;&#20108;&unknown;")
    assert result.text == "甲&乙 丙一二&unknown;"
    assert result.to_original(1, 2) == (1, 6)  # "&" came from "&amp;"


def test_normalize_drops_pinyin_glosses_with_tone_marks() -> None:
    assert normalize("現(xiàn)在").text == "现在"
    assert normalize("處(chǔ)罰(fá)").text == "处罚"


def test_normalize_drops_pinyin_glosses_with_tone_digits() -> None:
    assert normalize("處(chu3)罰（fa2）").text == "处罚"


def test_normalize_keeps_latin_text_in_brackets() -> None:
    assert normalize("某APP(app)被下架").text == "某APP(app)被下架"


def test_normalize_maps_span_back_to_original() -> None:
    original = "前言\n現(xiàn)將處(chǔ)罰(fá)結果通報"
    result = normalize(original)
    start = result.text.index("处罚")
    begin, end = result.to_original(start, start + 2)
    assert original[begin:end] == "處(chǔ)罰"  # the gloss after the last character stays outside the span
    assert result.to_original(0, 0) == (0, 0)


def test_normalize_maps_original_index_to_normalised() -> None:
    original = "現(xiàn)在開始"
    result = normalize(original)
    assert result.to_normalized(original.index("在")) == 1


def test_normalize_rejects_span_outside_text() -> None:
    with pytest.raises(ValueError, match="outside"):
        normalize("短").to_original(0, 5)


def test_normalize_builds_the_converter_once() -> None:
    normalize("網")
    assert normalize_module._converter() is normalize_module._converter()
