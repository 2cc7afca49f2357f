"""Frame schemas: the data contract's tables and the parsed form both routes hand on.

Both parsing routes (fast.py, strict.py) produce the same intermediate frames, keyed by `_row`
(the body's position in the batch), so everything after parsing (derived money, checks, the
choice of one snapshot per slot) is shared code and cannot differ between routes.
"""

from __future__ import annotations

import polars as pl

UTC_TS = pl.Datetime("us", "UTC")
BALANCE = pl.Decimal(38, 8)  # Balance, Cash, locked
VALUE = pl.Decimal(38, 2)  # Value_<BASE>, Total_Floating_Balance_<BASE>
ROW = pl.get_index_type()  # what `with_row_index` gives

RAW_SCHEMA = pl.Schema(
    {
        "raw_id": pl.String(),
        "client_number": pl.Int64(),
        "slot_start": UTC_TS,
        "observed_at": UTC_TS,
        "body": pl.String(),
    }
)
SNAPSHOT_SCHEMA = pl.Schema(
    {
        "client_number": pl.Int64(),
        "slot_start": UTC_TS,
        "snapshot_id": pl.String(),
        "observed_at": UTC_TS,
        "response_code": pl.Int32(),
        "response_message": pl.String(),
        "erp_account_status": pl.Int32(),
        "erp_account_status_text": pl.String(),
        "web_account_status": pl.Int32(),
        "web_account_status_text": pl.String(),
        "agency": pl.Int32(),
        "base_currency": pl.String(),
        "total_floating_balance": VALUE,
        "line_count": pl.Int32(),
        "is_restricted": pl.Boolean(),
        "raw_id": pl.String(),
    }
)
LINE_SCHEMA = pl.Schema(
    {
        "client_number": pl.Int64(),
        "slot_start": UTC_TS,
        "currency": pl.String(),
        "snapshot_id": pl.String(),
        "observed_at": UTC_TS,
        "base_currency": pl.String(),
        "balance": BALANCE,
        "value_base": VALUE,
        "cash": BALANCE,
        "locked": BALANCE,
        "implied_rate": pl.Float64(),
    }
)
REJECTED_SCHEMA = pl.Schema(
    {
        "raw_id": pl.String(),
        "client_number": pl.Int64(),
        "slot_start": UTC_TS,
        "error": pl.String(),
    }
)

# What a route parsed out of one body that becomes a snapshot (one row per body) ...
PARSED_SNAPSHOT_SCHEMA = pl.Schema(
    {
        "_row": ROW,
        "response_code": pl.Int32(),
        "response_message": pl.String(),
        "erp_account_status": pl.Int32(),
        "erp_account_status_text": pl.String(),
        "web_account_status": pl.Int32(),
        "web_account_status_text": pl.String(),
        "agency": pl.Int32(),
        "base_currency": pl.String(),
        "total_floating_balance": VALUE,
        "line_count": pl.Int32(),
    }
)
# ... its Data lines, in body order ...
PARSED_LINE_SCHEMA = pl.Schema(
    {
        "_row": ROW,
        "currency": pl.String(),
        "balance": BALANCE,
        "value_base": VALUE,
        "cash": BALANCE,
    }
)
# ... or why the body is not a snapshot.
PARSED_REJECT_SCHEMA = pl.Schema({"_row": ROW, "error": pl.String()})
