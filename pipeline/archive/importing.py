"""Append archive files into raw_responses: idempotent, bad lines reported and skipped."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipeline.archive.format import (
    Answer,
    ArchiveFileError,
    ArchiveLineError,
    check_header,
    is_trailer,
    open_read,
    parse_answer,
)
from pipeline.store import Store
from pipeline.store.history import insert_raw
from pipeline.store.store import RAW_ROW_SCHEMA

# Answers appended per transaction: a crash keeps whole batches only, and a re-import of the
# same file completes the rest (raw_id is a content hash).
IMPORT_BATCH_ROWS = 20_000
# Bad lines named one by one in a report; the rest are only counted.
MAX_LISTED_PROBLEMS = 50


@dataclass
class ImportReport:
    """What one archive file contributed."""

    path: Path
    read: int = 0  # answer lines read (header and trailer excluded)
    imported: int = 0  # new rows in raw_responses
    already_present: int = 0  # valid answers that were stored already
    skipped: int = 0  # bad lines
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    file_error: str | None = None  # the file could not be read as an archive at all
    warnings: list[str] = field(default_factory=list)

    @property
    def valid(self) -> int:
        return self.imported + self.already_present

    def bad_line(self, number: int, reason: str) -> None:
        self.skipped += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append((number, reason))


def _lines(path: Path, report: ImportReport) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of a file; a compressed stream that ends early stops the file."""
    number = 0
    try:
        with open_read(path) as stream:
            for number, line in enumerate(stream, start=1):
                yield number, line
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        if number == 0:
            raise ArchiveFileError(f"not a readable gzip file ({exc})") from None
        report.warnings.append(
            f"compressed data ends early after line {number} ({exc}); the rest is lost"
        )


def _frame(answers: list[Answer]) -> pl.DataFrame:
    # Column lists, not row dicts: building the frame row by row costs as much as parsing.
    columns = {name: [getattr(a, name) for a in answers] for name in RAW_ROW_SCHEMA.names()}
    return pl.DataFrame(columns, schema=RAW_ROW_SCHEMA).unique(
        "raw_id", keep="first", maintain_order=True
    )


def import_archive(
    store: Store, path: Path, *, batch_rows: int = IMPORT_BATCH_ROWS
) -> ImportReport:
    """Append one archive's answers to raw_responses, one transaction per batch.

    Never raises for bad content: a bad line is skipped and named in the report, a file that is
    not an archive sets `file_error`.
    """
    report = ImportReport(path)
    pending: list[Answer] = []

    def flush() -> None:
        frame = _frame(pending)
        inserted = insert_raw(store, frame)
        report.imported += inserted
        report.already_present += len(pending) - inserted
        pending.clear()

    trailer_count: int | None = None
    header_seen = False
    try:
        if not path.is_file():
            raise ArchiveFileError("no such file")
        for number, line in _lines(path, report):
            if number == 1:
                check_header(line)
                header_seen = True
                continue
            if not line.strip():
                continue
            if trailer_count is not None:
                report.bad_line(number, "content after the end line")
                continue
            try:
                pending.append(parse_answer(line))
            except ArchiveLineError as exc:
                doc = _json_or_none(line)
                if isinstance(doc, dict) and is_trailer(doc):
                    trailer_count = doc.get("answers")
                    continue
                report.read += 1
                report.bad_line(number, str(exc))
                continue
            report.read += 1
            if len(pending) >= batch_rows:
                flush()
        if not header_seen:
            raise ArchiveFileError("the file is empty")
        if pending:
            flush()
    except ArchiveFileError as exc:
        report.file_error = str(exc)
        return report
    if trailer_count is None:
        report.warnings.append("no end line: the archive may be cut short")
    elif trailer_count != report.read:
        report.warnings.append(
            f"the end line announces {trailer_count} answers but {report.read} were read"
        )
    return report


def _json_or_none(line: bytes) -> object:
    try:
        return json.loads(line)
    except ValueError:
        return None
