"""Raw archives: move received answers between databases and into cold storage, exactly.

Plain Python (no Dagster): `format` defines version 1 of the file, `export` writes it from
raw_responses, `importing` appends it back idempotently.
"""

from pipeline.archive.export import ExportSummary, export_archive
from pipeline.archive.format import FORMAT, VERSION, ArchiveFileError, ArchiveLineError
from pipeline.archive.importing import ImportReport, import_archive

__all__ = [
    "FORMAT",
    "VERSION",
    "ArchiveFileError",
    "ArchiveLineError",
    "ExportSummary",
    "ImportReport",
    "export_archive",
    "import_archive",
]
