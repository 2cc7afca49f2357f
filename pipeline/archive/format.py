"""The raw archive format, version 1: NDJSON, gzip when the file name ends with `.gz`.

Line 1 is a header, then one received answer per line, then a trailer:

    {"format": "hyper-raw-archive", "version": 1, "exported_at": "...", "selection": {...}}
    {"raw_id": "…", "client_number": 500608, "slot_start": "2026-11-01T12:00:00.000000Z",
     "observed_at": "2026-11-01T12:00:00.412345Z", "http_status": 200, "body": "{…}",
     "body_encoding": "utf-8", "body_size": 1234, "body_truncated": false}
    {"format": "hyper-raw-archive", "end": true, "answers": 1}

Required answer fields: client_number, slot_start, observed_at, http_status (int or null), body
(the text exactly as received; base64 when body_encoding is "base64"). Optional: raw_id (checked
against the content hash when present), body_encoding ("utf-8"), body_size (null),
body_truncated (false). Unknown fields are ignored, so version 1 readers accept additions.
Files are UTF-8. Instants are ISO-8601 with an offset; writers use UTC with microseconds. An
archive never holds a request, a password or a token: raw_responses has none of them.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, cast

from pipeline.store import raw_id_for

FORMAT = "hyper-raw-archive"
VERSION = 1
ENCODINGS = frozenset({"utf-8", "base64"})


class ArchiveLineError(ValueError):
    """One line is not a valid archive answer; the message says why (never echoes the body)."""


class ArchiveFileError(ValueError):
    """The file as a whole is not a readable archive (missing, not an archive, newer version)."""


def is_gzip(path: Path) -> bool:
    return path.name.endswith(".gz")


def open_write(path: Path, *, compress: bool) -> IO[str]:
    # UTF-8 so Hebrew status texts stay readable with zcat/grep; JSON escapes every line break
    # a body may hold, and readers split on b"\n" only.
    if compress:
        return gzip.open(path, "wt", encoding="utf-8", newline="\n", compresslevel=6)
    return path.open("w", encoding="utf-8", newline="\n")


def open_read(path: Path) -> IO[bytes]:
    """Binary: lines split on b"\\n" only, whatever Unicode line breaks a body holds."""
    if is_gzip(path):
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


def header(exported_at: datetime, selection: dict[str, Any]) -> str:
    return json.dumps(
        {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": iso_utc(exported_at),
            "source": "raw_responses",
            "selection": selection,
        }
    )


def trailer(answers: int) -> str:
    return json.dumps({"format": FORMAT, "end": True, "answers": answers})


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_header(line: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        doc = None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ArchiveFileError(f"line 1 is not a {FORMAT} header; is this a raw archive?")
    version = doc.get("version")
    if type(version) is not int or not 1 <= version <= VERSION:
        raise ArchiveFileError(
            f"archive version {version!r} is not supported (this reader knows 1..{VERSION}); "
            "upgrade the pipeline"
        )
    return doc


def is_trailer(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("format") == FORMAT and doc.get("end") is True


@dataclass(frozen=True)
class Answer:
    """One archived answer, ready for raw_responses (raw_id recomputed from the content)."""

    raw_id: str
    client_number: int
    slot_start: datetime
    observed_at: datetime
    http_status: int | None
    body: str
    body_encoding: str
    body_size: int | None
    body_truncated: bool


def _field(doc: dict[str, Any], name: str, kinds: tuple[type, ...], *, required: bool) -> Any:
    if name not in doc:
        if required:
            raise ArchiveLineError(f"missing {name}")
        return None
    value = doc[name]
    # bool is an int in Python; JSON true is never a client number or a status.
    if value is not None and (type(value) not in kinds):
        raise ArchiveLineError(f"{name} must be {'/'.join(k.__name__ for k in kinds)}")
    return value


def _instant(doc: dict[str, Any], name: str) -> datetime:
    text = _field(doc, name, (str,), required=True)
    if text is None:
        raise ArchiveLineError(f"{name} is null")
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ArchiveLineError(f"{name} is not an ISO-8601 instant: {text[:40]!r}") from None
    if value.tzinfo is None:
        raise ArchiveLineError(f"{name} has no UTC offset: {text[:40]!r}")
    return value.astimezone(UTC)


def parse_answer(line: bytes) -> Answer:
    """Validate one answer line and recompute its raw_id.

    Raises:
        ArchiveLineError: not JSON, a missing or mistyped field, or a raw_id that does not match
            the content (the line was altered after export).
    """
    try:
        doc = json.loads(line)
    except UnicodeDecodeError:
        raise ArchiveLineError("not UTF-8 text") from None
    except ValueError as exc:
        reason = getattr(exc, "msg", "invalid")
        raise ArchiveLineError(f"not JSON ({reason}); truncated or damaged") from None
    if not isinstance(doc, dict):
        raise ArchiveLineError(f"not a JSON object but a {type(doc).__name__}")
    client_number = _field(doc, "client_number", (int,), required=True)
    if client_number is None:
        raise ArchiveLineError("client_number is null")
    body = _field(doc, "body", (str,), required=True)
    if body is None:
        raise ArchiveLineError("body is null")
    slot_start = _instant(doc, "slot_start")
    observed_at = _instant(doc, "observed_at")
    http_status = _field(doc, "http_status", (int,), required=True)
    encoding = _field(doc, "body_encoding", (str,), required=False) or "utf-8"
    if encoding not in ENCODINGS:
        raise ArchiveLineError(f"body_encoding must be one of {sorted(ENCODINGS)}")
    size = _field(doc, "body_size", (int,), required=False)
    truncated = _field(doc, "body_truncated", (bool,), required=False) or False
    try:
        raw_id = raw_id_for(client_number, slot_start, observed_at, body)
    except UnicodeEncodeError:
        raise ArchiveLineError("body is not valid Unicode text") from None
    claimed = _field(doc, "raw_id", (str,), required=False)
    if claimed is not None and claimed != raw_id:
        raise ArchiveLineError(
            f"raw_id {claimed[:40]!r} does not match the content hash {raw_id}: "
            "the line was altered after export"
        )
    return Answer(
        raw_id, client_number, slot_start, observed_at, http_status, body, encoding, size, truncated
    )
