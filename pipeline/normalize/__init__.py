"""Raw Hyper response bodies -> exact polars frames of the data contract (pure, no I/O)."""

from pipeline.normalize.frames import (
    DUPLICATE_SNAPSHOT,
    LINE_SCHEMA,
    RAW_SCHEMA,
    REJECTED_SCHEMA,
    SNAPSHOT_SCHEMA,
    NormalizedBatch,
    implied_rate,
    locked,
    normalize_raw,
    normalize_raw_strict,
)
from pipeline.normalize.parse import InvalidResponse, ParsedEnvelope, ParsedLine, parse_envelope

__all__ = [
    "DUPLICATE_SNAPSHOT",
    "LINE_SCHEMA",
    "RAW_SCHEMA",
    "REJECTED_SCHEMA",
    "SNAPSHOT_SCHEMA",
    "InvalidResponse",
    "NormalizedBatch",
    "ParsedEnvelope",
    "ParsedLine",
    "implied_rate",
    "locked",
    "normalize_raw",
    "normalize_raw_strict",
    "parse_envelope",
]
