"""Write raw_responses (or a selection of it) to an archive file, streaming."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.archive.format import header, is_gzip, iso_utc, open_write, trailer
from pipeline.store import Store
from pipeline.store.history import Selection, export_batches, raw_slot_counts, stream_raw

# Answers sorted per query (whole slots) and fetched per Arrow batch: memory stays bounded
# whatever the table's size, and the archive is still in one global order.
EXPORT_BATCH_ROWS = 50_000
FETCH_ROWS = 10_000
_COLUMNS = (
    "raw_id",
    "client_number",
    "slot_start",
    "observed_at",
    "http_status",
    "body",
    "body_encoding",
    "body_size",
    "body_truncated",
)


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    answers: int
    bytes_written: int
    seconds: float


def _selection_doc(selection: Selection) -> dict[str, object]:
    return {
        "from": iso_utc(selection.slot_from) if selection.slot_from else None,
        "to": iso_utc(selection.slot_to) if selection.slot_to else None,
        "client": selection.client,
    }


def export_archive(
    store: Store,
    path: Path,
    selection: Selection | None = None,
    *,
    batch_rows: int = EXPORT_BATCH_ROWS,
    on_start: Callable[[int], None] | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write the selected answers to `path` (gzip when it ends with `.gz`).

    The file appears only when complete: rows go to `<path>.part`, renamed at the end, so an
    interrupted export never leaves something that looks like a whole archive.

    Args:
        store: the database to read.
        path: the archive to write (replaced if it exists).
        selection: slots and client to export; everything by default.
        batch_rows: answers per sorted query (whole slots, so a batch may hold more; a period
            `pipeline maintain` compacted is one query).
        on_start: called once with the number of answers to write (for a progress bar).
        on_batch: called with the number of answers written by each batch.
    """
    selection = selection or Selection()
    started = datetime.now(UTC)
    slots = raw_slot_counts(store, selection)
    if on_start is not None:
        on_start(sum(count for _, count in slots))
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + ".part")
    answers = 0
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    try:
        with open_write(part, compress=is_gzip(path)) as out:
            out.write(header(started, _selection_doc(selection)) + "\n")
            for chunk in export_batches(store, slots, selection, batch_rows):
                for batch in stream_raw(store, chunk, FETCH_ROWS):
                    columns = (batch.column(name).to_pylist() for name in _COLUMNS)
                    rows = zip(*columns, strict=True)
                    out.writelines(dumps(dict(zip(_COLUMNS, r, strict=True))) + "\n" for r in rows)
                    answers += batch.num_rows
                    if on_batch is not None:
                        on_batch(batch.num_rows)
            out.write(trailer(answers) + "\n")
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    seconds = (datetime.now(UTC) - started).total_seconds()
    return ExportSummary(path, answers, path.stat().st_size, seconds)
