"""Chinese numerals as used in statute numbering (第一千零六十四条), both ways.

Pure functions; the range that statutes need is 1..9999, and the conversion
round-trips there (see tests/test_numerals.py). ``cn_to_int`` is strict, because
the statute parser relies on it to tell a label (第一千零六十四条) from a non-label
(第一二条); ``cn_to_int_loose`` adds the digit-by-digit spelling people type in
questions (第一零六四条) for the citation grammar.
"""

from __future__ import annotations

DIGITS = "零一二三四五六七八九"
_DIGIT_VALUE = {c: i for i, c in enumerate(DIGITS)} | {"〇": 0, "两": 2}
_UNIT_VALUE = {"十": 10, "百": 100, "千": 1000}
_UNITS = ((1000, "千"), (100, "百"), (10, "十"))

NUMERAL_CHARS = DIGITS + "〇两十百千"


_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_ZEROS = "零〇"
# Digit-by-digit spelling: 六八七, 一零六四, 二〇二一. 两 is a count word, never a digit here.
_DIGIT_BY_DIGIT = {c: str(i) for i, c in enumerate(DIGITS)} | {"〇": "0"}


def cn_to_int(text: str) -> int:
    """Convert a Chinese numeral ("六百八十一", "一千零六十四", "十二") or digits ("681", "６８１") to an int.

    Accepts 0..9999. Lenient where the value is unambiguous (一十二, 一百十, 两百, 〇 for 零);
    raises ValueError naming the text otherwise, e.g. for 一百二 (120 or 102?),
    六百八十八十 (units out of order), 十零 (trailing 零) or 12345 (out of range).
    """
    text = text.strip().translate(_FULLWIDTH)
    if not text:
        raise ValueError("empty numeral")
    if text.isascii() and text.isdigit():
        value = int(text)
        if value > 9999:
            raise ValueError(f"numeral out of range 0..9999: {text!r}")
        return value
    if text in ("零", "〇"):  # not `in _ZEROS`: that is a substring test, and 零〇 is no numeral
        return 0
    if text == "两":
        return 2

    def bad(why: str) -> ValueError:
        return ValueError(f"not a Chinese numeral: {text!r} ({why})")

    total = 0
    digit: int | None = None  # a digit waiting for its unit
    last_unit = 10_000
    zero = False  # a 零 was seen since the last unit
    for i, ch in enumerate(text):
        if ch in _ZEROS:
            if i == 0 or zero or digit is not None:
                raise bad("misplaced 零")
            zero = True
        elif ch in _DIGIT_VALUE:
            if digit is not None:
                raise bad("two digits in a row")
            if ch == "两" and text[i + 1 : i + 2] not in ("百", "千"):
                raise bad("两 only before 百 or 千")
            digit = _DIGIT_VALUE[ch]
        elif ch in _UNIT_VALUE:
            unit = _UNIT_VALUE[ch]
            if unit >= last_unit:
                raise bad(f"unit {ch} out of order")
            if digit is None:
                # "十二" is 12 and "一百十" is 110: only 十 has an implied 一.
                if unit != 10:
                    raise bad(f"{ch} needs a digit before it")
                digit = 1
            if zero and unit * 10 >= last_unit:
                raise bad("零 where no place is skipped")
            total += digit * unit
            digit, last_unit, zero = None, unit, False
        else:
            raise bad(f"unexpected {ch!r}")
    if digit is not None:
        if zero and last_unit <= 10:
            raise bad("零 where no place is skipped")
        if not zero and last_unit in (100, 1000):
            # Colloquially 一百二 means 120; statutes write 一百二十 or 一百零二.
            raise bad("ambiguous digit after 百/千; write 一百二十 or 一百零二")
        total += digit
    elif zero:
        raise bad("trailing 零")
    return total


def cn_to_int_loose(text: str) -> int:
    """``cn_to_int``, plus numbers written digit by digit: 六八七 → 687, 一零六四 → 1064, 二八〇 → 280.

    The digit-by-digit reading applies only to two or more of 零〇一二三四五六七八九
    with no unit (十百千) and no leading 零, so 十二 and 二十 keep their normal meaning and
    a lone 六 is 6. For questions and citations, not for statute labels: a statute
    never numbers an article 第一二条, and its parser rejects such a line as a label.
    """
    stripped = text.strip()
    if len(stripped) < 2 or not all(ch in _DIGIT_BY_DIGIT for ch in stripped):
        return cn_to_int(text)
    if stripped[0] in _ZEROS:
        raise ValueError(f"not a Chinese numeral: {text!r} (leading 零 in a digit-by-digit number)")
    value = int("".join(_DIGIT_BY_DIGIT[ch] for ch in stripped))
    if value > 9999:
        raise ValueError(f"numeral out of range 0..9999: {text!r}")
    return value


def int_to_cn(n: int) -> str:
    """Render 0..9999 the way statutes write it: 10 → 十, 110 → 一百一十, 1064 → 一千零六十四."""
    if not 0 <= n <= 9999:
        raise ValueError(f"numeral out of range 0..9999: {n}")
    if n == 0:
        return "零"
    parts: list[str] = []
    pending_zero = False
    rest = n
    for value, unit in _UNITS:
        d, rest = divmod(rest, value)
        if d:
            if pending_zero:
                parts.append("零")
                pending_zero = False
            parts.append(DIGITS[d] + unit)
        elif parts:
            pending_zero = True
    if rest:
        if pending_zero:
            parts.append("零")
        parts.append(DIGITS[rest])
    out = "".join(parts)
    # Numbers 10..19 drop the leading 一: 十二条, not 一十二条.
    return out[1:] if out.startswith("一十") else out
