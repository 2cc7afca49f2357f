"""A tiny JSON writer that puts Decimal money into the text digit for digit.

`json.dumps` cannot write Decimal and a float round trip would turn 150000000000.12345678 into
150000000000.12346, so numbers are wrapped in `Number` holding their exact text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Number:
    text: str


def fixed(value: Decimal, places: int) -> Number:
    """Exactly `places` decimals, e.g. 27354.00 (value must already have at most that many)."""
    quantized = value.quantize(Decimal(1).scaleb(-places))
    if quantized.is_zero():
        quantized = quantized.copy_abs()  # never "-0.00"
    return Number(f"{quantized:f}")


def trimmed(value: Decimal, places: int) -> Number:
    """Like `fixed` but trailing zeros dropped, keeping one decimal: 25133.80 -> 25133.8."""
    text = fixed(value, places).text
    if "." in text:
        text = text.rstrip("0")
        if text.endswith("."):
            text += "0"
    return Number(text)


def dumps(value: object) -> str:
    """Serialize dicts, lists, str, int, bool, None and Number; non-ASCII stays raw."""
    if isinstance(value, Number):
        return value.text
    if isinstance(value, dict):
        items = (f"{json.dumps(key)}: {dumps(item)}" for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(dumps(item) for item in value) + "]"
    if isinstance(value, float | Decimal):
        raise TypeError("wrap money in jsontext.Number; floats are not exact")
    return json.dumps(value, ensure_ascii=False)
