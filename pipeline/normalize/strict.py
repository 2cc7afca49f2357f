"""The referee route: one body at a time through `parse_envelope`, the strict Python parser.

Every body the fast route cannot prove well-formed comes here, so this route defines what a
body means (its snapshot, its lines, or the one-line reason it is rejected). It is slow
(pure Python per field) and never raises for a body: a parser bug rejects that body alone.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import polars as pl

from pipeline.normalize.parse import InvalidResponse, ParsedEnvelope, parse_envelope
from pipeline.normalize.schema import (
    BALANCE,
    PARSED_LINE_SCHEMA,
    PARSED_REJECT_SCHEMA,
    PARSED_SNAPSHOT_SCHEMA,
    VALUE,
)

# ResponseCode 0 = OK, 1 = restrictive status (hyper_api.md §3, §4).
OK_CODE, RESTRICTED_CODE = 0, 1
MISSING_BODY = "body is missing (NULL)"
_MESSAGE_CHARS = 160


def rejection(envelope: ParsedEnvelope) -> str | None:
    """Why an envelope that parsed is still not a balance snapshot (None: it is one)."""
    code = envelope.response_code
    if code == RESTRICTED_CODE or (code == OK_CODE and envelope.has_balance_data):
        return None
    if code == OK_CODE:
        return "ResponseCode 0 without Data: not a balance envelope"
    message = envelope.response_message
    shown = f": {message[:80]!r}" if message else ""
    return f"API error envelope, ResponseCode {code}{shown}"


def unexpected_failure(exc: BaseException) -> str:
    """A one-line rejection for an error nobody foresaw (the raw body stays for a replay)."""
    first = next(iter(str(exc).splitlines()), "")[:_MESSAGE_CHARS]
    return f"unexpected normalizer failure ({type(exc).__name__}): {first}".rstrip(": ")


class StrictParsed:
    """Column lists built in one pass over the bodies, turned into frames once at the end."""

    def __init__(self) -> None:
        self.snap: dict[str, list[Any]] = {name: [] for name in PARSED_SNAPSHOT_SCHEMA}
        self.line: dict[str, list[Any]] = {name: [] for name in PARSED_LINE_SCHEMA}
        self.reject: dict[str, list[Any]] = {name: [] for name in PARSED_REJECT_SCHEMA}
        self.extra: Counter[str] = Counter()

    def add(self, row: int, body: str | None) -> None:
        """Parse one body into the lists; a body never raises out of here."""
        if body is None:
            self._reject(row, MISSING_BODY)
            return
        try:
            envelope = parse_envelope(body)
        except InvalidResponse as exc:
            self._reject(row, str(exc))
            return
        except MemoryError:
            raise
        except Exception as exc:  # a parser bug rejects this body, never its batch
            self._reject(row, unexpected_failure(exc))
            return
        self.extra.update(envelope.extra_fields)
        reason = rejection(envelope)
        if reason is not None:
            self._reject(row, reason)
            return
        s = self.snap
        s["_row"].append(row)
        s["response_code"].append(envelope.response_code)
        s["response_message"].append(envelope.response_message)
        s["erp_account_status"].append(envelope.erp_account_status)
        s["erp_account_status_text"].append(envelope.erp_account_status_text)
        s["web_account_status"].append(envelope.web_account_status)
        s["web_account_status_text"].append(envelope.web_account_status_text)
        s["agency"].append(envelope.agency)
        s["base_currency"].append(envelope.base_currency)
        s["total_floating_balance"].append(envelope.total_floating_balance)
        s["line_count"].append(len(envelope.lines))
        ln = self.line
        for item in envelope.lines:
            ln["_row"].append(row)
            ln["currency"].append(item.currency)
            ln["balance"].append(item.balance)
            ln["value_base"].append(item.value_base)
            ln["cash"].append(item.cash)

    def _reject(self, row: int, error: str) -> None:
        self.reject["_row"].append(row)
        self.reject["error"].append(error)

    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        """(snapshots, lines, rejects) in the PARSED_* schemas; money cast from exact text."""
        money = {"total_floating_balance": pl.String()}
        snaps = pl.DataFrame(self.snap, schema={**PARSED_SNAPSHOT_SCHEMA, **money})
        amounts = dict.fromkeys(("balance", "value_base", "cash"), pl.String())
        lines = pl.DataFrame(self.line, schema={**PARSED_LINE_SCHEMA, **amounts})
        # parse.py has already proven every text fits its DECIMAL: these casts never round.
        snaps = snaps.with_columns(pl.col("total_floating_balance").cast(VALUE))
        lines = lines.with_columns(
            pl.col("balance", "cash").cast(BALANCE), pl.col("value_base").cast(VALUE)
        )
        rejects = pl.DataFrame(self.reject, schema=PARSED_REJECT_SCHEMA)
        return snaps, lines, rejects


def parse_strict(rows: list[int], bodies: list[str | None]) -> StrictParsed:
    """Parse `bodies` (at batch positions `rows`) with the strict parser."""
    parsed = StrictParsed()
    for row, body in zip(rows, bodies, strict=True):
        parsed.add(row, body)
    return parsed
