"""Amounts of money in Chinese capital numerals (大写金额), as bills and guarantees print them.

The rules are those of the People's Bank of China for filling in bills and settlement
vouchers (《正确填写票据和结算凭证的基本规定》):

* digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟, 万, 亿; ``壹拾`` is written out (壹拾伍元, not 拾伍元);
* one 零 stands for any run of zeros between non-zero digits (1,001 -> 壹仟零壹元), and a zero
  group of four digits before a non-zero digit is also one 零 (100,010 -> 壹拾万零壹拾元);
  trailing zeros are not read (500,000 -> 伍拾万元);
* ``整`` follows 元 when there are no 角 and 分; nothing follows 角 or 分;
* 零 stands between 元 and the cents when the 角 digit is 0 (325.04 -> 叁佰贰拾伍元零肆分) and,
  where the rules leave the choice, also when the 元 digit is 0 (1,680.32 -> 壹仟陆佰捌拾元零叁角
  贰分): writing it leaves no gap where a digit could be added;
* an amount under one yuan has no 元 (0.50 -> 伍角).

Amounts are exact: a value with fractions of a 分 is refused, never rounded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

__all__ = ["MAX_AMOUNT", "AmountError", "amount_in_words", "format_amount"]

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_WAN = 10_000
_YI = 100_000_000
MAX_AMOUNT = Decimal("9999999999999999.99")
"""The largest amount written (just under 一亿亿; 万亿 is the largest unit used)."""


class AmountError(ValueError):
    """The value is not an amount of money that can be written: negative, not a number, more
    than two decimal places, or too large."""


def _exact(amount: Decimal | int | str) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int | str):
        raise AmountError(f"an amount is a Decimal, int or str, not {type(amount).__name__}")
    try:
        value = Decimal(amount.strip() if isinstance(amount, str) else amount)
    except InvalidOperation as exc:
        raise AmountError(f"{amount!r} is not a number") from exc
    if not value.is_finite():
        raise AmountError(f"{amount!r} is not a finite number")
    if value < 0:
        raise AmountError("an amount cannot be negative")
    if value > MAX_AMOUNT:
        raise AmountError(f"amounts above {MAX_AMOUNT} cannot be written")
    cents = value * 100
    if cents != cents.to_integral_value():
        raise AmountError(f"{amount!r} has fractions of a fen (more than two decimal places)")
    return value


def _below_wan(n: int) -> str:
    """0 < n < 10,000: zeros between digits read as one 零, trailing zeros not read."""
    out: list[str] = []
    zero = False
    for position in range(3, -1, -1):
        digit = n // 10**position % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(DIGITS[digit] + _SMALL_UNITS[position])
    return "".join(out)


def _below_yi(n: int) -> str:
    """0 < n < 100,000,000."""
    high, low = divmod(n, _WAN)
    if not high:
        return _below_wan(low)
    words = _below_wan(high) + "万"
    if low:
        words += ("零" if low < 1000 else "") + _below_wan(low)
    return words


def _integer(n: int) -> str:
    """0 < n < 10**16."""
    high, low = divmod(n, _YI)
    if not high:
        return _below_yi(low)
    words = _below_yi(high) + "亿"
    if low:
        words += ("零" if low < _YI // 10 else "") + _below_yi(low)
    return words


def amount_in_words(amount: Decimal | int | str, *, prefix: str = "人民币") -> str:
    """``Decimal("500000.00")`` -> ``人民币伍拾万元整``; ``Decimal("1680.32")`` ->
    ``人民币壹仟陆佰捌拾元零叁角贰分``. Raises `AmountError` for what cannot be written."""
    value = _exact(amount)
    cents = int(value * 100)
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    if cents == 0:
        return f"{prefix}零元整"
    words = _integer(yuan) + "元" if yuan else ""
    if not rest:
        return f"{prefix}{words}整"
    if yuan and (jiao == 0 or yuan % 10 == 0):
        words += "零"
    if jiao:
        words += DIGITS[jiao] + "角"
    if fen:
        words += DIGITS[fen] + "分"
    return prefix + words


def format_amount(amount: Decimal | int | str) -> str:
    """The amount in figures with thousands separators and two decimals: ``500,000.00``."""
    return f"{_exact(amount):,.2f}"
