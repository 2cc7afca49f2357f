"""The clients file: which clients to poll and their API passwords."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.settings import ConfigurationError


@dataclass(frozen=True)
class Credential:
    """A client number and its API password; the password never shows in a repr."""

    client_number: int
    api_password: str = field(repr=False)
    label: str | None = None
    # The shard (egress) that polls it, from the file's optional fourth column.
    shard: str | None = None


def load_credentials(path: Path) -> list[Credential]:
    """Read `client_number,api_password[,label[,shard]]` rows; a header row is optional.

    Raises:
        ConfigurationError: the file is missing, empty, or a row is malformed. The message
            names the file and line, never the password.
    """
    if not path.is_file():
        raise ConfigurationError(f"clients file {path} does not exist (HYPER_CLIENTS_FILE)")
    if path.is_dir():
        raise ConfigurationError(f"clients file {path} is a folder (HYPER_CLIENTS_FILE)")
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ConfigurationError(
            f"clients file {path} is UTF-16; save it as UTF-8 (with or without a BOM)"
        )
    try:
        text = data.decode("utf-8-sig")  # UTF-8, with or without a byte-order mark
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"clients file {path} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    if "\x00" in text:
        raise ConfigurationError(f"clients file {path} holds NUL bytes; save it as UTF-8 text")
    credentials: list[Credential] = []
    seen: set[int] = set()
    with io.StringIO(text, newline="") as handle:
        for line_no, row in enumerate(csv.reader(handle), start=1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if line_no == 1 and row[0].strip().lower() == "client_number":
                continue
            if len(row) < 2 or len(row) > 4:
                raise ConfigurationError(
                    f"{path}:{line_no}: expected client_number,api_password[,label[,shard]] "
                    f"but found {len(row)} fields"
                )
            number_text, password = row[0].strip(), row[1].strip()
            if not number_text.isdigit():
                raise ConfigurationError(
                    f"{path}:{line_no}: client_number {number_text!r} is not a positive integer"
                )
            if not password:
                raise ConfigurationError(
                    f"{path}:{line_no}: client {number_text} has an empty api_password"
                )
            number = int(number_text)
            if number in seen:
                raise ConfigurationError(f"{path}:{line_no}: client {number} is listed twice")
            seen.add(number)
            label = row[2].strip() if len(row) >= 3 and row[2].strip() else None
            shard = row[3].strip() if len(row) == 4 and row[3].strip() else None
            credentials.append(Credential(number, password, label, shard))
    if not credentials:
        raise ConfigurationError(f"clients file {path} lists no clients")
    return credentials
