import pytest

from data.evidence import find_fine_amounts, find_statutes, parse_number


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ("5000", 5000),
        ("1.5", 1.5),
        ("10,000", 10000),
        ("五", 5),
        ("十五", 15),
        ("二百八十五", 285),
        ("一万五千", 15000),
        ("两千", 2000),
        ("三十万", 300000),
        ("伍仟", 5000),
        ("２０００", 2000),
    ],
)
def test_evidence_parses_numbers(token, value):
    assert parse_number(token) == value


def test_evidence_statutes_normalised_in_order():
    text = "依据《中华人民共和国网络安全法》第二十一条、第五十九条第一款之规定，并依照刑法第二百五十三条之一"
    assert find_statutes(text) == ("网络安全法 第21条", "网络安全法 第59条", "刑法 第253条之一")


def test_evidence_statutes_digits_and_order_number():
    assert find_statutes("违反《计算机信息网络国际联网安全保护管理办法》第23条及公安部33号令第12条") == (
        "计算机信息网络国际联网安全保护管理办法 第23条",
        "公安部33号令 第12条",
    )


@pytest.mark.parametrize(
    ("text", "fines"),
    [
        ("对该公司处以罚款五万元", (50000,)),
        ("罚款1.5万元", (15000,)),
        ("没收违法所得2000元，并处罚款5000元", (5000,)),
        ("分别处以1万元、5000元罚款", (10000, 5000)),
        ("分别处以1万元罚款，对负责人处1万元罚款", (10000,)),
        ("判处有期徒刑一年，并处罚金一万元", ()),
        ("给予警告并处2000元的行政处罚", (2000,)),
        ("涉案金额50万元，对其罚款3000元", (3000,)),
    ],
)
def test_evidence_fines_are_administrative_distinct_and_ordered(text, fines):
    assert find_fine_amounts(text) == fines
