"""Parse one Get_Client_Balance_json response body into an exact envelope.

Pure Python, no polars: every JSON number is kept as its source text (``parse_float=str``) and
validated/normalized here, because every polars JSON reader goes through float64 and silently
changes money (ARCHITECTURE.md, "Which JSON routes keep money exact").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from typing import Any

MONEY_SCALE = 8  # Balance, Cash: DECIMAL(38,8)
VALUE_SCALE = 2  # Value_<BASE>, Total_Floating_Balance_<BASE>: DECIMAL(38,2)
MAX_INTEGER_DIGITS = 30  # 38 - 8: what DECIMAL(38,8) can hold
_QUOTE_CHARS = 80
_INT32 = (-(2**31), 2**31 - 1)

_VALUE_PREFIX = "Value_"
_TOTAL_PREFIX = "Total_Floating_Balance_"
_BASE = re.compile(r"[A-Z]{3,5}", re.ASCII)
# Already canonical: no sign but '-', no leading zeros, no exponent, at most `scale` decimals.
_PLAIN = {
    scale: re.compile(rf"-?(?:0|[1-9][0-9]{{0,{MAX_INTEGER_DIGITS - 1}}})(?:\.[0-9]{{1,{scale}}})?")
    for scale in (MONEY_SCALE, VALUE_SCALE)
}
# Anything Decimal may read exactly (ASCII digits only: Decimal() also takes "1_000" and "٣").
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,9})?", re.ASCII)
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}", re.ASCII)
_EXACT = Context(prec=80)
BOM = "\ufeff"

_TOP_INT_FIELDS = ("ERP_Account_Status", "Web_Account_Status", "Agency")
_TOP_TEXT_FIELDS = ("ResponseMsgEng", "ERP_Account_Status_Text", "Web_Account_Status_Text")
_KNOWN_TOP = {"ResponseCode", "Data", *_TOP_INT_FIELDS, *_TOP_TEXT_FIELDS}
_KNOWN_LINE = {"Currency", "Balance", "Cash"}


class InvalidResponse(ValueError):
    """A body that is not a usable Hyper envelope; the message is one line and never echoes
    more than ~80 characters of the body."""


@dataclass(frozen=True)
class ParsedLine:
    currency: str
    balance: str  # exact decimal text, e.g. "27354.00" or "0.10790961"; never an exponent
    value_base: str
    cash: str


@dataclass(frozen=True)
class ParsedEnvelope:
    response_code: int
    response_message: str | None
    erp_account_status: int | None
    erp_account_status_text: str | None
    web_account_status: int | None
    web_account_status_text: str | None
    agency: int | None
    base_currency: str | None  # None when no Value_/Total_ field exists at all
    total_floating_balance: str | None
    has_balance_data: bool  # "Data" present (and not null)
    lines: tuple[ParsedLine, ...]
    extra_fields: tuple[str, ...]  # unknown field names; "Data.Foo" for line-level ones


class _Number(str):
    """A JSON number token, kept as its exact text (distinguishes 5 from "5" where it matters)."""

    __slots__ = ()


def _reject_constant(token: str) -> Any:
    raise InvalidResponse(f"number token {token} is not allowed (NaN/Infinity are not money)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidResponse(f"object has the key {_quote(key)} twice")
            seen.add(key)
    return obj


def _quote(text: str) -> str:
    """repr() of at most ~80 characters, so messages stay one short, printable line."""
    if len(text) > _QUOTE_CHARS:
        return repr(text[:_QUOTE_CHARS]) + "…"
    return repr(text)


def _decimal_text(raw: Any, scale: int, what: str) -> str:
    """Return `raw` (a JSON number token or a legacy numeric string) as exact plain decimal text.

    Rejects anything that would lose information in DECIMAL(38, scale): never rounds money.
    """
    if not isinstance(raw, str):  # null, bool, list, object
        raise InvalidResponse(f"{what} must be a number, got {type(raw).__name__}")
    if _PLAIN[scale].fullmatch(raw):
        return str(raw)  # the common case: JSON's own number text is already canonical
    text = raw.strip()
    if not _DECIMAL.fullmatch(text):
        raise InvalidResponse(f"{what} is not a decimal number: {_quote(raw)}")
    value = Decimal(text)
    if value and value.adjusted() >= MAX_INTEGER_DIGITS:
        raise InvalidResponse(f"{what} has more than {MAX_INTEGER_DIGITS} integer digits")
    try:
        quantized = value.quantize(Decimal(1).scaleb(-scale), context=_EXACT)
    except InvalidOperation:
        raise InvalidResponse(f"{what} is not representable: {_quote(raw)}") from None
    if quantized != value:
        raise InvalidResponse(
            f"{what} has more than {scale} decimals: {_quote(raw)} (money is never rounded)"
        )
    return f"{quantized:f}" if quantized else "0"


def _optional_int(raw: Any, what: str) -> int | None:
    return None if raw is None else _int(raw, what)


def _int(raw: Any, what: str) -> int:
    """A JSON integer or a legacy zero-padded string ("000"), within Int32."""
    if not isinstance(raw, str) or not _INTEGER.fullmatch(raw.strip()):
        shown = _quote(raw) if isinstance(raw, str) else type(raw).__name__
        raise InvalidResponse(f"{what} must be an integer, got {shown}")
    value = int(raw.strip())
    if not _INT32[0] <= value <= _INT32[1]:
        raise InvalidResponse(f"{what} is out of the 32-bit integer range: {value}")
    return value


def _text(raw: Any, what: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidResponse(f"{what} must be a string, got {type(raw).__name__}")
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escape such as "\ud800"
        raise InvalidResponse(f"{what} is not valid Unicode text") from None
    return str(raw)


def _field_name(name: str) -> str:
    """A field name made safe to show and to store (bounded, valid UTF-8)."""
    return name[:_QUOTE_CHARS].encode("utf-8", "backslashreplace").decode("utf-8")


def _base_of(key: str, prefix: str, where: str) -> str:
    base = key[len(prefix) :]
    if not _BASE.fullmatch(base):
        raise InvalidResponse(f"{where} has a malformed base-currency field {_quote(key)}")
    return base


def _line_shape(item: dict[str, Any], where: str, extra: set[str]) -> str:
    """Check a line's field names; return its Value_<BASE> key and record unknown fields."""
    value_keys = [k for k in item if k.startswith(_VALUE_PREFIX)]
    if not value_keys:
        raise InvalidResponse(f"{where} has no Value_<BASE> field")
    bases = sorted({_base_of(k, _VALUE_PREFIX, where) for k in value_keys})
    if len(bases) > 1:
        raise InvalidResponse(f"response mixes base currencies {' and '.join(bases)}")
    for name in ("Currency", "Balance", "Cash"):
        if name not in item:
            raise InvalidResponse(f"{where} has no {name} field")
    unknown = (k for k in item if k not in _KNOWN_LINE and not k.startswith(_VALUE_PREFIX))
    extra.update(f"Data.{_field_name(k)}" for k in unknown)
    return value_keys[0]


def _currency(raw: Any, where: str) -> str:
    if type(raw) is str and raw.isascii() and 1 <= len(raw) <= 5 and raw == raw.strip():
        return raw  # the common case, checked cheaply
    if not isinstance(raw, str) or isinstance(raw, _Number):
        raise InvalidResponse(f"{where}.Currency must be a string")
    currency = str(_text(raw, f"{where}.Currency")).strip()
    if not 1 <= len(currency) <= 5:
        raise InvalidResponse(f"{where}.Currency must have 1 to 5 characters: {_quote(currency)}")
    return currency


def _parse_line(
    item: Any, index: int, value_key: str | None, extra: set[str]
) -> tuple[ParsedLine, str]:
    """One Data item and its Value_<BASE> key; `value_key` is the one expected from earlier
    fields (None: not known yet), which lets the common exact shape skip the field-name checks."""
    if not isinstance(item, dict):
        raise InvalidResponse(f"Data[{index}] is not an object")
    exact_shape = len(item) == 4 and value_key in item and item.keys() >= _KNOWN_LINE
    if value_key is None or not exact_shape:
        value_key = _line_shape(item, f"Data[{index}]", extra)
    currency = _currency(item["Currency"], f"Data[{index}]")
    try:
        line = ParsedLine(
            currency=currency,
            balance=_decimal_text(item["Balance"], MONEY_SCALE, "Balance"),
            value_base=_decimal_text(item[value_key], VALUE_SCALE, value_key),
            cash=_decimal_text(item["Cash"], MONEY_SCALE, "Cash"),
        )
    except InvalidResponse as exc:
        raise InvalidResponse(f"Data[{index}] ({currency}) {exc}") from None
    return line, value_key


def _load(body: str) -> Any:
    if not isinstance(body, str):
        raise InvalidResponse(f"body must be text, got {type(body).__name__}")
    # A UTF-8 byte-order mark before the JSON text: RFC 8259 §8.1 lets a parser ignore it, and
    # some servers send one. Only parsing skips it; the stored raw body keeps it.
    body = body.removeprefix(BOM)
    if not body.strip():
        raise InvalidResponse("body is empty")
    try:
        return json.loads(
            body,
            parse_float=_Number,
            parse_int=_Number,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as exc:
        raise InvalidResponse(
            f"body is not JSON ({exc.msg} at char {exc.pos}); starts {_quote(body)}"
        ) from None
    except RecursionError:
        raise InvalidResponse("body is not usable JSON (nested too deeply)") from None


def parse_envelope(body: str) -> ParsedEnvelope:
    """Parse one response body exactly.

    Args:
        body: the response body text, as received.

    Returns:
        The envelope with money as exact plain decimal text (no float ever involved).

    Raises:
        InvalidResponse: the body is not a usable envelope (one-line reason).

    Example:
        >>> parse_envelope('{"ResponseCode": "000", "Data": []}').response_code
        0
    """
    doc = _load(body)
    if not isinstance(doc, dict):
        raise InvalidResponse(f"body is not a JSON object but a {type(doc).__name__}")
    if "ResponseCode" not in doc:
        raise InvalidResponse("body has no ResponseCode")
    response_code = _int(doc["ResponseCode"], "ResponseCode")

    extra: set[str] = set()
    bases: set[str] = set()
    total_keys = [k for k in doc if k.startswith(_TOTAL_PREFIX)]
    bases.update(_base_of(k, _TOTAL_PREFIX, "body") for k in total_keys)
    if len(bases) > 1:
        raise InvalidResponse(f"response mixes base currencies {' and '.join(sorted(bases))}")
    total = None
    if total_keys and doc[total_keys[0]] is not None:
        total = _decimal_text(doc[total_keys[0]], VALUE_SCALE, total_keys[0])

    data = doc.get("Data")
    lines: list[ParsedLine] = []
    if data is not None:
        if not isinstance(data, list):
            raise InvalidResponse(f"Data must be a list, got {type(data).__name__}")
        seen: set[str] = set()
        value_key = _VALUE_PREFIX + next(iter(bases)) if bases else None
        for index, item in enumerate(data):
            line, value_key = _parse_line(item, index, value_key, extra)
            bases.add(value_key[len(_VALUE_PREFIX) :])
            if len(bases) > 1:
                raise InvalidResponse(
                    f"response mixes base currencies {' and '.join(sorted(bases))}"
                )
            if line.currency in seen:
                raise InvalidResponse(f"currency {_quote(line.currency)} is listed twice")
            seen.add(line.currency)
            lines.append(line)

    extra.update(_field_name(k) for k in doc if k not in _KNOWN_TOP and k not in total_keys)
    # Integers before texts: the first invalid field names the rejection.
    erp, web, agency = (_optional_int(doc.get(key), key) for key in _TOP_INT_FIELDS)
    message, erp_text, web_text = (_text(doc.get(key), key) for key in _TOP_TEXT_FIELDS)
    return ParsedEnvelope(
        response_code=response_code,
        response_message=message,
        erp_account_status=erp,
        erp_account_status_text=erp_text,
        web_account_status=web,
        web_account_status_text=web_text,
        agency=agency,
        base_currency=bases.pop() if bases else None,
        total_floating_balance=total,
        has_balance_data=data is not None,
        lines=tuple(lines),
        extra_fields=tuple(sorted(extra)),
    )
