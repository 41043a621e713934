"""Chinese numerals as used in statute numbering (第一千零六十四条), both ways.

Pure functions; the range that statutes need is 1..9999, and the conversion
round-trips there (see tests/test_numerals.py).
"""

from __future__ import annotations

DIGITS = "零一二三四五六七八九"
_DIGIT_VALUE = {c: i for i, c in enumerate(DIGITS)} | {"〇": 0, "两": 2}
_UNIT_VALUE = {"十": 10, "百": 100, "千": 1000}
_UNITS = ((1000, "千"), (100, "百"), (10, "十"))

NUMERAL_CHARS = DIGITS + "〇两十百千"


def cn_to_int(text: str) -> int:
    """Convert a Chinese numeral ("六百八十一", "一千零六十四", "十二") or ASCII digits to an int.

    Raises ValueError naming the text when it is not a numeral below 10,000.
    """
    text = text.strip()
    if not text:
        raise ValueError("empty numeral")
    if text.isascii() and text.isdigit():
        return int(text)
    total = 0
    digit: int | None = None
    last_unit = 10_000
    for ch in text:
        if ch in _DIGIT_VALUE:
            if digit is not None and digit != 0:
                raise ValueError(f"not a Chinese numeral: {text!r} (two digits in a row)")
            digit = _DIGIT_VALUE[ch]
        elif ch in _UNIT_VALUE:
            unit = _UNIT_VALUE[ch]
            if unit >= last_unit:
                raise ValueError(f"not a Chinese numeral: {text!r} (unit {ch} out of order)")
            # "十二" means 12: a bare 十 has an implied 一.
            total += (digit if digit else 1) * unit if digit != 0 else unit
            digit = None
            last_unit = unit
        else:
            raise ValueError(f"not a Chinese numeral: {text!r} (unexpected {ch!r})")
    if digit:
        total += digit
    if total == 0 and text not in ("零", "〇"):
        raise ValueError(f"not a Chinese numeral: {text!r}")
    return total


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
