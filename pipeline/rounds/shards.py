"""Shards: which clients one polling process (one egress, one request budget) asks for.

The vendor budgets requests per calling IP, so a book larger than one IP's hourly budget is
split across processes, each with its own egress, all appending to one DuckLake. A shard is
either named in the clients file's `shard` column (`--shard NAME`) or one part of a stable
hash partition (`--shard K/N`): sha256 of the client number's decimal text, mod N. The hash
ignores the column and never changes with the file's order or the host, so N processes given
1/N … N/N poll every client exactly once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.hyper import Credential
from pipeline.settings import ConfigurationError, split_part


@dataclass(frozen=True)
class Shard:
    """A named shard (the clients file's column), or part `part` of `parts` hash partitions."""

    name: str | None = None
    part: int | None = None
    parts: int | None = None

    def __str__(self) -> str:
        return self.name if self.name is not None else f"{self.part}/{self.parts}"

    def holds(self, credential: Credential) -> bool:
        if self.name is not None:
            return credential.shard == self.name
        assert self.part is not None and self.parts is not None
        return hash_part(credential.client_number, self.parts) == self.part


def parse_shard(text: str) -> Shard:
    """`K/N` (1 ≤ K ≤ N) is a hash part; anything else names a shard of the clients file.

    Raises:
        ConfigurationError: an empty name, or K/N out of range.
    """
    part = split_part(text, "--shard")
    if part is not None:
        return Shard(part=part[0], parts=part[1])
    name = text.strip()
    if not name:
        raise ConfigurationError("--shard needs a name from the clients file or K/N")
    return Shard(name=name)


def hash_part(client_number: int, parts: int) -> int:
    """The part (1…parts) a client falls in: stable across processes, hosts and versions."""
    digest = hashlib.sha256(str(client_number).encode("ascii")).digest()
    return int.from_bytes(digest[:8], "big") % parts + 1


def select_shard(credentials: Sequence[Credential], shard: Shard) -> list[Credential]:
    """The clients `shard` polls, in the file's order.

    Raises:
        ConfigurationError: a named shard that no row of the clients file carries.
    """
    chosen = [c for c in credentials if shard.holds(c)]
    if not chosen and shard.name is not None:
        named = sorted({c.shard for c in credentials if c.shard is not None})
        raise ConfigurationError(
            f"no client of the clients file is in shard {shard.name!r} (its shard column "
            f"names: {', '.join(named) if named else 'none'})"
        )
    return chosen
