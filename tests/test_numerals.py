"""Chinese numerals: known values, lenient-but-unambiguous variants, rejects, and the 1..9999 round trip."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from legalqa.ingest.numerals import NUMERAL_CHARS, cn_to_int, cn_to_int_loose, int_to_cn

KNOWN = [
    (1, "一"),
    (10, "十"),
    (12, "十二"),
    (20, "二十"),
    (101, "一百零一"),
    (110, "一百一十"),
    (280, "二百八十"),
    (681, "六百八十一"),
    (1001, "一千零一"),
    (1010, "一千零一十"),
    (1064, "一千零六十四"),
    (1100, "一千一百"),
    (1260, "一千二百六十"),
    (9999, "九千九百九十九"),
    (0, "零"),
]


@pytest.mark.parametrize(("value", "text"), KNOWN)
def test_known_values_both_ways(value: int, text: str) -> None:
    assert int_to_cn(value) == text
    assert cn_to_int(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("681", 681),
        ("0681", 681),
        ("６８１", 681),  # full-width digits
        (" 十二 ", 12),
        ("一十二", 12),  # the written-out 一 before 十
        ("一百十", 110),
        ("一千零十", 1010),
        ("一千〇六十四", 1064),  # 〇 for 零
        ("两", 2),  # 前两款
        ("两百", 200),  # 两 before 百/千 is unambiguous: accepted
        ("两千零一", 2001),
        ("一千五十", 1050),  # a skipped place without 零 still has one reading
    ],
)
def test_lenient_variants(text: str, value: int) -> None:
    assert cn_to_int(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "一百二",  # colloquially 120, but could be read as 102
        "一千二",
        "六百八十八十",  # units out of order
        "二十一十",
        "十十",
        "十零",  # trailing 零
        "一百零",
        "零五",  # leading 零
        "零零",
        "零〇",
        "一千零零五",
        "一千零五百",  # 零 where no place is skipped
        "百",  # 百/千 need a digit
        "千",
        "五五",
        "十两",  # 两 only before 百/千
        "一万",
        "12345",  # beyond 9999
        "-1",
        "1.5",
        "abc",
        "第一",
    ],
)
def test_invalid_numerals_raise_naming_the_text(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        cn_to_int(text)


def test_empty_numeral_raises() -> None:
    with pytest.raises(ValueError, match="empty"):
        cn_to_int("  ")


@pytest.mark.parametrize("value", [-1, 10_000])
def test_int_to_cn_out_of_range(value: int) -> None:
    with pytest.raises(ValueError, match=str(value)):
        int_to_cn(value)


@given(st.integers(min_value=1, max_value=9999))
def test_round_trip(n: int) -> None:
    text = int_to_cn(n)
    assert cn_to_int(text) == n
    assert cn_to_int(str(n)) == n
    assert cn_to_int(str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))) == n
    assert "一十" not in text[:2]  # 10..19 are written 十X


@given(st.text(alphabet=NUMERAL_CHARS, min_size=1, max_size=8))
def test_any_numeral_string_parses_or_raises_value_error(text: str) -> None:
    try:
        value = cn_to_int(text)
    except ValueError:
        return
    assert 0 <= value <= 9999
    # Whatever is accepted means what its canonical spelling means.
    assert cn_to_int(int_to_cn(value)) == value


# --- cn_to_int_loose: digit by digit, as questions type article numbers -----------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("六八七", 687),
        ("一零六四", 1064),
        ("一〇六四", 1064),
        ("二八零", 280),
        ("五五", 55),
        ("九九九九", 9999),
        (" 六八七 ", 687),
        # Everything cn_to_int reads keeps its meaning.
        ("六", 6),
        ("十二", 12),
        ("二十", 20),
        ("一千零六十四", 1064),
        ("681", 681),
    ],
)
def test_loose_values(text: str, value: int) -> None:
    assert cn_to_int_loose(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "零六八",  # leading 零
        "〇五",
        "零零",
        "一二三四五",  # beyond 9999
        "两五",  # 两 is a count word, not a digit
        "六八十",  # digits and units mixed: still cn_to_int's rules
        "一百二",
        "",
    ],
)
def test_loose_rejects_name_the_text(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text)) if text else "empty"):
        cn_to_int_loose(text)


@pytest.mark.parametrize("text", ["六八七", "一零六四", "五五"])
def test_strict_cn_to_int_still_rejects_digit_by_digit(text: str) -> None:
    # The statute parser relies on this: 第一二条 at the start of a line is not a label.
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        cn_to_int(text)


@given(st.integers(min_value=10, max_value=9999))
def test_loose_digit_by_digit_round_trip(n: int) -> None:
    assert cn_to_int_loose(str(n).translate(str.maketrans("0123456789", "零一二三四五六七八九"))) == n
    assert cn_to_int_loose(int_to_cn(n)) == n


@given(st.text(alphabet=NUMERAL_CHARS, min_size=1, max_size=8))
def test_loose_extends_strict(text: str) -> None:
    try:
        strict = cn_to_int(text)
    except ValueError:
        try:
            assert 0 <= cn_to_int_loose(text) <= 9999
        except ValueError:
            pass
        return
    assert cn_to_int_loose(text) == strict
